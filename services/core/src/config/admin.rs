//! `[admin]`: the control plane's private listener, its bearer tokens, its store and retention.
use std::path::PathBuf;

use serde::Deserialize;

use super::secret::SecretRef;

/// What a token may do: `read` sees everything, `write` may also change it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    #[default]
    Read,
    Write,
}

/// `[[admin.tokens]]`: one bearer token (env/file/value reference, like every secret).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Shown in logs instead of the token, e.g. "ci" or "ops".
    #[serde(default)]
    pub name: Option<String>,
    pub token: SecretRef,
    #[serde(default)]
    pub scope: TokenScope,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AdminConfig {
    /// Address of the admin listener (API, /metrics, /healthz, /readyz); keep it private.
    pub listen: String,
    pub tokens: Vec<AdminToken>,
    /// `"sqlite"` (a file beside the embedded log) or a `postgres://` URL shared by every node.
    pub store: String,
    /// The SQLite file; defaults to `control.db` in the embedded log's directory.
    pub sqlite_path: Option<PathBuf>,
    /// Key that encrypts secrets given through the API (any string; 32 random bytes recommended).
    pub encryption_key: Option<SecretRef>,
    /// Earlier keys, still accepted for decryption; stored secrets are re-encrypted with the
    /// current key at start, after which these may be removed.
    pub previous_encryption_keys: Vec<SecretRef>,
    /// How long indexed events, attempts and rejections are kept, e.g. "7d".
    pub retention: String,
    /// Signs the console's session cookies; give every admin node the same key so a session works
    /// behind a balancer. Without it each process signs with a random key (sessions end on restart).
    pub session_key: Option<SecretRef>,
    /// A console session ends after this long without a request, e.g. "30m".
    pub session_idle: String,
    /// A console session ends this long after sign-in, whatever its use, e.g. "12h".
    pub session_max: String,
    /// Wrong tokens (API or console sign-in) allowed per client address and minute; after that the
    /// address gets 429 with Retry-After for the rest of the minute. 0 turns this off (e.g. behind a
    /// proxy that makes every client one address).
    pub auth_failures_per_minute: u32,
    /// Mark the session cookie `Secure` (set it when the admin listener is reached over HTTPS).
    pub cookie_secure: bool,
}

impl Default for AdminConfig {
    fn default() -> Self {
        Self {
            listen: "127.0.0.1:8081".into(),
            tokens: Vec::new(),
            store: "sqlite".into(),
            sqlite_path: None,
            encryption_key: None,
            previous_encryption_keys: Vec::new(),
            retention: "7d".into(),
            session_key: None,
            session_idle: "30m".into(),
            session_max: "12h".into(),
            auth_failures_per_minute: 20,
            cookie_secure: false,
        }
    }
}

impl AdminConfig {
    pub fn retention(&self) -> Result<std::time::Duration, String> {
        humantime::parse_duration(&self.retention)
            .map_err(|e| format!("`{}`: {e} (use e.g. \"7d\", \"36h\")", self.retention))
    }

    /// `(idle, absolute)` limits of a console session.
    pub fn session_limits(&self) -> Result<(std::time::Duration, std::time::Duration), String> {
        let parse = |key: &str, v: &str| {
            humantime::parse_duration(v).map_err(|e| format!("{key} `{v}`: {e} (use e.g. \"30m\", \"12h\")"))
        };
        let idle = parse("session_idle", &self.session_idle)?;
        let max = parse("session_max", &self.session_max)?;
        if idle.is_zero() || idle > max {
            return Err(format!(
                "session_idle ({}) must be above zero and at most session_max ({})",
                self.session_idle, self.session_max
            ));
        }
        Ok((idle, max))
    }

    /// True when the store is PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.store.starts_with("postgres://") || self.store.starts_with("postgresql://")
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::AdminConfig;

    fn limits(idle: &str, max: &str) -> Result<(Duration, Duration), String> {
        AdminConfig { session_idle: idle.into(), session_max: max.into(), ..AdminConfig::default() }.session_limits()
    }

    #[test]
    fn session_limits_parse_and_idle_stays_within_max() {
        assert_eq!(
            AdminConfig::default().session_limits(),
            Ok((Duration::from_secs(1800), Duration::from_secs(43200)))
        );
        assert_eq!(limits("5m", "5m"), Ok((Duration::from_secs(300), Duration::from_secs(300))));
        assert!(limits("2h", "1h").unwrap_err().contains("at most session_max"));
        assert!(limits("0s", "1h").is_err());
        assert!(limits("soon", "1h").unwrap_err().contains("session_idle `soon`"));
    }
}
