//! Razorpay: `X-Razorpay-Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook secret
//! (<https://razorpay.com/docs/webhooks/validate-test/>). No signed timestamp; dedup keys on
//! `x-razorpay-event-id`, which Razorpay keeps across retries.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::{body_str, header};
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Razorpay-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Razorpay: X-Razorpay-Signature <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("x-razorpay-event-id", s.id)])),
    identify: |_, h, body| (header(h, "x-razorpay-event-id"), body_str(body, "/event")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Razorpay publishes no test vector; built from the docs' description with
    //   printf '%s' '{"entity":"event","event":"payment.captured","payload":{}}' | openssl dgst -sha256 -hmac 'rzp_webhook_secret'
    // and confirmed with Razorpay's SDK (`npm install razorpay`, 2.9.8):
    //   node -e "console.log(require('razorpay').validateWebhookSignature(BODY, SIG, SECRET))"   # true
    const SECRET: &str = "rzp_webhook_secret";
    const BODY: &[u8] = br#"{"entity":"event","event":"payment.captured","payload":{}}"#;
    const SIG: &str = "83d59cbdabc5ebdc88c614dba118c6fa62dba3a7415f4bde0b1879198e8ea9d5";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Razorpay), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("rzp_webhook_secreT", MAC.header);
    }
}
