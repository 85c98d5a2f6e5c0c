//! Checks a subscription given through the API and names every problem: the config file's rules
//! (durations, ranges, the topic), jq compile errors with their position, targets the SSRF guard
//! refuses (and how to allow them), secrets and header names.
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

/// Refusal of the SSRF guard for `target`. IP literals are checked as the worker checks them;
/// `localhost` names count as loopback. Other names are not resolved here (resolving names a client
/// sends would itself probe the network): the worker resolves them once per delivery and refuses
/// internal addresses then, with the same message in the attempt log.
pub fn ssrf_problem(guard: &Guard, target: &str) -> Option<Problem> {
    let url = url::Url::parse(target).ok()?;
    let ip: std::net::IpAddr = match url.host()? {
        url::Host::Ipv4(ip) => ip.into(),
        url::Host::Ipv6(ip) => ip.into(),
        url::Host::Domain(d) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if guard.host_allowed(&d) || !(d == "localhost" || d.ends_with(".localhost")) {
                return None;
            }
            std::net::Ipv4Addr::LOCALHOST.into()
        }
    };
    guard.check(ip).err().map(|refused| Problem::new("target", refused.to_string()))
}

/// Every problem with `input`; the config it describes when there are none.
pub fn check(
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
    match hookbus_mapping::Template::compile(&sub.target) {
        Err(e) => problems.push(jq_problem("target", &e)),
        Ok(t) if t.secret_maps().next().is_some() => {
            problems.push(Problem::new("target", "secret(…) is allowed in header values only, not in the target URL"))
        }
        Ok(_) => {}
    }
    for (name, value) in &sub.headers {
        match hookbus_mapping::Template::compile(value) {
            Err(e) => problems.push(jq_problem(&format!("headers.{name}"), &e)),
            Ok(t) => {
                if let Some(map) = t.secret_maps().find(|m| !sub.secret_maps.contains_key(*m)) {
                    let message = format!("looks up secret map `{map}`, which is not in `secret_maps`");
                    problems.push(Problem::new(format!("headers.{name}"), message));
                }
            }
        }
    }
    if let Some(p) = ssrf_problem(guard, &sub.target) {
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
    // An empty password, token or map entry would be sent as such; a form left blank is a mistake.
    for (path, value) in input.delivery().secrets() {
        if value.is_empty() {
            problems.push(Problem::new(path, "must not be empty"));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ssrf_refuses_internal_literals_and_localhost_unless_allowed() {
        let guard = Guard::new(&["127.0.0.1".to_owned()]);
        assert!(ssrf_problem(&guard, "http://127.0.0.1:9000/x").is_none(), "allow-listed");
        assert!(ssrf_problem(&guard, "http://localhost:9000/x").is_none(), "localhost is 127.0.0.1 here");
        let strict = Guard::new(&[]);
        let p = ssrf_problem(&strict, "http://localhost/x").unwrap();
        assert!(p.message.contains("loopback") && p.message.contains("allow_targets"), "{}", p.message);
        let p = ssrf_problem(&strict, "http://169.254.169.254/latest").unwrap();
        assert!(p.message.contains("metadata"), "{}", p.message);
        assert!(ssrf_problem(&strict, "http://[fd00:ec2::254]/").is_some());
        assert!(ssrf_problem(&strict, "https://api.example.com/hooks").is_none(), "names are checked at delivery");
        assert!(ssrf_problem(&strict, "http://93.184.216.34/").is_none(), "public address");
    }
}
