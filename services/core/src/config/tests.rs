use super::*;

const GOOD: &str = r#"
[sources.github]
scheme = "github"
secrets = [{ value = "s3cret" }]
partition_key = "/repository/full_name"

[sources.acme]
scheme = "hmac"
topic = "acme-events"
secrets = [{ env = "ACME_SECRET" }]
hmac = { header = "X-Acme-Signature", encoding = "base64", prefix = "sha256=" }

[subscriptions.crm]
topic = "github"
event_types = ["github.push", "github.issue*"]
target = "http://127.0.0.1:9000/hooks"
transform = "{repo: .data.repository.full_name}"
retry = { schedule = ["0s", "100ms", "1s"] }
"#;

fn issues(text: &str) -> Vec<ConfigIssue> {
    match Config::from_toml(text, "test.toml") {
        Err(CoreError::Config { issues, .. }) => issues,
        other => panic!("expected config issues, got {other:?}"),
    }
}

#[test]
fn parses_a_good_file_with_defaults() {
    let c = Config::from_toml(GOOD, "t").unwrap();
    assert_eq!(c.broker.backend, BrokerBackend::Embedded);
    assert_eq!(c.source_topic("acme"), "acme-events");
    assert_eq!(c.source_topic("github"), "github");
    let sub = &c.subscriptions["crm"];
    assert!(sub.wants("github.push") && sub.wants("github.issues") && !sub.wants("github.star"));
    assert_eq!(sub.retry.policy().unwrap().max_attempts(), 3);
    assert_eq!(c.sources["acme"].hmac.as_ref().unwrap().encoding, SigEncoding::Base64);
}

#[test]
fn unknown_key_is_rejected_with_its_path() {
    let found = issues(&GOOD.replace("partition_key", "partition_kee"));
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "sources.github.partition_kee");
    assert!(found[0].message.contains("partition_kee"), "{}", found[0].message);
}

#[test]
fn bad_enum_value_lists_what_is_allowed() {
    let found = issues(&GOOD.replace("scheme = \"github\"", "scheme = \"gitlub\""));
    assert!(found[0].key.contains("scheme"), "{found:?}");
    assert!(found[0].message.contains("github") && found[0].message.contains("stripe"), "{}", found[0].message);
}

#[test]
fn semantic_problems_are_all_reported() {
    let text = GOOD
        .replace("http://127.0.0.1:9000/hooks", "ftp://x")
        .replace("topic = \"github\"", "topic = \"gihub\"")
        .replace("\"100ms\"", "\"soon\"")
        .replace("secrets = [{ value = \"s3cret\" }]", "secrets = [{ value = \"a\", env = \"B\" }]");
    let keys: Vec<String> = issues(&text).into_iter().map(|i| i.key).collect();
    for want in
        ["sources.github.secrets[0]", "subscriptions.crm.topic", "subscriptions.crm.target", "subscriptions.crm.retry"]
    {
        assert!(keys.iter().any(|k| k == want), "missing {want} in {keys:?}");
    }
}

#[test]
fn hmac_scheme_requires_params() {
    let text =
        GOOD.replace("hmac = { header = \"X-Acme-Signature\", encoding = \"base64\", prefix = \"sha256=\" }", "");
    assert!(issues(&text).iter().any(|i| i.key == "sources.acme.hmac"));
}

#[test]
fn missing_file_names_the_file() {
    let err = Config::load(std::path::Path::new("/nonexistent/hookbus.toml")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/hookbus.toml"), "{err}");
}

#[test]
fn secrets_resolve_from_file_and_never_print() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("secret");
    std::fs::write(&path, "from-file\n").unwrap();
    let r = SecretRef { file: Some(path), ..SecretRef::default() };
    let s = r.resolve("x").unwrap();
    assert_eq!(s.value, "from-file");
    assert!(!format!("{s:?}{:?}", SecretRef::literal("hunter2")).contains("hunter2"));
    let missing = SecretRef { env: Some("HOOKBUS_NO_SUCH_VAR_1".into()), ..SecretRef::default() };
    assert!(missing.resolve("sources.a.secrets[0]").unwrap_err().to_string().contains("HOOKBUS_NO_SUCH_VAR_1"));
}

