//! Notion: `X-Notion-Signature: sha256=<hex HMAC-SHA256 of the body>` keyed with the subscription's
//! verification token (<https://developers.notion.com/reference/webhooks#step-3-validating-event-payloads-recommended>).
//! Not supported: the one-time `verification_token` POST that hands the token over (it has to be
//! stored by the control plane, like Asana's X-Hook-Secret); copy the token from Notion's UI.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Notion-Signature", prefix: "sha256=", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Notion: X-Notion-Signature sha256=<hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| fields(body, "/id", "/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Notion publishes no test vector; built from the docs' description with
    //   printf '%s' '{"id":"367cba44","type":"page.created","entity":{"id":"153104cd"}}' | openssl dgst -sha256 -hmac 'secret_notion_verification'
    const SECRET: &str = "secret_notion_verification";
    const BODY: &[u8] = br#"{"id":"367cba44","type":"page.created","entity":{"id":"153104cd"}}"#;
    const SIG: &str = "sha256=15bea0b029b3f095180a04cf6b9575cfb830938951e98c3d5a4e4b05cca1f52f";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Notion), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("secret_notion_verificatioN", MAC.header);
    }
}
