//! `hookbus mapping test --source` with a provider's payload, and `config check`'s SSRF warnings.
use std::process::{Command, Output};

fn hookbus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookbus")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const CONFIG: &str = r#"
[server]
listen = "127.0.0.1:0"

[worker]
allow_targets = ["127.0.0.1"]

[sources.github]
scheme = "github"
secrets = [{ value = "s" }]
partition_key = "/repository/full_name"

[subscriptions.crm]
topic = "github"
event_types = ["github.push"]
target = "http://127.0.0.1:9000/crm"
filter = '.data.ref == "refs/heads/main"'
transform = '{id, type, key: .partitionkey, email: .data.pusher.email}'

[subscriptions.per-commit]
topic = "github"
target = "http://127.0.0.1:9000/commits"
transform = '.data.commits[] | {sha: .id[0:7]}'
max_outputs = 100

[subscriptions.internal]
topic = "github"
target = "http://10.1.2.3/hooks"

[subscriptions.metadata]
topic = "github"
target = "http://169.254.169.254/latest"
"#;

fn config() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hookbus.toml");
    std::fs::write(&path, CONFIG).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

#[test]
fn a_provider_payload_is_normalized_as_ingress_would() {
    let (_dir, cfg) = config();
    let args =
        ["mapping", "test", "-c", &cfg, "-s", "crm", "--event", "examples/github-push.json", "--source", "github"];
    let with_headers = [&args[..], &["-H", "X-GitHub-Event: push", "--header", "X-GitHub-Delivery:  d-42 "]].concat();
    let out = hookbus(&with_headers);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let example: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string("examples/github-push.json").unwrap()).unwrap();
    assert_eq!(body["id"], "d-42");
    assert_eq!(body["type"], "github.push");
    assert_eq!(body["key"], example["repository"]["full_name"]);
    assert_eq!(body["email"], example["pusher"]["email"]);
    assert!(text(&out.stderr).contains("id d-42, type github.push"), "{}", text(&out.stderr));

    // Without the event header GitHub's type is unknown: `github.webhook`, not wanted by `crm`.
    let out = hookbus(&args);
    assert!(out.status.success());
    assert!(out.stdout.is_empty());
    assert!(
        text(&out.stderr).contains("type github.webhook is not among the subscription's event_types"),
        "{}",
        text(&out.stderr)
    );

    let out = hookbus(&[&args[..6], &["--event", "examples/github-push.json", "--source", "nope"]].concat());
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("no source `nope`") && text(&out.stderr).contains("github"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn a_provider_payload_without_source_gets_a_hint() {
    let (_dir, cfg) = config();
    let out = hookbus(&["mapping", "test", "-c", &cfg, "-s", "crm", "--event", "examples/github-push.json"]);
    assert!(out.status.success());
    assert!(
        text(&out.stderr).contains("not a CloudEvent") && text(&out.stderr).contains("--source"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn config_check_warns_about_targets_the_ssrf_guard_refuses() {
    let (_dir, cfg) = config();
    let out = hookbus(&["config", "check", &cfg]);
    assert!(out.status.success(), "warnings do not fail the check: {}", text(&out.stderr));
    let err = text(&out.stderr);
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(warnings.iter().any(|w| w.contains("subscriptions.internal.target") && w.contains("10.1.2.3")), "{err}");
    assert!(
        warnings.iter().any(|w| w.contains("subscriptions.metadata.target") && w.contains("169.254.169.254")),
        "{err}"
    );
    assert!(warnings.iter().all(|w| w.contains("[worker] allow_targets")), "{err}");
}

#[test]
fn a_fanning_out_transform_prints_every_output() {
    let (dir, cfg) = config();
    let push = serde_json::json!({
        "ref": "refs/heads/main", "repository": {"full_name": "acme/a"},
        "commits": [{"id": "aaaaaaa1"}, {"id": "bbbbbbb2"}, {"id": "ccccccc3"}],
    });
    let event = dir.path().join("push.json");
    std::fs::write(&event, push.to_string()).unwrap();
    let event = event.to_str().unwrap();
    let args = ["mapping", "test", "-c", &cfg, "-s", "per-commit", "--event", event, "--source", "github"];
    let out = hookbus(&[&args[..], &["-H", "X-GitHub-Event: push"]].concat());
    assert!(out.status.success(), "{}", text(&out.stderr));
    let printed: Vec<serde_json::Value> =
        serde_json::Deserializer::from_slice(&out.stdout).into_iter().map(Result::unwrap).collect();
    let sha = |s: &str| serde_json::json!({"sha": s});
    assert_eq!(printed, [sha("aaaaaaa"), sha("bbbbbbb"), sha("ccccccc")]);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("output 1 of 3") && stderr.contains("<event id>:2"), "{stderr}");
}
