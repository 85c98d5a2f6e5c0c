//! CloudEvents over HTTP: what the body and the content headers of a delivery are in each
//! [`ContentMode`]. Pure functions of the event and the mapping's output.
//!
//! - structured: `application/cloudevents+json`, the envelope (with the transform's output as
//!   `data` when there is a transform);
//! - binary: `ce-*` headers for the attributes, the data as the body;
//! - raw: the transform's output (or the data) as the body, with `ce-type` and `ce-source` only.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hookbus_core::CloudEvent;
use hookbus_core::config::ContentMode;
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

pub(crate) const STRUCTURED: &str = "application/cloudevents+json; charset=utf-8";
/// A JSON array of structured-mode envelopes (CloudEvents JSON format, batched).
pub(crate) const STRUCTURED_BATCH: &str = "application/cloudevents-batch+json; charset=utf-8";
const JSON: &str = "application/json";

/// The request body. `mapped` is the transform's output, `None` without a transform.
pub(crate) fn body(mode: ContentMode, event: &CloudEvent, mapped: Option<&Value>) -> Vec<u8> {
    match (mode, mapped) {
        (ContentMode::Structured, None) => serde_json::to_vec(event).unwrap_or_default(),
        (ContentMode::Structured, Some(out)) => {
            let mut envelope = event.clone();
            envelope.data = Some(out.clone());
            envelope.data_base64 = None;
            envelope.datacontenttype = JSON.to_owned();
            serde_json::to_vec(&envelope).unwrap_or_default()
        }
        (ContentMode::Binary | ContentMode::Raw, Some(out)) => serde_json::to_vec(out).unwrap_or_default(),
        (ContentMode::Binary | ContentMode::Raw, None) => data_bytes(event),
    }
}

/// One item of a batch body: what [`body`] would send on its own, as JSON. Batches are refused
/// for binary mode and for raw mode without a transform (config check), so every item is JSON;
/// non-JSON data that slips through anyway travels as its base64 form rather than being lost.
pub(crate) fn item(mode: ContentMode, event: &CloudEvent, mapped: Option<&Value>) -> Value {
    match (mode, mapped) {
        (ContentMode::Structured, _) => serde_json::from_slice(&body(mode, event, mapped)).unwrap_or_default(),
        (_, Some(out)) => out.clone(),
        (_, None) => {
            event.data.clone().unwrap_or_else(|| event.data_base64.clone().map(Value::String).unwrap_or_default())
        }
    }
}

/// `Content-Type` of a batch request: the CloudEvents batch format for envelopes, else JSON.
pub(crate) fn batch_headers(mode: ContentMode, h: &mut HeaderMap) {
    let content_type = if mode == ContentMode::Structured { STRUCTURED_BATCH } else { JSON };
    h.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
}

/// The event's data as the provider sent it: JSON re-serialized (key order kept), anything else
/// decoded from `data_base64`.
fn data_bytes(event: &CloudEvent) -> Vec<u8> {
    match (&event.data, &event.data_base64) {
        (Some(data), _) => serde_json::to_vec(data).unwrap_or_default(),
        (None, Some(b64)) => B64.decode(b64).unwrap_or_default(),
        (None, None) => Vec::new(),
    }
}

/// Sets `Content-Type` and the CloudEvents headers of `mode` on `h`.
pub(crate) fn headers(mode: ContentMode, event: &CloudEvent, mapped: bool, h: &mut HeaderMap) {
    let data_type = if mapped { JSON } else { event.datacontenttype.as_str() };
    let content_type = match mode {
        ContentMode::Structured => STRUCTURED,
        ContentMode::Binary | ContentMode::Raw => data_type,
    };
    h.insert(CONTENT_TYPE, HeaderValue::try_from(content_type).unwrap_or(HeaderValue::from_static(JSON)));
    let mut put = |name: &str, value: &str| {
        if let (Ok(k), Ok(v)) = (HeaderName::try_from(name), HeaderValue::try_from(percent_encode(value))) {
            h.insert(k, v);
        }
    };
    match mode {
        ContentMode::Binary => {
            // The same attributes as the Kafka binding (one source of truth), with HTTP's `ce-`
            // prefix; traceparent travels as the W3C header the request already has.
            for (name, value) in event.to_binary(&[]).headers {
                if let Some(attr) = name.strip_prefix("ce_").filter(|a| *a != "traceparent") {
                    put(&format!("ce-{attr}"), &String::from_utf8_lossy(&value));
                }
            }
        }
        ContentMode::Structured | ContentMode::Raw => {
            put("ce-type", &event.ty);
            put("ce-source", &event.source);
        }
    }
}

