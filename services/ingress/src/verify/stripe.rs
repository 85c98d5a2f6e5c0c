//! Stripe: `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]`, where each `v1` is the hex
//! HMAC-SHA256 of `{t}.{body}` keyed with the endpoint secret's text, `whsec_` included
//! (<https://docs.stripe.com/webhooks#verify-manually>). Several `v1` appear during secret
//! rotation on Stripe's side; `v0` and unknown schemes are ignored, as Stripe says to.
use hookbus_core::signing::hmac_sha256;

use super::mac::{any_matches, outcome};

use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header};
use super::Provider;
use super::identify::fields;

const SIG_HEADER: &str = "Stripe-Signature";

/// The timestamp and the decoded `v1` signatures of a header.
fn parse(value: &str) -> Result<(i64, Vec<Vec<u8>>), VerifyError> {
    let mut t = None;
    let mut v1 = Vec::new();
    for item in value.split(',') {
        let (key, val) = item
            .split_once('=')
            .ok_or_else(|| VerifyError::malformed(SIG_HEADER, "expected `t=<unix>,v1=<hex>` elements"))?;
        match key.trim() {
            "t" if t.is_some() => {
                return Err(VerifyError::malformed(SIG_HEADER, "more than one `t=` element"));
            }
            "t" => t = Some(parse_timestamp(SIG_HEADER, val.trim())?),
            "v1" => {
                let sig = hex::decode(val.trim())
                    .ok()
                    .filter(|b| b.len() == 32)
                    .ok_or_else(|| VerifyError::malformed(SIG_HEADER, "a `v1=` element is not 64 hex digits"))?;
                v1.push(sig);
            }
            _ => {}
        }
    }
    let t = t.ok_or_else(|| VerifyError::malformed(SIG_HEADER, "no `t=` timestamp element"))?;
    if v1.is_empty() {
        return Err(VerifyError::malformed(SIG_HEADER, "no `v1=` signature (only `v1` is accepted)"));
    }
    Ok((t, v1))
}

