//! Generic HMAC over the raw body, for providers without a dedicated scheme: the header, the
//! algorithm, the encoding and an optional prefix (e.g. `sha256=`) come from `[sources.NAME.hmac]`.
//! The key is the secret's text as bytes. No timestamp is signed, so there is no tolerance check.
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use hookbus_core::config::{HmacAlgorithm, HmacParams, SigEncoding};
use hookbus_core::signing::{constant_time_eq, hmac_sha256};

use super::{Inbound, VerifyError, required_header};

/// Standard alphabet; padding optional on input because providers differ, always written on output.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Load-time check: a header name that `http` rejects could never be found on a request.
pub(super) fn validate(params: &HmacParams) -> Result<(), VerifyError> {
    match http::HeaderName::from_bytes(params.header.as_bytes()) {
        Ok(_) => Ok(()),
        Err(_) => Err(VerifyError::Misconfigured(format!(
            "hmac `header` {:?} is not a valid HTTP header name",
            params.header
        ))),
    }
}

/// Name and MAC length in bytes, for the length check's message.
fn spec(alg: HmacAlgorithm) -> (&'static str, usize) {
    match alg {
        HmacAlgorithm::Sha1 => ("sha1", 20),
        HmacAlgorithm::Sha256 => ("sha256", 32),
        HmacAlgorithm::Sha512 => ("sha512", 64),
    }
}

fn compute(alg: HmacAlgorithm, key: &[u8], body: &[u8]) -> Vec<u8> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; core only has SHA-256.
    fn with<D: Mac + hmac::digest::KeyInit>(key: &[u8], body: &[u8]) -> Vec<u8> {
        let mut mac = <D as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
        mac.update(body);
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        HmacAlgorithm::Sha1 => with::<Hmac<sha1::Sha1>>(key, body),
        HmacAlgorithm::Sha256 => hmac_sha256(key, &[body]).to_vec(),
        HmacAlgorithm::Sha512 => with::<Hmac<sha2::Sha512>>(key, body),
    }
}

fn prefix(params: &HmacParams) -> &str {
    params.prefix.as_deref().unwrap_or("")
}

pub(super) fn verify(p: &HmacParams, req: &Inbound<'_>, secrets: &[&str]) -> Result<(), VerifyError> {
    let name = p.header.as_str();
    let malformed = |reason: String| VerifyError::malformed(name, reason);
    let value = required_header(req.headers, name)?;
    let encoded = value
        .strip_prefix(prefix(p))
        .ok_or_else(|| malformed(format!("the value does not start with the configured prefix {:?}", prefix(p))))?;
    let given = match p.encoding {
        // `hex` decodes either case.
        SigEncoding::Hex => hex::decode(encoded.trim()).map_err(|_| "not valid hex"),
        SigEncoding::Base64 => B64.decode(encoded.trim()).map_err(|_| "not valid base64"),
    }
    .map_err(|e| malformed(format!("the signature is {e}")))?;
    let (alg_name, len) = spec(p.algorithm);
    if given.len() != len {
        // Usually the configured algorithm or encoding is not the provider's.
        let n = given.len();
        let why = format!("the signature is {n} bytes but {alg_name} gives {len}; check `algorithm`");
        return Err(malformed(why));
    }
    let matched = secrets
        .iter()
        .fold(false, |found, s| found | constant_time_eq(&compute(p.algorithm, s.as_bytes(), req.body), &given));
    if matched { Ok(()) } else { Err(VerifyError::SignatureMismatch) }
}

