//! The delivery settings of a subscription in the API: fan-out limit, batching, HTTP method,
//! outbound auth and secret maps. Secrets are given in plaintext, sealed in the store (by the path that names
//! them, e.g. `auth.client_secret`), never returned: GET shows hints.
use std::collections::BTreeMap;

use hookbus_core::config::{
    BatchConfig, DestinationConfig, HttpMethod, OutboundAuth, SecretRef, SubscriptionConfig, secret_map_path,
};
use hookbus_core::live::SubscriptionSpec;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::hint;

/// The request method of deliveries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "UPPERCASE")]
pub enum MethodInput {
    Post,
    Put,
    Patch,
}

impl From<HttpMethod> for MethodInput {
    fn from(m: HttpMethod) -> Self {
        match m {
            HttpMethod::Post => Self::Post,
            HttpMethod::Put => Self::Put,
            HttpMethod::Patch => Self::Patch,
        }
    }
}

impl From<MethodInput> for HttpMethod {
    fn from(m: MethodInput) -> Self {
        match m {
            MethodInput::Post => Self::Post,
            MethodInput::Put => Self::Put,
            MethodInput::Patch => Self::Patch,
        }
    }
}

/// Where deliveries go instead of `target`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum DestinationInput {
    /// Publish the mapped output to this topic of the configured broker (CloudEvents binary mode).
    Topic { topic: String },
}

impl From<&DestinationConfig> for DestinationInput {
    fn from(d: &DestinationConfig) -> Self {
        match d {
            DestinationConfig::Topic { topic } => Self::Topic { topic: topic.clone() },
        }
    }
}

impl From<&DestinationInput> for DestinationConfig {
    fn from(d: &DestinationInput) -> Self {
        match d {
            DestinationInput::Topic { topic } => Self::Topic { topic: topic.clone() },
        }
    }
}

/// Batch delivery: up to `max_events` deliveries per request, as a JSON array, retried and
/// dead-lettered as a whole. Not with `ordered`, a topic destination, `binary` content mode, raw
/// mode without a transform, or a templated target URL or header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BatchInput {
    /// Most items per request, 2 to 1000.
    pub max_events: usize,
    /// How long a partial batch waits for more items, e.g. `200ms` (the default), at most `60s`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_wait: Option<String>,
}

impl From<&BatchConfig> for BatchInput {
    fn from(b: &BatchConfig) -> Self {
        Self { max_events: b.max_events, max_wait: Some(b.max_wait.clone()) }
    }
}

impl BatchInput {
    fn config(&self) -> BatchConfig {
        let mut c = BatchConfig::new(self.max_events);
        if let Some(w) = &self.max_wait {
            c.max_wait = w.clone();
        }
        c
    }
}

/// Credentials for the target's API. The secret (`password`, `token`, `client_secret`) is stored
/// encrypted and never returned.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum AuthInput {
    /// `Authorization: Basic`.
    Basic { username: String, password: String },
    /// `Authorization: Bearer` with a static token.
    Bearer { token: String },
    /// OAuth2 client credentials: the token is fetched, cached and refreshed before it expires.
    Oauth2ClientCredentials {
        token_url: String,
        client_id: String,
        client_secret: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        scope: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<String>,
    },
}

/// Outbound auth as GET shows it: the secret only as a hint.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct AuthView {
    /// `basic`, `bearer` or `oauth2_client_credentials`.
    pub kind: String,
    pub username: Option<String>,
    pub token_url: Option<String>,
    pub client_id: Option<String>,
    pub scope: Option<String>,
    pub audience: Option<String>,
    /// Hint of the password, token or client secret; `from config` for config-file references.
    pub secret: String,
}

impl AuthInput {
    /// The config form, the secret as a literal (the store keeps it sealed instead; see [`strip`]).
    pub fn config(&self) -> OutboundAuth {
        match self.clone() {
            Self::Basic { username, password } => {
                OutboundAuth::Basic { username, password: SecretRef::literal(password) }
            }
            Self::Bearer { token } => OutboundAuth::Bearer { token: SecretRef::literal(token) },
            Self::Oauth2ClientCredentials { token_url, client_id, client_secret, scope, audience } => {
                OutboundAuth::Oauth2ClientCredentials {
                    token_url,
                    client_id,
                    client_secret: SecretRef::literal(client_secret),
                    scope,
                    audience,
                }
            }
        }
    }

    /// The input that describes `auth`, with its secret from `secrets` (empty when not there).
    fn of(auth: &OutboundAuth, secrets: &BTreeMap<String, String>) -> Self {
        let secret = secrets.get(&auth.secret().0).cloned().unwrap_or_default();
        match auth.clone() {
            OutboundAuth::Basic { username, .. } => Self::Basic { username, password: secret },
            OutboundAuth::Bearer { .. } => Self::Bearer { token: secret },
            OutboundAuth::Oauth2ClientCredentials { token_url, client_id, scope, audience, .. } => {
                Self::Oauth2ClientCredentials { token_url, client_id, client_secret: secret, scope, audience }
            }
        }
    }
}

