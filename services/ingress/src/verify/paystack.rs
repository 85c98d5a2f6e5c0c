//! Paystack: `x-paystack-signature: <hex HMAC-SHA512 of the body>` keyed with the secret key
//! (<https://paystack.com/docs/payments/webhooks/#verify-event-origin>). No signed timestamp and
//! no delivery id, so there is no dedup key.
use hookbus_core::config::HmacAlgorithm::Sha512;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::body_str;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "x-paystack-signature", prefix: "", alg: Sha512, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Paystack: x-paystack-signature <hex HMAC-SHA512 of the body>",
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

    // Paystack publishes no test vector; built from the docs' description with
    //   printf '%s' '{"event":"charge.success","data":{"id":302961}}' | openssl dgst -sha512 -hmac 'sk_test_paystack'
    const SECRET: &str = "sk_test_paystack";
    const BODY: &[u8] = br#"{"event":"charge.success","data":{"id":302961}}"#;
    const SIG: &str = "25d6199dc0802ae6c719dae25e6e8c7485fb6d1ac159603916ce175d0f11a42219f0c453bcd4c9b262c85ebcd81427f4231c993777d03c3697576b3777e3f74f";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Paystack), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("sk_test_paystacK", MAC.header);
    }
}
