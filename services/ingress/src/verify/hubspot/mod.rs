//! HubSpot request validation (<https://developers.hubspot.com/docs/api/webhooks/validating-requests>),
//! three versions, each its own scheme so that a source never accepts a weaker one than configured
//! (HubSpot sends v3 alongside the legacy header; if `hubspot` fell back to v1, stripping the v3
//! header would drop the timestamp check):
//! - `hubspot` (v3): `X-HubSpot-Signature-v3: <base64 HMAC-SHA256 of method + URI + body + timestamp>`
//!   keyed with the app's client secret, `X-HubSpot-Request-Timestamp` in unix **milliseconds**,
//!   rejected when older than five minutes (the source's tolerance). In the URI the escapes
//!   `%3A %2F %3F %40 %21 %24 %27 %28 %29 %2A %2C %3B` are decoded first, as the docs say; HubSpot's
//!   SDKs sign the URI undecoded, so that form is accepted too.
//! - `hubspot_v2`: `X-HubSpot-Signature: <hex SHA-256 of secret + method + URI + body>` (a plain
//!   hash with the secret prepended, not an HMAC), `X-HubSpot-Signature-Version: v2`.
//! - `hubspot_v1`: `X-HubSpot-Signature: <hex SHA-256 of secret + body>`, version `v1`.
//!
//! The method is the request's: HubSpot sends most webhooks as POST, but workflow webhook actions
//! can be configured to use GET, signed the same way with an empty body (so these sources are
//! verified and published on GET too). `sign` produces POST requests. The URI is the source's
//! `public_url` with the request's query (see `signed_url`).
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::{Base64, Hex};
use hookbus_core::signing::constant_time_eq;
use sha2::Digest;

use super::mac::{any_matches, compute, decode, encode, first_match, outcome, pairs};
use super::identify::batch;
use super::{Ids, Inbound, Prefix, Provider, VerifyError, check_tolerance, required_header, signed_url};

#[cfg(test)]
mod tests;

const V3_SIG: &str = "X-HubSpot-Signature-v3";
const V3_TS: &str = "X-HubSpot-Request-Timestamp";
pub(super) const SIG: &str = "X-HubSpot-Signature";
pub(super) const VERSION: &str = "X-HubSpot-Signature-Version";
/// The method `sign` signs.
const METHOD: &[u8] = b"POST";

pub(super) const PROVIDER: Provider = Provider {
    about: "HubSpot v3: X-HubSpot-Signature-v3 <base64 HMAC-SHA256 of method + URI + body + ms timestamp>",
    headers: &[V3_SIG, V3_TS],
    verify: |s, req, keys, tol| verify_v3(s.public_url.as_deref(), req, keys, tol),
    sign: |s, g| sign_v3(s.public_url.as_deref(), g.secret, g.body, g.now),
    round_trips: false,
    identify: |_, _, body| identify(body),
    prefix: Prefix::Fixed("hubspot"),
    delivers_get: true,
    ..Provider::DEFAULT
};

/// HubSpot batches events; all three versions identify them alike.
pub(super) fn identify(body: Option<&serde_json::Value>) -> Ids {
    batch(body, "eventId", "subscriptionType")
}

