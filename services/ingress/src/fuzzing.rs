//! The bodies of the ingress's fuzz targets (`verify`, `request`), listed with the others in the
//! root crate's `hookbus::fuzzing` and run by `fuzz/fuzz_targets/*.rs` (cargo-fuzz, nightly) and
//! `tests/fuzz_smoke.rs` (a bounded mutational run on stable, part of `cargo test`). Each takes
//! arbitrary bytes and must never panic; where a property holds for every input it is asserted.
//!
//! Only built with the `fuzzing` feature; not an API.
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use arbitrary::Unstructured;
use async_trait::async_trait;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode};
use hookbus_broker::{BrokerError, Publisher, Record};
use hookbus_core::config::{Config, SchemeKind, Secret, SourceConfig};
use tower::ServiceExt as _;

use crate::dedup::MemoryDedup;
use crate::source::Source;
use crate::verify::{Inbound, Scheme};
use crate::{IngressMetrics, IngressState};

/// Every scheme name a source may configure.
fn scheme_names() -> &'static [&'static str] {
    crate::verify::all_names()
}

/// A source's scheme from its config name, the way `source::load` builds it. None when the
/// settings are refused (that refusal is itself under test: it must not panic).
fn scheme_from(config: &SourceConfig) -> Option<Scheme> {
    Scheme::from_config(config).ok()
}

/// Every setting the source's provider takes (PayPal's webhook id), so that every scheme loads.
fn with_settings(mut config: SourceConfig) -> SourceConfig {
    for key in crate::verify::provider(config.scheme).settings {
        config.settings.insert((*key).to_owned(), "fuzz-setting".to_owned());
    }
    config
}

/// Header names the schemes read (each provider lists its own), so that mutations hit the
/// parsers rather than "missing header".
fn signature_headers() -> Vec<&'static str> {
    let read = SchemeKind::KINDS.iter().flat_map(|k| crate::verify::provider(*k).headers.iter().copied());
    read.chain(["content-type"]).collect()
}

const SECRETS: &[&str] = &[
    "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    "It's a Secret to Everybody",
    "fuzz-secret",
    // Shaped like an Ed25519 public key (hex) and a P-256 public key (base64 DER), for key-pair schemes.
    "e7e7a3ee8c1a57e6f0b0cfa0d8d6a0f4e6c9e6cd2b9e3e5b9fce1b3a5dd1d1b8",
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==",
];

/// Whether a scheme's `sign` output verifies on its own: everything signed is in the headers and
/// body (not the URL, which the signer does not know, nor a timestamp inside the body).
fn round_trips(scheme: &Scheme) -> bool {
    scheme.provider().round_trips
}

/// Signature verification for every scheme: a genuinely signed request (where the scheme can sign),
/// then mutated headers, body, URL and clock. Checks verification never panics, and that an
/// unmutated signed request verifies under its own secret.
pub fn verify(data: &[u8]) {
    let mut u = Unstructured::new(data);
    let _ = verify_inner(&mut u);
}

