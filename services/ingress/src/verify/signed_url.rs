//! The URL a provider signed (Twilio, Square, HubSpot v2/v3, generic `url_body`).
//!
//! Behind a proxy or load balancer the ingress sees a different host, scheme or path than the
//! provider posted to, so a source's `public_url` (as configured at the provider) supplies scheme,
//! host and path. The query string is the one the request arrived with (Twilio adds `bodySHA256`
//! per request), falling back to `public_url`'s own. Without `public_url` the request URL is used
//! as is and must be absolute (as `hookbus verify --url` gives it); the ingress sees only a path,
//! so such a source is told to set `public_url`. Strings are kept byte for byte: no URL
//! normalization, since the provider signed the text, not the parsed URL.
use super::VerifyError;

/// Load-time check of `public_url`: an absolute http(s) URL.
pub(super) fn validate(public_url: &str) -> Result<String, VerifyError> {
    let ok = url::Url::parse(public_url).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host());
    if !ok || !is_absolute(public_url) {
        return Err(VerifyError::Misconfigured(format!(
            "`public_url` {public_url:?} is not an absolute http(s) URL; give the URL exactly as configured at the provider"
        )));
    }
    Ok(public_url.to_owned())
}

/// The URL to verify against; see the module docs.
pub(super) fn resolve(public_url: Option<&str>, inbound: &str, scheme: &str) -> Result<String, VerifyError> {
    match public_url {
        Some(public) => {
            let (base, own_query) = split_query(public);
            let (_, query) = split_query(inbound);
            Ok(match query.or(own_query) {
                Some(q) => format!("{base}?{q}"),
                None => base.to_owned(),
            })
        }
        None if is_absolute(inbound) => Ok(strip_fragment(inbound).to_owned()),
        None => Err(needs_public_url(scheme)),
    }
}

/// For `sign`: the configured URL or a misconfiguration.
pub(super) fn for_signing(public_url: Option<&str>, scheme: &str) -> Result<String, VerifyError> {
    public_url.map(str::to_owned).ok_or_else(|| needs_public_url(scheme))
}

fn needs_public_url(scheme: &str) -> VerifyError {
    VerifyError::Misconfigured(format!(
        "scheme `{scheme}` signs the URL the provider posts to, and this request's URL is not absolute: set the \
         source's `public_url` to that URL exactly as configured at the provider"
    ))
}

fn is_absolute(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

fn strip_fragment(url: &str) -> &str {
    url.split_once('#').map_or(url, |(u, _)| u)
}

/// `(everything before '?', the query)`, without any fragment.
fn split_query(url: &str) -> (&str, Option<&str>) {
    let url = strip_fragment(url);
    match url.split_once('?') {
        Some((base, q)) => (base, Some(q)),
        None => (url, None),
    }
}

/// The URL as given, without its port, and with the scheme's default port added: Twilio's own
/// validators try these because its signing side is inconsistent about ports
/// (<https://github.com/twilio/twilio-python>, `RequestValidator.validate`). Deduplicated.
pub(super) fn port_variants(url: &str) -> Vec<String> {
    let mut out = vec![url.to_owned()];
    let Some(scheme_end) = url.find("://") else { return out };
    let start = scheme_end + 3;
    let end = url[start..].find(['/', '?', '#']).map_or(url.len(), |i| start + i);
    let authority = &url[start..end];
    // The port colon comes after any IPv6 literal's closing bracket and any userinfo.
    let host_from = authority.rfind([']', '@']).map_or(0, |i| i + 1);
    let port_colon = authority[host_from..].rfind(':').map(|i| host_from + i);
    let (before, after) = (&url[..start], &url[end..]);
    match port_colon {
        Some(c) if authority[c + 1..].bytes().all(|b| b.is_ascii_digit()) => {
            out.push(format!("{before}{}{after}", &authority[..c]));
        }
        Some(_) => {}
        None => {
            let default = if url[..scheme_end].eq_ignore_ascii_case("https") { "443" } else { "80" };
            out.push(format!("{before}{authority}:{default}{after}"));
        }
    }
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PUBLIC: &str = "https://hooks.example.com/webhooks/twilio";

    #[test]
    fn public_url_supplies_origin_and_path_the_request_the_query() {
        assert_eq!(resolve(Some(PUBLIC), "/webhooks/twilio?a=1&b=2", "t").unwrap(), format!("{PUBLIC}?a=1&b=2"));
        assert_eq!(resolve(Some(PUBLIC), "/internal/path", "t").unwrap(), PUBLIC);
        let with_query = format!("{PUBLIC}?x=y");
        assert_eq!(resolve(Some(&with_query), "/p", "t").unwrap(), with_query);
        assert_eq!(resolve(Some(&with_query), "/p?z=1", "t").unwrap(), format!("{PUBLIC}?z=1"));
        assert_eq!(resolve(Some(PUBLIC), "/p?", "t").unwrap(), format!("{PUBLIC}?"));
    }

    #[test]
    fn without_public_url_only_an_absolute_request_url_works() {
        assert_eq!(resolve(None, "HTTPS://a.example/x?q#frag", "t").unwrap(), "HTTPS://a.example/x?q");
        let err = resolve(None, "/webhooks/twilio?a=1", "twilio").unwrap_err();
        assert_eq!(err.code(), "source_misconfigured");
        assert!(err.to_string().contains("public_url") && !err.to_string().contains("a=1"));
        assert_eq!(for_signing(None, "square").unwrap_err().code(), "source_misconfigured");
    }

    #[test]
    fn validation_wants_absolute_http_urls() {
        assert!(validate(PUBLIC).is_ok());
        for bad in ["/relative", "ftp://x.example/", "https://", "not a url", "mailto:a@b.example"] {
            assert_eq!(validate(bad).unwrap_err().code(), "source_misconfigured", "{bad}");
        }
    }

    #[test]
    fn port_variants_add_or_remove_the_port() {
        assert_eq!(port_variants("https://a.example/x?y"), ["https://a.example/x?y", "https://a.example:443/x?y"]);
        assert_eq!(port_variants("http://a.example"), ["http://a.example", "http://a.example:80"]);
        assert_eq!(port_variants("https://a.example:1234/x"), ["https://a.example:1234/x", "https://a.example/x"]);
        assert_eq!(port_variants("https://[::1]:8443/x"), ["https://[::1]:8443/x", "https://[::1]/x"]);
        assert_eq!(
            port_variants("https://u:p@a.example/x"),
            ["https://u:p@a.example/x", "https://u:p@a.example:443/x"]
        );
        assert_eq!(port_variants("no scheme"), ["no scheme"]);
        // Garbage after a colon is left alone rather than guessed at.
        assert_eq!(port_variants("https://a.example:x/"), ["https://a.example:x/"]);
    }
}
