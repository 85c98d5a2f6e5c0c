//! Checks a subscription given through the API and names every problem: the config file's rules
//! (durations, ranges, the topic), jq compile errors with their position, targets the SSRF guard
//! refuses (and how to allow them), secrets and header names.
use std::time::Duration;

use hookbus_core::config::{Config, SubscriptionConfig, subscription_issues};
use hookbus_core::live::StartFrom;
use hookbus_mapping::{Mapping, MappingError};
use hookbus_worker::ssrf::Guard;

use crate::Problem;
use crate::api::model::SubscriptionInput;

fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 100 && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// A jq compile error as a problem with its position.
pub fn jq_problem(field: &str, e: &MappingError) -> Problem {
    match e {
        MappingError::Compile { line, column, message, .. } => Problem {
            field: field.into(),
            message: format!("does not compile: line {line}, column {column}: {message}"),
            line: Some(*line),
            column: Some(*column),
        },
        other => Problem::new(field, other.to_string()),
    }
}

/// Compiles the two programs separately so both errors are reported.
pub fn jq_problems(filter: Option<&str>, transform: Option<&str>) -> Vec<Problem> {
    let mut out = Vec::new();
    if let Err(e) = Mapping::compile(filter, None) {
        out.push(jq_problem("filter", &e));
    }
    if let Err(e) = Mapping::compile(None, transform) {
        out.push(jq_problem("transform", &e));
    }
    out
}

/// Refusal of the SSRF guard for `target`, resolving a host name once (bounded to 2 s). A name that
/// does not resolve now is let through: the worker retries connection errors.
pub async fn ssrf_problem(guard: &Guard, target: &str) -> Option<Problem> {
    let url = url::Url::parse(target).ok()?;
    let host = url.host()?;
    let ips: Vec<std::net::IpAddr> = match host {
        url::Host::Ipv4(ip) => vec![ip.into()],
        url::Host::Ipv6(ip) => vec![ip.into()],
        url::Host::Domain(d) => {
            if guard.host_allowed(d) {
                return None;
            }
            let port = url.port_or_known_default().unwrap_or(80);
            let lookup = tokio::net::lookup_host((d, port));
            match tokio::time::timeout(Duration::from_secs(2), lookup).await {
                Ok(Ok(addrs)) => addrs.map(|a| a.ip()).collect(),
                _ => return None,
            }
        }
    };
    let refusals: Vec<_> = ips.iter().filter_map(|ip| guard.check(*ip).err()).collect();
    if !ips.is_empty() && refusals.len() == ips.len() {
        return Some(Problem::new("target", refusals[0].to_string()));
    }
    None
}

/// Every problem with `input`; the config it describes when there are none.
pub async fn check(
    config: &Config,
    guard: &Guard,
    input: &SubscriptionInput,
) -> Result<(SubscriptionConfig, StartFrom), Vec<Problem>> {
    let mut problems = Vec::new();
    if !valid_name(&input.name) {
        problems.push(Problem::new("name", "use 1-100 characters from A-Z a-z 0-9 . _ -"));
    }
    let sub = input.config();
    let prefix = format!("subscriptions.{}.", input.name);
    for issue in subscription_issues(config, &input.name, &sub) {
        let field = issue.key.strip_prefix(&prefix).unwrap_or(&issue.key).to_owned();
        problems.push(Problem::new(field, issue.message));
    }
    problems.extend(jq_problems(sub.filter.as_deref(), sub.transform.as_deref()));
    // `{{ jq }}` templates in the target and header values must compile too.
    if let Err(e) = hookbus_mapping::Template::compile(&sub.target) {
        problems.push(jq_problem("target", &e));
    }
    for (name, value) in &sub.headers {
        if let Err(e) = hookbus_mapping::Template::compile(value) {
            problems.push(jq_problem(&format!("headers.{name}"), &e));
        }
    }
    if let Some(p) = ssrf_problem(guard, &sub.target).await {
        problems.push(p);
    }
    if let Some(s) = &input.signing_secret
        && let Err(e) = hookbus_core::signing::standard_webhooks_key(s)
    {
        problems
            .push(Problem::new("signing_secret", format!("{e}; use a Standard Webhooks secret like whsec_<base64>")));
    }
    for (name, value) in input.headers.iter().chain(&input.secret_headers) {
        if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err() {
            problems.push(Problem::new(format!("headers.{name}"), "is not a valid HTTP header name"));
        }
        if axum::http::HeaderValue::from_str(value).is_err() {
            problems.push(Problem::new(format!("headers.{name}"), "value has characters a header cannot carry"));
        }
    }
    for name in input.secret_headers.keys() {
        if input.headers.keys().any(|h| h.eq_ignore_ascii_case(name)) {
            problems.push(Problem::new(format!("secret_headers.{name}"), "is also in `headers`; keep one"));
        }
    }
    let start = match input.start.as_deref().map(StartFrom::parse).transpose() {
        Ok(s) => s.unwrap_or_default(),
        Err(m) => {
            problems.push(Problem::new("start", m));
            StartFrom::Latest
        }
    };
    if problems.is_empty() { Ok((sub, start)) } else { Err(problems) }
}
