//! Test helpers: header maps, and [`Case`], a valid request for one scheme with the checks every
//! scheme's tests run on it (wrong secret, one-byte tampering, missing and malformed headers,
//! timestamp tolerance, rotation, sign/verify round trip).
use hookbus_core::config::{HmacAlgorithm, HmacParams, SchemeKind, Secret, SigEncoding, SourceConfig};
use http::{HeaderMap, HeaderName, HeaderValue};

use super::{Inbound, Scheme, VerifyError};

pub const TOL: u64 = 300;

pub fn headers(pairs: &[(String, String)]) -> HeaderMap {
    pairs.iter().fold(HeaderMap::new(), |map, (k, v)| with_header(&map, k, v.as_bytes()))
}

/// Replaces (or adds) one header, for tampering tests; takes bytes to allow non-UTF-8.
pub fn with_header(map: &HeaderMap, name: &str, value: &[u8]) -> HeaderMap {
    let mut map = map.clone();
    let name = HeaderName::from_bytes(name.as_bytes()).unwrap();
    map.insert(name, HeaderValue::from_bytes(value).unwrap());
    map
}

pub fn inbound<'a>(headers: &'a HeaderMap, body: &'a [u8], now: i64) -> Inbound<'a> {
    let url = "http://localhost/hooks/test";
    Inbound { method: "POST", headers, body, url, now }
}

/// A secret that expired one second before `now`.
pub fn expired(value: &str, now: i64) -> Secret {
    let mut secret = Secret::new(value);
    secret.expires = Some(time::OffsetDateTime::from_unix_timestamp(now - 1).unwrap());
    secret
}

/// Generic HMAC params on `X-Signature`.
pub fn hmac_params(alg: HmacAlgorithm, enc: SigEncoding, prefix: Option<&str>) -> HmacParams {
    HmacParams {
        header: "X-Signature".into(),
        algorithm: alg,
        encoding: enc,
        prefix: prefix.map(str::to_owned),
        ..HmacParams::default()
    }
}

/// A source of `kind` as config would give it, with `public_url` when given.
pub fn source(kind: &str, public_url: Option<&str>) -> SourceConfig {
    let mut json = serde_json::json!({ "scheme": kind, "secrets": [] });
    if let Some(u) = public_url {
        json["public_url"] = u.into();
    }
    if kind == "hmac" {
        json["hmac"] = serde_json::json!({ "header": "X-Signature" });
    }
    // Every setting the provider takes, so that all schemes load (PayPal needs its webhook id).
    let mut config: SourceConfig = serde_json::from_value(json).unwrap();
    for key in super::provider(config.scheme).settings {
        config.settings.insert((*key).to_owned(), "test-setting".to_owned());
    }
    config
}

pub fn scheme(kind: SchemeKind) -> Scheme {
    let name = serde_json::to_value(kind).unwrap();
    Scheme::from_config(&source(name.as_str().unwrap(), None)).unwrap()
}

/// A request that verifies under `secret` at `now`, and the standard checks on it.
#[derive(Clone)]
pub struct Case {
    pub scheme: Scheme,
    pub secret: String,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
    /// As the ingress sees it: a path and query unless a test gives an absolute URL.
    pub url: String,
    pub method: String,
    pub now: i64,
}

impl Case {
    pub fn new(scheme: Scheme, secret: &str, pairs: &[(&str, &str)], body: &[u8], now: i64) -> Case {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Case {
            scheme,
            secret: secret.into(),
            headers: headers(&pairs),
            body: body.into(),
            url: "/webhooks/test".into(),
            method: "POST".into(),
            now,
        }
    }

    pub fn at_url(mut self, url: &str) -> Case {
        self.url = url.into();
        self
    }

    pub fn with_method(mut self, method: &str) -> Case {
        self.method = method.into();
        self
    }

    pub fn check(&self, headers: &HeaderMap, body: &[u8], now: i64, secrets: &[Secret]) -> Result<(), VerifyError> {
        self.matched(headers, body, now, secrets).map(|_| ())
    }

