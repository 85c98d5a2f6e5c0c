//! PostgreSQL backend (tokio-postgres with a deadpool pool), for several nodes sharing one store.
//! Statements are prepared once per connection (`prepare_cached`).
use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use tokio_postgres::NoTls;
use tokio_postgres::types::{ToSql, Type};

use super::db::{Cell, Db, Param, Row, SCHEMA, Stmt, StoreError};

pub struct PostgresDb {
    pool: Pool,
}

fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("postgres: {e}"))
}

/// `?` placeholders become `$1, $2, ...` (the shared statements contain no `?` in literals).
fn number(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut n = 0;
    for ch in sql.chars() {
        if ch == '?' {
            n += 1;
            out.push('$');
            out.push_str(&n.to_string());
        } else {
            out.push(ch);
        }
    }
    out
}

fn schema() -> String {
    SCHEMA.replace("INTEGER PRIMARY KEY AUTOINCREMENT", "BIGSERIAL PRIMARY KEY").replace(" BLOB ", " BYTEA ")
}

fn to_sql(p: &Param) -> &(dyn ToSql + Sync) {
    match p {
        Param::Int(v) => v,
        Param::Text(v) => v,
        Param::Bytes(v) => v,
    }
}

fn cells(r: &tokio_postgres::Row) -> Result<Row, StoreError> {
    let mut out = Vec::with_capacity(r.len());
    for (i, c) in r.columns().iter().enumerate() {
        let t = c.type_();
        let cell = if *t == Type::INT8 {
            r.try_get::<_, Option<i64>>(i).map_err(err)?.map(Cell::Int)
        } else if *t == Type::INT4 {
            r.try_get::<_, Option<i32>>(i).map_err(err)?.map(|v| Cell::Int(v.into()))
        } else if *t == Type::BYTEA {
            r.try_get::<_, Option<Vec<u8>>>(i).map_err(err)?.map(Cell::Bytes)
        } else {
            r.try_get::<_, Option<String>>(i).map_err(err)?.map(Cell::Text)
        };
        out.push(cell.unwrap_or(Cell::Null));
    }
    Ok(Row(out))
}

impl PostgresDb {
    /// Connects lazily: the pool opens connections on first use; `migrate` is the first.
    pub fn connect(url: &str) -> Result<Self, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(err)?;
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(8)
            .wait_timeout(Some(std::time::Duration::from_secs(5)))
            .create_timeout(Some(std::time::Duration::from_secs(5)))
            .runtime(deadpool_postgres::Runtime::Tokio1)
            .build()
            .map_err(err)?;
        Ok(Self { pool })
    }
}

#[async_trait]
impl Db for PostgresDb {
    async fn query(&self, sql: &str, params: Vec<Param>) -> Result<Vec<Row>, StoreError> {
        let client = self.pool.get().await.map_err(err)?;
        let st = client.prepare_cached(&number(sql)).await.map_err(err)?;
        let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(to_sql).collect();
        client.query(&st, &refs).await.map_err(err)?.iter().map(cells).collect()
    }

    async fn batch(&self, stmts: Vec<Stmt>) -> Result<Vec<u64>, StoreError> {
        let mut client = self.pool.get().await.map_err(err)?;
        let tx = client.transaction().await.map_err(err)?;
        let mut prepared = Vec::with_capacity(stmts.len());
        for s in &stmts {
            prepared.push(tx.prepare_cached(&number(&s.sql)).await.map_err(err)?);
        }
        // Issued together, the statements are pipelined on the connection (one round trip for the
        // batch instead of one per row); the server still runs them in order.
        let runs = stmts.iter().zip(&prepared).map(|(s, st)| {
            let refs: Vec<&(dyn ToSql + Sync)> = s.params.iter().map(to_sql).collect();
            let tx = &tx;
            async move { tx.execute(st, &refs).await }
        });
        let counts = futures::future::try_join_all(runs).await.map_err(err)?;
        if stmts.iter().zip(&counts).any(|(s, n)| s.must_affect && *n == 0) {
            // Dropping the transaction rolls it back.
            return Err(StoreError::Conflict);
        }
        tx.commit().await.map_err(err)?;
        Ok(counts)
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let mut client = self.pool.get().await.map_err(err)?;
        let tx = client.transaction().await.map_err(err)?;
        // Nodes starting together would race on CREATE TABLE IF NOT EXISTS; one at a time.
        tx.batch_execute("SELECT pg_advisory_xact_lock(7315420012)").await.map_err(err)?;
        tx.batch_execute(&schema()).await.map_err(err)?;
        tx.commit().await.map_err(err)
    }

    fn name(&self) -> &'static str {
        "postgres"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn placeholders_are_numbered_and_schema_is_rewritten() {
        assert_eq!(super::number("a = ? AND b = ?"), "a = $1 AND b = $2");
        let s = super::schema();
        assert!(s.contains("seq BIGSERIAL PRIMARY KEY") && s.contains("payload BYTEA NOT NULL"));
        assert!(!s.contains("AUTOINCREMENT") && !s.contains("BLOB"));
    }
}
