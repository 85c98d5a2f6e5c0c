//! SQLite backend (rusqlite, the same bundled libsqlite3 as the embedded log): one connection on
//! the blocking pool, WAL, `synchronous=FULL` (subscriptions are state, not derivable). Writes come
//! in batches (observations, index), so one fsync covers many rows.
use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{Connection, params_from_iter};

use super::db::{Cell, Db, Param, Row, SCHEMA, Stmt, StoreError};

pub struct SqliteDb {
    conn: Arc<Mutex<Connection>>,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("sqlite: {e}"))
}

fn value(p: Param) -> Value {
    match p {
        Param::Int(Some(v)) => Value::Integer(v),
        Param::Text(Some(v)) => Value::Text(v),
        Param::Bytes(v) => Value::Blob(v),
        Param::Int(None) | Param::Text(None) => Value::Null,
    }
}

impl SqliteDb {
    /// Opens (creating with its directory) the file at `path`.
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| err(format!("{}: {e}", dir.display())))?;
        }
        let conn = Connection::open(path).map_err(|e| err(format!("{}: {e}", path.display())))?;
        conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;")
            .map_err(err)?;
        Ok(Self { conn: Arc::new(Mutex::new(conn)) })
    }

    async fn with<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().unwrap_or_else(|p| p.into_inner());
            f(&mut c)
        })
        .await
        .map_err(err)?
    }
}

#[async_trait]
impl Db for SqliteDb {
    async fn query(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let sql = sql.to_owned();
        self.with(move |c| {
            let mut st = c.prepare_cached(&sql).map_err(err)?;
            let n = st.column_count();
            let mut rows = st.query(params_from_iter(params.into_iter().map(value))).map_err(err)?;
            let mut out = Vec::new();
            while let Some(r) = rows.next().map_err(err)? {
                let mut cells = Vec::with_capacity(n);
                for i in 0..n {
                    cells.push(match r.get_ref(i).map_err(err)? {
                        ValueRef::Null => Cell::Null,
                        ValueRef::Integer(v) => Cell::Int(v),
                        ValueRef::Real(v) => Cell::Int(v as i64),
                        ValueRef::Text(t) => Cell::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Cell::Bytes(b.to_vec()),
                    });
                }
                out.push(Row(cells));
            }
            Ok(out)
        })
        .await
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError> {
        self.with(move |c| {
            let tx = c.transaction().map_err(err)?;
            let mut counts = Vec::with_capacity(stmts.len());
            for s in stmts {
                let n = {
                    let mut st = tx.prepare_cached(&s.sql).map_err(err)?;
                    st.execute(params_from_iter(s.params.into_iter().map(value))).map_err(err)?
                };
                if s.must_affect && n == 0 {
                    // Dropping the transaction rolls it back.
                    return Err(StoreError::Conflict);
                }
                counts.push(n as u64);
            }
            tx.commit().map_err(err)?;
            Ok(counts)
        })
        .await
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        self.with(|c| c.execute_batch(SCHEMA).map_err(err)).await
    }

    fn name(&self) -> &'static str {
        "sqlite"
    }
}
