//! Templated targets: where one event is delivered. The target URL and the configured header values
//! may hold `{{ jq }}` expressions evaluated on the event (see hookbus_mapping::Template); values in
//! the URL are percent-encoded, so they cannot change its host. The SSRF guard vets the final URL
//! like any other (literal addresses in deliver.rs, names in the resolver).
use hookbus_core::config::SubscriptionConfig;
use hookbus_mapping::{Escape, MappingError, Template};
use serde_json::Value;

/// The compiled templates of a subscription.
#[derive(Debug)]
pub struct Destination {
    url: Template,
    headers: Vec<(String, Template)>,
}

/// One event's URL and configured headers (the secret headers are added by request.rs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rendered {
    pub url: String,
    pub headers: Vec<(String, String)>,
}

impl Destination {
    pub fn build(config: &SubscriptionConfig) -> Result<Self, MappingError> {
        let headers = config
            .headers
            .iter()
            .map(|(k, v)| Template::compile(v).map(|t| (k.clone(), t)))
            .collect::<Result<_, _>>()?;
        Ok(Self { url: Template::compile(&config.target)?, headers })
    }

    pub(crate) fn render(&self, envelope: &Value) -> Result<Rendered, MappingError> {
        let headers = self
            .headers
            .iter()
            .map(|(k, t)| t.render(envelope, Escape::Header).map(|v| (k.clone(), v)))
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
        let d = Destination::build(&config).unwrap();
        let r = d.render(&json!({"data": {"tenant": "a/../b@evil.com", "account": "ac-1"}})).unwrap();
        assert_eq!(r.url, "https://api.example.com/tenants/a%2F..%2Fb%40evil.com/contacts");
        assert_eq!(r.headers, [("x-account".to_owned(), "AC-1".to_owned()), ("x-static".to_owned(), "v".to_owned())]);
        assert!(d.render(&json!({"data": {}})).is_err(), "a missing value is an error, not an empty segment");
    }
}
