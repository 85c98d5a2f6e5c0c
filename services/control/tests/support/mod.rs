//! Shared by the control tests: a store on each backend. PostgreSQL comes from
//! HOOKBUS_TEST_POSTGRES_URL; each store gets its own schema so tests run in parallel.
#![allow(dead_code)]
use hookbus_control::store::Store;

/// A fresh SQLite store in a temporary directory (kept alive by the returned guard).
pub fn sqlite() -> (Store, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    (Store::sqlite(&dir.path().join("control.db")).unwrap(), dir)
}

/// The PostgreSQL URL, or None (printing why) when it is not set; with CI=true a missing server fails.
pub fn postgres_url() -> Option<String> {
    match std::env::var("HOOKBUS_TEST_POSTGRES_URL") {
        Ok(u) if !u.is_empty() => Some(u),
        _ if std::env::var("CI").is_ok_and(|v| v == "true") => {
            panic!("HOOKBUS_TEST_POSTGRES_URL must be set in CI (e.g. postgres://postgres@127.0.0.1:55432/hookbus_test)")
        }
        _ => {
            eprintln!("skipping the PostgreSQL half: set HOOKBUS_TEST_POSTGRES_URL to run it");
            None
        }
    }
}

/// A fresh PostgreSQL store in a new schema of the test database.
pub async fn postgres() -> Option<Store> {
    let url = postgres_url()?;
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let (client, conn) = tokio_postgres::connect(&url, tokio_postgres::NoTls).await.expect("connect to test postgres");
    tokio::spawn(conn);
    client.batch_execute(&format!("CREATE SCHEMA {schema}")).await.unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    Some(Store::postgres(&format!("{url}{sep}options=-csearch_path%3D{schema}")).unwrap())
}

/// Runs `$body` (an async fn taking a migrated `Store`) on SQLite, and on PostgreSQL when available.
#[macro_export]
macro_rules! on_both {
    ($sqlite:ident, $pg:ident, $f:path) => {
        #[tokio::test]
        async fn $sqlite() {
            let (store, _dir) = support::sqlite();
            store.migrate().await.unwrap();
            $f(store).await;
        }
        #[tokio::test]
        async fn $pg() {
            let Some(store) = support::postgres().await else { return };
            store.migrate().await.unwrap();
            $f(store).await;
        }
    };
}
