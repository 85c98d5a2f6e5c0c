//! Static checks of the deployment files: docker-compose.yml, the Dockerfile it builds and the
//! OpenTelemetry collector config it mounts. No Docker needed.

mod support;

use std::collections::BTreeMap;

use serde_yaml::Value;
use support::yaml::{self, get, keys, scalar, string_list};

const COMPOSE: &str = "docker-compose.yml";
const COLLECTOR: &str = "deploy/otel-collector.yaml";
const SERVICES: [&str; 6] = ["kafka", "redis", "otel-collector", "jaeger", "ingress", "worker"];
const CONFIG_IN_CONTAINER: &str = "/etc/hookbus/config.toml";

fn compose() -> Value {
    yaml::load(COMPOSE)
}

fn services(compose: &Value) -> &serde_yaml::Mapping {
    get(compose, &["services"]).and_then(Value::as_mapping).expect("docker-compose.yml has a `services` mapping")
}

fn service<'a>(compose: &'a Value, name: &str) -> &'a Value {
    get(compose, &["services", name]).unwrap_or_else(|| panic!("no service `{name}`"))
}

/// `environment` as a map, whether written as a mapping or as a list of `KEY=VALUE`.
fn environment(service: &Value) -> BTreeMap<String, String> {
    match service.get("environment") {
        None | Some(Value::Null) => BTreeMap::new(),
        Some(Value::Mapping(m)) => m
            .iter()
            .map(|(k, v)| (scalar(k).expect("environment key is a scalar"), scalar(v).unwrap_or_default()))
            .collect(),
        Some(Value::Sequence(items)) => items
            .iter()
            .filter_map(scalar)
            .map(|item| match item.split_once('=') {
                Some((k, v)) => (k.to_owned(), v.to_owned()),
                None => (item, String::new()),
            })
            .collect(),
        Some(other) => panic!("environment must be a mapping or a list, got {other:?}"),
    }
}

/// `depends_on` as (service, condition), whether written as a list or as a mapping.
fn depends_on(service: &Value) -> Vec<(String, String)> {
    match service.get("depends_on") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Sequence(items)) => {
            items.iter().filter_map(scalar).map(|s| (s, "service_started".to_owned())).collect()
        }
        Some(Value::Mapping(m)) => m
            .iter()
            .map(|(k, v)| {
                let condition = v.get("condition").and_then(scalar).unwrap_or_else(|| "service_started".to_owned());
                (scalar(k).expect("depends_on key is a scalar"), condition)
            })
            .collect(),
        Some(other) => panic!("depends_on must be a list or a mapping, got {other:?}"),
    }
}

/// Bind mounts as (host source, container target), from short (`src:dst[:mode]`) or long syntax.
/// Named volumes are skipped.
fn bind_mounts(service: &Value) -> Vec<(String, String)> {
    let Some(volumes) = service.get("volumes").and_then(Value::as_sequence) else {
        return Vec::new();
    };
    volumes
        .iter()
        .filter_map(|volume| match volume {
            Value::String(short) => {
                let mut parts = short.splitn(3, ':');
                let source = parts.next()?.to_owned();
                let target = parts.next().unwrap_or_default().to_owned();
                let is_path = source.starts_with("./") || source.starts_with("../") || source.starts_with('/');
                is_path.then_some((source, target))
            }
            Value::Mapping(_) => (volume.get("type").and_then(scalar).as_deref() == Some("bind")).then(|| {
                (
                    volume.get("source").and_then(scalar).unwrap_or_default(),
                    volume.get("target").and_then(scalar).unwrap_or_default(),
                )
            }),
            _ => None,
        })
        .collect()
}

/// The build context of a service, if it builds: `build: .` or `build: { context: . }`.
fn build_context(service: &Value) -> Option<String> {
    match service.get("build")? {
        Value::Mapping(_) => {
            Some(get(service, &["build", "context"]).and_then(scalar).unwrap_or_else(|| ".".to_owned()))
        }
        other => scalar(other),
    }
}

fn command(service: &Value) -> Vec<String> {
    match service.get("command") {
        Some(Value::String(s)) => s.split_whitespace().map(str::to_owned).collect(),
        Some(other) => string_list(other),
        None => Vec::new(),
    }
}

