//! Plaid: `Plaid-Verification: <JWT>`, ES256 under one of Plaid's webhook verification keys, whose
//! claims are `iat` (checked against the source's tolerance; Plaid says five minutes) and
//! `request_body_sha256`, the hex SHA-256 of the body (<https://plaid.com/docs/api/webhooks/webhook-verification/>).
//! Plaid serves the keys from `/webhook_verification_key/get`; hookbus does no fetch at verify time:
//! give each key as a secret, either the JWK Plaid returns (`{"kty":"EC","crv":"P-256","x":..,"y":..}`)
//! or its public key as PEM / base64 DER. Any configured key verifying accepts (Plaid rotates them).
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hookbus_core::signing::constant_time_eq;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::identify::body_str;
use super::mac::any_public_key;
use super::{Inbound, Provider, VerifyError, check_tolerance, jwt, required_header};

const HEADER: &str = "Plaid-Verification";
const BAD_KEY: &str = "a `plaid` secret is a webhook verification key: the JWK from /webhook_verification_key/get \
                       or its P-256 public key as PEM";

pub(super) const PROVIDER: Provider = Provider {
    about: "Plaid: Plaid-Verification <JWT ES256, request_body_sha256 claim>; keys from config",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    identify: |_, _, body| {
        let ty = body_str(body, "/webhook_type").zip(body_str(body, "/webhook_code")).map(|(t, c)| format!("{t}.{c}"));
        (None, ty)
    },
    ..Provider::DEFAULT
};

/// A key from its JWK, or from PEM / base64 DER.
fn key(secret: &str) -> Option<VerifyingKey> {
    let Ok(jwk) = serde_json::from_str::<Value>(secret) else { return super::sendgrid::public_key(secret) };
    if jwk.get("kty")?.as_str()? != "EC" || jwk.get("crv")?.as_str()? != "P-256" {
        return None;
    }
    let coord = |k: &str| URL_SAFE_NO_PAD.decode(jwk.get(k)?.as_str()?).ok().filter(|c| c.len() == 32);
    let point = [&[0x04][..], &coord("x")?, &coord("y")?].concat();
    VerifyingKey::from_sec1_bytes(&point).ok()
}

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let jws = jwt::parse(HEADER, required_header(req.headers, HEADER)?, "ES256")?;
    let sig = Signature::from_slice(&jws.signature)
        .map_err(|_| VerifyError::malformed(HEADER, "the signature is not 64 bytes of r and s"))?;
    let i = any_public_key(secrets, key, |k| k.verify(jws.signing_input.as_bytes(), &sig).is_ok(), BAD_KEY)?;
    let iat = jws.claims.get("iat").and_then(Value::as_i64);
    let iat = iat.ok_or_else(|| VerifyError::malformed(HEADER, "the token has no numeric `iat`"))?;
    check_tolerance(req.now, iat, tolerance_secs)?;
    let claimed = jws.claims.get("request_body_sha256").and_then(Value::as_str).and_then(|h| hex::decode(h).ok());
    let claimed = claimed.ok_or_else(|| VerifyError::malformed(HEADER, "the token has no hex `request_body_sha256`"))?;
    // The token is authentic; a body that does not hash to its claim was changed.
    if !constant_time_eq(&claimed, &Sha256::digest(req.body)) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Plaid publishes no vector (its keys are fetched per webhook); built from the docs with a P-256
    // key made by `openssl ecparam -name prime256v1 -genkey`, the token's input signed with
    // `openssl dgst -sha256 -sign key.pem` and the DER signature rewritten as r || s. The key as
    // Plaid's JWK and as the PEM `openssl ec -pubout` printed:
    const JWK: &str = r#"{"alg":"ES256","crv":"P-256","kid":"6c5516e1-92dc-479e-a8ff-5a51992e0001","kty":"EC","use":"sig","x":"35TeBFCPomn2U932OFhfe7uKdoeLF6WnZIkkVazESKc","y":"QNRZ-hrvGrBf-pH3hFc_bn0iuwQ-hkuismWmF4xVYq4"}"#;
    const PEM: &str = "-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE35TeBFCPomn2U932OFhfe7uKdoeL\nF6WnZIkkVazESKdA1Fn6Gu8asF/6kfeEVz9ufSK7BD6GS6KyZaYXjFVirg==\n-----END PUBLIC KEY-----";
    // Claims `{"iat":1700000000,"request_body_sha256":"d6b5ba79..."}` (the SHA-256 of BODY).
    const TOKEN: &str = "eyJhbGciOiJFUzI1NiIsImtpZCI6IjZjNTUxNmUxLTkyZGMtNDc5ZS1hOGZmLTVhNTE5OTJlMDAwMSIsInR5cCI6IkpXVCJ9.eyJpYXQiOjE3MDAwMDAwMDAsInJlcXVlc3RfYm9keV9zaGEyNTYiOiJkNmI1YmE3OWNkM2JhNjcyZjhjZTRjMDgyMjRhMmVmNzc2ZTY2M2E5NjQyNTAyNWU0OTJkYzk5ZTFhYTMwYjY2In0.BL5zDy0WHf8e3kam9Sw5oxGFDQk6wGADaPbs-vSFVmKtg6FZ64e9_6dStl8lmjSTPF4Q1jWhVM4jd_GtKNEGmQ";
    const BODY: &[u8] = br#"{"webhook_type":"TRANSACTIONS","webhook_code":"SYNC_UPDATES_AVAILABLE","item_id":"wz666MBjYWTp2PDzzggYhM6oWWmBb"}"#;

    fn case(key: &str) -> Case {
        Case::new(scheme(SchemeKind::Plaid), key, &[(HEADER, TOKEN)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_with_either_key_form_and_negatives() {
        for k in [JWK, PEM] {
            let case = case(k);
            case.passes();
            case.rejects_tampered_body();
            case.enforces_tolerance(1_700_000_000);
            case.rejects_missing(HEADER);
        }
        let case = case(JWK);
        // Another P-256 key (SendGrid's docs' example key) does not verify; a non-key is misconfigured.
        let other = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
        case.rejects_wrong_secret(other);
        assert_eq!(case.check(&case.headers, BODY, 1_700_000_000, &[Secret::new("not a key")]).unwrap_err().code(), "source_misconfigured");
        // Rotation: the old key listed first.
        assert_eq!(case.check(&case.headers, BODY, 1_700_000_000, &[Secret::new(other), Secret::new(PEM)]), Ok(()));
        // The token is signed: claims or signature changed, or a HS256 token, do not pass.
        let hs = jwt::sign_hs256(JWK, &serde_json::json!({ "iat": 1_700_000_000 }));
        case.rejects_malformed(HEADER, &[b"a.b", hs.as_bytes(), b""]);
        let sig_flipped = TOKEN.replace(".BL5z", ".BL6z");
        assert_eq!(case.verify_header(HEADER, sig_flipped.as_bytes()), Err(VerifyError::SignatureMismatch));
        assert!(case.scheme.sign(JWK, BODY, 0, "d").is_err(), "signing needs Plaid's private key");
    }
}
