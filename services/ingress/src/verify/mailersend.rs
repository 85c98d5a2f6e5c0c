//! MailerSend: `Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook's signing secret
//! (<https://developers.mailersend.com/api/v1/webhooks.html#security>).
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "MailerSend: Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| fields(body, "/data/id", "/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // MailerSend publishes no test vector; built from the docs' description with
    //   printf '%s' '{"type":"activity.sent","data":{"id":"62fb66bef54a112e920b5493"}}' | openssl dgst -sha256 -hmac 'mailersend-signing-secret'
    const SECRET: &str = "mailersend-signing-secret";
    const BODY: &[u8] = br#"{"type":"activity.sent","data":{"id":"62fb66bef54a112e920b5493"}}"#;
    const SIG: &str = "4399c9b1790436364bfe7fb3813c631ca3f811e07c52d0af8da39a8b165a3738";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Mailersend), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("mailersend-signing-secreT", MAC.header);
    }
}