#[test]
fn compose_has_the_six_services_and_no_obsolete_version_key() {
    let compose = compose();
    let names = keys(get(&compose, &["services"]).unwrap());
    for expected in SERVICES {
        assert!(names.iter().any(|n| n == expected), "service `{expected}` missing; have {names:?}");
    }
    assert!(
        compose.get("version").is_none(),
        "`version:` is obsolete in Compose v2 and only produces a warning; remove it"
    );
}

#[test]
fn every_service_has_an_image_or_a_build() {
    let compose = compose();
    for (name, service) in services(&compose) {
        let name = name.as_str().unwrap();
        assert!(
            service.get("image").is_some() || service.get("build").is_some(),
            "service `{name}` has neither `image` nor `build`"
        );
    }
}

#[test]
fn every_dependency_exists_and_health_conditions_have_healthchecks() {
    let compose = compose();
    let services = services(&compose);
    for (name, service) in services {
        let name = name.as_str().unwrap();
        for (dependency, condition) in depends_on(service) {
            let target = services
                .get(dependency.as_str())
                .unwrap_or_else(|| panic!("service `{name}` depends on `{dependency}`, which is not defined"));
            assert_ne!(dependency, name, "service `{name}` depends on itself");
            if condition == "service_healthy" {
                assert!(
                    target.get("healthcheck").is_some(),
                    "`{name}` waits for `{dependency}` to be healthy, but `{dependency}` has no healthcheck"
                );
            }
        }
    }
}

const KAFKA_NODES: [&str; 3] = ["kafka", "kafka-2", "kafka-3"];

#[test]
fn kafka_runs_kraft_on_three_replicating_nodes() {
    let compose = compose();
    let mut ids = Vec::new();
    let mut clusters = std::collections::BTreeSet::new();
    for name in KAFKA_NODES {
        let kafka = service(&compose, name);
        let image = get(kafka, &["image"]).and_then(scalar).unwrap_or_default();
        assert!(image.starts_with("apache/kafka:4."), "`{name}` runs Apache Kafka 4.x: {image}");
        let env = environment(kafka);
        let var = |key: &str| env.get(key).cloned().unwrap_or_else(|| panic!("`{name}`: {key} is not set"));
        let roles = var("KAFKA_PROCESS_ROLES");
        assert!(roles.contains("controller") && roles.contains("broker"), "`{name}` roles: {roles}");
        assert!(
            var("KAFKA_ADVERTISED_LISTENERS").contains(&format!("PLAINTEXT://{name}:9092")),
            "containers reach `{name}` as {name}:9092, so it must advertise that"
        );
        assert!(var("KAFKA_LISTENERS").contains("CONTROLLER://:9093"));
        let voters = var("KAFKA_CONTROLLER_QUORUM_VOTERS");
        let id = var("KAFKA_NODE_ID");
        assert!(voters.split(',').any(|v| v == format!("{id}@{name}:9093")), "`{name}` is a voter: {voters}");
        assert_eq!(voters.split(',').count(), KAFKA_NODES.len(), "every node votes: {voters}");
        // What tests/kafka_cluster.rs proves: a record acknowledged with acks=all is on two nodes.
        assert_eq!(var("KAFKA_DEFAULT_REPLICATION_FACTOR"), "3", "`{name}`");
        assert_eq!(var("KAFKA_MIN_INSYNC_REPLICAS"), "2", "`{name}`");
        assert_eq!(var("KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"), "3", "`{name}`");
        assert_eq!(var("KAFKA_UNCLEAN_LEADER_ELECTION_ENABLE"), "false", "`{name}`");
        let healthcheck = get(kafka, &["healthcheck", "test"]).map(string_list).unwrap_or_default();
        assert!(healthcheck.iter().any(|part| part.contains("kafka-topics.sh")), "`{name}`: {healthcheck:?}");
        ids.push(id);
        clusters.insert(var("CLUSTER_ID"));
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), KAFKA_NODES.len(), "node ids are distinct");
    assert_eq!(clusters.len(), 1, "one cluster id for all nodes: {clusters:?}");
}

