//! `hookbus verify` as a user runs it: exit 0 valid, 1 invalid (reason on stderr), 2 usage error.
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn hookbus(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hookbus")).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Writes `body` to a file in `dir` and returns its path as a string.
fn body_file(dir: &Path, body: &[u8]) -> String {
    let path: PathBuf = dir.join("body");
    std::fs::write(&path, body).unwrap();
    path.to_str().unwrap().to_owned()
}

// GitHub's documented example (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries#testing-the-webhook-payload-validation).
const GITHUB_SECRET: &str = "It's a Secret to Everybody";
const GITHUB_BODY: &[u8] = b"Hello, World!";
const GITHUB_SIG: &str = "X-Hub-Signature-256: sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";

// Standard Webhooks reference-library vector (https://github.com/standard-webhooks/standard-webhooks,
// libraries/*/tests), signed at unix 1614265330.
const SW_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const SW_BODY: &[u8] = br#"{"test": 2432232314}"#;
const SW_TS: i64 = 1614265330;
const SW_HEADERS: [&str; 3] = [
    "webhook-id: msg_p5jXN8AQM9LWM0D4loKWxJek",
    "webhook-timestamp: 1614265330",
    "webhook-signature: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
];

fn assert_exit(out: &Output, code: i32) {
    assert_eq!(out.status.code(), Some(code), "stdout: {}\nstderr: {}", text(&out.stdout), text(&out.stderr));
}

#[test]
fn list_schemes_prints_one_name_per_line() {
    let out = hookbus(&["verify", "--list-schemes"]);
    assert_exit(&out, 0);
    let stdout = text(&out.stdout);
    let names: Vec<&str> = stdout.lines().collect();
    for expected in ["standard_webhooks", "github", "stripe", "hmac"] {
        assert!(names.contains(&expected), "{expected} missing from {names:?}");
    }
    assert!(names.iter().all(|n| !n.is_empty() && !n.contains(char::is_whitespace)), "{stdout:?}");
}

#[test]
fn githubs_documented_vector_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), GITHUB_BODY);
    let out = hookbus(&[
        "verify",
        "--scheme",
        "github",
        "--secret",
        GITHUB_SECRET,
        "--header",
        GITHUB_SIG,
        "--body-file",
        &body,
    ]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("valid"), "{}", text(&out.stdout));
    assert!(out.stderr.is_empty(), "{}", text(&out.stderr));
}

#[test]
fn tampered_body_wrong_secret_and_missing_header_exit_1_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let tampered = body_file(dir.path(), b"Hello, World?");
    let out = hookbus(&[
        "verify",
        "--scheme",
        "github",
        "--secret",
        GITHUB_SECRET,
        "--header",
        GITHUB_SIG,
        "--body-file",
        &tampered,
    ]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(err.contains("signature_mismatch") && err.contains("does not match"), "{err}");
    assert!(out.stdout.is_empty(), "nothing on stdout for an invalid request: {}", text(&out.stdout));
    assert!(!err.contains(GITHUB_SECRET), "the secret must never be printed: {err}");

    let body = body_file(dir.path(), GITHUB_BODY);
    let out = hookbus(&["verify", "--scheme", "github", "--secret", "wrong", "-H", GITHUB_SIG, "--body-file", &body]);
    assert_exit(&out, 1);

    let out = hookbus(&["verify", "--scheme", "github", "--secret", GITHUB_SECRET, "--body-file", &body]);
    assert_exit(&out, 1);
    let err = text(&out.stderr);
    assert!(err.contains("missing_signature_header") && err.contains("X-Hub-Signature-256"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), GITHUB_BODY);
    let run = |args: &[&str]| {
        let out = hookbus(args);
        assert_exit(&out, 2);
        text(&out.stderr)
    };

    let err = run(&["verify", "--scheme", "gitbub", "--secret", "s", "--header", GITHUB_SIG, "--body-file", &body]);
    assert!(err.contains("unknown scheme `gitbub`") && err.contains("--list-schemes"), "{err}");

    let missing = dir.path().join("nope").to_str().unwrap().to_owned();
    let err = run(&["verify", "--scheme", "github", "--secret", "s", "--header", GITHUB_SIG, "--body-file", &missing]);
    assert!(err.contains("cannot read the body file") && err.contains("nope"), "{err}");

    // No key at all; a header that is not `Name: value`; clap's own errors (no scheme, no body file).
    let err = run(&["verify", "--scheme", "github", "--header", GITHUB_SIG, "--body-file", &body]);
    assert!(err.contains("--secret"), "{err}");
    let err = run(&["verify", "--scheme", "github", "--secret", "s", "--header", "no colon", "--body-file", &body]);
    assert!(err.contains("no colon"), "{err}");
    run(&["verify", "--secret", "s", "--body-file", &body]);
    run(&["verify", "--scheme", "github", "--secret", "s"]);
    run(&["verify", "--list-schemes", "--scheme", "github"]);
    // An empty secret would let anyone forge a signature: refused as a usage error, not "invalid".
    run(&["verify", "--scheme", "github", "--secret", "", "--header", GITHUB_SIG, "--body-file", &body]);
}

#[test]
fn any_of_several_secrets_verifies_and_the_matching_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), GITHUB_BODY);
    let out = hookbus(&[
        "verify",
        "--scheme",
        "github",
        "--secret",
        "the-old-secret",
        "--secret",
        GITHUB_SECRET,
        "--header",
        GITHUB_SIG,
        "--body-file",
        &body,
    ]);
    assert_exit(&out, 0);
    assert!(text(&out.stdout).contains("key 2 of 2"), "{}", text(&out.stdout));

    let out = hookbus(&[
        "verify",
        "--scheme",
        "github",
        "--secret",
        "old",
        "--secret",
        "older",
        "-H",
        GITHUB_SIG,
        "--body-file",
        &body,
    ]);
    assert_exit(&out, 1);
}

