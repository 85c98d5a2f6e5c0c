//! Cal.com: `X-Cal-Signature-256: <hex HMAC-SHA256 of the body>` keyed with the webhook's secret
//! (<https://cal.com/docs/developing/guides/automation/webhooks#adding-a-secret-to-verify-webhook-requests>).
//! No delivery id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::body_str;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Cal-Signature-256", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Cal.com: X-Cal-Signature-256 <hex HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| (None, body_str(body, "/triggerEvent")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Cal.com publishes no test vector; built from the docs' description with
    //   printf '%s' '{"triggerEvent":"BOOKING_CREATED","payload":{}}' | openssl dgst -sha256 -hmac 'cal-webhook-secret'
    const SECRET: &str = "cal-webhook-secret";
    const BODY: &[u8] = br#"{"triggerEvent":"BOOKING_CREATED","payload":{}}"#;
    const SIG: &str = "6982f0920ea6a928c90a2f0a83d76e65171b281a94867a70689fd714cbdbf06d";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::CalCom), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("cal-webhook-secreT", MAC.header);
    }
}
