//! Templated targets: where one event is delivered. The target URL and the configured header values
//! may hold `{{ jq }}` expressions evaluated on the event (see hookbus_mapping::Template); values in
//! the URL are percent-encoded, so they cannot change its host. The SSRF guard vets the final URL
//! like any other (literal addresses in deliver.rs, names in the resolver). Header values may also
//! look up per-account secrets: `{{ secret("api_keys"; .data.account_id) }}`.
use std::collections::BTreeMap;

use hookbus_core::config::SubscriptionConfig;
use hookbus_mapping::{Escape, MappingError, Program, Template};
use serde_json::Value;

/// Resolved secret maps: map name -> key -> secret.
pub(crate) type SecretValues = BTreeMap<String, BTreeMap<String, String>>;

/// The compiled templates of a subscription, and the secret maps its headers look up.
pub struct Destination {
    url: Template,
    headers: Vec<(String, Template)>,
    secrets: SecretValues,
}

impl std::fmt::Debug for Destination {
    // Never print the secrets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Destination")
            .field("url", &self.url)
            .field("headers", &self.headers)
            .field("secret_maps", &self.secrets.keys().collect::<Vec<_>>())
            .finish()
    }
}

/// One event's URL and configured headers (the secret headers are added by request.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl Destination {
    /// Fails when a template does not compile, the URL looks up a secret (URLs are logged), or a
    /// header looks up a secret map the subscription does not have.
    pub(crate) fn build(config: &SubscriptionConfig, secrets: SecretValues) -> Result<Self, MappingError> {
        let misuse =
            |message: String| MappingError::Compile { program: Program::Template, line: 1, column: 1, message };
        let headers: Vec<(String, Template)> = config
            .headers
            .iter()
            .map(|(k, v)| Template::compile(v).map(|t| (k.clone(), t)))
            .collect::<Result<_, _>>()?;
        for (name, t) in &headers {
            if let Some(map) = t.secret_maps().find(|m| !secrets.contains_key(*m)) {
                return Err(misuse(format!(
                    "header `{name}` looks up secret map `{map}`, which is not in `secret_maps`"
                )));
            }
        }
        let url = Template::compile(&config.target)?;
        if url.secret_maps().next().is_some() {
            return Err(misuse("secret(…) is allowed in header values only, not in the target URL".into()));
        }
        Ok(Self { url, headers, secrets })
    }

    /// Whether header `name` carries a secret from a secret map (so the attempt log hides it).
    pub(crate) fn is_secret_header(&self, name: &str) -> bool {
        self.headers.iter().any(|(k, t)| k.eq_ignore_ascii_case(name) && t.secret_maps().next().is_some())
    }

    /// Whether rendering reads the event: a static URL and static headers do not.
    pub(crate) fn reads_event(&self) -> bool {
        !self.url.is_static() || self.headers.iter().any(|(_, t)| !t.is_static())
    }

    pub(crate) fn render(&self, envelope: &Value) -> Result<Rendered, MappingError> {
        let lookup = |map: &str, key: &str| self.secrets.get(map).and_then(|m| m.get(key)).cloned();
        let headers = self
            .headers
            .iter()
            .map(|(k, t)| t.render_with(envelope, Escape::Header, &lookup).map(|v| (k.clone(), v)))
            .collect::<Result<_, _>>()?;
        Ok(Rendered { url: self.url.render(envelope, Escape::Url)?, headers })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn url_and_header_values_come_from_the_event() {
        let config: SubscriptionConfig = serde_json::from_value(json!({
            "topic": "t",
            "target": "https://api.example.com/tenants/{{ .data.tenant }}/contacts",
            "headers": {"x-account": "{{ .data.account | ascii_upcase }}", "x-static": "v"}
        }))
        .unwrap();
        let d = Destination::build(&config, SecretValues::new()).unwrap();
        let r = d.render(&json!({"data": {"tenant": "a/../b@evil.com", "account": "ac-1"}})).unwrap();
        assert_eq!(r.url, "https://api.example.com/tenants/a%2F..%2Fb%40evil.com/contacts");
        assert_eq!(r.headers, [("x-account".to_owned(), "AC-1".to_owned()), ("x-static".to_owned(), "v".to_owned())]);
        assert!(d.render(&json!({"data": {}})).is_err(), "a missing value is an error, not an empty segment");
    }

    #[test]
    fn headers_look_up_secret_maps_the_subscription_has() {
        let config = |target: &str| -> SubscriptionConfig {
            serde_json::from_value(json!({
                "topic": "t", "target": target,
                "headers": {"authorization": "Bearer {{ secret(\"keys\"; .data.account) }}", "x-plain": "p"}
            }))
            .unwrap()
        };
        let keys =
            SecretValues::from([("keys".to_owned(), BTreeMap::from([("ac-1".to_owned(), "s3cr3t".to_owned())]))]);
        let d = Destination::build(&config("https://x.example/a"), keys.clone()).unwrap();
        let r = d.render(&json!({"data": {"account": "ac-1"}})).unwrap();
        assert_eq!(r.headers[0], ("authorization".to_owned(), "Bearer s3cr3t".to_owned()));
        assert!(d.is_secret_header("Authorization") && !d.is_secret_header("x-plain"));
        let err = d.render(&json!({"data": {"account": "ac-2"}})).unwrap_err().to_string();
        assert!(err.contains("keys") && !err.contains("ac-2"), "{err}");
        assert!(!format!("{d:?}").contains("s3cr3t"));
        let missing = Destination::build(&config("https://x.example/a"), SecretValues::new()).unwrap_err();
        assert!(missing.to_string().contains("secret map `keys`"), "{missing}");
        let in_url = Destination::build(&config("https://x.example/{{ secret(\"keys\"; .a) }}"), keys).unwrap_err();
        assert!(in_url.to_string().contains("header values only"), "{in_url}");
    }
}
