//! Per-minute counts for the console's charts: attempts per subscription (delivered or not),
//! accepted events and rejections per source. Minutes are `ms / 60000` since the epoch, grouped in
//! SQL the same way on both backends (integer division of BIGINT).
use time::OffsetDateTime;

use super::{Store, StoreError, ms};

/// One minute of one subscription or source; minutes without anything are absent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinuteCount {
    /// The subscription or source name.
    pub name: String,
    /// Minutes since the Unix epoch.
    pub minute: i64,
    /// Delivered attempts, or accepted events.
    pub ok: u64,
    /// Attempts that did not deliver, or rejections.
    pub failed: u64,
}

impl Store {
    /// Attempts since `since`, per subscription (current and earlier generations) and minute.
    pub async fn attempt_minutes(&self, since: OffsetDateTime) -> Result<Vec<MinuteCount>, StoreError> {
        let rows = self
            .db
            .query(
                "SELECT subscription, at_ms / 60000 AS m, \
                 SUM(CASE WHEN outcome = 'delivered' THEN 1 ELSE 0 END), \
                 SUM(CASE WHEN outcome = 'delivered' THEN 0 ELSE 1 END) \
                 FROM attempts WHERE at_ms >= ? GROUP BY subscription, m ORDER BY subscription, m",
                vec![ms(since).into()],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|r| MinuteCount { name: r.text(0), minute: r.int(1), ok: r.int(2) as u64, failed: r.int(3) as u64 })
            .collect())
    }

    /// Accepted events and rejections since `since`, per source and minute.
    pub async fn source_minutes(&self, since: OffsetDateTime) -> Result<Vec<MinuteCount>, StoreError> {
        let p = || vec![ms(since).into()];
        let accepted = self
            .db
            .query(
                "SELECT source, received_ms / 60000 AS m, COUNT(*) FROM events WHERE received_ms >= ? \
                 GROUP BY source, m",
                p(),
            )
            .await?;
        let rejected = self
            .db
            .query(
                "SELECT source, at_ms / 60000 AS m, COUNT(*) FROM rejections WHERE at_ms >= ? GROUP BY source, m",
                p(),
            )
            .await?;
        let mut out: Vec<MinuteCount> = accepted
            .iter()
            .map(|r| MinuteCount { name: r.text(0), minute: r.int(1), ok: r.int(2) as u64, failed: 0 })
            .collect();
        for r in &rejected {
            let (name, minute, n) = (r.text(0), r.int(1), r.int(2) as u64);
            match out.iter_mut().find(|c| c.name == name && c.minute == minute) {
                Some(c) => c.failed = n,
                None => out.push(MinuteCount { name, minute, ok: 0, failed: n }),
            }
        }
        out.sort_by(|a, b| (&a.name, a.minute).cmp(&(&b.name, b.minute)));
        Ok(out)
    }
}
