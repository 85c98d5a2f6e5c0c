//! monday.com app webhooks: `Authorization: <JWT>`, HS256 under the app's signing secret, with an
//! `exp` checked against the source's tolerance (<https://developer.monday.com/apps/docs/integration-authorization#authorization-header>).
//! The JWT does not cover the body. A new webhook URL is checked with `{"challenge": "..."}`,
//! answered with the same JSON (<https://developer.monday.com/api-reference/reference/webhooks#url-verification>);
//! that check is unsigned and only echoes, so it is answered before verification.
use serde_json::{Value, json};

use super::identify::body_str;
use super::jwt;
use super::mac::{outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header};
use crate::handshake::{Answer, AnswerBody};

const HEADER: &str = "Authorization";

pub(super) const PROVIDER: Provider = Provider {
    about: "monday.com: Authorization <JWT HS256 under the signing secret>; answers the challenge",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let token = jwt::sign_hs256(s.secret, &json!({ "iat": s.now, "exp": s.now.saturating_add(300) }));
        Ok(pairs([(HEADER, token), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (None, body_str(body, "/event/type")),
    unsigned_handshake: challenge,
    ..Provider::DEFAULT
};

/// A body that is exactly `{"challenge": "<text>"}`.
fn challenge(_: &http::HeaderMap, body: &[u8]) -> Option<Answer> {
    let v: Value = serde_json::from_slice(body).ok()?;
    let object = v.as_object().filter(|o| o.len() == 1)?;
    let text = object.get("challenge")?.as_str()?;
    Some(Answer { kind: "monday", body: AnswerBody::Json(json!({ "challenge": text })) })
}

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let token = value.strip_prefix("Bearer ").unwrap_or(value);
    let jws = jwt::parse(HEADER, token, "HS256")?;
    let i = outcome(jwt::hs256_match(secrets, &jws))?;
    jwt::check_times(HEADER, &jws.claims, req.now, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // monday.com publishes no vector; built from the docs: header `{"alg":"HS256","typ":"JWT"}`,
    // claims `{"accountId":1,"userId":2,"iat":1700000000,"exp":1700000300}`, base64url, signed with
    //   printf '%s' "$HEADER.$CLAIMS" | openssl dgst -sha256 -hmac 'monday-signing-secret' -binary | basenc --base64url
    const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY2NvdW50SWQiOjEsInVzZXJJZCI6MiwiaWF0IjoxNzAwMDAwMDAwLCJleHAiOjE3MDAwMDAzMDB9.SP5bTjEYDkdaiI1S958om3BPbQBhhXjSMJsR8wN83EQ";
    const BODY: &[u8] = br#"{"event":{"type":"create_pulse","pulseId":1}}"#;

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Monday), "monday-signing-secret", &[(HEADER, TOKEN)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.passes();
        case.rejects_wrong_secret("monday-signing-secreT");
        case.rotates();
        case.rejects_missing(HEADER);
        let none_alg = TOKEN.replacen("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9", "eyJhbGciOiJub25lIn0", 1);
        case.rejects_malformed(HEADER, &[b"abc", b"a.b", none_alg.as_bytes(), b""]);
        assert_eq!(case.verify_header(HEADER, format!("Bearer {TOKEN}").as_bytes()), Ok(()));
        // The claims are signed; the expiry (1700000300) is enforced with the tolerance (300 s).
        let tampered = TOKEN.replacen(".eyJhY2NvdW50SWQiOjE", ".eyJhY2NvdW50SWQiOjI", 1);
        assert_eq!(case.verify_header(HEADER, tampered.as_bytes()), Err(VerifyError::SignatureMismatch));
        let s = [hookbus_core::config::Secret::new("monday-signing-secret")];
        assert_eq!(case.check(&case.headers, BODY, 1_700_000_600, &s), Ok(()));
        assert_eq!(case.check(&case.headers, BODY, 1_700_000_601, &s).unwrap_err().code(), "timestamp_out_of_tolerance");
        assert_eq!(case.check(&case.headers, BODY, 1_699_999_699, &s).unwrap_err().code(), "timestamp_out_of_tolerance");
        case.round_trips();
    }

    #[test]
    fn url_challenge_is_echoed() {
        let h = http::HeaderMap::new();
        let answer = (PROVIDER.unsigned_handshake)(&h, br#"{"challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"}"#);
        assert_eq!(answer.unwrap().body, AnswerBody::Json(json!({ "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P" })));
        assert_eq!((PROVIDER.unsigned_handshake)(&h, br#"{"challenge":"x","event":{}}"#), None);
        assert_eq!((PROVIDER.unsigned_handshake)(&h, BODY), None);
    }
}
