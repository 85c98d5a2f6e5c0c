//! Gitea (and Forgejo, which sends the same header too): `X-Gitea-Signature: <hex HMAC-SHA256 of the
//! body>`, no prefix (<https://docs.gitea.com/usage/webhooks>). `X-Gitea-Delivery` identifies the
//! delivery and `X-Gitea-Event` its type.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::headers;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Gitea-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Gitea / Forgejo: X-Gitea-Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("X-Gitea-Delivery", s.id), ("X-Gitea-Event", "push")])),
    identify: |_, h, _| headers(h, "x-gitea-delivery", "x-gitea-event"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Gitea publishes no test vector; built from the docs' description with
    //   printf '%s' '{"ref":"refs/heads/main","commits":[]}' | openssl dgst -sha256 -hmac 'gitea-secret'
    const SECRET: &str = "gitea-secret";
    const BODY: &[u8] = br#"{"ref":"refs/heads/main","commits":[]}"#;
    const SIG: &str = "eb6bacf8073864cb32371c74b406c3c26685264c8a7076eaa812581f3388c02b";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Gitea), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("gitea-secreT", MAC.header);
    }
}