#[test]
fn delivery_timeout_stays_inside_the_consumer_session_and_poll_interval() {
    let kafka = |session: u64, poll: u64| {
        format!("[broker.kafka]\nsession_timeout_ms = {session}\nmax_poll_interval_ms = {poll}\n{GOOD}")
            .replace("retry = {", "timeout_ms = 20000\nretry = {")
    };
    assert!(Config::from_toml(&kafka(30_000, 60_000), "t").is_ok());
    let found = issues(&kafka(30_000, 20_000));
    let keys: Vec<&str> = found.iter().map(|i| i.key.as_str()).collect();
    assert_eq!(keys, ["broker.kafka.max_poll_interval_ms", "subscriptions.crm.timeout_ms"], "{found:?}");
    assert!(found[1].message.contains("max_poll_interval_ms (20000)"), "{}", found[1].message);
}

#[test]
fn every_scheme_kind_is_spelled_in_config_as_its_provider_file() {
    use super::SchemeKind;
    assert_eq!(SchemeKind::KINDS.len(), SchemeKind::ALL.len());
    for kind in SchemeKind::KINDS {
        assert_eq!(serde_json::to_value(kind).unwrap(), kind.name());
        let back: SchemeKind = serde_json::from_value(kind.name().into()).unwrap();
        assert_eq!(back, *kind);
    }
    let svix: SchemeKind = serde_json::from_value("svix".into()).unwrap();
    assert_eq!(svix, SchemeKind::StandardWebhooks);
    // `box` is a Rust keyword, so Box's file and name are `box_com`; the plain name works in config.
    let boxed: SchemeKind = serde_json::from_value("box".into()).unwrap();
    assert_eq!((boxed, boxed.name()), (SchemeKind::BoxCom, "box_com"));
}

#[test]
fn kafka_retention_must_outlast_every_retry_delay() {
    let short =
        GOOD.replace(r#"retry = { schedule = ["0s", "100ms", "1s"] }"#, r#"retry = { schedule = ["0s", "2d"] }"#);
    let text = format!("{short}\n[broker.kafka]\nretention = \"1d\"\nmin_insync_replicas = 2\n");
    let found = issues(&text);
    assert!(
        found.iter().any(|i| i.key == "subscriptions.crm.retry.schedule" && i.message.contains("retention")),
        "{found:?}"
    );
    assert!(found.iter().any(|i| i.key == "broker.kafka.min_insync_replicas"), "2 replicas asked of 1: {found:?}");
    let bad = format!("{GOOD}\n[broker.kafka]\nheld_retention = \"soon\"\n");
    assert!(issues(&bad).iter().any(|i| i.key == "broker.kafka.held_retention"));
    let c =
        Config::from_toml(&format!("{GOOD}\n[broker.kafka]\nretention = \"forever\"\nreplication_factor = 3\n"), "t")
            .unwrap();
    let settings = c.broker.kafka.topic_settings("github").unwrap();
    assert_eq!(settings, vec![("retention.ms", "-1".to_owned()), ("min.insync.replicas", "2".to_owned())]);
}

#[test]
fn schema_files_are_read_beside_the_config_and_inline_schemas_parse() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("schemas")).unwrap();
    std::fs::write(dir.path().join("schemas/push.json"), r#"{"required": ["ref"]}"#).unwrap();
    let text = GOOD.replace(
        "partition_key = \"/repository/full_name\"\n",
        "partition_key = \"/repository/full_name\"\non_violation = \"quarantine\"\n\
         contracts = { \"github.push\" = \"schemas/push.json\", \"github.issue*\" = { type = \"object\" } }\n",
    ) + "output_schema = { type = \"object\", required = [\"repo\"] }\n";
    let path = dir.path().join("hookbus.toml");
    std::fs::write(&path, &text).unwrap();
    // Loaded from another working directory: paths are relative to the config file, not the cwd.
    let c = Config::load(&path).unwrap();
    let github = &c.sources["github"];
    assert_eq!(github.on_violation, OnViolation::Quarantine);
    assert_eq!(github.contracts["github.push"].document(), Some(&serde_json::json!({"required": ["ref"]})));
    assert_eq!(github.contracts["github.issue*"].origin(), "inline schema");
    assert!(c.subscriptions["crm"].output_schema.is_some());
    assert_eq!(c.sources["acme"].on_violation, OnViolation::Reject, "reject is the default");

    // Without a directory (from_toml) a file cannot be read: the issue says to inline it.
    let found = issues(&text);
    assert_eq!(found.len(), 1, "{found:?}");
    assert_eq!(found[0].key, "sources.github.contracts.\"github.push\"");
    assert!(found[0].message.contains("schemas/push.json") && found[0].message.contains("inline"), "{found:?}");
}

