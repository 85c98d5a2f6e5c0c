//! Semantic checks beyond what serde enforces; every problem is reported with its key.
use super::{Config, SchemaRef, SchemeKind, SubscriptionConfig};
use crate::error::ConfigIssue;

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

const NAME_RULE: &str = "use 1-100 characters from A-Z a-z 0-9 . _ -";

pub(super) fn validate(c: &Config) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    let mut issue = |key: String, message: String| out.push(ConfigIssue { key, message });

    if c.server.listen.parse::<std::net::SocketAddr>().is_err() {
        issue("server.listen".into(), format!("`{}` is not an address like 127.0.0.1:8080", c.server.listen));
    }
    if c.server.max_body_bytes == 0 {
        issue("server.max_body_bytes".into(), "must be greater than 0".into());
    }
    if let Some(a) = &c.admin {
        admin_issues(a, &mut issue);
    }
    for (key, value) in [
        ("header_timeout_secs", c.server.header_timeout_secs),
        ("body_timeout_secs", c.server.body_timeout_secs),
        ("max_connections", c.server.max_connections as u64),
    ] {
        if value == 0 {
            issue(format!("server.{key}"), "must be greater than 0 (0 would refuse every request)".into());
        }
    }
    if !valid_name(&c.broker.topic_prefix) {
        issue("broker.topic_prefix".into(), NAME_RULE.into());
    }
    embedded_issues(&c.broker.embedded, &mut issue);
    // librdkafka refuses a poll interval below the session timeout; say so before it does.
    if c.broker.kafka.max_poll_interval_ms < c.broker.kafka.session_timeout_ms {
        issue(
            "broker.kafka.max_poll_interval_ms".into(),
            format!("must be at least broker.kafka.session_timeout_ms ({})", c.broker.kafka.session_timeout_ms),
        );
    }
    for (k, v) in [("retention", &c.broker.kafka.retention), ("held_retention", &c.broker.kafka.held_retention)] {
        if let Err(m) = super::sections::retention_ms(v) {
            issue(format!("broker.kafka.{k}"), m);
        }
    }
    if let Some(n) = c.broker.kafka.min_insync_replicas
        && !(1..=c.broker.kafka.replication_factor).contains(&n)
    {
        issue(
            "broker.kafka.min_insync_replicas".into(),
            format!("must be between 1 and broker.kafka.replication_factor ({})", c.broker.kafka.replication_factor),
        );
    }
    if !(1..=7 * 24 * 3600).contains(&c.dedup.window_secs) {
        issue("dedup.window_secs".into(), "must be between 1 and 604800 (7 days)".into());
    }

    for (i, a) in c.worker.allow_targets.iter().enumerate() {
        let ok = a.parse::<ipnet::IpNet>().is_ok()
            || a.parse::<std::net::IpAddr>().is_ok()
            || url::Host::parse(a).is_ok_and(|h| matches!(h, url::Host::Domain(_)));
        if !ok {
            issue(
                format!("worker.allow_targets[{i}]"),
                format!("`{a}` is not an IP address, CIDR subnet or host name"),
            );
        }
    }

    for (name, s) in &c.sources {
        let key = format!("sources.{name}");
        if !valid_name(name) {
            issue(key.clone(), format!("source name: {NAME_RULE}"));
        }
        if let Some(t) = &s.topic
            && !valid_name(t)
        {
            issue(format!("{key}.topic"), NAME_RULE.into());
        }
        if s.secrets.is_empty() {
            issue(format!("{key}.secrets"), "needs at least one secret, e.g. [{ env = \"MY_SECRET\" }]".into());
        }
        for (i, sec) in s.secrets.iter().enumerate() {
            if let Some(m) = sec.shape_error() {
                issue(format!("{key}.secrets[{i}]"), m.into());
            }
        }
        match (s.scheme, &s.hmac) {
            (SchemeKind::Hmac, None) => {
                issue(format!("{key}.hmac"), "scheme \"hmac\" needs [sources.NAME.hmac] with at least `header`".into())
            }
            (k, Some(_)) if k != SchemeKind::Hmac => {
                issue(format!("{key}.hmac"), "only allowed with scheme = \"hmac\"".into())
            }
            _ => {}
        }
        if let Some(w) = s.dedup_window_secs
            && !(1..=7 * 24 * 3600).contains(&w)
        {
            issue(format!("{key}.dedup_window_secs"), "must be between 1 and 604800 (7 days)".into());
        }
        if let Some(r) = &s.rate_limit
            && (r.per_second == 0 || r.burst == Some(0))
        {
            issue(format!("{key}.rate_limit"), "per_second and burst must be at least 1".into());
        }
        for (i, ct) in s.content_types.iter().enumerate() {
            if ct.split_once('/').is_none_or(|(a, b)| a.trim().is_empty() || b.trim().is_empty()) {
                issue(format!("{key}.content_types[{i}]"), format!("`{ct}` is not a media type like application/json"));
            }
        }
        if let Some(u) = &s.public_url
            && url::Url::parse(u).is_err()
        {
            issue(format!("{key}.public_url"), format!("`{u}` is not an absolute URL"));
        }
        if let Some(p) = &s.partition_key
            && !p.starts_with('/')
        {
            issue(
                format!("{key}.partition_key"),
                format!("`{p}` is not a JSON pointer; write e.g. \"/repository/full_name\""),
            );
        }
        for (ty, r) in &s.contracts {
            let at = format!("{key}.contracts.\"{ty}\"");
            if ty.is_empty() || ty.trim_end_matches('*').contains('*') {
                issue(
                    at.clone(),
                    "an event type like \"github.push\", or a prefix ending in `*` like \"stripe.*\"".into(),
                );
            }
            if let Err(m) = schema_issue(r) {
                issue(at, m);
            }
        }
    }

    for (name, s) in &c.subscriptions {
        out.extend(subscription_issues(c, name, s));
    }
    out
}

