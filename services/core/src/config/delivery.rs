//! How a subscription's requests are made, beyond where they go: how many outputs one event may
//! fan out to, the HTTP method, outbound authentication, and named secret maps that header
//! templates look values up in (`{{ secret("api_keys"; .data.account_id) }}`).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::secret::SecretRef;

/// Default of `max_outputs`: outputs one event's transform may produce.
pub const DEFAULT_MAX_OUTPUTS: usize = 100;
/// Highest `max_outputs` accepted: every output is a delivery held in memory with its event.
pub const MAX_OUTPUTS_CEILING: usize = 10_000;

pub(super) fn default_max_outputs() -> usize {
    DEFAULT_MAX_OUTPUTS
}

/// The request method of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum HttpMethod {
    #[default]
    Post,
    Put,
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Post => "POST",
            Self::Put => "PUT",
            Self::Patch => "PATCH",
        }
    }

    pub fn is_post(&self) -> bool {
        *self == Self::Post
    }
}

/// `auth = { kind = "...", ... }`: credentials for the target's API, sent with every delivery.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OutboundAuth {
    /// `Authorization: Basic base64(username:password)`.
    Basic { username: String, password: SecretRef },
    /// `Authorization: Bearer <token>`, a static token.
    Bearer { token: SecretRef },
    /// OAuth 2.0 client credentials grant (RFC 6749 4.4): a token fetched from `token_url`, cached
    /// until shortly before it expires, sent as `Authorization: Bearer`.
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: SecretRef,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        /// Sent as `audience` (Auth0 and others need it to pick the API).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
    },
}

impl OutboundAuth {
    /// The name of the kind, as written in the config.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Basic { .. } => "basic",
            Self::Bearer { .. } => "bearer",
            Self::Oauth2ClientCredentials { .. } => "oauth2_client_credentials",
        }
    }

    /// The secret of this kind and the path that names it (`auth.password`, `auth.token`,
    /// `auth.client_secret`), as the admin API stores it.
    pub fn secret(&self) -> (String, &SecretRef) {
        match self {
            Self::Basic { password, .. } => ("auth.password".into(), password),
            Self::Bearer { token } => ("auth.token".into(), token),
            Self::Oauth2ClientCredentials { client_secret, .. } => ("auth.client_secret".into(), client_secret),
        }
    }

    pub fn secret_mut(&mut self) -> &mut SecretRef {
        match self {
            Self::Basic { password, .. } => password,
            Self::Bearer { token } => token,
            Self::Oauth2ClientCredentials { client_secret, .. } => client_secret,
        }
    }
}

/// `destination = { kind = "topic", topic = "..." }`: publish the mapped output to a topic of the
/// configured broker instead of calling `target` (absent: HTTP to `target`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DestinationConfig {
    /// CloudEvents binary mode: `ce_*` headers, the partition key as the record key, the mapped
    /// output (or the event's data) as the value.
    Topic { topic: String },
}

impl DestinationConfig {
    pub fn topic(&self) -> &str {
        match self {
            Self::Topic { topic } => topic,
        }
    }
}

/// Named maps of secrets, e.g. one API key per customer account:
/// `[subscriptions.NAME.secret_maps.api_keys]` with `acct_1 = { env = "ACCT_1_KEY" }`.
pub type SecretMaps = BTreeMap<String, BTreeMap<String, SecretRef>>;

/// The path that names one entry of a secret map (`secret_maps.<map>.<key>`), as the admin API
/// stores it.
pub fn secret_map_path(map: &str, key: &str) -> String {
    format!("secret_maps.{map}.{key}")
}

fn valid_map_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 64 && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Problems with the delivery settings of a subscription: `(key under the subscription, message)`.
/// (The admin API checks its input with the secrets it was given as literal values.)
pub(super) fn issues(max_outputs: usize, auth: Option<&OutboundAuth>, maps: &SecretMaps) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if !(1..=MAX_OUTPUTS_CEILING).contains(&max_outputs) {
        out.push(("max_outputs".into(), format!("must be between 1 and {MAX_OUTPUTS_CEILING}")));
    }
    let shape = |r: &SecretRef| r.shape_error();
    if let Some(a) = auth {
        let (path, secret) = a.secret();
        if let Some(m) = shape(secret) {
            out.push((path, m.into()));
        }
        match a {
            OutboundAuth::Basic { username, .. } if username.is_empty() || username.contains(':') => {
                out.push(("auth.username".into(), "must be non-empty and without `:` (RFC 7617)".into()))
            }
            OutboundAuth::Oauth2ClientCredentials { token_url, client_id, .. } => {
                match url::Url::parse(token_url) {
                    Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
                    _ => out.push((
                        "auth.token_url".into(),
                        format!("`{token_url}` is not an http:// or https:// URL with a host"),
                    )),
                }
                if client_id.is_empty() {
                    out.push(("auth.client_id".into(), "must not be empty".into()));
                }
            }
            _ => {}
        }
    }
    for (name, entries) in maps {
        if !valid_map_name(name) {
            out.push((format!("secret_maps.{name}"), "map name: use 1-64 characters from A-Z a-z 0-9 _ -".into()));
        }
        if entries.is_empty() {
            out.push((format!("secret_maps.{name}"), "has no entries".into()));
        }
        for (key, secret) in entries {
            if let Some(m) = shape(secret) {
                out.push((secret_map_path(name, key), m.into()));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(toml: &str) -> Result<OutboundAuth, String> {
        #[derive(Deserialize)]
        struct W {
            auth: OutboundAuth,
        }
        figment::Figment::from(<figment::providers::Toml as figment::providers::Format>::string(toml))
            .extract::<W>()
            .map(|w| w.auth)
            .map_err(|e| e.to_string())
    }

    #[test]
    fn auth_kinds_parse_and_their_problems_are_named() {
        let basic = auth(r#"auth = { kind = "basic", username = "u", password = { value = "p" } }"#).unwrap();
        assert_eq!((basic.kind(), basic.secret().0.as_str()), ("basic", "auth.password"));
        let oauth = auth(
            r#"auth = { kind = "oauth2_client_credentials", token_url = "ftp://x", client_id = "", client_secret = {} }"#,
        )
        .unwrap();
        let keys: Vec<String> = issues(100, Some(&oauth), &SecretMaps::new()).into_iter().map(|i| i.0).collect();
        assert_eq!(keys, ["auth.client_secret", "auth.token_url", "auth.client_id"]);
        let err = auth(r#"auth = { kind = "digest", username = "u" }"#).unwrap_err();
        assert!(err.contains("digest") && err.contains("oauth2_client_credentials"), "{err}");
        let err = auth(r#"auth = { kind = "bearer", token = { value = "t" }, extra = 1 }"#).unwrap_err();
        assert!(err.contains("extra"), "{err}");
    }

    #[test]
    fn max_outputs_and_secret_maps_are_checked() {
        let maps: SecretMaps = BTreeMap::from([
            ("bad name".into(), BTreeMap::new()),
            ("keys".into(), BTreeMap::from([("a".into(), SecretRef::default())])),
        ]);
        let found = issues(0, None, &maps);
        let keys: Vec<&str> = found.iter().map(|i| i.0.as_str()).collect();
        assert_eq!(keys, ["max_outputs", "secret_maps.bad name", "secret_maps.bad name", "secret_maps.keys.a"]);
        assert!(issues(MAX_OUTPUTS_CEILING, None, &SecretMaps::new()).is_empty());
    }
}
