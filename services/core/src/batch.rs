//! Batch delivery records: the items one request carries, kept as they were first computed so a
//! retry or a redrive resends the very same array, and the batch's idempotency key.
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// One item of a batch: what a single delivery would have sent as its body, and whose it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BatchItem {
    /// The idempotency key the item would have had on its own: the event id, or `<event id>:<index>`
    /// for one of several transform outputs.
    pub id: String,
    pub event_id: String,
    pub event_type: String,
    /// The item as sent (the envelope in structured mode, the transform's output in raw mode).
    pub body: Value,
}

/// The items of one request, in the order they were gathered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Batch {
    pub items: Vec<BatchItem>,
}

impl Batch {
    /// The idempotency key of the request: stable across its retries and redrives.
    pub fn key(&self) -> String {
        key(self.items.iter().map(|i| i.id.as_str()))
    }

    /// The request body: a JSON array of the items.
    pub fn body(&self) -> Vec<u8> {
        let bodies: Vec<&Value> = self.items.iter().map(|i| &i.body).collect();
        serde_json::to_vec(&bodies).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// `batch_` + hex SHA-256 of the item ids in order, each ended by a line feed so that two different
/// lists of ids never hash the same text (`ab`,`c` vs `a`,`bc`).
pub fn key<'a>(ids: impl IntoIterator<Item = &'a str>) -> String {
    let mut h = Sha256::new();
    for id in ids {
        h.update(id.as_bytes());
        h.update(b"\n");
    }
    format!("batch_{}", hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(id: &str) -> BatchItem {
        BatchItem { id: id.into(), event_id: id.into(), event_type: "t".into(), body: serde_json::json!({"id": id}) }
    }

    #[test]
    fn the_key_follows_the_item_ids_and_their_order() {
        let k = key(["e-1", "e-2:0"]);
        assert!(k.starts_with("batch_") && k.len() == 6 + 64, "{k}");
        assert_eq!(k, key(["e-1", "e-2:0"]), "stable");
        assert_ne!(k, key(["e-2:0", "e-1"]), "order matters");
        assert_ne!(key(["ab", "c"]), key(["a", "bc"]), "ids do not run together");
        let sha = Sha256::digest(b"e-1\ne-2:0\n");
        assert_eq!(k, format!("batch_{}", hex::encode(sha)));
    }

    #[test]
    fn the_body_is_the_array_of_items() {
        let b = Batch { items: vec![item("a"), item("b")] };
        assert_eq!(b.key(), key(["a", "b"]));
        let body: Value = serde_json::from_slice(&b.body()).unwrap();
        assert_eq!(body, serde_json::json!([{"id": "a"}, {"id": "b"}]));
        assert_eq!(b.len(), 2);
    }
}
