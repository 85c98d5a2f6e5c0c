//! HTTP Basic authentication: the provider sends `Authorization: Basic base64(user:password)` with
//! credentials configured at the provider, and the source's secret is `user:password`. Nothing is
//! signed. Chargebee (<https://www.chargebee.com/docs/2.0/webhook_settings.html#basic-authentication>),
//! Postmark (<https://postmarkapp.com/developer/webhooks/webhooks-overview#protecting-your-webhook>),
//! Pipedrive and SparkPost protect webhooks this way. Providers differ in ids and types, so the
//! events are typed with the source's name.
use base64::Engine as _;

use super::mac::{B64, outcome, pairs, token_matches};
use super::{Inbound, Prefix, Provider, VerifyError, required_header};

const HEADER: &str = "Authorization";

pub(super) const PROVIDER: Provider = Provider {
    about: "HTTP Basic auth (Chargebee, Postmark, Pipedrive, SparkPost): the secret is user:password",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        if !s.secret.contains(':') {
            return Err(VerifyError::Misconfigured("a `basic_auth` secret is `user:password`".into()));
        }
        let value = format!("Basic {}", B64.encode(s.secret.as_bytes()));
        Ok(pairs([(HEADER, value), ("Content-Type", "application/json".into())]))
    },
    prefix: Prefix::Source,
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let (scheme, encoded) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(VerifyError::malformed(HEADER, "expected `Basic <base64 user:password>`"));
    }
    let decoded = B64.decode(encoded.trim()).ok().and_then(|b| String::from_utf8(b).ok());
    let credentials = decoded
        .filter(|c| c.contains(':'))
        .ok_or_else(|| VerifyError::malformed(HEADER, "the credentials are not base64 of `user:password`"))?;
    outcome(token_matches(secrets, &credentials))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // RFC 7617's example: `Aladdin:open sesame` is sent as `Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==`.
    const BODY: &[u8] = br#"{"id":"ev_1","event_type":"subscription_created"}"#;

    #[test]
    fn rfc_example_and_negatives() {
        let pairs = [(HEADER, "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==")];
        let case = Case::new(scheme(SchemeKind::BasicAuth), "Aladdin:open sesame", &pairs, BODY, 0);
        case.passes();
        case.rejects_wrong_secret("Aladdin:open sesamE");
        case.rotates();
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"Bearer QWxhZGRpbjpvcGVuIHNlc2FtZQ==", b"Basic !!", b"Basic QWxhZGRpbg==", b""]);
        assert_eq!(case.verify_header(HEADER, b"basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="), Ok(()), "the scheme name is case-insensitive");
        case.round_trips();
    }
}
