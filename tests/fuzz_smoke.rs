//! Every fuzz target of `fuzz/` run on stable, bounded: a small mutational fuzzer (seeded, so a
//! failure reproduces) over the checked-in seeds in `fuzz/seeds/<target>/` plus random inputs.
//! This is what `cargo test` (and so CI) runs; coverage-guided runs use `cargo fuzz` on nightly
//! (see `fuzz/README.md`).
//!
//! `HOOKBUS_FUZZ_ITERATIONS=N` runs N inputs per target instead of the default, and
//! `HOOKBUS_FUZZ_SEED=N` changes the random sequence. A failing input is written to
//! `target/fuzz-smoke/<target>-crash.bin`; replay it with `cargo fuzz run <target> <file>` or by
//! calling `hookbus::fuzzing::<target>` on its bytes.
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::time::Instant;

use hookbus::fuzzing::TARGETS;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Tokens each target's grammar is made of: splicing them in finds more than flipping bits.
fn dictionary(target: &str) -> &'static [&'static str] {
    match target {
        "config" => &[
            "[sources.x]\n",
            "[sources.x.hmac]\n",
            "[subscriptions.s]\n",
            "scheme = \"github\"\n",
            "scheme = \"hmac\"\n",
            "secrets = [{ value = \"s\" }]\n",
            "secrets = [{ value = \"s\", expires = \"2020-01-01T00:00:00Z\" }]\n",
            "handshakes = [\"meta\", \"websub\", \"msgraph\"]\n",
            "rate_limit = { per_second = 0, burst = 4294967295 }\n",
            "content_types = [\"a/b\", \"\", \"/\"]\n",
            "dedup_window_secs = 0\n",
            "tolerance_secs = 18446744073709551615\n",
            "header = \"X-Signature\"\n",
            "algorithm = \"sha512\"\n",
            "public_url = \"http://[::1\"\n",
            "partition_key = \"/a~2\"\n",
            "\"",
            "'''",
            "=",
            "[",
            "]",
            "{",
            "}",
            ",",
            "\n",
            "-9223372036854775809",
            "1e400",
            "\u{0}",
        ],
        "mapping" => &[
            "\u{0}",
            "|",
            ".",
            ".[]",
            "..",
            "[",
            "]",
            "(",
            ")",
            "{",
            "}",
            "def f: .; ",
            "def f(g): g | g; ",
            "reduce .[] as $x (0; . + $x)",
            "foreach .[] as $x (0; 1; 2)",
            " as $x | ",
            "$x",
            "$__loc__",
            "?",
            "//",
            "try error(\"x\") catch .",
            "label $out | break $out",
            "if . then 1 elif 2 else 3 end",
            "@base64d",
            "\"\\(.a)\"",
            "1e1000",
            "-9223372036854775809",
            ".data.ref == \"refs/heads/main\"",
            "{a: .b, \"c\": [.d[0:7]]}",
            "limit(3; .[])",
            "path(..)",
            "getpath([\"a\"])",
            "tojson | fromjson",
            "ascii_downcase",
            "test(\"a+\")",
        ],
        "cloudevent" => &[
            "ce_specversion: 1.0\n",
            "ce_id: e1\n",
            "ce_source: hookbus://sources/x\n",
            "ce_type: x.y\n",
            "ce_time: 2024-05-01T12:00:00Z\n",
            "ce_time: 9999-12-31T23:59:60+23:59\n",
            "ce_partitionkey: k\n",
            "ce_subject: s\n",
            "ce_traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
            "content-type: application/json\n",
            "content-type: application/cloudevents+json; charset=utf-8\n",
            "content-type: text/plain\n",
            "content-type: \n",
            "\n\n",
            "{\"a\":1}",
            "null",
            "[1e999]",
            "\u{ff}",
        ],
        "request" => &[
            "POST /webhooks/s_github HTTP\n",
            "GET /webhooks/hooks?",
            "POST /webhooks/hooks?validationToken=",
            "hub.mode=subscribe&hub.verify_token=fuzz-secret&hub.challenge=c",
            "hub.mode=unsubscribe&hub.topic=t&hub.challenge=%00",
            "&",
            "%",
            "%FF",
            "\n",
            "\n\n",
            "x-fuzz-sign: 1\n",
            "x-fuzz-sign: 0\n",
            "content-type: application/json\n",
            "content-type: text/plain; charset=utf-8\n",
            "content-length: 99999999999\n",
            "content-length: 1\n",
            "twitch-eventsub-message-type: webhook_callback_verification\n",
            "traceparent: 00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01\n",
            "{\"type\":\"url_verification\",\"challenge\":\"c\"}",
            "{\"event\":\"endpoint.url_validation\",\"payload\":{\"plainToken\":\"p\"}}",
            "{\"challenge\":\"c\",\"subscription\":{}}",
            "{\"id\":\"evt_1\",\"type\":\"a.b\",\"repository\":{\"full_name\":\"o/r\"}}",
            "/webhooks/s_slack",
            "/webhooks/s_zoom",
            "/webhooks/s_twitch",
            "/webhooks/s_stripe",
            "/webhooks/s_standard_webhooks",
            "/webhooks/s_hmac",
        ],
        _ => &["\u{0}", "\u{ff}", "\n", ":", "=", ",", ";", "v1,", "t=", "sha256="],
    }
}

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fuzz")
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let dir = fuzz_dir().join("seeds").join(target);
    let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
        Ok(entries) => entries.filter_map(|e| Some(e.ok()?.path())).filter(|p| p.is_file()).collect(),
        Err(e) => panic!("fuzz seeds for `{target}` missing at {}: {e}", dir.display()),
    };
    files.sort();
    files.iter().map(|p| std::fs::read(p).unwrap()).collect()
}

