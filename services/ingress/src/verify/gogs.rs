//! Gogs: `X-Gogs-Signature: <hex HMAC-SHA256 of the body>`, no prefix, keyed with the webhook's
//! secret (<https://gogs.io/docs/features/webhook>). `X-Gogs-Delivery` identifies the delivery and
//! `X-Gogs-Event` its type. No signed timestamp.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::headers;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Gogs-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Gogs: X-Gogs-Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("X-Gogs-Delivery", s.id), ("X-Gogs-Event", "push")])),
    identify: |_, h, _| headers(h, "x-gogs-delivery", "x-gogs-event"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Gogs publishes no vector; built from the docs with
    //   printf '%s' '{"ref":"refs/heads/master","before":"28e1879d","after":"bffeb744"}' | openssl dgst -sha256 -hmac 'gogs-secret'
    const BODY: &[u8] = br#"{"ref":"refs/heads/master","before":"28e1879d","after":"bffeb744"}"#;
    const SIG: &str = "3a8f8aa027d05c5da41917b449cf53071316235dbe7d77704e67223dbc2992ee";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Gogs), "gogs-secret", &[(MAC.header, SIG)], BODY, 0);
        case.body_mac("gogs-secreT", MAC.header);
        let pairs = [("X-Gogs-Delivery".to_owned(), "d-1".to_owned()), ("X-Gogs-Event".to_owned(), "push".to_owned())];
        let ids = case.scheme.identify(&super::super::test_util::headers(&pairs), None);
        assert_eq!(ids, (Some("d-1".into()), Some("push".into())));
    }
}
