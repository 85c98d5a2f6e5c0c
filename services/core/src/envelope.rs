//! The CloudEvents 1.0 envelope (schemas/cloudevent.json) and its Kafka binary-mode form:
//! attributes as `ce_*` headers, the record key = `partitionkey`, the record value = data.
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::OffsetDateTime;

use crate::CoreError;

pub const SPEC_VERSION: &str = "1.0";
const JSON: &str = "application/json";
const OCTET_STREAM: &str = "application/octet-stream";

/// `type/subtype` with optional parameters, as RFC 9110 allows (and schemas/cloudevent.json checks).
fn is_media_type(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim();
    let token = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || "!#$&^_.+-".contains(c));
    matches!(essence.split_once('/'), Some((a, b)) if token(a) && token(b))
}

fn is_json(ct: &str) -> bool {
    let essence = ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase();
    essence == JSON || essence.ends_with("+json")
}

/// A present `"data": null` is data (the JSON value null), not an absent attribute.
fn present<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Value>, D::Error> {
    Value::deserialize(d).map(Some)
}

/// Binary-mode form of an event: what a Kafka record carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryEvent {
    /// `ce_*` attributes, `content-type`, and `traceparent`.
    pub headers: Vec<(String, Vec<u8>)>,
    /// The partition key.
    pub key: Vec<u8>,
    /// The data: JSON bytes, or the raw body for non-JSON payloads.
    pub value: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudEvent {
    pub specversion: String,
    pub id: String,
    pub source: String,
    #[serde(rename = "type")]
    pub ty: String,
    #[serde(with = "time::serde::rfc3339")]
    pub time: OffsetDateTime,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub datacontenttype: String,
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "present")]
    pub data: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub data_base64: Option<String>,
    pub partitionkey: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub traceparent: Option<String>,
}

impl CloudEvent {
    /// `hookbus://sources/{source}`, the CloudEvents `source` for a configured source name.
    pub fn source_uri(source: &str) -> String {
        format!("hookbus://sources/{source}")
    }

    /// Builds an envelope from a raw body: JSON bodies become `data`, anything else `data_base64`.
    /// `datacontenttype` is JSON for JSON bodies; for others the sender's media type when it is a
    /// well-formed non-JSON one, else `application/octet-stream` (a body that claims JSON but does
    /// not parse must not be labelled JSON, or no consumer could decode it).
    pub fn from_body(id: String, source: &str, ty: String, content_type: Option<&str>, body: &[u8]) -> Self {
        let json = serde_json::from_slice::<Value>(body).ok();
        let datacontenttype = match (&json, content_type) {
            (Some(_), _) => JSON.to_owned(),
            (None, Some(ct)) if is_media_type(ct) && !is_json(ct) => ct.trim().to_owned(),
            (None, _) => OCTET_STREAM.to_owned(),
        };
        let data_base64 = json.is_none().then(|| B64.encode(body));
        Self {
            specversion: SPEC_VERSION.to_owned(),
            partitionkey: id.clone(),
            id,
            source: Self::source_uri(source),
            ty,
            time: OffsetDateTime::now_utc(),
            subject: None,
            datacontenttype,
            data: json,
            data_base64,
            traceparent: None,
        }
    }

    /// Binary mode: `ce_*` headers, key = partition key, value = `body`, the exact bytes the
    /// provider sent (never re-serialized: key order, whitespace and big numbers stay as they were).
    pub fn to_binary(&self, body: &[u8]) -> BinaryEvent {
        let time = self.time.format(&time::format_description::well_known::Rfc3339).unwrap_or_default();
        let mut headers: Vec<(String, Vec<u8>)> = vec![
            ("ce_specversion".into(), self.specversion.clone().into_bytes()),
            ("ce_id".into(), self.id.clone().into_bytes()),
            ("ce_source".into(), self.source.clone().into_bytes()),
            ("ce_type".into(), self.ty.clone().into_bytes()),
            ("ce_time".into(), time.into_bytes()),
            ("ce_partitionkey".into(), self.partitionkey.clone().into_bytes()),
            ("content-type".into(), self.datacontenttype.clone().into_bytes()),
        ];
        if let Some(s) = &self.subject {
            headers.push(("ce_subject".into(), s.clone().into_bytes()));
        }
        if let Some(tp) = &self.traceparent {
            // Both the CloudEvents extension and the plain W3C header, so generic Kafka tooling sees it.
            headers.push(("ce_traceparent".into(), tp.clone().into_bytes()));
            headers.push(("traceparent".into(), tp.clone().into_bytes()));
        }
        BinaryEvent { headers, key: self.partitionkey.clone().into_bytes(), value: body.to_vec() }
    }

