//! Helpers shared by the top-level integration tests. Each test binary includes this with `mod support;`
//! and uses only part of it.
#![allow(dead_code)]

pub mod admin;
pub mod bus;
pub mod kafka;
pub mod process;
pub mod receiver;
pub mod schema;
pub mod yaml;

/// Runs each named `async fn(Backend)` as a test on the embedded log and on Kafka (when configured;
/// required under CI=true). The test file must have `Backend` in scope.
#[allow(unused_macros)]
macro_rules! on_every_backend {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { super::$case(super::Backend::Embedded).await } )*
        }
        mod kafka {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() { if let Some(b) = super::Backend::kafka() { super::$case(b).await } } )*
        }
    };
}

/// Prints a fault run's summary line and appends it to `target/tmp/run-summaries.txt`, which
/// `scripts/test` shows after `cargo test` (whose output hides what passing tests print).
pub fn summary(line: String) {
    use std::io::Write as _;
    println!("{line}");
    let path = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("run-summaries.txt");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(path) {
        let _ = writeln!(f, "{line}");
    }
}
