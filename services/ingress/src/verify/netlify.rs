//! Netlify deploy notifications with a JWS secret: `X-Webhook-Signature: <JWT>`, HS256 under that
//! secret, whose claims are `iss: "netlify"` and `sha256`: the hex SHA-256 of the body
//! (<https://docs.netlify.com/site-deploys/deploy-notifications/#payload-signature>). Both are
//! checked; the body hash is what ties the token to this body.
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::identify::body_str;
use super::jwt;
use super::mac::{outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header};
use hookbus_core::signing::constant_time_eq;

const HEADER: &str = "X-Webhook-Signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "Netlify: X-Webhook-Signature <JWS HS256, iss netlify, sha256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        let claims = json!({ "iss": "netlify", "sha256": hex::encode(Sha256::digest(s.body)) });
        Ok(pairs([(HEADER, jwt::sign_hs256(s.secret, &claims)), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (body_str(body, "/id"), body_str(body, "/state")),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let jws = jwt::parse(HEADER, required_header(req.headers, HEADER)?, "HS256")?;
    let i = outcome(jwt::hs256_match(secrets, &jws))?;
    if jws.claims.get("iss").and_then(Value::as_str) != Some("netlify") {
        return Err(VerifyError::malformed(HEADER, "the token's `iss` is not `netlify`"));
    }
    let claimed = jws.claims.get("sha256").and_then(Value::as_str).and_then(|h| hex::decode(h).ok());
    let claimed = claimed.ok_or_else(|| VerifyError::malformed(HEADER, "the token has no hex `sha256` claim"))?;
    // The token is authentic; a body that does not hash to its claim was changed.
    if !constant_time_eq(&claimed, &Sha256::digest(req.body)) {
        return Err(VerifyError::SignatureMismatch);
    }
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Netlify publishes no vector; built from the docs: claims
    // `{"iss":"netlify","sha256":"<printf '%s' "$BODY" | sha256sum>"}`, header HS256, signed with
    //   printf '%s' "$HEADER.$CLAIMS" | openssl dgst -sha256 -hmac 'netlify-jws-secret' -binary | basenc --base64url
    const BODY: &[u8] = br#"{"id":"5e8f1c6c","state":"ready","name":"site"}"#;
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJuZXRsaWZ5Iiwic2hhMjU2IjoiZjY4NDNmZTU5NWFmMWRhZDU2M2M1YzQzZGUwOTJjODFhOTc4ODcxZmQ0ZTZiYzhkZTNkMjgwZTUzMWE5MzE3NiJ9.hPFAIxjrO4lEeH15XZ4jEGmjwM5zLF1bTI_eiIhEgKo";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Netlify), "netlify-jws-secret", &[(HEADER, TOKEN)], BODY, 0);
        case.standard("netlify-jws-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"abc", b"a.b.c", b""]);
        let other_iss = jwt::sign_hs256("netlify-jws-secret", &json!({ "iss": "other", "sha256": hex::encode(Sha256::digest(BODY)) }));
        assert_eq!(case.verify_header(HEADER, other_iss.as_bytes()).unwrap_err().code(), "malformed_signature_header");
        case.round_trips();
    }
}