#[test]
fn now_fixes_the_clock_for_a_timestamped_scheme() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), SW_BODY);
    let verify_at = |now: i64| {
        let now = now.to_string();
        let mut args = vec!["verify", "--scheme", "standard_webhooks", "--secret", SW_SECRET, "--body-file", &body];
        for h in &SW_HEADERS {
            args.extend(["--header", h]);
        }
        args.extend(["--now", &now]);
        hookbus(&args)
    };
    assert_exit(&verify_at(SW_TS), 0);
    assert_exit(&verify_at(SW_TS + 300), 0);
    // Today's clock is years past the vector's timestamp; so is SW_TS + 301 by one second.
    let out = verify_at(SW_TS + 301);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("timestamp_out_of_tolerance"), "{}", text(&out.stderr));
    let mut args = vec!["verify", "--scheme", "standard_webhooks", "--secret", SW_SECRET, "--body-file", &body];
    for h in &SW_HEADERS {
        args.extend(["--header", h]);
    }
    let out = hookbus(&args);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("timestamp_out_of_tolerance"), "{}", text(&out.stderr));
}

#[test]
fn stripe_signature_from_sign_verifies_at_the_signing_time_only() {
    // The round trip through both commands: `hookbus sign` prints `Name: value` lines, `--header @FILE` reads them.
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), br#"{"id":"evt_1","type":"invoice.paid"}"#);
    let secret = "whsec_verify_cli_test";
    let signed =
        hookbus(&["sign", "--scheme", "stripe", "--secret", secret, "--body-file", &body, "--now", "1700000000"]);
    assert_exit(&signed, 0);
    let headers = dir.path().join("headers.txt");
    std::fs::write(&headers, &signed.stdout).unwrap();
    let at = format!("@{}", headers.display());
    let verify = |now: &str| {
        hookbus(&["verify", "--scheme", "stripe", "--secret", secret, "-H", &at, "--body-file", &body, "--now", now])
    };
    assert_exit(&verify("1700000000"), 0);
    assert_exit(&verify("1700000600"), 1);
}

#[test]
fn source_from_a_config_file_supplies_scheme_and_secrets() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), GITHUB_BODY);
    let config = dir.path().join("hookbus.toml");
    std::fs::write(
        &config,
        format!("[sources.gh]\nscheme = \"github\"\nsecrets = [{{ value = \"{GITHUB_SECRET}\" }}]\n"),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let out = hookbus(&["verify", "--config", config, "--source", "gh", "-H", GITHUB_SIG, "--body-file", &body]);
    assert_exit(&out, 0);
    let out = hookbus(&["verify", "--config", config, "--source", "nope", "-H", GITHUB_SIG, "--body-file", &body]);
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("sources: gh"), "{}", text(&out.stderr));
}

#[test]
fn public_key_schemes_take_public_key() {
    // RFC 8032 7.1 TEST 1 key pair; the signature is the one services/ingress/src/verify/discord.rs uses
    // (Discord publishes no vector), over timestamp + body.
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(
        dir.path(),
        br#"{"id":"1180262306286084157","type":1,"application_id":"1180262306286084100","version":1}"#,
    );
    let sig = "X-Signature-Ed25519: dae8df3a63afa3c865e6d6c0ebef267b7feef216f9d5c976c57aeca1231baa71e1303a6b31d75853413a2da27157e34067cf10f169e887c4d89ece334ecea40d";
    let key = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    let args = |key: &'static str, ts: &'static str| {
        let ts = format!("X-Signature-Timestamp: {ts}");
        hookbus(&[
            "verify",
            "--scheme",
            "discord",
            "--public-key",
            key,
            "-H",
            sig,
            "-H",
            &ts,
            "--body-file",
            &body,
            "--now",
            "1700000000",
        ])
    };
    assert_exit(&args(key, "1700000000"), 0);
    assert_exit(&args(key, "1700000001"), 1);
    // RFC 8032 TEST 2's public key does not verify it; a value that is no key at all is a usage error.
    assert_exit(&args("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "1700000000"), 1);
    let out = args("not-a-key", "1700000000");
    assert_exit(&out, 2);
    assert!(text(&out.stderr).contains("public key"), "{}", text(&out.stderr));
}

/// HubSpot v2 signs the method: its GET vector (hubspot-api-python `test_is_valid__v2_get_method`)
/// is valid with `--method GET` and not as the default POST.
#[test]
fn method_is_given_for_schemes_that_sign_it() {
    let dir = tempfile::tempdir().unwrap();
    let body = body_file(dir.path(), b"");
    let run = |method: Option<&str>| {
        let mut args = vec![
            "verify",
            "--scheme",
            "hubspot_v2",
            "--secret",
            "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy",
            "--url",
            "https://www.example.com/webhook_uri",
            "--header",
            "X-HubSpot-Signature: eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e",
            "--body-file",
            &body,
        ];
        if let Some(m) = method {
            args.extend(["--method", m]);
        }
        hookbus(&args)
    };
    assert_exit(&run(Some("GET")), 0);
    assert_exit(&run(Some("get")), 0);
    let out = run(None);
    assert_exit(&out, 1);
    assert!(text(&out.stderr).contains("signature_mismatch"), "{}", text(&out.stderr));
}
