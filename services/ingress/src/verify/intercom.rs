//! Intercom: `X-Hub-Signature: sha1=<hex HMAC-SHA1 of the raw body>`, keyed with the app's client
//! secret (<https://developers.intercom.com/docs/webhooks>, signed notifications). No signed
//! timestamp; dedup keys on the notification id in the body.
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "X-Hub-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "sha1=", alg: Sha1, enc: Hex };

pub(super) fn sign(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    pairs([(HEADER, MAC.value(secret, body)), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Intercom: X-Hub-Signature sha1=<hex HMAC-SHA1 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body)),
    identify: |_, _, body| fields(body, "/id", "/topic"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -sha1 -hmac 'intercom-client-secret'
    const SECRET: &str = "intercom-client-secret";
    const BODY: &[u8] = br#"{"type":"notification_event","id":"notif_ccd8a4d2","topic":"conversation.user.created"}"#;
    const SIG: &str = "sha1=62ea0622ef2f0991f1101e09f28e6d65aa8ab7b1";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Intercom), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("intercom-client-secreT");
        case.rejects_missing(HEADER);
        // No prefix; SHA-256's prefix; a SHA-256 sized value; not hex.
        let long = b"sha1=62ea0622ef2f0991f1101e09f28e6d65aa8ab7b162ea0622ef2f0991f1101e09";
        case.rejects_malformed(
            HEADER,
            &[b"62ea0622ef2f0991f1101e09f28e6d65aa8ab7b1", b"sha256=62ea", long, b"sha1=xyz"],
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, SIG);
    }
}
