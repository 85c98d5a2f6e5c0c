//! Console sessions that were signed out. Session cookies are signed and stateless (any admin node
//! accepts them); a signed-out session id is kept here until the cookie would have expired anyway,
//! so signing out ends the session on every node that shares the store.
use time::OffsetDateTime;

use super::{Stmt, Store, StoreError, ms};

impl Store {
    /// Ends session `sid`; the row is removed once `until` (its absolute expiry) has passed.
    pub async fn end_session(&self, sid: &str, until: OffsetDateTime) -> Result<(), StoreError> {
        let now = ms(OffsetDateTime::now_utc());
        let stmts = vec![
            Stmt::new("DELETE FROM ended_sessions WHERE until_ms < ?", vec![now.into()]),
            Stmt::new(
                "INSERT INTO ended_sessions (sid, until_ms) VALUES (?, ?) ON CONFLICT DO NOTHING",
                vec![sid.into(), ms(until).into()],
            ),
        ];
        self.db.batch(stmts).await.map(|_| ())
    }

    pub async fn session_ended(&self, sid: &str) -> Result<bool, StoreError> {
        let rows = self.db.query("SELECT 1 FROM ended_sessions WHERE sid = ?", vec![sid.into()]).await?;
        Ok(!rows.is_empty())
    }
}
