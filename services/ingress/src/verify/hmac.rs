//! Generic HMAC, for providers without a dedicated scheme, configured in `[sources.NAME.hmac]`:
//! the header, the algorithm (sha1/sha256/sha512), the encoding (hex/base64), an optional prefix
//! (e.g. `sha256=`), and what is signed: the raw body (default), `timestamp_body` (the
//! `timestamp_header` value, then the body, with the timestamp checked against the source's
//! tolerance) or `url_body` (the URL the provider posted to, `public_url` when set, then the body),
//! the parts joined by an optional `separator`. The key is the secret's text as bytes.
use hookbus_core::config::{HmacParams, HmacSigned};

use super::mac::{any_matches, compute, decode, encode, outcome};
use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header, signed_url};
use super::identify::header;
use super::{Prefix, Provider};

/// Load-time checks: header names that `http` rejects could never be found on a request, and
/// `timestamp_body` needs to know where the timestamp is.
pub(super) fn validate(params: &HmacParams) -> Result<(), VerifyError> {
    let names = [Some(("header", &params.header)), params.timestamp_header.as_ref().map(|h| ("timestamp_header", h))];
    for (key, name) in names.into_iter().flatten() {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            return Err(VerifyError::Misconfigured(format!("hmac `{key}` {name:?} is not a valid HTTP header name")));
        }
    }
    if params.signed == HmacSigned::TimestampBody && params.timestamp_header.is_none() {
        return Err(VerifyError::Misconfigured(
            "hmac `signed = \"timestamp_body\"` needs `timestamp_header`, the header carrying the unix timestamp"
                .into(),
        ));
    }
    Ok(())
}

fn prefix(params: &HmacParams) -> &str {
    params.prefix.as_deref().unwrap_or("")
}

fn separator(params: &HmacParams) -> &[u8] {
    params.separator.as_deref().unwrap_or("").as_bytes()
}

/// The part signed before the body, if any: the timestamp text (and its value) or the URL.
enum Lead {
    None,
    Timestamp(String, i64),
    Url(String),
}

impl Lead {
    fn bytes(&self) -> &[u8] {
        match self {
            Lead::None => b"",
            Lead::Timestamp(text, _) => text.as_bytes(),
            Lead::Url(url) => url.as_bytes(),
        }
    }
}

fn mac(p: &HmacParams, key: &[u8], lead: &Lead, body: &[u8]) -> Vec<u8> {
    match lead {
        Lead::None => compute(p.algorithm, key, &[body]),
        _ => compute(p.algorithm, key, &[lead.bytes(), separator(p), body]),
    }
}

pub(super) fn verify(
    p: &HmacParams,
    public_url: Option<&str>,
    req: &Inbound<'_>,
    secrets: &[&str],
    tolerance_secs: u64,
) -> Result<usize, VerifyError> {
    let name = p.header.as_str();
    let value = required_header(req.headers, name)?;
    let encoded = value.strip_prefix(prefix(p)).ok_or_else(|| {
        VerifyError::malformed(name, format!("the value does not start with the configured prefix {:?}", prefix(p)))
    })?;
    let given = decode(name, encoded, p.encoding, p.algorithm)?;
    let lead = match (p.signed, p.timestamp_header.as_deref()) {
        (HmacSigned::Body, _) => Lead::None,
        (HmacSigned::TimestampBody, Some(ts_header)) => {
            let text = required_header(req.headers, ts_header)?;
            Lead::Timestamp(text.to_owned(), parse_timestamp(ts_header, text)?)
        }
        // `from_config` refuses this; a hand-built scheme gets the same message.
        (HmacSigned::TimestampBody, None) => validate(p).map(|_| Lead::None)?,
        (HmacSigned::UrlBody, _) => Lead::Url(signed_url::resolve(public_url, req.url, "hmac")?),
    };
    let i = outcome(any_matches(secrets, &[given], |key| mac(p, key, &lead, req.body)))?;
    if let Lead::Timestamp(_, ts) = lead {
        check_tolerance(req.now, ts, tolerance_secs)?;
    }
    Ok(i)
}