    /// The value of the secret that verified.
    pub fn matched(
        &self,
        headers: &HeaderMap,
        body: &[u8],
        now: i64,
        secrets: &[Secret],
    ) -> Result<String, VerifyError> {
        let req = Inbound { method: &self.method, headers, body, url: &self.url, now };
        self.scheme.verify(&req, secrets, TOL).map(|s| s.value.clone())
    }

    /// This case as is, under its own secret.
    pub fn verify(&self) -> Result<(), VerifyError> {
        self.check(&self.headers, &self.body, self.now, &[Secret::new(&self.secret)])
    }

    /// This case with one header replaced.
    pub fn verify_header(&self, name: &str, value: &[u8]) -> Result<(), VerifyError> {
        let map = with_header(&self.headers, name, value);
        self.check(&map, &self.body, self.now, &[Secret::new(&self.secret)])
    }

    pub fn verify_body(&self, body: &[u8]) -> Result<(), VerifyError> {
        self.check(&self.headers, body, self.now, &[Secret::new(&self.secret)])
    }

    pub fn passes(&self) {
        assert_eq!(self.verify(), Ok(()), "{}", self.scheme.name());
    }

    pub fn rejects_wrong_secret(&self, wrong: &str) {
        let got = self.check(&self.headers, &self.body, self.now, &[Secret::new(wrong)]);
        assert_eq!(got, Err(VerifyError::SignatureMismatch), "{}", self.scheme.name());
    }

    /// One flipped bit at the start, middle and end, one byte appended, and the empty body.
    pub fn rejects_tampered_body(&self) {
        let n = self.body.len();
        let mut bodies: Vec<Vec<u8>> = [0, n / 2, n.saturating_sub(1)]
            .into_iter()
            .filter(|_| n > 0)
            .map(|i| {
                let mut b = self.body.clone();
                b[i] ^= 0x01;
                b
            })
            .collect();
        bodies.push([self.body.as_slice(), b" "].concat());
        if n > 0 {
            bodies.push(Vec::new());
        }
        for body in bodies {
            let got = self.verify_body(&body);
            assert_eq!(
                got,
                Err(VerifyError::SignatureMismatch),
                "{}: {:?}",
                self.scheme.name(),
                String::from_utf8_lossy(&body)
            );
        }
    }

    /// Removing header `name` is reported under that exact name.
    pub fn rejects_missing(&self, name: &str) {
        let mut map = self.headers.clone();
        assert!(map.remove(name).is_some(), "the case has no {name}");
        let got = self.check(&map, &self.body, self.now, &[Secret::new(&self.secret)]);
        assert_eq!(got, Err(VerifyError::MissingHeader(name.into())), "{}", self.scheme.name());
    }

    pub fn rejects_malformed(&self, name: &str, values: &[&[u8]]) {
        for value in values {
            let err = self.verify_header(name, value).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_header", "{}: {name}={:?}", self.scheme.name(), value);
            assert!(!err.to_string().contains(&self.secret), "the message must not echo the secret");
        }
    }

    /// `ts` (unix seconds) is the signed time: accepted up to the tolerance either way, not beyond.
    pub fn enforces_tolerance(&self, ts: i64) {
        let s = [Secret::new(&self.secret)];
        let tol = TOL as i64;
        let at = |now| self.check(&self.headers, &self.body, now, &s);
        assert_eq!(at(ts + tol), Ok(()), "{}", self.scheme.name());
        assert_eq!(at(ts - tol), Ok(()), "{}", self.scheme.name());
        assert_eq!(
            at(ts + tol + 1),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: tol + 1, tolerance_secs: TOL })
        );
        assert_eq!(
            at(ts - tol - 1),
            Err(VerifyError::TimestampOutOfTolerance { skew_secs: -tol - 1, tolerance_secs: TOL })
        );
    }

    pub fn rotates(&self) {
        let both = [Secret::new("some-older-secret"), Secret::new(&self.secret)];
        assert_eq!(self.check(&self.headers, &self.body, self.now, &both), Ok(()));
        // The secret that verified is reported, whatever its position.
        let reversed = [Secret::new(&self.secret), Secret::new("some-older-secret")];
        for secrets in [&both, &reversed] {
            assert_eq!(self.matched(&self.headers, &self.body, self.now, secrets), Ok(self.secret.clone()));
        }
        let gone = [expired(&self.secret, self.now)];
        assert_eq!(self.check(&self.headers, &self.body, self.now, &gone), Err(VerifyError::NoActiveSecret));
    }

    /// `sign` then `verify` at the same instant, for this body and the empty one.
    pub fn round_trips(&self) {
        for body in [self.body.as_slice(), b""] {
            let pairs = self.scheme.sign(&self.secret, body, self.now, "delivery-1").unwrap();
            let got = self.check(&headers(&pairs), body, self.now, &[Secret::new(&self.secret)]);
            assert_eq!(got, Ok(()), "{}: {pairs:?}", self.scheme.name());
        }
    }

    /// Everything for a provider that signs only the body in `header`: the standard checks, the
    /// header missing or garbled, and sign -> verify.
    pub fn body_mac(&self, wrong_secret: &str, header: &str) {
        self.standard(wrong_secret);
        self.rejects_missing(header);
        self.rejects_malformed(header, &[b"zz", b"", b"\xff", b"sha256=", b"00"]);
        self.round_trips();
    }

    /// The checks every HMAC scheme passes.
    pub fn standard(&self, wrong_secret: &str) {
        self.passes();
        self.rejects_wrong_secret(wrong_secret);
        self.rejects_tampered_body();
        self.rotates();
    }
}

