//! Helpers for the providers' `identify`: reading the delivery id and event type from headers and
//! the parsed JSON body. The id is what the provider documents as identifying a delivery (stable
//! across its retries), or failing that the event's own id. Batching providers get one only for a
//! batch of one event; a batch without a common event type gets none.
use http::HeaderMap;
use serde_json::Value;

use super::Ids;

/// A header's trimmed, non-empty text.
pub(super) fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A string, or a number as its text (some providers use numeric ids).
pub(super) fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The text at a JSON pointer of the body.
pub(super) fn body_str(body: Option<&Value>, pointer: &str) -> Option<String> {
    text(body?.pointer(pointer)?)
}

/// Both from headers.
pub(super) fn headers(h: &HeaderMap, id: &str, ty: &str) -> Ids {
    (header(h, id), header(h, ty))
}

/// Both from the body.
pub(super) fn fields(body: Option<&Value>, id: &str, ty: &str) -> Ids {
    (body_str(body, id), body_str(body, ty))
}

/// For a JSON array of events: the id of the only event, and the type all events share.
pub(super) fn batch(body: Option<&Value>, id: &str, ty: &str) -> Ids {
    let Some(events) = body.and_then(Value::as_array) else { return (None, None) };
    let id = match events.as_slice() {
        [only] => only.get(id).and_then(text),
        _ => None,
    };
    let types: Vec<Option<String>> = events.iter().map(|e| e.get(ty).and_then(text)).collect();
    let ty = match types.first() {
        Some(Some(first)) if types.iter().all(|t| t.as_ref() == Some(first)) => Some(first.clone()),
        _ => None,
    };
    (id, ty)
}
