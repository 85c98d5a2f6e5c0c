//! Lemon Squeezy: `X-Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook's signing
//! secret (<https://docs.lemonsqueezy.com/help/webhooks/signing-requests>); the event name comes in
//! `X-Event-Name`. No signed timestamp and no delivery id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::{body_str, header};
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Lemon Squeezy: X-Signature <hex HMAC-SHA256 of the body>, X-Event-Name",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("X-Event-Name", "order_created")])),
    identify: |_, h, body| (None, header(h, "x-event-name").or_else(|| body_str(body, "/meta/event_name"))),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Lemon Squeezy publishes no test vector; built from the docs' description with
    //   printf '%s' '{"meta":{"event_name":"order_created"},"data":{"id":"1"}}' | openssl dgst -sha256 -hmac 'lemon-signing-secret'
    const SECRET: &str = "lemon-signing-secret";
    const BODY: &[u8] = br#"{"meta":{"event_name":"order_created"},"data":{"id":"1"}}"#;
    const SIG: &str = "7e6871d067943f8e536397110524cf67f72c23c54c56225956a7339d4283eaae";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::LemonSqueezy), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("lemon-signing-secreT", MAC.header);
    }
}
