//! ClickUp: `X-Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook's secret
//! (<https://developer.clickup.com/docs/webhooksignature>). No delivery id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::body_str;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "ClickUp: X-Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| (None, body_str(body, "/event")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // ClickUp publishes no test vector; built from the docs' description with
    //   printf '%s' '{"event":"taskCreated","task_id":"1vj37mc","webhook_id":"7fa3ec74"}' | openssl dgst -sha256 -hmac 'clickup-webhook-secret'
    const SECRET: &str = "clickup-webhook-secret";
    const BODY: &[u8] = br#"{"event":"taskCreated","task_id":"1vj37mc","webhook_id":"7fa3ec74"}"#;
    const SIG: &str = "1b72a80d9817f797679a3fa044ef1c0393aeada73f71520dfb99339da0e0b102";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Clickup), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("clickup-webhook-secreT", MAC.header);
    }
}