fn mac(key: &[u8], t: i64, body: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[t.to_string().as_bytes(), b".", body])
}

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let (t, given) = parse(required_header(req.headers, SIG_HEADER)?)?;
    let i = outcome(any_matches(secrets, &given, |key| mac(key, t, req.body).to_vec()))?;
    // After the signature, so a tolerance error always concerns an authentic (replayed or
    // clock-skewed) delivery. `t` is signed, so it cannot be moved without breaking v1.
    check_tolerance(req.now, t, tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    let sig = hex::encode(mac(secret.as_bytes(), now, body));
    vec![(SIG_HEADER.into(), format!("t={now},v1={sig}")), ("Content-Type".into(), "application/json".into())]
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Stripe: Stripe-Signature t=<unix>,v1=<hex HMAC-SHA256 of t.body>",
    headers: &[SIG_HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    identify: |_, _, body| fields(body, "/id", "/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::Secret;

    use super::super::Scheme;
    use super::super::test_util::{expired, headers, inbound, with_header};
    use super::*;

    // Stripe's docs (https://docs.stripe.com/webhooks#verify-manually) describe the procedure
    // and show a header with t=1492774577 but publish neither secret nor payload, so this vector
    // is built from that procedure (same t, a made-up secret and body) with:
    //   printf '%s' '1492774577.{"id":"evt_test_webhook","object":"event"}' \
    //     | openssl dgst -sha256 -hmac 'whsec_test_secret'
    const SECRET: &str = "whsec_test_secret";
    const T: i64 = 1492774577;
    const BODY: &[u8] = br#"{"id":"evt_test_webhook","object":"event"}"#;
    const V1: &str = "88a022085c6bdb887b02cb26ff76dd681234d9675c0f22844059f55552a8883a";
    const TOL: u64 = 300;

    fn map(value: &str) -> http::HeaderMap {
        headers(&[(SIG_HEADER.into(), value.into())])
    }

    fn valid() -> http::HeaderMap {
        map(&format!("t={T},v1={V1}"))
    }

    fn check(map: &http::HeaderMap, body: &[u8], now: i64, secrets: &[Secret]) -> Result<(), VerifyError> {
        Scheme::of(hookbus_core::config::SchemeKind::Stripe).verify(&inbound(map, body, now), secrets, TOL).map(|_| ())
    }

    #[test]
    fn procedure_vector_passes() {
        assert_eq!(check(&valid(), BODY, T, &[Secret::new(SECRET)]), Ok(()));
        // Any v1 may match; v0 and unknown elements are ignored; spaces are tolerated.
        let v0 = "6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
        let several = map(&format!("t={T}, v1={v0}, v1={V1}, v0={v0}, x=y"));
        assert_eq!(check(&several, BODY, T, &[Secret::new(SECRET)]), Ok(()));
        let lower = headers(&[("stripe-signature".into(), format!("t={T},v1={V1}"))]);
        assert_eq!(check(&lower, BODY, T, &[Secret::new(SECRET)]), Ok(()));
    }

    #[test]
    fn wrong_secret_tampered_body_and_moved_timestamp_mismatch() {
        assert_eq!(check(&valid(), BODY, T, &[Secret::new("test_secret")]), Err(VerifyError::SignatureMismatch));
        let mut body = BODY.to_vec();
        body[0] = b'[';
        assert_eq!(check(&valid(), &body, T, &[Secret::new(SECRET)]), Err(VerifyError::SignatureMismatch));
        let moved = map(&format!("t={},v1={V1}", T + 1));
        assert_eq!(check(&moved, BODY, T, &[Secret::new(SECRET)]), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn missing_header() {
        let none = http::HeaderMap::new();
        assert_eq!(check(&none, BODY, T, &[Secret::new(SECRET)]), Err(VerifyError::MissingHeader(SIG_HEADER.into())));
    }

    #[test]
    fn malformed_headers() {
        let base = valid();
        for value in [
            format!("v1={V1}"),
            format!("t={T}"),
            format!("t={T},v0={V1}"),
            format!("t=yesterday,v1={V1}"),
            format!("t=99999999999999999999999,v1={V1}"),
            format!("t={T},t={T},v1={V1}"),
            format!("t={T},v1=zz"),
            format!("t={T},{V1}"),
            String::new(),
        ] {
            let err =
                check(&with_header(&base, SIG_HEADER, value.as_bytes()), BODY, T, &[Secret::new(SECRET)]).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header", "{value}");
        }
        let err = check(&with_header(&base, SIG_HEADER, b"t=\xff,v1=00"), BODY, T, &[Secret::new(SECRET)]).unwrap_err();
        assert_eq!(err.code(), "malformed_signature_header");
    }

    #[test]
    fn timestamp_tolerance_both_ways() {
        let s = [Secret::new(SECRET)];
        let tol = TOL as i64;
        assert_eq!(check(&valid(), BODY, T + tol, &s), Ok(()));
        assert_eq!(check(&valid(), BODY, T - tol, &s), Ok(()));
        assert_eq!(
            check(&valid(), BODY, T + tol + 1, &s),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: tol + 1, tolerance_secs: TOL })
        );
        assert_eq!(
            check(&valid(), BODY, T - tol - 1, &s),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: -tol - 1, tolerance_secs: TOL })
        );
    }

    #[test]
    fn rotation_and_expiry() {
        assert_eq!(check(&valid(), BODY, T, &[Secret::new("whsec_old"), Secret::new(SECRET)]), Ok(()));
        assert_eq!(check(&valid(), BODY, T, &[expired(SECRET, T)]), Err(VerifyError::NoActiveSecret));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let pairs = Scheme::of(hookbus_core::config::SchemeKind::Stripe).sign(SECRET, BODY, T, "ignored").unwrap();
        assert_eq!(pairs[0], (SIG_HEADER.to_string(), format!("t={T},v1={V1}")));
        assert_eq!(check(&headers(&pairs), BODY, T, &[Secret::new(SECRET)]), Ok(()));
        let pairs = Scheme::of(hookbus_core::config::SchemeKind::Stripe).sign(SECRET, b"", -5, "ignored").unwrap();
        assert_eq!(check(&headers(&pairs), b"", -5, &[Secret::new(SECRET)]), Ok(()));
    }
}
