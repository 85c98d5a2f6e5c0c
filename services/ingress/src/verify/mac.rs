//! HMAC helpers shared by the schemes: computing a MAC over several parts without concatenating,
//! decoding a presented signature with a length check, comparing in constant time under every
//! active secret, and [`BodyMac`] for the many providers that sign only the raw body.
use base64::Engine as _;
use base64::alphabet;
use base64::engine::{DecodePaddingMode, GeneralPurpose, GeneralPurposeConfig};
use hmac::{Hmac, Mac};
use hookbus_core::config::{HmacAlgorithm, SigEncoding};
use hookbus_core::signing::{constant_time_eq, hmac_sha256};

use super::{Inbound, VerifyError, required_header};

/// Standard alphabet; padding optional on input because providers differ, always written on output.
pub(super) const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Name and MAC length in bytes, for length checks and their messages.
pub(super) fn spec(alg: HmacAlgorithm) -> (&'static str, usize) {
    match alg {
        HmacAlgorithm::Sha1 => ("sha1", 20),
        HmacAlgorithm::Sha256 => ("sha256", 32),
        HmacAlgorithm::Sha512 => ("sha512", 64),
    }
}

/// HMAC of `parts` concatenated, keyed with `key`.
pub(super) fn compute(alg: HmacAlgorithm, key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    // HMAC takes keys of any length, so `new_from_slice` cannot fail; core only has SHA-256.
    fn with<D: Mac + hmac::digest::KeyInit>(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
        let mut mac = <D as Mac>::new_from_slice(key).expect("HMAC accepts keys of any length");
        for p in parts {
            mac.update(p);
        }
        mac.finalize().into_bytes().to_vec()
    }
    match alg {
        HmacAlgorithm::Sha1 => with::<Hmac<sha1::Sha1>>(key, parts),
        HmacAlgorithm::Sha256 => hmac_sha256(key, parts).to_vec(),
        HmacAlgorithm::Sha512 => with::<Hmac<sha2::Sha512>>(key, parts),
    }
}

pub(super) fn encode(enc: SigEncoding, mac: &[u8]) -> String {
    match enc {
        SigEncoding::Hex => hex::encode(mac),
        SigEncoding::Base64 => B64.encode(mac),
    }
}

/// Decodes a presented signature (hex in either case, or base64 with optional padding) and checks
/// that it is as long as `alg`'s MAC: a wrong length usually means a wrong scheme or algorithm.
pub(super) fn decode(header: &str, text: &str, enc: SigEncoding, alg: HmacAlgorithm) -> Result<Vec<u8>, VerifyError> {
    let (name, len) = spec(alg);
    let bytes = match enc {
        SigEncoding::Hex => hex::decode(text.trim()).map_err(|_| "not valid hex"),
        SigEncoding::Base64 => B64.decode(text.trim()).map_err(|_| "not valid base64"),
    }
    .map_err(|e| VerifyError::malformed(header, format!("the signature is {e}")))?;
    if bytes.len() != len {
        let why = format!("the signature is {} bytes but {name} gives {len}", bytes.len());
        return Err(VerifyError::malformed(header, why));
    }
    Ok(bytes)
}

/// The index of the first secret under which any presented signature equals the MAC. Every
/// comparison runs (no early exit), so timing reveals neither which candidate matched nor how
/// close a forgery came.
pub(super) fn any_matches(secrets: &[&str], given: &[Vec<u8>], mac: impl Fn(&[u8]) -> Vec<u8>) -> Option<usize> {
    first_match(secrets, |secret| {
        let expected = mac(secret.as_bytes());
        given.iter().fold(false, |f, g| f | constant_time_eq(g, &expected))
    })
}

/// The index of the first secret for which `hit` holds, with `hit` evaluated for every secret.
pub(super) fn first_match(secrets: &[&str], hit: impl Fn(&str) -> bool) -> Option<usize> {
    secrets.iter().enumerate().fold(None, |found, (i, secret)| {
        let h = hit(secret);
        found.or(h.then_some(i))
    })
}

/// For providers that send the secret itself: the index of the secret equal to `given`. Both are
/// hashed first so that the comparison is constant-time whatever their lengths.
pub(super) fn token_matches(secrets: &[&str], given: &str) -> Option<usize> {
    use sha2::Digest as _;
    let given = sha2::Sha256::digest(given.as_bytes());
    first_match(secrets, |s| constant_time_eq(&sha2::Sha256::digest(s.as_bytes()), &given))
}

/// The matching secret's index, else the mismatch error; keeps the schemes' last line uniform.
pub(super) fn outcome(matched: Option<usize>) -> Result<usize, VerifyError> {
    matched.ok_or(VerifyError::SignatureMismatch)
}

