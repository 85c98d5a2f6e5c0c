//! Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">`, keyed with the app's webhook
//! secret token, and `x-zm-request-timestamp: {ts}` (unix seconds), checked against the tolerance
//! (<https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events>). Slack's construction
//! under Zoom's header names. The `endpoint.url_validation` handshake is answered by the router,
//! after this check, since Zoom signs it too.
use super::mac::pairs;
use super::slack::{v0_value, verify_v0};
use super::{Inbound, VerifyError};
use super::Provider;
use super::identify::{body_str, header};
use crate::IngressError;
use crate::handshake::{Answer, AnswerBody, json_of_type, string_at};

const SIG: &str = "x-zm-signature";
const TS: &str = "x-zm-request-timestamp";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    verify_v0(req, secrets, tolerance_secs, SIG, TS)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    pairs([(SIG, v0_value(secret, body, now)), (TS, now.to_string()), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Zoom: x-zm-signature v0=<hex HMAC-SHA256 of v0:timestamp:body>; answers endpoint.url_validation",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    identify: |_, h, body| (header(h, "x-zm-trackingid"), body_str(body, "/event")),
    handshake: url_validation,
    ..Provider::DEFAULT
};

/// `endpoint.url_validation`, answered with the plain token and its HMAC under the secret that
/// verified the request (<https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint>).
fn url_validation(_: &http::HeaderMap, body: &[u8], secret: &str) -> Result<Option<Answer>, IngressError> {
    let Some(v) = json_of_type(body, "/event", "endpoint.url_validation") else { return Ok(None) };
    let plain = string_at(&v, "/payload/plainToken", "Zoom endpoint.url_validation")?;
    let encrypted = encrypted_token(secret, &plain);
    let body = serde_json::json!({ "plainToken": plain, "encryptedToken": encrypted });
    Ok(Some(Answer { kind: "zoom", body: AnswerBody::Json(body) }))
}

/// `encryptedToken` = hex HMAC-SHA256 of `plainToken` under the webhook secret token.
pub fn encrypted_token(secret: &str, plain_token: &str) -> String {
    hex::encode(super::mac::compute(hookbus_core::config::HmacAlgorithm::Sha256, secret.as_bytes(), &[plain_token.as_bytes()]))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Zoom publishes code but no vector; built from the docs with
    //   printf '%s' "v0:1700000000:$BODY" | openssl dgst -sha256 -hmac 'zoom-secret-token'
    const SECRET: &str = "zoom-secret-token";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"event":"meeting.started","payload":{"account_id":"AAAAAA","object":{"id":"85746065432"}},"event_ts":1700000000123}"#;
    const SIGNATURE: &str = "v0=a80c5f2c4b180884f1c6c82fce31048e83ab9851e73d44279610098ba1daf823";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Zoom), SECRET, &[(SIG, SIGNATURE), (TS, "1700000000")], BODY, NOW)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("zoom-secret-tokeN");
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        case.rejects_malformed(SIG, &[&SIGNATURE.as_bytes()[3..], b"v0=a80c", b"v0=qq"]);
        // Zoom's timestamp is in seconds; `event_ts` milliseconds in the header are not accepted as such.
        case.rejects_malformed(TS, &[b"1700000000123.0", b"now"]);
        assert_eq!(case.verify_header(TS, b"1700000000123"), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, NOW, "d").unwrap()[0].1, SIGNATURE);
    }
}
