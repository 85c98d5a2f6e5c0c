//! From a verified request to a CloudEvent: the provider's event type and delivery id per scheme.
use axum::http::HeaderMap;
use hookbus_core::CloudEvent;
use serde_json::Value;

use crate::source::Source;
use crate::verify::Scheme;

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty())
}

fn body_str<'a>(body: &'a Option<Value>, pointer: &str) -> Option<&'a str> {
    body.as_ref()?.pointer(pointer)?.as_str().filter(|s| !s.is_empty())
}

/// The provider's delivery id (the dedup key) and the event type suffix, as each provider sends them.
fn identify(scheme: &Scheme, h: &HeaderMap, body: &Option<Value>) -> (Option<String>, Option<String>) {
    let (id, ty) = match scheme {
        Scheme::Github => (header(h, "x-github-delivery"), header(h, "x-github-event")),
        Scheme::Stripe => (body_str(body, "/id"), body_str(body, "/type")),
        Scheme::StandardWebhooks => (
            header(h, "webhook-id").or_else(|| header(h, "svix-id")),
            body_str(body, "/type").or_else(|| body_str(body, "/eventType")),
        ),
        Scheme::Hmac(p) => {
            (p.id_header.as_deref().and_then(|n| header(h, n)), p.type_header.as_deref().and_then(|n| header(h, n)))
        }
    };
    (id.map(str::to_owned), ty.map(str::to_owned))
}

/// Builds the envelope. `id` is the provider's delivery id when it sends one, else a UUIDv7.
/// The second value is the provider's id alone: the dedup key (None when the provider sent none).
pub fn normalize(source: &Source, headers: &HeaderMap, body: &[u8]) -> (CloudEvent, Option<String>) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (provider_id, ty) = identify(&source.scheme, headers, &parsed);
    let id = provider_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ty = format!("{}.{}", source.scheme_prefix(), ty.as_deref().unwrap_or("webhook"));
    let ct = header(headers, "content-type");
    let mut ev = CloudEvent::from_body(id, &source.name, ty, ct, body);
    if let Some(key) = source.partition_key.as_deref().and_then(|p| parsed.as_ref()?.pointer(p)) {
        let key = match key {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // An empty key would put unrelated events together; the event id is the better default.
        if !key.is_empty() {
            ev.partitionkey = key;
        }
    }
    (ev, provider_id)
}

impl Source {
    /// `github.push`, `stripe.invoice.paid`; generic sources use their own name.
    fn scheme_prefix(&self) -> &str {
        match self.scheme {
            Scheme::Github => "github",
            Scheme::Stripe => "stripe",
            Scheme::StandardWebhooks | Scheme::Hmac(_) => &self.name,
        }
    }
}