/// Asymmetric schemes: the "secrets" are public keys and any one verifying accepts. When none
/// matched and some key could not be parsed, the unusable key is the likelier cause, so that is
/// reported (`bad_key`) instead of a mismatch.
pub(super) fn any_public_key<K>(
    secrets: &[&str],
    parse: impl Fn(&str) -> Option<K>,
    verifies: impl Fn(&K) -> bool,
    bad_key: &str,
) -> Result<usize, VerifyError> {
    let (mut matched, mut unusable) = (None, false);
    for (i, secret) in secrets.iter().enumerate() {
        match parse(secret) {
            Some(key) if verifies(&key) => matched = matched.or(Some(i)),
            Some(_) => {}
            None => unusable = true,
        }
    }
    if matched.is_none() && unusable {
        return Err(VerifyError::Misconfigured(bad_key.into()));
    }
    outcome(matched)
}

/// A provider that sends `header: {prefix}{encoded HMAC of the raw body}` and nothing else signed.
pub(super) struct BodyMac {
    pub header: &'static str,
    pub prefix: &'static str,
    pub alg: HmacAlgorithm,
    pub enc: SigEncoding,
}

impl BodyMac {
    pub(super) fn verify(&self, req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
        let value = required_header(req.headers, self.header)?;
        let given = self.parse(value)?;
        outcome(any_matches(secrets, &[given], |key| compute(self.alg, key, &[req.body])))
    }

    /// The decoded signature of a header value.
    pub(super) fn parse(&self, value: &str) -> Result<Vec<u8>, VerifyError> {
        let encoded = value.strip_prefix(self.prefix).ok_or_else(|| {
            let (name, _) = spec(self.alg);
            let shape = if self.prefix.is_empty() { String::new() } else { format!(" after `{}`", self.prefix) };
            VerifyError::malformed(self.header, format!("expected the {name} signature{shape}"))
        })?;
        decode(self.header, encoded, self.enc, self.alg)
    }

    /// The header value a provider would send.
    pub(super) fn value(&self, secret: &str, body: &[u8]) -> String {
        format!("{}{}", self.prefix, encode(self.enc, &compute(self.alg, secret.as_bytes(), &[body])))
    }

    /// The headers of a JSON delivery: the signature, `extra` (delivery id, event type) and the
    /// content type.
    pub(super) fn sign(&self, secret: &str, body: &[u8], extra: &[(&str, &str)]) -> Vec<(String, String)> {
        let mut out = vec![(self.header.to_owned(), self.value(secret, body))];
        out.extend(extra.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        out.push(("Content-Type".into(), "application/json".into()));
        out
    }
}

/// `(name, value)` pairs from string literals, for `sign`.
pub(super) fn pairs<const N: usize>(items: [(&str, String); N]) -> Vec<(String, String)> {
    items.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
}

/// A header of `key=value` items joined by `sep`, carrying a unix-seconds timestamp under `ts_key`
/// and one or more hex SHA-256 signatures under `sig_key` (several during a rotation on the
/// provider's side); other keys are ignored. Paddle (`ts=..;h1=..`), Calendly (`t=..,v1=..`).
/// Returns the timestamp as sent (it is signed as text), its value, and the decoded signatures.
/// A signature that is not 64 hex digits cannot match and is skipped, as the providers' SDKs
/// compare each one and accept any match; only a header with no usable one is malformed.
pub(super) fn parse_ts_sigs<'v>(
    header: &str,
    value: &'v str,
    sep: char,
    ts_key: &str,
    sig_key: &str,
) -> Result<(&'v str, i64, Vec<Vec<u8>>), VerifyError> {
    let shape = || format!("expected `{ts_key}=<unix>{sep}{sig_key}=<hex>`");
    let mut ts = None;
    let mut sigs = Vec::new();
    let mut unusable = None;
    for item in value.split(sep) {
        let (key, val) = item.split_once('=').ok_or_else(|| VerifyError::malformed(header, shape()))?;
        let (key, val) = (key.trim(), val.trim());
        if key == ts_key {
            if ts.is_some() {
                return Err(VerifyError::malformed(header, format!("more than one `{ts_key}=`")));
            }
            ts = Some((val, super::parse_timestamp(header, val)?));
        } else if key == sig_key {
            match decode(header, val, SigEncoding::Hex, HmacAlgorithm::Sha256) {
                Ok(sig) => sigs.push(sig),
                Err(e) => unusable = Some(e),
            }
        }
    }
    let (text, ts) =
        ts.ok_or_else(|| VerifyError::malformed(header, format!("no `{ts_key}=` timestamp; {}", shape())))?;
    if sigs.is_empty() {
        return Err(unusable
            .unwrap_or_else(|| VerifyError::malformed(header, format!("no `{sig_key}=` signature; {}", shape()))));
    }
    Ok((text, ts, sigs))
}