#[test]
fn redis_persists_dedup_state() {
    let compose = compose();
    let redis = service(&compose, "redis");
    let command = command(redis).join(" ");
    assert!(command.contains("--appendonly yes"), "redis must run with --appendonly yes: {command}");
    let healthcheck = get(redis, &["healthcheck", "test"]).map(string_list).unwrap_or_default();
    assert!(healthcheck.iter().any(|p| p.contains("redis-cli")), "{healthcheck:?}");
}

#[test]
fn ingress_and_worker_use_kafka_redis_and_the_collector() {
    let compose = compose();
    let mut instance_ids = Vec::new();
    for (name, subcommand) in [("ingress", "ingress"), ("worker", "worker"), ("worker-2", "worker")] {
        let service = service(&compose, name);
        assert!(service.get("build").is_some(), "`{name}` is built from this repository");
        let env = environment(service);
        let var = |key: &str| env.get(key).map(String::as_str).unwrap_or_else(|| panic!("`{name}`: {key} is not set"));
        assert_eq!(var("HOOKBUS_BROKER__BACKEND"), "kafka", "`{name}`");
        let brokers: Vec<&str> = var("HOOKBUS_BROKER__KAFKA__BROKERS").split(',').collect();
        assert_eq!(brokers, KAFKA_NODES.map(|n| format!("{n}:9092")), "`{name}` bootstraps from every node");
        assert_eq!(var("HOOKBUS_BROKER__KAFKA__REPLICATION_FACTOR"), "3", "`{name}`");
        if subcommand == "worker" {
            // Static membership: each worker has its own stable identity in the consumer groups.
            instance_ids.push(var("HOOKBUS_BROKER__KAFKA__GROUP_INSTANCE_ID").to_owned());
        }
        assert_eq!(var("HOOKBUS_DEDUP__BACKEND"), "redis", "`{name}`");
        assert_eq!(var("HOOKBUS_DEDUP__REDIS_URL"), "redis://redis:6379", "`{name}`");
        assert_eq!(var("HOOKBUS_SERVER__LISTEN"), "0.0.0.0:8080", "`{name}`");
        assert_eq!(var("OTEL_EXPORTER_OTLP_ENDPOINT"), "http://otel-collector:4317", "`{name}`");
        assert!(
            var("GITHUB_WEBHOOK_SECRET").starts_with("${GITHUB_WEBHOOK_SECRET:-"),
            "`{name}`: GITHUB_WEBHOOK_SECRET is passed through from the host with a default"
        );

        let deps: BTreeMap<String, String> = depends_on(service).into_iter().collect();
        for backend in ["kafka", "kafka-2", "kafka-3", "redis"] {
            assert_eq!(
                deps.get(backend).map(String::as_str),
                Some("service_healthy"),
                "`{name}` must wait for `{backend}` to be healthy"
            );
        }

        let command = command(service);
        assert_eq!(command, [subcommand, "--config", CONFIG_IN_CONTAINER], "`{name}` command");
        assert!(
            bind_mounts(service).iter().any(|(_, target)| target == CONFIG_IN_CONTAINER),
            "`{name}` runs with --config {CONFIG_IN_CONTAINER}, which must be mounted"
        );
    }
    instance_ids.sort();
    instance_ids.dedup();
    assert_eq!(instance_ids.len(), 2, "workers need distinct group_instance_id values: {instance_ids:?}");
    let ports = get(service(&compose, "ingress"), &["ports"]).map(string_list).unwrap_or_default();
    assert!(ports.iter().any(|p| p == "8080:8080"), "ingress publishes 8080:8080: {ports:?}");
}

#[test]
fn every_bind_mounted_host_path_exists() {
    let compose = compose();
    let root = yaml::repo_root();
    let mut mounts = 0;
    for (name, service) in services(&compose) {
        let name = name.as_str().unwrap();
        for (source, _) in bind_mounts(service) {
            if !source.starts_with("./") {
                continue;
            }
            mounts += 1;
            let path = root.join(source.trim_start_matches("./"));
            assert!(path.exists(), "service `{name}` mounts {source}, which does not exist at {}", path.display());
        }
    }
    assert!(mounts >= 2, "expected the hookbus config and the collector config to be mounted");
}

