//! Twitch EventSub (webhook transport): `Twitch-Eventsub-Message-Signature: sha256=<hex>`, the
//! HMAC-SHA256 of message id + timestamp + raw body keyed with the subscription's secret, the
//! id in `Twitch-Eventsub-Message-Id` and the timestamp (RFC 3339, nanoseconds) in
//! `Twitch-Eventsub-Message-Timestamp` (<https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#verifying-the-event-message>).
//! Twitch says to reject messages older than 10 minutes; the source's tolerance applies (5 min by
//! default, which is stricter; set `tolerance_secs = 600` to match Twitch exactly). Retries keep
//! the message id, so dedup keys on it. The `webhook_callback_verification` challenge is signed the
//! same way and answered by the router after this check.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, VerifyError, check_tolerance, required_header};
use super::Provider;
use super::identify::headers;
use crate::IngressError;
use crate::handshake::{Answer, string_at};

const SIG: &str = "Twitch-Eventsub-Message-Signature";
const ID: &str = "Twitch-Eventsub-Message-Id";
const TS: &str = "Twitch-Eventsub-Message-Timestamp";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, SIG)?;
    let id = required_header(req.headers, ID)?;
    let ts_text = required_header(req.headers, TS)?;
    let ts = OffsetDateTime::parse(ts_text, &Rfc3339)
        .map_err(|_| VerifyError::malformed(TS, "expected an RFC 3339 timestamp such as 2023-11-14T22:13:20.123Z"))?
        .unix_timestamp();
    let hex = value.strip_prefix("sha256=").ok_or_else(|| VerifyError::malformed(SIG, "expected `sha256=<hex>`"))?;
    let given = decode(SIG, hex, Hex, Sha256)?;
    let mac = |key: &[u8]| compute(Sha256, key, &[id.as_bytes(), ts_text.as_bytes(), req.body]);
    let i = outcome(any_matches(secrets, &[given], mac))?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64, delivery_id: &str) -> Vec<(String, String)> {
    // Out-of-range instants cannot be formatted; the epoch keeps `sign` total (and fails verify loudly).
    let at = OffsetDateTime::from_unix_timestamp(now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    let ts = at.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
    let mac = compute(Sha256, secret.as_bytes(), &[delivery_id.as_bytes(), ts.as_bytes(), body]);
    pairs([
        (SIG, format!("sha256={}", hex::encode(mac))),
        (ID, delivery_id.into()),
        (TS, ts),
        ("Twitch-Eventsub-Message-Type", "notification".into()),
        ("Twitch-Eventsub-Subscription-Type", "channel.follow".into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Twitch EventSub: Twitch-Eventsub-Message-Signature sha256=<hex HMAC-SHA256 of id + timestamp + body>",
    headers: &[SIG, ID, TS, "Twitch-Eventsub-Message-Type"],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now, s.id)),
    identify: |_, h, _| headers(h, "twitch-eventsub-message-id", "twitch-eventsub-subscription-type"),
    handshake: callback_verification,
    ..Provider::DEFAULT
};

/// `webhook_callback_verification`: echo the challenge
/// (<https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request>).
fn callback_verification(headers: &http::HeaderMap, body: &[u8], _: &str) -> Result<Option<Answer>, IngressError> {
    let ty = headers.get("twitch-eventsub-message-type").and_then(|v| v.to_str().ok());
    if ty.map(str::trim) != Some("webhook_callback_verification") {
        return Ok(None);
    }
    let v: serde_json::Value = serde_json::from_slice(body)
        .map_err(|_| IngressError::BadHandshake("Twitch webhook_callback_verification body is not JSON".into()))?;
    let challenge = string_at(&v, "/challenge", "Twitch webhook_callback_verification")?;
    Ok(Some(Answer::text("twitch", challenge)))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Twitch's docs give the procedure and example headers but no secret, so this is built from
    // them: printf '%s' "$ID$TS$BODY" | openssl dgst -sha256 -hmac 'twitch-eventsub-secret'
    const SECRET: &str = "twitch-eventsub-secret";
    const MESSAGE_ID: &str = "e76c6bd4-55c9-4987-8304-da1588d8988b";
    const STAMP: &str = "2023-11-14T22:13:20.634234626Z";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","type":"channel.follow","version":"2"},"event":{"user_id":"1234","broadcaster_user_id":"1337"}}"#;
    const SIGNATURE: &str = "sha256=a27782d28190ce7383db33046d3abb87ff751dd6e422e63d4fc49bb9814b05a8";

    fn case() -> Case {
        let pairs = [(SIG, SIGNATURE), (ID, MESSAGE_ID), (TS, STAMP)];
        Case::new(scheme(SchemeKind::Twitch), SECRET, &pairs, BODY, NOW)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("twitch-eventsub-secreT");
        for h in [SIG, ID, TS] {
            case.rejects_missing(h);
        }
        case.rejects_malformed(SIG, &[&SIGNATURE.as_bytes()[7..], b"sha1=a277", b"sha256=a277"]);
        case.rejects_malformed(TS, &[b"1700000000", b"2023-11-14 22:13:20", b"2023-13-14T22:13:20Z", b""]);
        // Id and timestamp are signed.
        assert_eq!(case.verify_header(ID, b"another-id"), Err(VerifyError::SignatureMismatch));
        assert_eq!(case.verify_header(TS, b"2023-11-14T22:13:21.634234626Z"), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let pairs = case().scheme.sign(SECRET, BODY, NOW, "msg-1").unwrap();
        assert!(pairs.contains(&(TS.into(), "2023-11-14T22:13:20Z".into())));
    }
}
