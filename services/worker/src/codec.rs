//! The one codec for the worker's own records: retry envelopes, dead letters and ledger entries are
//! JSON values keyed by a string; a record that does not decode is reported once, with its place.
use hookbus_broker::{Received, Record};
use serde::Serialize;
use serde::de::DeserializeOwned;
use time::OffsetDateTime;

use crate::WorkerError;

/// A JSON record of the worker's, stamped now.
pub(crate) fn encode(key: &str, value: &impl Serialize) -> Result<Record, WorkerError> {
    Ok(Record {
        key: Some(key.as_bytes().to_vec()),
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        payload: serde_json::to_vec(value).map_err(hookbus_core::CoreError::from)?,
        timestamp_ms: OffsetDateTime::now_utc().unix_timestamp() * 1000,
    })
}

/// The worker record at `r`, or why it is not one.
pub(crate) fn decode<T: DeserializeOwned>(r: &Received) -> Result<T, WorkerError> {
    serde_json::from_slice(&r.record.payload).map_err(|e| bad_record(r, e))
}

/// The error for a record at `r` that is not what its topic should hold.
pub(crate) fn bad_record(r: &Received, message: impl ToString) -> WorkerError {
    WorkerError::BadRecord {
        topic: r.topic.clone(),
        partition: r.partition,
        offset: r.offset,
        message: message.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hookbus_core::{CloudEvent, RetryEnvelope};

    fn received(record: Record) -> Received {
        Received { topic: "t.crm.retry.1".into(), partition: 2, offset: 7, record }
    }

    #[test]
    fn retry_envelopes_round_trip_with_their_key() {
        let event = CloudEvent::from_body("k-1".into(), "github", "github.push".into(), None, br#"{"a":1}"#);
        let mut retry = RetryEnvelope::due_now("crm", event);
        retry.generation = "g2".into();
        retry.scheduled_at = Some(OffsetDateTime::UNIX_EPOCH);
        let record = encode("k-1", &retry).unwrap();
        assert_eq!(record.key.as_deref(), Some(b"k-1".as_slice()));
        assert_eq!(record.header_str("content-type"), Some("application/json"));
        let back: RetryEnvelope = decode(&received(record)).unwrap();
        assert_eq!(back, retry);
    }

    #[test]
    fn a_foreign_record_is_reported_with_its_place() {
        let record = Record { payload: b"not json".to_vec(), ..Record::default() };
        let err = decode::<RetryEnvelope>(&received(record)).unwrap_err().to_string();
        assert!(err.starts_with("record at t.crm.retry.1/2@7 is not a hookbus record:"), "{err}");
    }
}
