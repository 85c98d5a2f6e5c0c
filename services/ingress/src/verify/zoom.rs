//! Zoom: `x-zm-signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">`, keyed with the app's webhook
//! secret token, and `x-zm-request-timestamp: {ts}` (unix seconds), checked against the tolerance
//! (<https://developers.zoom.us/docs/api/webhooks/#verify-webhook-events>). Slack's construction
//! under Zoom's header names. The `endpoint.url_validation` handshake is answered by the router,
//! after this check, since Zoom signs it too.
use super::mac::pairs;
use super::slack::{v0_value, verify_v0};
use super::{Inbound, VerifyError};

const SIG: &str = "x-zm-signature";
const TS: &str = "x-zm-request-timestamp";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<(), VerifyError> {
    verify_v0(req, secrets, tolerance_secs, SIG, TS)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    pairs([(SIG, v0_value(secret, body, now)), (TS, now.to_string()), ("Content-Type", "application/json".into())])
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
