//! Compact JWS (`header.payload.signature`, each base64url without padding), as some providers
//! sign webhooks with: HS256 under a shared secret (monday.com, Netlify) or ES256 under a public
//! key (Plaid). Only the algorithm the scheme expects is accepted, whatever the header says, so a
//! token cannot choose `none` or a weaker algorithm.
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::signing::constant_time_eq;
use serde_json::Value;

use super::mac::{compute, first_match};
use super::{VerifyError, check_tolerance};

/// A parsed token: its header and claims, the signed text and the signature bytes.
pub(super) struct Jws<'t> {
    pub claims: Value,
    pub signing_input: &'t str,
    pub signature: Vec<u8>,
}

fn part(name: &str, text: &str) -> Result<Vec<u8>, VerifyError> {
    URL_SAFE_NO_PAD.decode(text).map_err(|_| VerifyError::malformed(name, "a token part is not base64url"))
}

/// Parses `token` from header `name` and checks that it announces `alg`.
pub(super) fn parse<'t>(name: &str, token: &'t str, alg: &str) -> Result<Jws<'t>, VerifyError> {
    let shape = || VerifyError::malformed(name, "expected a JWT: header.payload.signature");
    let (signing_input, sig) = token.rsplit_once('.').ok_or_else(shape)?;
    let (head, body) = signing_input.split_once('.').ok_or_else(shape)?;
    let header: Value = serde_json::from_slice(&part(name, head)?).map_err(|_| shape())?;
    let claims: Value = serde_json::from_slice(&part(name, body)?).map_err(|_| shape())?;
    if header.get("alg").and_then(Value::as_str) != Some(alg) {
        return Err(VerifyError::malformed(name, format!("only `alg: {alg}` is accepted")));
    }
    if !claims.is_object() {
        return Err(shape());
    }
    Ok(Jws { claims, signing_input, signature: part(name, sig)? })
}

/// The index of the secret whose HS256 signature the token carries.
pub(super) fn hs256_match(secrets: &[&str], jws: &Jws<'_>) -> Option<usize> {
    first_match(secrets, |s| {
        constant_time_eq(&jws.signature, &compute(Sha256, s.as_bytes(), &[jws.signing_input.as_bytes()]))
    })
}

/// An HS256 token with `claims`.
pub(super) fn sign_hs256(secret: &str, claims: &Value) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let sig = compute(Sha256, secret.as_bytes(), &[input.as_bytes()]);
    format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig))
}

/// `exp` (when present) not passed and `iat` (when present) not in the future, each allowing the
/// source's tolerance for clock skew.
pub(super) fn check_times(name: &str, claims: &Value, now: i64, tolerance_secs: u64) -> Result<(), VerifyError> {
    let number = |k: &str| -> Result<Option<i64>, VerifyError> {
        match claims.get(k) {
            None => Ok(None),
            Some(v) => {
                v.as_i64().map(Some).ok_or_else(|| VerifyError::malformed(name, format!("`{k}` is not a number")))
            }
        }
    };
    if let Some(exp) = number("exp")?
        && now.saturating_sub(exp) > i64::try_from(tolerance_secs).unwrap_or(i64::MAX)
    {
        return Err(VerifyError::TimestampOutOfTolerance { skew_secs: now.saturating_sub(exp), tolerance_secs });
    }
    if let Some(iat) = number("iat")?
        && iat.saturating_sub(now) > i64::try_from(tolerance_secs).unwrap_or(i64::MAX)
    {
        return check_tolerance(now, iat, tolerance_secs);
    }
    Ok(())
}