/// Problems with one subscription (keys `subscriptions.NAME.field`), judged against the rest of `c`
/// (its sources' topics, the Kafka timeouts). The admin API checks subscriptions it is given with this.
pub fn subscription_issues(c: &Config, name: &str, s: &SubscriptionConfig) -> Vec<ConfigIssue> {
    let mut out = Vec::new();
    let mut issue = |key: String, message: String| out.push(ConfigIssue { key, message });
    let topics: Vec<&str> = c.sources.keys().map(|n| c.source_topic(n)).collect();
    let key = format!("subscriptions.{name}");
    if !valid_name(name) {
        issue(key.clone(), format!("subscription name: {NAME_RULE}"));
    }
    if !topics.contains(&s.topic.as_str()) {
        issue(format!("{key}.topic"), format!("no source produces `{}`; topics are: {}", s.topic, topics.join(", ")));
    }
    match (&s.destination, url::Url::parse(&s.target)) {
        (Some(d), _) => {
            let topic = d.topic();
            if !s.target.is_empty() {
                issue(format!("{key}.target"), "a topic destination has no target URL; remove `target`".into());
            }
            if !valid_name(topic) {
                issue(format!("{key}.destination.topic"), NAME_RULE.into());
            } else if topic == s.topic || topics.contains(&topic) {
                issue(
                    format!("{key}.destination.topic"),
                    format!("`{topic}` is a source topic; publish mapped events to a topic of their own"),
                );
            }
        }
        (None, Ok(u)) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        (None, Ok(_)) => issue(format!("{key}.target"), "must be an http:// or https:// URL with a host".into()),
        (None, Err(e)) => issue(format!("{key}.target"), format!("`{}` is not a URL: {e}", s.target)),
    }
    if let Some(sec) = &s.signing_secret
        && let Some(m) = sec.shape_error()
    {
        issue(format!("{key}.signing_secret"), m.into());
    }
    if s.concurrency == 0 {
        issue(format!("{key}.concurrency"), "must be at least 1".into());
    }
    if s.ordered_backlog == 0 {
        issue(format!("{key}.ordered_backlog"), "must be at least 1".into());
    }
    // A request must finish well inside the consumer session and poll interval, or a slow target
    // triggers rebalances.
    let kafka = &c.broker.kafka;
    let ceiling = kafka.session_timeout_ms.min(kafka.max_poll_interval_ms);
    if s.timeout_ms == 0 || s.timeout_ms >= ceiling {
        issue(
            format!("{key}.timeout_ms"),
            format!(
                "must be between 1 and the smaller of broker.kafka.session_timeout_ms ({}) and \
                 broker.kafka.max_poll_interval_ms ({})",
                kafka.session_timeout_ms, kafka.max_poll_interval_ms
            ),
        );
    }
    match s.retry.policy() {
        Ok(p) if p.schedule.is_empty() || p.schedule.len() > 20 => {
            issue(format!("{key}.retry.schedule"), "needs 1 to 20 delays".into())
        }
        Ok(p) => {
            // A retry tier record must still be there when it is due (Kafka deletes by age).
            let longest = p.schedule.iter().max().copied().unwrap_or_default();
            if let Ok(ms) = super::sections::retention_ms(&kafka.retention)
                && ms >= 0
                && longest.as_millis() >= ms as u128
            {
                issue(
                    format!("{key}.retry.schedule"),
                    format!(
                        "a delay of {} does not fit in broker.kafka.retention ({}): the retry tier would expire first",
                        humantime::format_duration(longest),
                        kafka.retention
                    ),
                );
            }
        }
        Err(m) => issue(format!("{key}.retry"), m),
    }
    let cb = &s.circuit_breaker;
    if let Err(m) = cb.durations() {
        issue(format!("{key}.circuit_breaker"), m);
    }
    if !(cb.failure_ratio > 0.0 && cb.failure_ratio <= 1.0) || cb.min_requests == 0 {
        issue(format!("{key}.circuit_breaker"), "failure_ratio must be in (0, 1] and min_requests at least 1".into());
    }
    if s.rate_limit_per_sec == Some(0) {
        issue(format!("{key}.rate_limit_per_sec"), "must be at least 1 (omit it for no limit)".into());
    }
    if !(0.0..=1.0).contains(&s.retry.jitter) {
        issue(format!("{key}.retry.jitter"), "must be between 0.0 and 1.0".into());
    }
    if let Some(Err(m)) = s.output_schema.as_ref().map(schema_issue) {
        issue(format!("{key}.output_schema"), m);
    }
    for (field, message) in super::delivery::issues(s.max_outputs, s.auth.as_ref(), &s.secret_maps) {
        issue(format!("{key}.{field}"), message);
    }
    for (field, message) in super::batch::issues(s) {
        issue(format!("{key}.{field}"), message);
    }
    out
}