#[test]
fn schema_problems_name_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("bad.json"), r#"{"type": "strnig"}"#).unwrap();
    let text = GOOD.replace(
        "partition_key = \"/repository/full_name\"\n",
        "partition_key = \"/repository/full_name\"\n\
         contracts = { \"github.push\" = \"bad.json\", \"github.*.x\" = true, \"github.star\" = \"gone.json\" }\n",
    ) + "output_schema = { type = 3 }\n";
    let path = dir.path().join("hookbus.toml");
    std::fs::write(&path, &text).unwrap();
    let found = match Config::load(&path) {
        Err(CoreError::Config { issues, .. }) => issues,
        other => panic!("expected issues, got {other:?}"),
    };
    let find = |key: &str| found.iter().find(|i| i.key == key).unwrap_or_else(|| panic!("no {key} in {found:?}"));
    assert!(find("sources.github.contracts.\"github.push\"").message.contains("bad.json"));
    assert!(find("sources.github.contracts.\"github.star\"").message.contains("gone.json"));
    assert!(find("sources.github.contracts.\"github.*.x\"").message.contains("prefix ending in `*`"));
    assert!(find("subscriptions.crm.output_schema").message.contains("inline schema"));
    assert_eq!(found.len(), 4, "each problem once: {found:?}");
    let bad_type = Config::from_toml(&GOOD.replace("retry = {", "output_schema = 3\nretry = {"), "t").unwrap_err();
    assert!(bad_type.to_string().contains("file path"), "{bad_type}");
}

#[test]
fn delivery_settings_are_validated_with_their_keys() {
    let topic = |dest: &str| GOOD.replace("target = \"http://127.0.0.1:9000/hooks\"", dest);
    let c = Config::from_toml(&topic("destination = { kind = \"topic\", topic = \"crm-mapped\" }"), "t").unwrap();
    assert_eq!(c.subscriptions["crm"].destination.as_ref().map(|d| d.topic()), Some("crm-mapped"));
    let found = issues(&topic("destination = { kind = \"topic\", topic = \"github\" }"));
    assert_eq!(found[0].key, "subscriptions.crm.destination.topic", "{found:?}");
    assert!(found[0].message.contains("source topic"), "{}", found[0].message);
    let both = GOOD.replace("retry = {", "destination = { kind = \"topic\", topic = \"out\" }\nretry = {");
    assert_eq!(issues(&both)[0].key, "subscriptions.crm.target");
    let found = issues(&GOOD.replace("retry = {", "max_outputs = 0\nmethod = \"GET\"\nretry = {"));
    assert!(found.iter().any(|i| i.key.contains("method") && i.message.contains("PATCH")), "{found:?}");
    let found = issues(&GOOD.replace("retry = {", "max_outputs = 0\nretry = {"));
    assert_eq!(found[0].key, "subscriptions.crm.max_outputs", "{found:?}");
    let found = issues(&GOOD.replace("retry = {", "auth = { kind = \"bearer\", token = {} }\nretry = {"));
    assert_eq!(found[0].key, "subscriptions.crm.auth.token", "{found:?}");
}

#[test]
fn embedded_retention_defaults_overrides_and_bad_values() {
    let c = Config::from_toml(GOOD, "t").unwrap();
    let seven_days = std::time::Duration::from_secs(7 * 24 * 3600);
    assert_eq!(
        c.broker.embedded.retention_for("github").unwrap(),
        RetentionLimits { max_age: seven_days, max_bytes: None }
    );

    let text = format!(
        "{GOOD}\n[broker.embedded]\nretention = \"2d\"\nretention_bytes = 1000\n\
         [broker.embedded.topics.github]\nretention = \"1h\"\n"
    );
    let c = Config::from_toml(&text, "t").unwrap();
    let e = &c.broker.embedded;
    assert_eq!(e.retention_for("github").unwrap().max_age, std::time::Duration::from_secs(3600));
    assert_eq!(e.retention_for("github").unwrap().max_bytes, Some(1000), "unset override takes the section's cap");
    assert_eq!(e.retention_for("other").unwrap().max_age, std::time::Duration::from_secs(2 * 24 * 3600));

    let bad = text.replace("\"2d\"", "\"soon\"").replace("1000", "0").replace("\"1h\"", "\"0s\"");
    let keys: Vec<String> = issues(&bad).into_iter().map(|i| i.key).collect();
    for want in
        ["broker.embedded.retention", "broker.embedded.retention_bytes", "broker.embedded.topics.github.retention"]
    {
        assert!(keys.iter().any(|k| k == want), "missing {want} in {keys:?}");
    }
}
