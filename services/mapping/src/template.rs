//! Templated strings: a delivery's target URL and header values may embed jq expressions between
//! `{{` and `}}`, evaluated on the CloudEvent envelope with the same engine and helpers as the
//! transform: `https://api.example.com/tenants/{{ .data.tenant }}/contacts`. Compiled once.
//!
//! `{{ secret("MAP"; EXPR) }}` is a secret lookup: EXPR (jq) gives a key, and the value is the
//! entry of that key in the named secret map, which the caller supplies when rendering. Neither
//! the key nor the value appears in error messages.
use serde_json::Value;

use crate::compile::{self, Compiled};
use crate::{MappingError, Program, run};

/// How an expression's value is written into the string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    /// Percent-encoded (everything but `A-Za-z0-9-_.~`), so a value stays one path segment or
    /// query value and cannot change the host or add path segments.
    Url,
    /// As is; a value with CR or LF is refused (it would end the header).
    Header,
}

enum Part {
    Text(String),
    Expr {
        code: String,
        prog: Box<Compiled>,
    },
    /// `secret("map"; key expression)`.
    Secret {
        map: String,
        code: String,
        key: Box<Compiled>,
    },
}

/// Looks up an entry of a named secret map: `(map, key)` to the secret, if there is one.
pub type SecretLookup<'a> = &'a dyn Fn(&str, &str) -> Option<String>;

/// `secret("map"; expr)` split into the map name and the key expression.
fn secret_call(code: &str) -> Option<(String, &str)> {
    let inner = code.strip_prefix("secret")?.trim_start().strip_prefix('(')?.strip_suffix(')')?.trim();
    let rest = inner.strip_prefix('"')?;
    let (map, rest) = rest.split_once('"')?;
    let key = rest.trim_start().strip_prefix(';')?.trim();
    (!map.is_empty() && !key.is_empty()).then(|| (map.to_owned(), key))
}

/// A string with `{{ jq }}` expressions; one without any renders to itself.
pub struct Template {
    parts: Vec<Part>,
}

impl std::fmt::Debug for Template {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Template").field("expressions", &self.expressions().count()).finish()
    }
}

impl Template {
    /// Fails on an unclosed `{{` or an expression that does not compile (position inside it).
    pub fn compile(text: &str) -> Result<Template, MappingError> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_owned()));
            }
            let after = &rest[open + 2..];
            let close = after.find("}}").ok_or_else(|| MappingError::Compile {
                program: Program::Template,
                line: 1,
                column: text.len() - rest.len() + open + 1,
                message: "`{{` is not closed by `}}`".to_owned(),
            })?;
            let code = after[..close].trim().to_owned();
            match secret_call(&code) {
                Some((map, key)) => {
                    let key = Box::new(compile::compile(Program::Template, key)?);
                    parts.push(Part::Secret { map, code: code.clone(), key });
                }
                None => {
                    let prog = compile::compile(Program::Template, &code)?;
                    parts.push(Part::Expr { code, prog: Box::new(prog) });
                }
            }
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_owned()));
        }
        Ok(Template { parts })
    }

    /// Whether the string has no expressions.
    pub fn is_static(&self) -> bool {
        self.expressions().next().is_none()
    }

    fn expressions(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr { code, .. } | Part::Secret { code, .. } => Some(code.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The secret maps the template looks up, in order of appearance.
    pub fn secret_maps(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Secret { map, .. } => Some(map.as_str()),
            _ => None,
        })
    }

    /// The string for `event`. Each expression must produce exactly one string, number or boolean.
    /// Secret lookups fail: see [`render_with`](Self::render_with).
    pub fn render(&self, event: &Value, escape: Escape) -> Result<String, MappingError> {
        self.render_with(event, escape, &|_, _| None)
    }

    /// Like [`render`](Self::render), with `secrets` answering `secret("map"; key)` lookups. A key
    /// without an entry is an error that names the map but not the key.
    pub fn render_with(
        &self,
        event: &Value,
        escape: Escape,
        secrets: SecretLookup<'_>,
    ) -> Result<String, MappingError> {
        let fail = |message: String| MappingError::Runtime { program: Program::Template, message };
        let mut input = None;
        let mut out = String::new();
        for part in &self.parts {
            let (code, prog) = match part {
                Part::Text(t) => {
                    out.push_str(t);
                    continue;
                }
                Part::Expr { code, prog } => (code, prog),
                Part::Secret { map, key, .. } => {
                    if input.is_none() {
                        input = Some(run::from_json(event).map_err(|e| fail(e.to_string()))?);
                    }
                    let value = secret_value(map, key, input.clone().unwrap_or_default(), secrets)?;
                    match escape {
                        Escape::Url => out.push_str(&percent_encode(&value)),
                        Escape::Header if value.contains(['\r', '\n']) => {
                            return Err(fail(format!("an entry of secret map `{map}` contains a line break")));
                        }
                        Escape::Header => out.push_str(&value),
                    }
                    continue;
                }
            };
            if input.is_none() {
                input = Some(run::from_json(event).map_err(|e| fail(e.to_string()))?);
            }
            let value = run::transform(prog, input.clone().unwrap_or_default()).map_err(|e| match e {
                MappingError::Cardinality { outputs } => {
                    fail(format!("{{{{ {code} }}}} must produce one value, produced {outputs}"))
                }
                MappingError::Runtime { message, .. } => fail(format!("{{{{ {code} }}}}: {message}")),
                other => other,
            })?;
            let text = match value {
                Value::String(s) => s,
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                other => {
                    let what = if other.is_null() { "null" } else { "not a string, number or boolean" };
                    return Err(fail(format!("{{{{ {code} }}}} is {what}: {other}")));
                }
            };
            match escape {
                Escape::Url => out.push_str(&percent_encode(&text)),
                Escape::Header if text.contains(['\r', '\n']) => {
                    return Err(fail(format!("{{{{ {code} }}}} contains a line break, which no header value may")));
                }
                Escape::Header => out.push_str(&text),
            }
        }
        Ok(out)
    }
}