#[test]
fn every_build_context_has_a_dockerfile() {
    let compose = compose();
    let root = yaml::repo_root();
    for (name, service) in services(&compose) {
        let Some(context) = build_context(service) else {
            continue;
        };
        let dockerfile =
            get(service, &["build", "dockerfile"]).and_then(scalar).unwrap_or_else(|| "Dockerfile".to_owned());
        let path = root.join(&context).join(&dockerfile);
        assert!(
            path.is_file(),
            "service `{}` builds from {context} but {} does not exist",
            name.as_str().unwrap(),
            path.display()
        );
    }
    let dockerfile = std::fs::read_to_string(root.join("Dockerfile")).expect("Dockerfile");
    assert!(dockerfile.contains("--locked") && dockerfile.contains("--bin hookbus"));
    assert!(dockerfile.contains(r#"ENTRYPOINT ["hookbus"]"#));
    assert!(dockerfile.lines().any(|l| l.trim_start().starts_with("USER ")), "runs as non-root");
    let dockerignore = std::fs::read_to_string(root.join(".dockerignore")).expect(".dockerignore");
    for ignored in ["target", ".git"] {
        assert!(
            dockerignore.lines().any(|l| l.trim().trim_end_matches('/') == ignored),
            ".dockerignore should exclude {ignored}/"
        );
    }
}

#[test]
fn collector_config_is_mounted_and_exports_to_jaeger() {
    let compose = compose();
    let mounted = bind_mounts(service(&compose, "otel-collector"))
        .iter()
        .any(|(source, _)| source.trim_start_matches("./") == COLLECTOR);
    assert!(mounted, "otel-collector mounts ./{COLLECTOR}");

    let collector = yaml::load(COLLECTOR);
    let exporters = get(&collector, &["exporters"]).expect("collector has exporters");
    let to_jaeger: Vec<String> = keys(exporters)
        .into_iter()
        .filter(|id| {
            get(exporters, &[id.as_str(), "endpoint"]).and_then(scalar).is_some_and(|endpoint| {
                let host = endpoint.split("://").last().unwrap_or_default();
                host.split([':', '/']).next() == Some("jaeger")
            })
        })
        .collect();
    assert!(!to_jaeger.is_empty(), "no exporter has an endpoint on host `jaeger`");
    let traces = get(&collector, &["service", "pipelines", "traces", "exporters"])
        .map(string_list)
        .expect("collector has a traces pipeline with exporters");
    assert!(
        traces.iter().any(|e| to_jaeger.contains(e)),
        "the traces pipeline {traces:?} does not use the jaeger exporter(s) {to_jaeger:?}"
    );
    // The receivers must listen beyond the container's loopback for ingress/worker to reach them.
    for protocol in ["grpc", "http"] {
        let endpoint = get(&collector, &["receivers", "otlp", "protocols", protocol, "endpoint"])
            .and_then(scalar)
            .unwrap_or_default();
        assert!(endpoint.starts_with("0.0.0.0:"), "otlp {protocol} listens on {endpoint:?}");
    }
}

#[test]
fn collector_pipelines_only_use_defined_components() {
    let collector = yaml::load(COLLECTOR);
    let pipelines = get(&collector, &["service", "pipelines"]).expect("collector has pipelines");
    let pipeline_ids = keys(pipelines);
    assert!(!pipeline_ids.is_empty(), "no pipelines");
    for pipeline in &pipeline_ids {
        for (section, required) in [("receivers", true), ("processors", false), ("exporters", true)] {
            let used = get(pipelines, &[pipeline.as_str(), section]).map(string_list).unwrap_or_default();
            assert!(!required || !used.is_empty(), "pipeline `{pipeline}` has no {section}");
            let defined = get(&collector, &[section]).map(keys).unwrap_or_default();
            for component in used {
                assert!(
                    defined.contains(&component),
                    "pipeline `{pipeline}` uses {section} `{component}`, which is not defined (have {defined:?})"
                );
            }
        }
    }
}
