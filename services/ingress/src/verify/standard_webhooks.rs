//! Standard Webhooks (<https://www.standardwebhooks.com/>), also sent by Svix with `svix-` names.
//! The crypto lives in `hookbus_core::signing` (shared with the worker's outbound signing);
//! this file only reads headers, picks keys and checks the timestamp.
use hookbus_core::signing::{sign_standard_webhooks, standard_webhooks_key, standard_webhooks_matches};

use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header};
use super::identify::{body_str, header};
use super::{Prefix, Provider};

/// The header trio, under the spec's names and under Svix's (the libraries accept both).
const WEBHOOK: [&str; 3] = ["webhook-id", "webhook-timestamp", "webhook-signature"];
const SVIX: [&str; 3] = ["svix-id", "svix-timestamp", "svix-signature"];

const BAD_SECRET: &str = "a Standard Webhooks secret is not valid base64: expected \
                          `whsec_<base64>` as the provider shows it";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    // Use one naming family for all three headers so that a missing one is reported by the name
    // the provider actually uses; the spec's names win when both are present.
    let present = |family: [&str; 3]| family.iter().any(|h| req.headers.contains_key(*h));
    let names = if !present(WEBHOOK) && present(SVIX) { SVIX } else { WEBHOOK };
    let [id_h, ts_h, sig_h] = names;

    let id = required_header(req.headers, id_h)?;
    let ts_raw = required_header(req.headers, ts_h)?;
    let sig = required_header(req.headers, sig_h)?;
    let ts = parse_timestamp(ts_h, ts_raw)?;
    if !sig.split_whitespace().any(|s| s.starts_with("v1,")) {
        return Err(VerifyError::malformed(sig_h, "no `v1,<base64>` signature in the list"));
    }

    // Signature before timestamp: a tolerance error then reports a real clock or replay
    // problem with an authentic delivery, not noise from forged requests.
    let mut bad_secret = false;
    let mut matched = None;
    for (i, secret) in secrets.iter().enumerate() {
        match standard_webhooks_key(secret) {
            Ok(key) if standard_webhooks_matches(&key, id, ts, req.body, sig) => matched = matched.or(Some(i)),
            Ok(_) => {}
            Err(_) => bad_secret = true,
        }
    }
    let Some(i) = matched else {
        // An undecodable secret is the likelier cause of a mismatch; say so.
        return Err(if bad_secret {
            VerifyError::Misconfigured(BAD_SECRET.into())
        } else {
            VerifyError::SignatureMismatch
        });
    };
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(
    secret: &str,
    body: &[u8],
    now: i64,
    delivery_id: &str,
) -> Result<Vec<(String, String)>, VerifyError> {
    let h = sign_standard_webhooks(secret, delivery_id, now, body)
        .map_err(|_| VerifyError::Misconfigured(BAD_SECRET.into()))?;
    Ok(vec![(WEBHOOK[0].into(), h.id), (WEBHOOK[1].into(), h.timestamp.to_string()), (WEBHOOK[2].into(), h.signature)])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Standard Webhooks / Svix: webhook-signature v1,<base64 HMAC-SHA256 of id.timestamp.body>",
    headers: &["webhook-id", "webhook-timestamp", "webhook-signature", "svix-id", "svix-timestamp", "svix-signature"],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| sign(s.secret, s.body, s.now, s.id),
    identify: |_, h, body| {
        (
            header(h, "webhook-id").or_else(|| header(h, "svix-id")),
            body_str(body, "/type").or_else(|| body_str(body, "/eventType")),
        )
    },
    prefix: Prefix::Source,
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::Secret;

    use super::super::Scheme;
    use super::super::test_util::{expired, headers, inbound, with_header};
    use super::*;

    // Vector from the Standard Webhooks reference libraries' test suite
    // (https://github.com/standard-webhooks/standard-webhooks, libraries/*/tests), the same one
    // core's signing tests use; here it goes through header parsing and the tolerance check.
    const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
    const ID: &str = "msg_p5jXN8AQM9LWM0D4loKWxJek";
    const TS: i64 = 1614265330;
    const BODY: &[u8] = br#"{"test": 2432232314}"#;
    const SIG: &str = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    const OTHER: &str = "whsec_c2VjcmV0LW51bWJlci10d28=";
    const TOL: u64 = 300;

    fn reference(prefix: &str) -> http::HeaderMap {
        headers(&[
            (format!("{prefix}-id"), ID.into()),
            (format!("{prefix}-timestamp"), TS.to_string()),
            (format!("{prefix}-signature"), SIG.into()),
        ])
    }

    fn check(map: &http::HeaderMap, body: &[u8], now: i64, secrets: &[Secret]) -> Result<(), VerifyError> {
        Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks).verify(&inbound(map, body, now), secrets, TOL).map(|_| ())
    }

    #[test]
    fn reference_vector_passes_under_both_header_families() {
        assert_eq!(check(&reference("webhook"), BODY, TS, &[Secret::new(SECRET)]), Ok(()));
        assert_eq!(check(&reference("svix"), BODY, TS, &[Secret::new(SECRET)]), Ok(()));
        // Header names are case-insensitive.
        assert_eq!(check(&reference("Webhook"), BODY, TS, &[Secret::new(SECRET)]), Ok(()));
    }

    #[test]
    fn wrong_secret_and_tampered_body_mismatch() {
        let map = reference("webhook");
        assert_eq!(check(&map, BODY, TS, &[Secret::new(OTHER)]), Err(VerifyError::SignatureMismatch));
        let mut body = BODY.to_vec();
        body[2] ^= 1;
        assert_eq!(check(&map, &body, TS, &[Secret::new(SECRET)]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn missing_headers_are_named() {
        let mut map = reference("webhook");
        map.remove("webhook-signature");
        assert_eq!(
            check(&map, BODY, TS, &[Secret::new(SECRET)]),
            Err(VerifyError::MissingHeader("webhook-signature".into()))
        );
        let mut svix = reference("svix");
        svix.remove("svix-timestamp");
        assert_eq!(
            check(&svix, BODY, TS, &[Secret::new(SECRET)]),
            Err(VerifyError::MissingHeader("svix-timestamp".into()))
        );
        let empty = http::HeaderMap::new();
        assert_eq!(
            check(&empty, BODY, TS, &[Secret::new(SECRET)]),
            Err(VerifyError::MissingHeader("webhook-id".into()))
        );
    }

    #[test]
    fn malformed_headers_are_rejected() {
        let map = reference("webhook");
        for (name, value) in [
            ("webhook-timestamp", &b"soon"[..]),
            ("webhook-timestamp", b"99999999999999999999999"),
            ("webhook-signature", b"v2,abc"),
            ("webhook-signature", b"\xff\xfe"),
            ("webhook-id", b"\xc3\x28"),
        ] {
            let err = check(&with_header(&map, name, value), BODY, TS, &[Secret::new(SECRET)]).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header", "{name}={value:?}");
        }
    }

    #[test]
    fn timestamp_tolerance_both_ways() {
        let map = reference("webhook");
        let s = [Secret::new(SECRET)];
        let tol = TOL as i64;
        assert_eq!(check(&map, BODY, TS + tol, &s), Ok(()));
        assert_eq!(check(&map, BODY, TS - tol, &s), Ok(()));
        assert_eq!(
            check(&map, BODY, TS + tol + 1, &s),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: tol + 1, tolerance_secs: TOL })
        );
        assert_eq!(
            check(&map, BODY, TS - tol - 1, &s),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: -tol - 1, tolerance_secs: TOL })
        );
    }

    #[test]
    fn rotation_and_expiry() {
        let map = reference("webhook");
        assert_eq!(check(&map, BODY, TS, &[Secret::new(OTHER), Secret::new(SECRET)]), Ok(()));
        assert_eq!(check(&map, BODY, TS, &[expired(SECRET, TS)]), Err(VerifyError::NoActiveSecret));
        // An expired secret is not tried even when a current one is present.
        assert_eq!(
            check(&map, BODY, TS, &[expired(SECRET, TS), Secret::new(OTHER)]),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn undecodable_secret_is_misconfiguration() {
        let err = check(&reference("webhook"), BODY, TS, &[Secret::new("whsec_***")]).unwrap_err();
        assert_eq!(err.code(), "source_misconfigured");
        assert!(!err.to_string().contains("***"));
        assert_eq!(
            Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks).sign("whsec_***", BODY, TS, ID).unwrap_err().code(),
            "source_misconfigured"
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let pairs = Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks).sign(SECRET, BODY, TS, ID).unwrap();
        let names: Vec<&str> = pairs.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, WEBHOOK);
        assert_eq!(pairs[2].1, SIG);
        assert_eq!(check(&headers(&pairs), BODY, TS, &[Secret::new(SECRET)]), Ok(()));
        let pairs = Scheme::of(hookbus_core::config::SchemeKind::StandardWebhooks).sign(SECRET, b"", 0, "").unwrap();
        assert_eq!(check(&headers(&pairs), b"", 0, &[Secret::new(SECRET)]), Ok(()));
    }
}