/// Whether a schema is usable: read (files are read by `Config::load`; the admin API takes schemas
/// inline) and compiling.
fn schema_issue(r: &SchemaRef) -> Result<(), String> {
    if r.document().is_none() {
        return Err(format!(
            "`{}`: schema files are read from the config file's directory when it is loaded; \
             elsewhere (the admin API) give the schema inline as a JSON object",
            r.origin()
        ));
    }
    crate::contract::Schema::compile(r).map(drop)
}

fn embedded_issues(e: &super::EmbeddedConfig, issue: &mut impl FnMut(String, String)) {
    if let Err(m) = e.retention_for("") {
        issue("broker.embedded.retention".into(), m);
    }
    if e.retention_bytes == Some(0) {
        issue("broker.embedded.retention_bytes".into(), "must be greater than 0 (leave it out for no cap)".into());
    }
    for (topic, o) in &e.topics {
        let key = format!("broker.embedded.topics.{topic}");
        if let Some(r) = &o.retention
            && let Err(m) = e.retention_for(topic)
        {
            issue(format!("{key}.retention"), format!("{m} (given `{r}`)"));
        }
        if o.retention_bytes == Some(0) {
            issue(format!("{key}.retention_bytes"), "must be greater than 0".into());
        }
    }
}

fn admin_issues(a: &super::AdminConfig, issue: &mut impl FnMut(String, String)) {
    if a.listen.parse::<std::net::SocketAddr>().is_err() {
        issue("admin.listen".into(), format!("`{}` is not an address like 127.0.0.1:8081", a.listen));
    }
    if a.tokens.is_empty() {
        issue(
            "admin.tokens".into(),
            "needs at least one token, e.g. [[admin.tokens]] token = { env = \"HOOKBUS_ADMIN_TOKEN\" }, scope = \"write\""
                .into(),
        );
    }
    for (i, t) in a.tokens.iter().enumerate() {
        if let Some(m) = t.token.shape_error() {
            issue(format!("admin.tokens[{i}].token"), m.into());
        }
    }
    if a.store != "sqlite" && !a.is_postgres() {
        issue("admin.store".into(), "must be \"sqlite\" or a postgres:// URL".into());
    }
    for (i, k) in a.encryption_key.iter().chain(&a.previous_encryption_keys).enumerate() {
        if let Some(m) = k.shape_error() {
            let key = if i == 0 && a.encryption_key.is_some() {
                "admin.encryption_key".to_owned()
            } else {
                "admin.previous_encryption_keys".to_owned()
            };
            issue(key, m.into());
        }
    }
    if let Err(m) = a.retention() {
        issue("admin.retention".into(), m);
    }
    if let Err(m) = a.session_limits() {
        issue("admin.session".into(), m);
    }
    if let Some(m) = a.session_key.as_ref().and_then(|k| k.shape_error()) {
        issue("admin.session_key".into(), m.into());
    }
}