    /// Inverse of [`to_binary`](Self::to_binary).
    pub fn from_binary(headers: &[(String, Vec<u8>)], value: &[u8]) -> Result<Self, CoreError> {
        let get = |name: &str| {
            headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .and_then(|(_, v)| std::str::from_utf8(v).ok())
                .map(str::to_owned)
        };
        let need = |name: &str| get(name).ok_or_else(|| CoreError::Envelope(format!("record has no `{name}` header")));
        let time_s = need("ce_time")?;
        let time = OffsetDateTime::parse(&time_s, &time::format_description::well_known::Rfc3339)
            .map_err(|e| CoreError::Envelope(format!("ce_time `{time_s}`: {e}")))?;
        let datacontenttype = get("content-type").unwrap_or_else(|| JSON.to_owned());
        let is_json = datacontenttype.starts_with(JSON);
        let (data, data_base64) =
            if is_json { (Some(serde_json::from_slice(value)?), None) } else { (None, Some(B64.encode(value))) };
        let id = need("ce_id")?;
        Ok(Self {
            specversion: need("ce_specversion")?,
            partitionkey: get("ce_partitionkey").unwrap_or_else(|| id.clone()),
            id,
            source: need("ce_source")?,
            ty: need("ce_type")?,
            time,
            subject: get("ce_subject"),
            datacontenttype,
            data,
            data_base64,
            traceparent: get("ce_traceparent").or_else(|| get("traceparent")),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_body_round_trips_through_binary_mode() {
        let mut ev = CloudEvent::from_body("d-1".into(), "github", "github.push".into(), None, br#"{"a":[1,2]}"#);
        ev.traceparent = Some("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01".into());
        ev.partitionkey = "org/repo".into();
        let b = ev.to_binary(br#"{"a":[1,2]}"#);
        assert_eq!(b.key, b"org/repo");
        assert_eq!(b.value, br#"{"a":[1,2]}"#);
        let back = CloudEvent::from_binary(&b.headers, &b.value).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn non_json_body_is_carried_as_base64() {
        let ev = CloudEvent::from_body(
            "x".into(),
            "form",
            "form.post".into(),
            Some("application/x-www-form-urlencoded"),
            b"a=1&b=2",
        );
        assert_eq!(ev.data, None);
        assert_eq!(ev.data_base64.as_deref(), Some("YT0xJmI9Mg=="));
        let b = ev.to_binary(b"a=1&b=2");
        assert_eq!(b.value, b"a=1&b=2");
        assert_eq!(CloudEvent::from_binary(&b.headers, &b.value).unwrap(), ev);
    }

    #[test]
    fn non_json_claiming_json_is_labelled_as_bytes() {
        for ct in [Some("application/json"), Some("text plain"), Some("json"), None] {
            let ev = CloudEvent::from_body("x".into(), "s", "s.t".into(), ct, b"not json");
            assert_eq!(ev.datacontenttype, "application/octet-stream", "{ct:?}");
            let b = ev.to_binary(b"not json");
            assert_eq!(CloudEvent::from_binary(&b.headers, &b.value).unwrap(), ev);
        }
        let ev = CloudEvent::from_body("x".into(), "s", "s.t".into(), Some("text/plain; charset=utf-8"), b"hi");
        assert_eq!(ev.datacontenttype, "text/plain; charset=utf-8");
    }

    #[test]
    fn json_null_data_survives_a_json_round_trip() {
        let ev = CloudEvent::from_body("x".into(), "s", "s.t".into(), None, b"null");
        assert_eq!(ev.data, Some(Value::Null));
        let back: CloudEvent = serde_json::from_str(&serde_json::to_string(&ev).unwrap()).unwrap();
        assert_eq!(back, ev);
    }

    #[test]
    fn missing_header_is_a_clear_error() {
        let err = CloudEvent::from_binary(&[], b"{}").unwrap_err();
        assert!(err.to_string().contains("ce_time"), "{err}");
    }
}