pub(super) fn sign(
    p: &HmacParams,
    public_url: Option<&str>,
    secret: &str,
    body: &[u8],
    now: i64,
) -> Result<Vec<(String, String)>, VerifyError> {
    let lead = match p.signed {
        HmacSigned::Body => Lead::None,
        HmacSigned::TimestampBody => Lead::Timestamp(now.to_string(), now),
        HmacSigned::UrlBody => Lead::Url(signed_url::for_signing(public_url, "hmac")?),
    };
    let value = format!("{}{}", prefix(p), encode(p.encoding, &mac(p, secret.as_bytes(), &lead, body)));
    let mut out = vec![(p.header.clone(), value), ("Content-Type".into(), "application/json".into())];
    if let (Lead::Timestamp(text, _), Some(h)) = (&lead, &p.timestamp_header) {
        out.push((h.clone(), text.clone()));
    }
    Ok(out)
}

pub(super) const PROVIDER: Provider = Provider {
    about: "generic HMAC: [sources.NAME.hmac] header, algorithm, encoding, prefix, what is signed",
    headers: &["X-Signature", "X-Timestamp"],
    check: |s| match &s.hmac {
        Some(params) => validate(params),
        None => Err(VerifyError::Misconfigured(
            "scheme `hmac` needs a `[sources.NAME.hmac]` table with at least `header`".into(),
        )),
    },
    verify: |s, req, keys, tol| verify(params(s)?, s.public_url.as_deref(), req, keys, tol),
    sign: |s, g| sign(params(s)?, s.public_url.as_deref(), g.secret, g.body, g.now),
    round_trips: false,
    identify: |s, h, _| match &s.hmac {
        Some(p) => (p.id_header.as_deref().and_then(|n| header(h, n)), p.type_header.as_deref().and_then(|n| header(h, n))),
        None => (None, None),
    },
    prefix: Prefix::Source,
    ..Provider::DEFAULT
};

