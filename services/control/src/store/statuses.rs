//! Where each of a page of events stands per subscription, in one query, for the event list.
use super::{Param, Store, StoreError};

/// `(event_id, subscription, generation, status)`.
pub type StatusRow = (String, String, String, String);

impl Store {
    /// The delivery states of these events, every subscription and generation.
    pub async fn delivery_statuses(&self, event_ids: &[String]) -> Result<Vec<StatusRow>, StoreError> {
        if event_ids.is_empty() {
            return Ok(Vec::new());
        }
        let marks = vec!["?"; event_ids.len()].join(", ");
        let sql = format!(
            "SELECT event_id, subscription, generation, status FROM deliveries WHERE event_id IN ({marks}) \
             ORDER BY subscription"
        );
        let params: Vec<Param> = event_ids.iter().map(|i| i.clone().into()).collect();
        Ok(self.db.query(&sql, params).await?.iter().map(|r| (r.text(0), r.text(1), r.text(2), r.text(3))).collect())
    }
}
