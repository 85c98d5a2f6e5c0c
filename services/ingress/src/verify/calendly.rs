//! Calendly: `Calendly-Webhook-Signature: t=<unix>,v1=<hex>`, `v1` the hex HMAC-SHA256 of
//! `{t}.{body}` keyed with the webhook signing key, `t` checked against the source's tolerance
//! (<https://developer.calendly.com/api-docs/overview/webhooks/webhook-signatures>).
use hookbus_core::config::HmacAlgorithm::Sha256;

use super::mac::{any_matches, compute, outcome, pairs, parse_ts_sigs};
use super::{Inbound, VerifyError, check_tolerance, required_header};
use super::Provider;
use super::identify::body_str;

const HEADER: &str = "Calendly-Webhook-Signature";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let (t_text, t, given) = parse_ts_sigs(HEADER, required_header(req.headers, HEADER)?, ',', "t", "v1")?;
    let mac = |key: &[u8]| compute(Sha256, key, &[t_text.as_bytes(), b".", req.body]);
    let i = outcome(any_matches(secrets, &given, mac))?;
    check_tolerance(req.now, t, tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    let t = now.to_string();
    let v1 = hex::encode(compute(Sha256, secret.as_bytes(), &[t.as_bytes(), b".", body]));
    pairs([(HEADER, format!("t={t},v1={v1}")), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Calendly: Calendly-Webhook-Signature t=<unix>,v1=<hex HMAC-SHA256 of t.body>",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    identify: |_, _, body| (None, body_str(body, "/event")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "1700000000.$BODY" | openssl dgst -sha256 -hmac 'calendly-signing-key'
    const SECRET: &str = "calendly-signing-key";
    const T: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"created_at":"2023-11-14T22:13:20.000000Z","event":"invitee.created","payload":{"uri":"https://api.calendly.com/scheduled_events/GBGBDCAADAEDCRZ2/invitees/AAAA"}}"#;
    const VALUE: &str = "t=1700000000,v1=ad06810fb9a3cd98da3cbc957547ba10451852b26b0ba4bc51286d838b917df1";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Calendly), SECRET, &[(HEADER, VALUE)], BODY, T)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("calendly-signing-keY");
        case.rejects_missing(HEADER);
        let semicolons = VALUE.replace(',', ";");
        case.rejects_malformed(HEADER, &[b"v1=ad06", b"t=1700000000", semicolons.as_bytes(), b"t=soon,v1=00", b""]);
        let spaced = VALUE.replace(',', ", ");
        assert_eq!(case.verify_header(HEADER, spaced.as_bytes()), Ok(()));
        let moved = VALUE.replace("t=1700000000", "t=1700000001");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(T);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, T, "d").unwrap()[0].1, VALUE);
    }
}