/// The delivery settings of a creation body.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct DeliveryInput {
    pub destination: Option<DestinationInput>,
    pub max_outputs: Option<usize>,
    pub batch: Option<BatchInput>,
    pub method: Option<MethodInput>,
    pub auth: Option<AuthInput>,
    pub secret_maps: BTreeMap<String, BTreeMap<String, String>>,
}

impl DeliveryInput {
    /// Writes these settings into `c`, secrets as literals.
    pub fn apply(&self, c: &mut SubscriptionConfig) {
        c.destination = self.destination.as_ref().map(Into::into);
        if let Some(n) = self.max_outputs {
            c.max_outputs = n;
        }
        c.batch = self.batch.as_ref().map(BatchInput::config);
        c.method = self.method.map(Into::into).unwrap_or_default();
        c.auth = self.auth.as_ref().map(AuthInput::config);
        c.secret_maps = self
            .secret_maps
            .iter()
            .map(|(m, e)| (m.clone(), e.iter().map(|(k, v)| (k.clone(), SecretRef::literal(v.clone()))).collect()))
            .collect();
    }

    /// The settings of `spec`, with the secrets it holds (for a PATCH to apply to).
    pub fn of(spec: &SubscriptionSpec) -> Self {
        let c = &spec.config;
        let secrets = &spec.secrets;
        Self {
            destination: c.destination.as_ref().map(Into::into),
            max_outputs: Some(c.max_outputs),
            batch: c.batch.as_ref().map(Into::into),
            method: Some(c.method.into()),
            auth: c.auth.as_ref().map(|a| AuthInput::of(a, secrets)),
            secret_maps: c
                .secret_maps
                .iter()
                .map(|(m, e)| {
                    let keys =
                        e.keys().map(|k| (k.clone(), secrets.get(&secret_map_path(m, k)).cloned().unwrap_or_default()));
                    (m.clone(), keys.collect())
                })
                .collect(),
        }
    }

    /// Every secret of these settings by its path, to be sealed.
    pub fn secrets(&self) -> Vec<(String, String)> {
        let auth = self.auth.as_ref().map(|a| {
            let secret = match a {
                AuthInput::Basic { password, .. } => password,
                AuthInput::Bearer { token } => token,
                AuthInput::Oauth2ClientCredentials { client_secret, .. } => client_secret,
            };
            (a.config().secret().0, secret.clone())
        });
        let maps =
            self.secret_maps.iter().flat_map(|(m, e)| e.iter().map(move |(k, v)| (secret_map_path(m, k), v.clone())));
        auth.into_iter().chain(maps).collect()
    }
}

/// Replaces the literal secrets of `c` by empty references: the store keeps them sealed apart.
pub fn strip(c: &mut SubscriptionConfig) {
    if let Some(a) = c.auth.as_mut() {
        *a.secret_mut() = SecretRef::default();
    }
    for entries in c.secret_maps.values_mut() {
        for r in entries.values_mut() {
            *r = SecretRef::default();
        }
    }
}

fn secret_hint(spec: &SubscriptionSpec, path: &str) -> String {
    spec.secrets.get(path).map_or_else(|| "from config".to_owned(), |v| hint(v))
}

/// GET's view of the auth of `spec`.
pub fn auth_view(spec: &SubscriptionSpec) -> Option<AuthView> {
    let a = spec.config.auth.as_ref()?;
    let mut v = AuthView {
        kind: a.kind().to_owned(),
        username: None,
        token_url: None,
        client_id: None,
        scope: None,
        audience: None,
        secret: secret_hint(spec, &a.secret().0),
    };
    match a {
        OutboundAuth::Basic { username, .. } => v.username = Some(username.clone()),
        OutboundAuth::Bearer { .. } => {}
        OutboundAuth::Oauth2ClientCredentials { token_url, client_id, scope, audience, .. } => {
            v.token_url = Some(token_url.clone());
            v.client_id = Some(client_id.clone());
            v.scope = scope.clone();
            v.audience = audience.clone();
        }
    }
    Some(v)
}

/// GET's view of the secret maps of `spec`: map -> key -> hint.
pub fn secret_maps_view(spec: &SubscriptionSpec) -> BTreeMap<String, BTreeMap<String, String>> {
    spec.config
        .secret_maps
        .iter()
        .map(|(m, e)| (m.clone(), e.keys().map(|k| (k.clone(), secret_hint(spec, &secret_map_path(m, k)))).collect()))
        .collect()
}