fn verify_inner(u: &mut Unstructured<'_>) -> arbitrary::Result<()> {
    let name = *u.choose(scheme_names())?;
    let mut source = serde_json::json!({ "scheme": name, "secrets": [] });
    if name == "hmac" {
        let signed = *u.choose(&["body", "timestamp_body", "url_body"])?;
        source["hmac"] = serde_json::json!({
            "header": *u.choose(&["X-Signature", "X-Hub-Signature", "x-sig"])?,
            "algorithm": *u.choose(&["sha1", "sha256", "sha512"])?,
            "encoding": *u.choose(&["hex", "base64"])?,
            "prefix": if u.arbitrary()? { Some(u.arbitrary::<&str>()?) } else { None },
            "signed": signed,
            "timestamp_header": if u.arbitrary()? { Some("X-Timestamp") } else { None },
            "separator": if u.arbitrary()? { Some(u.arbitrary::<&str>()?) } else { None },
        });
    }
    let Some(scheme) =
        serde_json::from_value::<SourceConfig>(source).ok().map(with_settings).as_ref().and_then(scheme_from)
    else {
        return Ok(());
    };
    let secret = if u.ratio(1, 8)? { u.arbitrary::<&str>()?.to_owned() } else { (*u.choose(SECRETS)?).to_owned() };
    let body: Vec<u8> = if u.arbitrary()? {
        br#"{"id":"evt_1","type":"invoice.paid","event":"endpoint.url_validation","payload":{"plainToken":"t"},"webhookTimestamp":1700000000000,"signature":{"timestamp":"1700000000","token":"tok","signature":"00"}}"#.to_vec()
    } else {
        u.arbitrary()?
    };
    let now: i64 = if u.arbitrary()? { 1_700_000_000 + i64::from(u.int_in_range(-400..=400)?) } else { u.arbitrary()? };
    let url =
        if u.arbitrary()? { "https://example.com/webhooks/src?b=2&a=1".to_owned() } else { u.arbitrary::<String>()? };
    let tolerance = if u.arbitrary()? { 300 } else { u.arbitrary()? };

    let signed = scheme.sign(&secret, &body, 1_700_000_000, "msg_fuzz").unwrap_or_default();
    let mut headers: Vec<(Vec<u8>, Vec<u8>)> =
        signed.iter().map(|(k, v)| (k.as_bytes().to_vec(), v.as_bytes().to_vec())).collect();
    let mut body = body;
    let mut mutated = false;
    let rounds = u.int_in_range(0..=4)?;
    for _ in 0..rounds {
        mutated = true;
        match u.int_in_range(0..=6)? {
            0 if !headers.is_empty() => {
                let i = u.choose_index(headers.len())?;
                headers.remove(i);
            }
            1 if !headers.is_empty() => {
                let i = u.choose_index(headers.len())?;
                headers[i].1 = u.arbitrary()?;
            }
            2 if !headers.is_empty() => {
                let i = u.choose_index(headers.len())?;
                let v = &mut headers[i].1;
                if !v.is_empty() {
                    let at = u.choose_index(v.len())?;
                    v[at] = u.arbitrary()?;
                }
            }
            3 => {
                let name = (*u.choose(&signature_headers())?).as_bytes().to_vec();
                headers.push((name, u.arbitrary()?));
            }
            4 => headers.push((u.arbitrary()?, u.arbitrary()?)),
            5 => body = u.arbitrary()?,
            _ => body.extend_from_slice(u.arbitrary()?),
        }
    }
    let mut map = HeaderMap::new();
    for (k, v) in &headers {
        if let (Ok(k), Ok(v)) = (HeaderName::from_bytes(k), HeaderValue::from_bytes(v)) {
            map.append(k, v);
        }
    }
    let secrets = [Secret::new(secret.as_str())];
    let method = *u.choose(&["POST", "GET"])?;
    let result = scheme.verify(&Inbound { method, headers: &map, body: &body, url: &url, now }, &secrets, tolerance);
    // The property `hookbus sign` and the router tests rely on: what `sign` produced verifies, at the
    // signing time, for schemes that do not sign the URL (the signer does not know it).
    if !mutated && !signed.is_empty() && round_trips(&scheme) {
        let at_signing = Inbound { method: "POST", headers: &map, body: &body, url: &url, now: 1_700_000_000 };
        let again = scheme.verify(&at_signing, &secrets, 300);
        assert!(again.is_ok(), "{name}: a request signed by `Scheme::sign` does not verify: {again:?}");
    }
    let _ = result;
    Ok(())
}

// -------------------------------------------------------------------------------------------------
// The whole ingress router, on requests written as HTTP/1 text.

/// Counts what would have been published.
#[derive(Default)]
struct CountingPublisher {
    published: AtomicUsize,
}

#[async_trait]
impl Publisher for CountingPublisher {
    async fn publish(&self, _topic: &str, _record: Record) -> Result<(i32, i64), BrokerError> {
        let n = self.published.fetch_add(1, Ordering::SeqCst);
        Ok((0, n as i64))
    }

    async fn ensure_topics(&self, _topics: &[String]) -> Result<(), BrokerError> {
        Ok(())
    }

    async fn ready(&self) -> Result<(), BrokerError> {
        Ok(())
    }
}

struct Harness {
    state: Arc<IngressState>,
    publisher: Arc<CountingPublisher>,
    runtime: tokio::runtime::Runtime,
}

const FUZZ_SECRET: &str = "fuzz-secret";