/// One to four edits: byte flips and sets, insertions and deletions, dictionary tokens, splices.
fn mutate(rng: &mut StdRng, input: &mut Vec<u8>, dict: &[&str], seeds: &[Vec<u8>]) {
    for _ in 0..rng.random_range(1..=4) {
        let len = input.len();
        match rng.random_range(0..8) {
            0 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] ^= 1 << rng.random_range(0..8);
            }
            1 if len > 0 => {
                let i = rng.random_range(0..len);
                input[i] = rng.random();
            }
            2 => {
                let at = rng.random_range(0..=len);
                let n = rng.random_range(1..=8);
                let bytes: Vec<u8> = (0..n).map(|_| rng.random()).collect();
                input.splice(at..at, bytes);
            }
            3 if len > 0 => {
                let from = rng.random_range(0..len);
                let to = rng.random_range(from..=len.min(from + 32));
                input.drain(from..to);
            }
            4 | 5 => {
                let at = rng.random_range(0..=len);
                let token = dict[rng.random_range(0..dict.len())].as_bytes();
                input.splice(at..at, token.iter().copied());
            }
            6 if !seeds.is_empty() => {
                let other = &seeds[rng.random_range(0..seeds.len())];
                let cut = rng.random_range(0..=len);
                let from = rng.random_range(0..=other.len());
                input.truncate(cut);
                input.extend_from_slice(&other[from..]);
            }
            _ if len > 0 => {
                let from = rng.random_range(0..len);
                let to = rng.random_range(from..=len.min(from + 16));
                let chunk = input[from..to].to_vec();
                let at = rng.random_range(0..=len);
                input.splice(at..at, chunk);
            }
            _ => input.push(rng.random()),
        }
    }
    input.truncate(16 * 1024);
}

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().and_then(|v| v.parse().ok())
}

/// Runs `target` on `iterations` inputs: the seeds as they are, then mutants of seeds (4 in 5)
/// and random bytes; reports the executions and saves a failing input before failing.
fn run(target: &str, iterations: u64) {
    let iterations = env_u64("HOOKBUS_FUZZ_ITERATIONS").unwrap_or(iterations);
    let f = TARGETS.iter().find(|t| t.name == target).unwrap_or_else(|| panic!("no fuzz target `{target}`")).run;
    let seeds = seeds(target);
    let dict = dictionary(target);
    let mut rng = StdRng::seed_from_u64(env_u64("HOOKBUS_FUZZ_SEED").unwrap_or(0x6b_6f_6f_6b));
    let started = Instant::now();
    let mut executions = 0u64;
    let mut input: Vec<u8>;
    while executions < iterations {
        let i = executions as usize;
        input = if i < seeds.len() {
            seeds[i].clone()
        } else if !seeds.is_empty() && rng.random_ratio(4, 5) {
            let mut s = seeds[rng.random_range(0..seeds.len())].clone();
            mutate(&mut rng, &mut s, dict, &seeds);
            s
        } else {
            let n = rng.random_range(0..512);
            (0..n).map(|_| rng.random()).collect()
        };
        executions += 1;
        if let Err(panic) = catch_unwind(AssertUnwindSafe(|| f(&input))) {
            let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-smoke");
            let _ = std::fs::create_dir_all(&dir);
            let path = dir.join(format!("{target}-crash.bin"));
            let _ = std::fs::write(&path, &input);
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                .unwrap_or_default();
            let shown = String::from_utf8_lossy(&input[..input.len().min(600)]).into_owned();
            panic!(
                "fuzz target `{target}` panicked on execution {executions}: {message}\ninput saved to {}:\n{shown:?}",
                path.display()
            );
        }
    }
    // Printed for the CI log (visible with --nocapture) and the closing note.
    eprintln!("fuzz_smoke {target}: {executions} executions in {:.2?}, no panic", started.elapsed());
}

#[test]
fn fuzz_verify() {
    run("verify", 80_000);
}

#[test]
fn fuzz_request() {
    run("request", 40_000);
}

#[test]
fn fuzz_config() {
    run("config", 25_000);
}

#[test]
fn fuzz_cloudevent() {
    run("cloudevent", 100_000);
}

#[test]
fn fuzz_mapping() {
    run("mapping", 2_000);
}

#[test]
fn every_target_has_a_test_and_a_cargo_fuzz_file() {
    let tested = ["verify", "request", "config", "cloudevent", "mapping"];
    for t in TARGETS {
        assert!(tested.contains(&t.name), "fuzz target `{}` has no #[test] here", t.name);
        let file = fuzz_dir().join("fuzz_targets").join(format!("{}.rs", t.name));
        let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(
            text.contains(&format!("hookbus::fuzzing::{}(", t.name)),
            "{} does not call the shared body",
            file.display()
        );
    }
}