/// A self-signed RSA-2048 certificate (`openssl req -x509 -newkey rsa:2048 -nodes`) whose key
/// signed the AWS SNS and PayPal test vectors: providers whose signing certificate comes from config.
pub(super) const SELF_SIGNED_RSA_CERT: &str = "-----BEGIN CERTIFICATE-----
MIIDLzCCAhegAwIBAgIUQs09vEhbvS+GES1mNq+uTNbnE3QwDQYJKoZIhvcNAQEL
BQAwJjEkMCIGA1UEAwwbc25zLnVzLWVhc3QtMS5hbWF6b25hd3MuY29tMCAXDTI2
MTIwMTIyMTkyNloYDzIxMjYxMTA3MjIxOTI2WjAmMSQwIgYDVQQDDBtzbnMudXMt
ZWFzdC0xLmFtYXpvbmF3cy5jb20wggEiMA0GCSqGSIb3DQEBAQUAA4IBDwAwggEK
AoIBAQC+XbrZAU/BcnfxvoKAQEIlV3cdTvKUQznT50YdiEfslzadiMajr1xjucRd
h43+hwR5Ll8k+iecvNIZD57M8b0AH/YQFQzT7KAW3zjc8meqTBGE/PnuR5qlHhdH
pc2ijDX9Tw9MiFKNhlxeJ0FUY0is/baru63Q4DxohcohXlJRmMFjh3YExXS5hqjq
d6/CARRSFyQAzkxZdgFD0dd0NxHTr/YLkvyo1tOL1TMSPp3cNasJYhPj8Dkf+6qI
xlAoDPwh2Y8/UM8YMfJDw4bvR/6JtAdWsfjX/iF95ZzYFOi2+n4v27WiKxOmS8jT
CIR7r9emrALCqC59KnL7tGojSnULAgMBAAGjUzBRMB0GA1UdDgQWBBQfHGQAdBqM
xtTYm6UrFilmjPRilTAfBgNVHSMEGDAWgBQfHGQAdBqMxtTYm6UrFilmjPRilTAP
BgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3DQEBCwUAA4IBAQA5wsUITzI98qe2W1Tv
lCdCwUwwnKWXiXNr2DXVxZJpxOHuHIifN13fEvHxr37SUDcn/PrNbAgyT2t5AYb1
sETsw0oATkw1LyY2PTELvZLz632tt60IjAaW91Wi7Gm0re1nj2JknGtdSnsnwSBH
ZK79sJHGGlWdbdCtI+mjN2tLCtlH1uJle8qpQ+ggim8Gq+vSE6PwkRlkUULFmdy4
qKWJ0jaIBkcAKj8SuJ5nZZVNI2Vg2+cvIUssiJ5LpOtUar6tkX+DEfakfF0HANBW
9IqyHDOSDCjUxIonvXql32daeA2r11+MYIxU62dU5dsbKPgG3p3nMGcu1Rf11NDO
3OUa
-----END CERTIFICATE-----";