pub(super) fn sign(params: &HmacParams, secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let mac = compute(params.algorithm, secret.as_bytes(), body);
    let encoded = match params.encoding {
        SigEncoding::Hex => hex::encode(mac),
        SigEncoding::Base64 => B64.encode(mac),
    };
    let value = format!("{}{encoded}", prefix(params));
    vec![(params.header.clone(), value), ("Content-Type".into(), "application/json".into())]
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::HmacAlgorithm::{Sha1, Sha256, Sha512};
    use hookbus_core::config::SigEncoding::{Base64, Hex};
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::Scheme;
    use super::super::test_util::{expired, headers, hmac_params, inbound, with_header};
    use super::*;

    const SECRET: &str = "hookbus-test-secret";
    const BODY: &[u8] = br#"{"event":"ping"}"#;
    const NOW: i64 = 1_700_000_000;
    const S256: &str = "sha256=3075a8202d5384e314f667d1c697c35e8d3383d4194551cecf6476cb5d30eea0";

    // Not provider vectors (the scheme is generic); computed once with OpenSSL:
    //   printf '%s' '{"event":"ping"}' | openssl dgst -$ALG -hmac 'hookbus-test-secret'
    //   printf '%s' '{"event":"ping"}' | openssl dgst -$ALG -hmac 'hookbus-test-secret' -binary \
    //     | openssl base64 -A
    const VECTORS: [(HmacAlgorithm, SigEncoding, &str); 6] = [
        (Sha1, Hex, "a1034b23318c42ba490cacb11e52e7dad371af5a"),
        (Sha1, Base64, "oQNLIzGMQrpJDKyxHlLn2tNxr1o="),
        (Sha256, Hex, "3075a8202d5384e314f667d1c697c35e8d3383d4194551cecf6476cb5d30eea0"),
        (Sha256, Base64, "MHWoIC1ThOMU9mfRxpfDXo0zg9QZRVHOz2R2y10w7qA="),
        (
            Sha512,
            Hex,
            "a8b3a349db0dbf6e4b718672886a69f403d7d18ddb8ac9077542c4d826f0eb32\
                       99cc214d056d69b8b6a4c9ac168a8707b3ad12fe70a5b7316e12ab0554be447e",
        ),
        (
            Sha512,
            Base64,
            "qLOjSdsNv25LcYZyiGpp9APX0Y3biskHdULE2Cbw6zKZzCFNBW1puLakyawWiocH\
                          s60S/nCltzFuEqsFVL5Efg==",
        ),
    ];

    fn scheme(alg: HmacAlgorithm, enc: SigEncoding, prefix: Option<&str>) -> Scheme {
        Scheme::Hmac(hmac_params(alg, enc, prefix))
    }

    /// The common case: `X-Signature: sha256=<hex>`.
    fn sha256_hex() -> Scheme {
        scheme(Sha256, Hex, Some("sha256="))
    }

    /// Verifies `body` sent with `X-Signature: value` under `s`.
    fn check(s: &Scheme, value: &[u8], body: &[u8], secrets: &[Secret]) -> Result<(), VerifyError> {
        let map = with_header(&http::HeaderMap::new(), "X-Signature", value);
        s.verify(&inbound(&map, body, NOW), secrets, 300)
    }

    fn check_body(s: &Scheme, value: &str) -> Result<(), VerifyError> {
        check(s, value.as_bytes(), BODY, &[Secret::new(SECRET)])
    }

    #[test]
    fn hmac_without_usable_params_is_misconfigured() {
        let err = Scheme::from_config(SchemeKind::Hmac, None).unwrap_err();
        assert_eq!(err.code(), "source_misconfigured");
        let mut bad = hmac_params(Sha1, Base64, None);
        bad.header = "X Signature".into();
        let err = Scheme::from_config(SchemeKind::Hmac, Some(&bad)).unwrap_err();
        assert_eq!(err.code(), "source_misconfigured");
    }

    #[test]
    fn openssl_vectors_with_and_without_prefix() {
        for (alg, enc, sig) in VECTORS {
            let (plain, prefixed) = (scheme(alg, enc, None), scheme(alg, enc, Some("v1=")));
            assert_eq!(check_body(&plain, sig), Ok(()), "{alg:?} {enc:?}");
            assert_eq!(check_body(&prefixed, &format!("v1={sig}")), Ok(()), "{alg:?} {enc:?}");
            // The prefix is required once configured.
            let err = check_body(&prefixed, sig).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header");
            // And signing reproduces the vector.
            let pairs = prefixed.sign(SECRET, BODY, NOW, "d").unwrap();
            assert_eq!(pairs[0], ("X-Signature".to_string(), format!("v1={sig}")));
        }
    }

    #[test]
    fn hex_is_case_insensitive_and_base64_padding_optional() {
        let upper = format!("sha256={}", VECTORS[2].2.to_uppercase());
        assert_eq!(check_body(&sha256_hex(), &upper), Ok(()));
        let unpadded = VECTORS[3].2.trim_end_matches('=');
        assert_eq!(check_body(&scheme(Sha256, Base64, None), unpadded), Ok(()));
    }

    #[test]
    fn wrong_secret_and_tampered_body_mismatch() {
        let wrong = [Secret::new("hookbus-test-secreT")];
        let err = check(&sha256_hex(), S256.as_bytes(), BODY, &wrong);
        assert_eq!(err, Err(VerifyError::SignatureMismatch));
        let right = [Secret::new(SECRET)];
        let err = check(&sha256_hex(), S256.as_bytes(), br#"{"event":"pinh"}"#, &right);
        assert_eq!(err, Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn missing_header_names_the_configured_one() {
        let map = headers(&[("X-Other".into(), S256.into())]);
        let err = sha256_hex().verify(&inbound(&map, BODY, NOW), &[Secret::new(SECRET)], 300);
        assert_eq!(err, Err(VerifyError::MissingHeader("X-Signature".into())));
    }

    #[test]
    fn malformed_headers() {
        let b64 = scheme(Sha256, Base64, None);
        let cases: [(&Scheme, &[u8]); 6] = [
            (&sha256_hex(), b"sha256=not-hex"),
            (&sha256_hex(), b"sha256=abc"),
            // Right encoding, wrong algorithm: a SHA-1 sized value under a SHA-256 config.
            (&sha256_hex(), b"sha256=a1034b23318c42ba490cacb11e52e7dad371af5a"),
            (&sha256_hex(), b"sha256=\xc3\xa9"),
            (&b64, b"!!!!"),
            (&b64, b""),
        ];
        for (s, value) in cases {
            let err = check(s, value, BODY, &[Secret::new(SECRET)]).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header", "{value:?}");
        }
    }

    #[test]
    fn rotation_and_expiry() {
        let rotated = [Secret::new("old"), Secret::new(SECRET)];
        assert_eq!(check(&sha256_hex(), S256.as_bytes(), BODY, &rotated), Ok(()));
        let err = check(&sha256_hex(), S256.as_bytes(), BODY, &[expired(SECRET, NOW)]);
        assert_eq!(err, Err(VerifyError::NoActiveSecret));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        for (alg, enc, _) in VECTORS {
            let s = scheme(alg, enc, Some("sig="));
            for body in [BODY, b""] {
                let pairs = s.sign(SECRET, body, NOW, "d").unwrap();
                assert!(pairs.contains(&("Content-Type".into(), "application/json".into())));
                let map = headers(&pairs);
                let req = inbound(&map, body, NOW);
                assert_eq!(s.verify(&req, &[Secret::new(SECRET)], 300), Ok(()), "{alg:?} {enc:?}");
            }
        }
    }
}
