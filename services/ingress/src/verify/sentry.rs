//! Sentry integration platform: `Sentry-Hook-Signature: <hex HMAC-SHA256 of the body>` keyed with
//! the integration's client secret (<https://docs.sentry.io/organization/integrations/integration-platform/webhooks/#verifying-the-signature>).
//! `Sentry-Hook-Timestamp` is sent but not signed, so it is not checked; `Request-ID` identifies
//! the delivery and `Sentry-Hook-Resource` the kind of event.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::headers;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "Sentry-Hook-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Sentry: Sentry-Hook-Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("Request-ID", s.id), ("Sentry-Hook-Resource", "issue")])),
    identify: |_, h, _| headers(h, "request-id", "sentry-hook-resource"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Sentry publishes no test vector; built from the docs' description with
    //   printf '%s' '{"action":"created","data":{"issue":{"id":"1"}}}' | openssl dgst -sha256 -hmac 'sentry-client-secret'
    const SECRET: &str = "sentry-client-secret";
    const BODY: &[u8] = br#"{"action":"created","data":{"issue":{"id":"1"}}}"#;
    const SIG: &str = "470f21240b712f2fa53ab6505fdf65dd15092bf0bb89145f7e6849a12bf8be4c";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Sentry), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("sentry-client-secreT", MAC.header);
    }
}