/// CloudEvents HTTP binding 3.1.3.2: header values percent-encode space, `"`, `%` and everything
/// outside printable ASCII (as UTF-8 bytes).
fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if (0x21..=0x7e).contains(&b) && b != b'"' && b != b'%' {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> CloudEvent {
        let mut e = CloudEvent::from_body("e-1".into(), "crm", "crm.contact".into(), None, br#"{"z":1,"a":2}"#);
        e.subject = Some("Zoë Ärger".into());
        e
    }

    fn get<'h>(h: &'h HeaderMap, n: &str) -> Option<&'h str> {
        h.get(n).map(|v| v.to_str().unwrap())
    }

    #[test]
    fn structured_sends_the_envelope_or_the_mapped_data_in_it() {
        let e = event();
        let plain: Value = serde_json::from_slice(&body(ContentMode::Structured, &e, None)).unwrap();
        assert_eq!((plain["id"].as_str(), &plain["data"]), (Some("e-1"), &json!({"z": 1, "a": 2})));
        let mapped: Value = serde_json::from_slice(&body(ContentMode::Structured, &e, Some(&json!({"x": 1})))).unwrap();
        assert_eq!((&mapped["data"], mapped["type"].as_str()), (&json!({"x": 1}), Some("crm.contact")));
        let mut h = HeaderMap::new();
        headers(ContentMode::Structured, &e, false, &mut h);
        assert_eq!(get(&h, "content-type"), Some(STRUCTURED));
    }

    #[test]
    fn binary_sends_attributes_as_headers_and_data_as_body() {
        let e = event();
        assert_eq!(body(ContentMode::Binary, &e, None), br#"{"z":1,"a":2}"#);
        assert_eq!(body(ContentMode::Binary, &e, Some(&json!([1]))), b"[1]");
        let mut h = HeaderMap::new();
        headers(ContentMode::Binary, &e, false, &mut h);
        assert_eq!(get(&h, "ce-id"), Some("e-1"));
        assert_eq!(get(&h, "ce-specversion"), Some("1.0"));
        assert_eq!(get(&h, "ce-type"), Some("crm.contact"));
        assert_eq!(get(&h, "ce-source"), Some("hookbus://sources/crm"));
        assert_eq!(get(&h, "ce-subject"), Some("Zo%C3%AB%20%C3%84rger"));
        assert!(get(&h, "ce-time").is_some_and(|t| t.ends_with('Z')));
        assert_eq!(get(&h, "content-type"), Some("application/json"));
        assert!(h.get("ce-traceparent").is_none());
    }

    #[test]
    fn batch_items_are_what_single_deliveries_send() {
        let e = event();
        let single: Value = serde_json::from_slice(&body(ContentMode::Structured, &e, Some(&json!({"x": 1})))).unwrap();
        assert_eq!(item(ContentMode::Structured, &e, Some(&json!({"x": 1}))), single);
        assert_eq!(item(ContentMode::Raw, &e, Some(&json!([1]))), json!([1]));
        let mut h = HeaderMap::new();
        batch_headers(ContentMode::Structured, &mut h);
        assert_eq!(get(&h, "content-type"), Some(STRUCTURED_BATCH));
        batch_headers(ContentMode::Raw, &mut h);
        assert_eq!(get(&h, "content-type"), Some("application/json"));
    }

    #[test]
    fn raw_sends_the_data_of_non_json_events_as_received() {
        let e = CloudEvent::from_body("e-2".into(), "crm", "crm.csv".into(), Some("text/csv"), b"a,b\n1,2\n");
        assert_eq!(body(ContentMode::Raw, &e, None), b"a,b\n1,2\n");
        let mut h = HeaderMap::new();
        headers(ContentMode::Raw, &e, false, &mut h);
        assert_eq!(get(&h, "content-type"), Some("text/csv"));
        assert!(h.get("ce-id").is_none() && get(&h, "ce-type") == Some("crm.csv"));
    }
}
