//! Bitbucket Cloud (and Data Center): `X-Hub-Signature: sha256=<hex HMAC-SHA256 of the raw body>`,
//! keyed with the webhook's secret (<https://bitbucket.org/blog/enhanced-webhook-security>; headers
//! at <https://support.atlassian.com/bitbucket-cloud/docs/event-payloads/>). A
//! webhook without a secret sends no signature and is rejected. No signed timestamp; dedup keys on
//! `X-Request-UUID` (Cloud) or `X-Request-Id` (Data Center).
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::header;

const HEADER: &str = "X-Hub-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "sha256=", alg: Sha256, enc: Hex };

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    pairs([
        (HEADER, MAC.value(secret, body)),
        ("X-Event-Key", "repo:push".into()),
        ("X-Request-UUID", delivery_id.into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Bitbucket: X-Hub-Signature sha256=<hex HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    identify: |_, h, _| (header(h, "x-request-uuid").or_else(|| header(h, "x-request-id")), header(h, "x-event-key")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'bb-secret'
    const SECRET: &str = "bb-secret";
    const BODY: &[u8] = br#"{"push":{"changes":[]},"repository":{"full_name":"team/repo"}}"#;
    const SIG: &str = "sha256=4f7632d7715f792b202bf0319020a30dd3192dcb9b31a34298934be78ac6673e";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Bitbucket), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("bb-secreT");
        case.rejects_missing(HEADER);
        // GitHub-style legacy SHA-1 is not what Bitbucket sends.
        let sha1 = b"sha1=4f7632d7715f792b202bf0319020a30dd3192dcb";
        case.rejects_malformed(HEADER, &[sha1, b"4f7632d7", b"sha256=4f76", b"sha256=not hex"]);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let pairs = case().scheme.sign(SECRET, BODY, 0, "{uuid}").unwrap();
        assert_eq!(pairs[0].1, SIG);
        assert!(pairs.contains(&("X-Request-UUID".into(), "{uuid}".into())));
    }
}
