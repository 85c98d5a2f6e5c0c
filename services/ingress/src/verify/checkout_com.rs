//! Checkout.com: `Cko-Signature: <hex HMAC-SHA256 of the body>` keyed with the webhook's secret key
//! (<https://www.checkout.com/docs/developer-resources/webhooks/manage-webhooks/verify-webhooks>).
//! The body's `id` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "Cko-Signature", prefix: "", alg: Sha256, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Checkout.com: Cko-Signature <hex HMAC-SHA256 of the body>",
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

    // Checkout.com publishes no test vector; built from the docs' description with
    //   printf '%s' '{"id":"evt_az5sblvku4ge3dwpztvyizgcau","type":"payment_approved","data":{}}' | openssl dgst -sha256 -hmac 'cko-secret-key'
    const SECRET: &str = "cko-secret-key";
    const BODY: &[u8] = br#"{"id":"evt_az5sblvku4ge3dwpztvyizgcau","type":"payment_approved","data":{}}"#;
    const SIG: &str = "5d660116cf6f8cf98693318b3c1d438692acccb86e825116242fa94fc95d6ba4";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::CheckoutCom), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("cko-secret-keY", MAC.header);
    }
}
