//! A full disk loses nothing. The embedded log lives on a small tmpfs this test mounts (it needs
//! root; without the permission it says so, and fails under CI=true). `hookbus serve` runs on it
//! with a slow target, so a backlog is stored; then the filesystem is filled. Ingress must answer
//! 503 with Retry-After — never 202 for an event it could not store, never 500 — while the worker
//! keeps delivering the backlog. Once space is freed, ingress accepts again, and every event that
//! got a 202 is delivered.
mod support;

use std::collections::HashSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

/// A tmpfs of `size` mounted on a fresh directory, unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Option<Self> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output();
        match out {
            Ok(o) if o.status.success() => Some(Self { dir }),
            other => {
                let why = match other {
                    Ok(o) => String::from_utf8_lossy(&o.stderr).into_owned(),
                    Err(e) => e.to_string(),
                };
                assert!(
                    std::env::var("CI").as_deref() != Ok("true"),
                    "CI=true but this machine cannot mount a size-limited tmpfs for the full-disk test \
                     (it needs root / CAP_SYS_ADMIN): {why}"
                );
                eprintln!("skipping: cannot mount a tmpfs (run as root to test a full disk): {why}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Writes zeros to `path` until the filesystem is full.
fn fill(path: &Path) {
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 16 * 1024];
    while f.write_all(&chunk).is_ok() {}
    let _ = f.sync_all();
}

struct Posted {
    accepted: Vec<String>,
    refused: usize,
}

/// Posts a signed push with delivery id `delivery`: status, response headers and JSON body.
async fn post_one(url: &str, i: usize) -> (u16, reqwest::header::HeaderMap, serde_json::Value) {
    let body = bus::github_push(&format!("acme/repo-{}", i % 8), "a@b.c");
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let scheme = hookbus_ingress::verify::Scheme::of(hookbus_core::config::SchemeKind::Github);
    let mut req = reqwest::Client::new().post(format!("{url}/webhooks/github")).body(body.clone());
    for (k, v) in scheme.sign(bus::GITHUB_SECRET, &body, now, &format!("disk-{i}")).unwrap() {
        req = req.header(k, v);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status().as_u16(), resp.headers().clone());
    (status, headers, resp.json().await.unwrap_or_default())
}

/// Posts `n` pushes (fresh delivery ids from `from`); returns how many were refused with 503,
/// stopping at the first when `until_503`.
async fn post(url: &str, from: usize, n: usize, until_503: bool, out: &mut Posted) -> usize {
    let mut refused = 0;
    for i in from..from + n {
        let (status, headers, json) = post_one(url, i).await;
        match status {
            202 => out.accepted.push(json["id"].as_str().expect("202 names the event").to_owned()),
            503 => {
                let retry = headers.get("retry-after").and_then(|v| v.to_str().ok()).unwrap_or("");
                assert!(retry.parse::<u64>().is_ok_and(|s| s > 0), "503 without a Retry-After: {headers:?}");
                out.refused += 1;
                refused += 1;
                if until_503 {
                    break;
                }
            }
            other => panic!("event {i}: ingress answered {other}: {json} (want 202, or 503 on a full disk)"),
        }
    }
    refused
}

fn delivered(rx: &Receiver) -> HashSet<String> {
    rx.requests().iter().filter(|r| r.path == "/crm").map(|r| r.header("webhook-id").to_owned()).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_answered_503_and_loses_nothing() {
    let Some(fs) = Tmpfs::mount("6m") else { return };
    let started = Instant::now();
    let rx = Receiver::start().await;
    // Slow enough that a backlog is stored when the disk fills: 16 at a time, 100 ms each.
    rx.set_default(200, Duration::from_millis(100));
    let bus = Bus::new(Backend::Embedded, &rx.url, Options::default());
    let log: PathBuf = fs.path().join("log.db");
    let child = bus.spawn_role("serve", None, &[("HOOKBUS_BROKER__EMBEDDED__PATH", log.to_str().unwrap())]);
    let url = child.url.clone();
    bus::wait_ready(&url).await;

    let mut posted = Posted { accepted: Vec::new(), refused: 0 };
    post(&url, 0, 300, false, &mut posted).await;
    assert_eq!(posted.accepted.len(), 300, "disk not full yet: every event accepted");

    fill(&fs.path().join("filler"));
    let full_at = delivered(&rx).len();
    assert!(full_at < 300, "the backlog was delivered before the disk filled: nothing to test");
    // Appends may still land in WAL space SQLite already holds; keep posting until it is used up.
    let hit = post(&url, 300, 20_000, true, &mut posted).await;
    assert_eq!(hit, 1, "the disk never filled up: {} more accepted", posted.accepted.len() - 300);
    // More posts while full: each is refused or (when a checkpoint made room) stored, never lost.
    post(&url, 30_000, 20, false, &mut posted).await;

    // The worker keeps delivering what is stored while the disk stays full.
    let stored: HashSet<String> = posted.accepted.iter().cloned().collect();
    rx.wait_until("the stored backlog delivered on a full disk", Duration::from_secs(120), |_| {
        stored.is_subset(&delivered(&rx))
    })
    .await;
    assert!(std::fs::metadata(fs.path().join("filler")).is_ok(), "still full");

    // Space freed: ingress accepts again and everything accepted is delivered.
    std::fs::remove_file(fs.path().join("filler")).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let before = posted.accepted.len();
    let mut next = 40_000;
    while posted.accepted.len() < before + 50 {
        assert!(Instant::now() < deadline, "ingress did not recover after space was freed: {}", bus.child_logs());
        if post(&url, next, 1, false, &mut posted).await > 0 {
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        next += 1;
    }
    let all: HashSet<String> = posted.accepted.iter().cloned().collect();
    rx.wait_until("every accepted event delivered", Duration::from_secs(120), |_| all.is_subset(&delivered(&rx))).await;
    support::summary(format!(
        "full disk [embedded]: accepted={} refused_503={} delivered_when_full={full_at} time={:.1}s",
        all.len(),
        posted.refused,
        started.elapsed().as_secs_f64()
    ));
    drop(child);
}
