//! The command line as a user meets it: exit codes and what is printed.
use std::process::{Command, Output};

fn hookbus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookbus")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn config_check_accepts_the_example() {
    let out = hookbus(&["config", "check", "config.example.toml"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("config.example.toml: ok (2 sources, 1 subscriptions"), "{}", text(&out.stdout));
}

#[test]
fn config_check_names_file_key_and_what_is_allowed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.toml");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    let bad = example
        .replace("backend = \"embedded\"", "backend = \"kafak\"")
        .replace("transform = '''", "colour = 1\ntransform = '''");
    std::fs::write(&path, bad).unwrap();
    let out = hookbus(&["config", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains(path.to_str().unwrap()), "names the file: {err}");
    assert!(
        err.contains("broker.backend") && err.contains("embedded") && err.contains("kafka"),
        "key and allowed values: {err}"
    );
}

#[test]
fn config_check_warns_when_shared_admin_nodes_have_no_common_session_key() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pg.toml");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    let pg = example.replace("store = \"sqlite\"", "store = \"postgres://hookbus@db.internal/hookbus\"");
    assert_ne!(pg, example, "the example names its store");
    let without_key: String = pg.lines().filter(|l| !l.starts_with("session_key")).collect::<Vec<_>>().join("\n");
    std::fs::write(&path, &without_key).unwrap();
    let out = hookbus(&["config", "check", path.to_str().unwrap()]);
    assert!(out.status.success(), "a warning, not a problem: {}", text(&out.stderr));
    assert!(text(&out.stderr).contains("warning: admin.session_key is not set"), "{}", text(&out.stderr));
    std::fs::write(&path, &pg).unwrap();
    let out = hookbus(&["config", "check", path.to_str().unwrap()]);
    assert!(!text(&out.stderr).contains("session_key"), "{}", text(&out.stderr));
}

#[test]
fn config_check_reports_jq_errors_with_position() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("jq.toml");
    let example = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/config.example.toml")).unwrap();
    std::fs::write(&path, example.replace("filter = '.data.ref == \"refs/heads/main\"'", "filter = '.data.ref =='"))
        .unwrap();
    let out = hookbus(&["config", "check", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(err.contains("crm-activity") && err.contains("filter") && err.contains("line 1"), "{err}");
}

#[test]
fn sign_reproduces_githubs_documented_signature() {
    // https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries
    let dir = tempfile::tempdir().unwrap();
    let body = dir.path().join("body");
    std::fs::write(&body, "Hello, World!").unwrap();
    let out = hookbus(&[
        "sign",
        "--scheme",
        "github",
        "--secret",
        "It's a Secret to Everybody",
        "--body-file",
        body.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout)
            .contains("X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn sign_with_an_unknown_scheme_lists_the_known_ones() {
    let out = hookbus(&["sign", "--scheme", "gitlub", "--secret", "x", "--body-file", "config.example.toml"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("gitlub") && err.contains("standard_webhooks") && err.contains("stripe"), "{err}");
}

#[test]
fn commands_needing_a_config_say_how_to_fix_it() {
    let out = hookbus(&["dlq", "list", "--config", "/nonexistent/hookbus.toml", "--subscription", "x"]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("/nonexistent/hookbus.toml") && err.contains("hookbus config check"), "{err}");
}
