//! Paddle Billing: `Paddle-Signature: ts=<unix>;h1=<hex>[;h1=<hex>]`, each `h1` the hex
//! HMAC-SHA256 of `{ts}:{body}` keyed with the notification destination's secret key
//! (<https://developer.paddle.com/webhooks/signature-verification>). Several `h1` appear while
//! Paddle rotates the key. Paddle's SDKs allow 5 s of skew; the source's tolerance applies here
//! (set `tolerance_secs` lower for Paddle's strictness). Paddle Classic (`p_signature`, RSA over
//! PHP-serialized form fields) is a different product and not supported.
use hookbus_core::config::HmacAlgorithm::Sha256;

use super::mac::{any_matches, compute, outcome, pairs, parse_ts_sigs};
use super::{Inbound, VerifyError, check_tolerance, required_header};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "Paddle-Signature";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let (ts_text, ts, given) = parse_ts_sigs(HEADER, required_header(req.headers, HEADER)?, ';', "ts", "h1")?;
    let mac = |key: &[u8]| compute(Sha256, key, &[ts_text.as_bytes(), b":", req.body]);
    let i = outcome(any_matches(secrets, &given, mac))?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    let ts = now.to_string();
    let h1 = hex::encode(compute(Sha256, secret.as_bytes(), &[ts.as_bytes(), b":", body]));
    pairs([(HEADER, format!("ts={ts};h1={h1}")), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Paddle Billing: Paddle-Signature ts=<unix>;h1=<hex HMAC-SHA256 of ts:body> (any h1)",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    identify: |_, _, body| fields(body, "/event_id", "/event_type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // From Paddle's Node SDK test suite (PaddleHQ/paddle-node-sdk,
    // src/__tests__/notifications/webhooks-validator.test.ts), cross-checked with
    //   printf '%s' '1698796800:{"data": ["1", "2"]}' | openssl dgst -sha256 -hmac VALID_SECRET
    const SECRET: &str = "VALID_SECRET";
    const TS: i64 = 1698796800;
    const BODY: &[u8] = br#"{"data": ["1", "2"]}"#;
    const VALUE: &str = "ts=1698796800;h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Paddle), SECRET, &[(HEADER, VALUE)], BODY, TS)
    }

    #[test]
    fn sdk_vectors_and_negatives() {
        let case = case();
        case.standard("INVALID_VALID_SECRET");
        // The SDK's "several hashes" vector: any h1 may match, unknown keys are ignored.
        let several = "ts=1698796800;h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;\
                       h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261;h2=RANDOM_HASH";
        let other = Case { body: br#"{"data": "value"}"#.to_vec(), ..case.clone() };
        assert_eq!(other.verify_header(HEADER, several.as_bytes()), Ok(()));
        // Rotation: any h1 may match, wherever it is and whatever else is listed beside it; an h1
        // that is not hex (the SDK's `RANDOM_HASH` under h1) cannot match but does not void the others.
        let good = "h1=28981e941fae76e53db32f3d2a83cb69db41476595e84e1970a1b5d98f62b261";
        let old = "h1=a300428748dce5c70e4da19bffd60769591ea969c99dea3105d0ec9612cf43f9";
        for value in [
            format!("ts=1698796800;{old};{good}"),
            format!("ts=1698796800;h1=RANDOM_HASH;{good}"),
            format!("ts=1698796800;{good};h1=abc"),
        ] {
            assert_eq!(other.verify_header(HEADER, value.as_bytes()), Ok(()), "{value}");
        }
        let none_match = format!("ts=1698796800;{old};h1=RANDOM_HASH");
        assert_eq!(other.verify_header(HEADER, none_match.as_bytes()), Err(VerifyError::SignatureMismatch));
        // The SDK's "more spaces" body and moved timestamp.
        assert_eq!(case.verify_body(br#"{ "data": [ "1", "2" ]}"#), Err(VerifyError::SignatureMismatch));
        let moved = VALUE.replace("ts=1698796800", "ts=1698796801");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn missing_and_malformed_headers() {
        let case = case();
        case.rejects_missing(HEADER);
        // The SDK's invalid headers, then others.
        case.rejects_malformed(
            HEADER,
            &[b"invalid_header", b"h1=invalid_header", b"ts=1234;h2=invalid_header", b"ts=1234;h1=invalid_signature"],
        );
        case.rejects_malformed(HEADER, &[b"ts=x;h1=00", b"ts=1;ts=1;h1=00", b"", b"ts=1698796800,h1=a3"]);
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(TS);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, TS, "d").unwrap()[0].1, VALUE);
    }
}