/// The entry of `map` under the key `key` computes from the event. The key is data from the event
/// (e.g. an account id) and the entry a credential: messages name only the map.
fn secret_value(
    map: &str,
    key: &Compiled,
    input: jaq_json::Val,
    secrets: SecretLookup<'_>,
) -> Result<String, MappingError> {
    let fail = |message: String| MappingError::Runtime { program: Program::Template, message };
    let k = match run::transform(key, input) {
        Ok(Value::String(s)) => s,
        Ok(Value::Number(n)) => n.to_string(),
        Ok(_) => return Err(fail(format!("the key of secret(\"{map}\"; …) must be a string or number"))),
        Err(MappingError::Cardinality { outputs }) => {
            return Err(fail(format!("the key of secret(\"{map}\"; …) must be one value, produced {outputs}")));
        }
        Err(MappingError::Runtime { message, .. }) => {
            return Err(fail(format!("the key of secret(\"{map}\"; …): {message}")));
        }
        Err(other) => return Err(other),
    };
    secrets(map, &k).ok_or_else(|| fail(format!("secret map `{map}` has no entry for this event's key")))
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn event() -> Value {
        json!({"id": "e-1", "data": {"tenant": "acme corp/eu", "n": 42, "ok": true, "list": [1]}})
    }

    #[test]
    fn expressions_are_evaluated_and_url_values_encoded() {
        let t = Template::compile(
            "https://api.example.com/tenants/{{ .data.tenant }}/contacts?n={{.data.n}}&ok={{ .data.ok }}",
        )
        .unwrap();
        assert!(!t.is_static());
        assert_eq!(
            t.render(&event(), Escape::Url).unwrap(),
            "https://api.example.com/tenants/acme%20corp%2Feu/contacts?n=42&ok=true"
        );
        let h = Template::compile("Bearer {{ .id | ascii_upcase }}").unwrap();
        assert_eq!(h.render(&event(), Escape::Header).unwrap(), "Bearer E-1");
        let plain = Template::compile("https://example.com/x").unwrap();
        assert!(plain.is_static());
        assert_eq!(plain.render(&event(), Escape::Url).unwrap(), "https://example.com/x");
    }

    #[test]
    fn bad_templates_and_values_are_errors() {
        assert!(matches!(
            Template::compile("https://x/{{ .a "),
            Err(MappingError::Compile { program: Program::Template, .. })
        ));
        assert!(matches!(Template::compile("https://x/{{ .a | }}"), Err(MappingError::Compile { .. })));
        let render = |t: &str, esc| Template::compile(t).unwrap().render(&event(), esc).unwrap_err().to_string();
        assert!(render("/{{ .data.missing }}", Escape::Url).contains("is null"));
        assert!(render("/{{ .data.list }}", Escape::Url).contains("not a string"));
        assert!(render("/{{ .data.list[] , 2 }}", Escape::Url).contains("one value"));
        assert!(render("{{ \"a\\r\\nInjected: 1\" }}", Escape::Header).contains("line break"));
    }

    #[test]
    fn secret_lookups_use_the_key_from_the_event_and_never_show_it() {
        let t = Template::compile(r#"Bearer {{ secret("api_keys"; .data.tenant | ascii_upcase) }}"#).unwrap();
        assert_eq!(t.secret_maps().collect::<Vec<_>>(), ["api_keys"]);
        let lookup = |map: &str, key: &str| (map == "api_keys" && key == "ACME CORP/EU").then(|| "k-123".to_owned());
        assert_eq!(t.render_with(&event(), Escape::Header, &lookup).unwrap(), "Bearer k-123");
        let other = json!({"data": {"tenant": "globex-private"}});
        let err = t.render_with(&other, Escape::Header, &lookup).unwrap_err().to_string();
        assert!(err.contains("api_keys") && err.contains("no entry"), "{err}");
        assert!(!err.to_lowercase().contains("globex"), "the key is not shown: {err}");
        assert!(t.render(&event(), Escape::Header).is_err(), "no secret maps given");
        assert!(Template::compile(r#"{{ secret("m"; .a | ) }}"#).is_err());
        let n = Template::compile(r#"{{ secret("m"; .data.n) }}"#).unwrap();
        assert_eq!(n.render_with(&event(), Escape::Header, &|_, k| (k == "42").then(|| "v".into())).unwrap(), "v");
    }
}