/// Decodes exactly the escapes HubSpot's v3 instructions list; everything else stays as sent.
fn decode_uri(uri: &str) -> String {
    const TABLE: [(&str, char); 12] = [
        ("3A", ':'),
        ("2F", '/'),
        ("3F", '?'),
        ("40", '@'),
        ("21", '!'),
        ("24", '$'),
        ("27", '\''),
        ("28", '('),
        ("29", ')'),
        ("2A", '*'),
        ("2C", ','),
        ("3B", ';'),
    ];
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let code = rest.get(i + 1..i + 3).map(str::to_ascii_uppercase);
        match TABLE.iter().find(|(hex, _)| code.as_deref() == Some(*hex)) {
            Some((_, c)) => {
                out.push(*c);
                rest = &rest[i + 3..];
            }
            None => {
                out.push('%');
                rest = &rest[i + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

pub(super) fn verify_v3(
    public_url: Option<&str>,
    req: &Inbound<'_>,
    secrets: &[&str],
    tolerance_secs: u64,
) -> Result<usize, VerifyError> {
    let given = decode(V3_SIG, required_header(req.headers, V3_SIG)?, Base64, Sha256)?;
    let ts_text = required_header(req.headers, V3_TS)?;
    let ms = ts_text.parse::<i64>().map_err(|_| VerifyError::malformed(V3_TS, "expected unix milliseconds"))?;
    let url = signed_url::resolve(public_url, req.url, "hubspot")?;
    let decoded = decode_uri(&url);
    let uris: &[&str] = if decoded == url { &[&url] } else { &[&decoded, &url] };
    let matched = uris.iter().fold(None, |found, uri| {
        let mac = |key: &[u8]| compute(Sha256, key, &[req.method.as_bytes(), uri.as_bytes(), req.body, ts_text.as_bytes()]);
        found.or(any_matches(secrets, std::slice::from_ref(&given), mac))
    });
    let i = outcome(matched)?;
    check_tolerance(req.now, ms.div_euclid(1000), tolerance_secs)?;
    Ok(i)
}

/// v1/v2 announce their version; a different one means the source's scheme is wrong.
fn check_version(req: &Inbound<'_>, expected: &str) -> Result<(), VerifyError> {
    match req.headers.get(VERSION).map(|v| v.to_str().map(str::trim)) {
        None => Ok(()),
        Some(Ok(v)) if v.eq_ignore_ascii_case(expected) => Ok(()),
        Some(Ok(v)) if v.eq_ignore_ascii_case("v1") || v.eq_ignore_ascii_case("v2") => Err(VerifyError::malformed(
            VERSION,
            format!("the request is signed with {v}; set the source's scheme to `hubspot_{}`", v.to_ascii_lowercase()),
        )),
        Some(_) => Err(VerifyError::malformed(VERSION, format!("expected `{expected}`"))),
    }
}

/// SHA-256 of the concatenated parts (v1/v2 are plain hashes with the secret in front).
fn sha256(parts: &[&[u8]]) -> Vec<u8> {
    parts.iter().fold(sha2::Sha256::new(), |h, p| h.chain_update(p)).finalize().to_vec()
}

fn legacy(
    req: &Inbound<'_>,
    secrets: &[&str],
    version: &str,
    parts: impl Fn(&[u8]) -> Vec<u8>,
) -> Result<usize, VerifyError> {
    let given = decode(SIG, required_header(req.headers, SIG)?, Hex, Sha256)?;
    check_version(req, version)?;
    outcome(first_match(secrets, |s| constant_time_eq(&parts(s.as_bytes()), &given)))
}

pub(super) fn verify_v2(public_url: Option<&str>, req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let url = signed_url::resolve(public_url, req.url, "hubspot_v2")?;
    legacy(req, secrets, "v2", |secret| sha256(&[secret, req.method.as_bytes(), url.as_bytes(), req.body]))
}

pub(super) fn verify_v1(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    legacy(req, secrets, "v1", |secret| sha256(&[secret, req.body]))
}

pub(super) fn sign_v3(
    public_url: Option<&str>,
    secret: &str,
    body: &[u8],
    now: i64,
) -> Result<Vec<(String, String)>, VerifyError> {
    let uri = decode_uri(&signed_url::for_signing(public_url, "hubspot")?);
    let ts = now.saturating_mul(1000).to_string();
    let mac = compute(Sha256, secret.as_bytes(), &[METHOD, uri.as_bytes(), body, ts.as_bytes()]);
    Ok(pairs([(V3_SIG, encode(Base64, &mac)), (V3_TS, ts), ("Content-Type", "application/json".into())]))
}

pub(super) fn sign_v2(
    public_url: Option<&str>,
    secret: &str,
    body: &[u8],
) -> Result<Vec<(String, String)>, VerifyError> {
    let uri = signed_url::for_signing(public_url, "hubspot_v2")?;
    let digest = sha256(&[secret.as_bytes(), METHOD, uri.as_bytes(), body]);
    Ok(pairs([(SIG, hex::encode(digest)), (VERSION, "v2".into()), ("Content-Type", "application/json".into())]))
}

pub(super) fn sign_v1(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let digest = sha256(&[secret.as_bytes(), body]);
    pairs([(SIG, hex::encode(digest)), (VERSION, "v1".into()), ("Content-Type", "application/json".into())])
}
