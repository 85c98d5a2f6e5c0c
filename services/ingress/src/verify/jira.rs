//! Jira Cloud admin webhooks registered with a secret: `X-Hub-Signature: sha256=<hex HMAC-SHA256 of
//! the raw body>` in the WebSub `method=signature` form
//! (<https://developer.atlassian.com/cloud/jira/platform/webhooks/#secure-admin-webhooks>).
//! Not supported: webhooks of Connect apps, which carry an HS256 JWT (`Authorization: JWT ...`,
//! with a `qsh` claim over the request) keyed by the app's shared secret, and OAuth 2.0 dynamic
//! webhooks; give such apps a secured admin webhook instead. No signed timestamp; dedup keys on
//! `X-Atlassian-Webhook-Identifier`, which stays the same across retries.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::{body_str, header};

const HEADER: &str = "X-Hub-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "sha256=", alg: Sha256, enc: Hex };

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    pairs([
        (HEADER, MAC.value(secret, body)),
        ("X-Atlassian-Webhook-Identifier", delivery_id.into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Jira Cloud: X-Hub-Signature sha256=<hex HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    identify: |_, h, body| (header(h, "x-atlassian-webhook-identifier"), body_str(body, "/webhookEvent")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'jira-secret'
    const SECRET: &str = "jira-secret";
    const BODY: &[u8] = br#"{"timestamp":1700000000000,"webhookEvent":"jira:issue_created","issue":{"key":"HB-1"}}"#;
    const SIG: &str = "sha256=968ce47ce9ee2135eb1a4fe430cad5d18c41f7c56449cca1db1a9da820bb7731";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Jira), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("jira-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"JWT abc.def.ghi", b"sha512=968c", b"sha256=968ce47c", b"sha256=\xfe"]);
    }

    #[test]
    fn connect_app_jwt_alone_is_not_accepted() {
        let jwt = case().headers.clone();
        let mut only_jwt = jwt.clone();
        only_jwt.remove(HEADER);
        only_jwt.insert("authorization", "JWT eyJhbGciOiJIUzI1NiJ9.e30.x".parse().unwrap());
        let got = case().check(&only_jwt, BODY, 0, &[hookbus_core::config::Secret::new(SECRET)]);
        assert_eq!(got, Err(super::super::VerifyError::MissingHeader(HEADER.into())));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let pairs = case().scheme.sign(SECRET, BODY, 0, "wh-1").unwrap();
        assert_eq!(pairs[0].1, SIG);
        assert!(pairs.contains(&("X-Atlassian-Webhook-Identifier".into(), "wh-1".into())));
    }
}