/// The parameters `check` made sure of at load time.
fn params(s: &super::Scheme) -> Result<&HmacParams, VerifyError> {
    s.hmac.as_ref().ok_or_else(|| VerifyError::Misconfigured("scheme `hmac` needs `[sources.NAME.hmac]`".into()))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::HmacAlgorithm::{Sha1, Sha256, Sha512};
    use hookbus_core::config::SigEncoding::{Base64, Hex};
    use hookbus_core::config::{HmacAlgorithm, Secret, SigEncoding};

    use super::super::Scheme;
    use super::super::test_util::{Case, expired, headers, hmac_params, inbound, source, with_header};
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
        Scheme { kind: hookbus_core::config::SchemeKind::Hmac, public_url: None, hmac: Some(hmac_params(alg, enc, prefix)), settings: Default::default() }
    }

    /// The common case: `X-Signature: sha256=<hex>`.
    fn sha256_hex() -> Scheme {
        scheme(Sha256, Hex, Some("sha256="))
    }

    /// Verifies `body` sent with `X-Signature: value` under `s`.
    fn check(s: &Scheme, value: &[u8], body: &[u8], secrets: &[Secret]) -> Result<(), VerifyError> {
        let map = with_header(&http::HeaderMap::new(), "X-Signature", value);
        s.verify(&inbound(&map, body, NOW), secrets, 300).map(|_| ())
    }

    fn check_body(s: &Scheme, value: &str) -> Result<(), VerifyError> {
        check(s, value.as_bytes(), BODY, &[Secret::new(SECRET)])
    }

    #[test]
    fn hmac_without_usable_params_is_misconfigured() {
        let mut config = source("hmac", None);
        config.hmac = None;
        assert_eq!(Scheme::from_config(&config).unwrap_err().code(), "source_misconfigured");
        let bad_params = [
            HmacParams { header: "X Signature".into(), ..HmacParams::default() },
            HmacParams { header: "X-Sig".into(), timestamp_header: Some("X Ts".into()), ..HmacParams::default() },
            HmacParams { header: "X-Sig".into(), signed: HmacSigned::TimestampBody, ..HmacParams::default() },
        ];
        for params in bad_params {
            config.hmac = Some(params.clone());
            assert_eq!(Scheme::from_config(&config).unwrap_err().code(), "source_misconfigured", "{params:?}");
        }
    }

    /// `X-Signature: sha256=<hex>` over `{X-Timestamp}.{body}`, like Stripe without the header
    /// packing. Built with
    /// `printf '%s' '1700000000.{"event":"ping"}' | openssl dgst -sha256 -hmac 'hookbus-test-secret'`.
    fn timestamped() -> Case {
        let params = HmacParams {
            signed: HmacSigned::TimestampBody,
            timestamp_header: Some("X-Timestamp".into()),
            separator: Some(".".into()),
            ..hmac_params(Sha256, Hex, Some("sha256="))
        };
        let sig = "sha256=eeb4aa6b248d1033a3303bb864241d3e1972f7ab3e1e61d3058bc03d1b04a260";
        let pairs = [("X-Signature", sig), ("X-Timestamp", "1700000000")];
        Case::new(Scheme { kind: hookbus_core::config::SchemeKind::Hmac, public_url: None, hmac: Some(params), settings: Default::default() }, SECRET, &pairs, BODY, NOW)
    }

    #[test]
    fn timestamp_body_vector_tolerance_and_headers() {
        let case = timestamped();
        case.standard("hookbus-test-secreT");
        case.enforces_tolerance(NOW);
        case.rejects_missing("X-Timestamp");
        case.rejects_missing("X-Signature");
        case.rejects_malformed("X-Timestamp", &[b"soon", b"1.5", b""]);
        // The timestamp is signed: moving it breaks the signature.
        assert_eq!(case.verify_header("X-Timestamp", b"1700000001"), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }

    /// Base64 HMAC-SHA256 of the public URL (with the query the request carried) + body, built with
    /// `printf '%s' 'https://hooks.example.com/in/acme?x=1{"event":"ping"}' | openssl dgst -sha256
    /// -hmac 'hookbus-test-secret' -binary | base64`.
    #[test]
    fn url_body_vector_uses_public_url_and_request_query() {
        let params = HmacParams { signed: HmacSigned::UrlBody, ..hmac_params(Sha256, Base64, None) };
        let public_url = Some("https://hooks.example.com/in/acme".to_owned());
        let pairs = [("X-Signature", "b9yocODSuy0QADONSlYajRMbbxd7aOxeNxQxl0IUrEY=")];
        let case = Case::new(Scheme { kind: hookbus_core::config::SchemeKind::Hmac, public_url, hmac: Some(params.clone()), settings: Default::default() }, SECRET, &pairs, BODY, NOW)
            .at_url("/webhooks/acme?x=1");
        case.standard("wrong");
        case.rejects_missing("X-Signature");
        assert_eq!(case.clone().at_url("/webhooks/acme?x=2").verify(), Err(VerifyError::SignatureMismatch));
        // `sign` signs `public_url` as configured, so a request without a query of its own matches.
        case.clone().at_url("/webhooks/acme").round_trips();
        // Without public_url an absolute request URL works, a bare path is a configuration problem.
        let bare = Case { scheme: Scheme { kind: hookbus_core::config::SchemeKind::Hmac, public_url: None, hmac: Some(params), settings: Default::default() }, ..case.clone() };
        assert_eq!(bare.clone().at_url("https://hooks.example.com/in/acme?x=1").verify(), Ok(()));
        assert_eq!(bare.verify().unwrap_err().code(), "source_misconfigured");
        assert_eq!(bare.scheme.sign(SECRET, BODY, NOW, "d").unwrap_err().code(), "source_misconfigured");
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
        let err = sha256_hex().verify(&inbound(&map, BODY, NOW), &[Secret::new(SECRET)], 300).map(|_| ());
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
                assert_eq!(s.verify(&req, &[Secret::new(SECRET)], 300).map(|_| ()), Ok(()), "{alg:?} {enc:?}");
            }
        }
    }
}