/// One source per scheme (`s_<scheme>`), plus `hooks` with every query handshake, a media-type
/// list and a rate limit. Sources whose scheme refuses the shared secret are left out.
fn harness() -> &'static Harness {
    static HARNESS: OnceLock<Harness> = OnceLock::new();
    HARNESS.get_or_init(|| {
        let mut sources: HashMap<String, Source> = HashMap::new();
        let mut toml = Vec::new();
        for name in scheme_names() {
            // Standard Webhooks secrets are `whsec_<base64>`; the others take any text.
            let secret = if *name == "standard_webhooks" { SECRETS[0] } else { FUZZ_SECRET };
            // `public_url` lets the URL-signing schemes (Twilio, Square, HubSpot) sign and verify.
            let mut text = format!(
                "[sources.s_{name}]\nscheme = \"{name}\"\nsecrets = [{{ value = \"{secret}\" }}]\n\
                 public_url = \"https://example.com/webhooks/s_{name}\"\n"
            );
            if *name == "hmac" {
                text.push_str("[sources.s_hmac.hmac]\nheader = \"X-Signature\"\n");
            }
            toml.push(text);
        }
        toml.push(format!(
            "[sources.hooks]\nscheme = \"github\"\nsecrets = [{{ value = \"{FUZZ_SECRET}\" }}]\n\
             handshakes = [\"meta\", \"msgraph\", \"websub\"]\ncontent_types = [\"application/json\", \"text/*\"]\n\
             dedup_window_secs = 1\nrate_limit = {{ per_second = 1000000, burst = 1000000 }}\n"
        ));
        for text in toml {
            if let Ok(config) = Config::from_toml(&text, "fuzz.toml")
                && let Ok(loaded) = crate::source::load(&config)
            {
                sources.extend(loaded);
            }
        }
        let publisher = Arc::new(CountingPublisher::default());
        let mut registry = prometheus_client::registry::Registry::default();
        let state = IngressState {
            sources,
            publisher: publisher.clone(),
            dedup: Arc::new(MemoryDedup::new(Duration::from_secs(60))),
            metrics: IngressMetrics::register(&mut registry),
            max_body_bytes: 4096,
            rejections: Arc::new(hookbus_core::live::Discard),
        };
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
        Harness { state: Arc::new(state), publisher, runtime }
    })
}

/// `METHOD TARGET\nName: value\n...\n\nbody`. A header `x-fuzz-sign: SECS` asks the harness to
/// sign the body for the source in the path first (with its secret, SECS seconds from now), so that
/// mutations reach handshakes, normalization and dedup, not only signature rejection.
pub fn request(data: &[u8]) {
    let h = harness();
    let (head, body) = match data.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&data[..i], &data[i + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|b| *b == b'\n');
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.splitn(2, |b| *b == b' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else { return };
    let Ok(method) = Method::from_bytes(method) else { return };
    let Ok(target) = std::str::from_utf8(target) else { return };
    let mut builder = Request::builder().method(method.clone()).uri(target);
    let mut sign_at = None;
    for line in lines {
        let Some(colon) = line.iter().position(|b| *b == b':') else { continue };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii_start());
        if name.eq_ignore_ascii_case(b"x-fuzz-sign") {
            let offset = std::str::from_utf8(value).ok().and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
            sign_at = Some(time::OffsetDateTime::now_utc().unix_timestamp().saturating_add(offset));
            continue;
        }
        if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
            builder = builder.header(n, v);
        }
    }
    if let Some(at) = sign_at
        && let Some(path) = target.split('?').next()
        && let Some(source) = path.strip_prefix("/webhooks/").and_then(|n| h.state.sources.get(n))
        && let Some(secret) = source.secrets.first()
        && let Ok(signed) = source.scheme.sign(&secret.value, body, at, "msg_fuzz_request")
    {
        for (k, v) in signed {
            if let (Ok(n), Ok(v)) = (HeaderName::from_bytes(k.as_bytes()), HeaderValue::from_str(&v)) {
                builder = builder.header(n, v);
            }
        }
    }
    let Ok(req) = builder.body(Body::from(body.to_vec())) else { return };
    let before = h.publisher.published.load(Ordering::SeqCst);
    let (status, reply) = h.runtime.block_on(async {
        let resp = crate::router(h.state.clone()).oneshot(req).await.expect("the router is infallible");
        let status = resp.status();
        let bytes = axum::body::to_bytes(resp.into_body(), usize::MAX).await.expect("a response body reads");
        (status, bytes)
    });
    let published = h.publisher.published.load(Ordering::SeqCst) - before;
    let text = String::from_utf8_lossy(&reply);
    assert!(published <= 1, "one request published {published} records");
    assert!(
        status != StatusCode::INTERNAL_SERVER_ERROR || text.contains("source_misconfigured"),
        "500 for {method} {target}: {text}"
    );
    if status == StatusCode::OK {
        assert_eq!(published, 0, "a handshake answer published a record: {method} {target}");
    }
    if method == Method::GET {
        assert_eq!(published, 0, "a GET published a record: {target}");
    }
    if published == 1 {
        assert_eq!(status, StatusCode::ACCEPTED, "published but answered {status}: {text}");
    }
    // Paths the ingress route matches (one non-empty segment) answer every error as JSON.
    let path = target.split(['?', '#']).next().unwrap_or_default();
    let routed = path.strip_prefix("/webhooks/").is_some_and(|seg| !seg.is_empty() && !seg.contains('/'));
    if routed && !status.is_success() {
        let v: serde_json::Value =
            serde_json::from_slice(&reply).unwrap_or_else(|e| panic!("error body is not JSON ({e}): {text}"));
        assert!(v.pointer("/error/code").and_then(|c| c.as_str()).is_some(), "error without a code: {text}");
    }
}
