//! Backend-neutral record types, and the one conversion between an accepted event and its record.
use hookbus_core::{CloudEvent, CoreError};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Record {
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub payload: Vec<u8>,
    /// Milliseconds since the Unix epoch, set by the producer.
    pub timestamp_ms: i64,
}

impl Record {
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_slice())
    }

    pub fn header_str(&self, name: &str) -> Option<&str> {
        self.header(name).and_then(|v| std::str::from_utf8(v).ok())
    }

    /// The record of an accepted event, in CloudEvents binary mode: `ce_*` headers, the partition
    /// key as the record key, and `body` (the exact bytes received) as the value.
    pub fn from_event(event: &CloudEvent, body: &[u8], timestamp_ms: i64) -> Record {
        let bin = event.to_binary(body);
        Record { key: Some(bin.key), headers: bin.headers, payload: bin.value, timestamp_ms }
    }

    /// The event a source-topic record carries, as [`from_event`](Self::from_event) wrote it.
    pub fn event(&self) -> Result<CloudEvent, CoreError> {
        CloudEvent::from_binary(&self.headers, &self.payload)
    }
}

/// A record as read from a topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
    pub record: Record,
}

/// A commit position: `offset` is the next offset to read in (topic, partition).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Position {
    pub topic: String,
    pub partition: i32,
    pub offset: i64,
}
