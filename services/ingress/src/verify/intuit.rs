//! Intuit QuickBooks Online: `intuit-signature: <base64 HMAC-SHA256 of the body>` keyed with the
//! app's webhook verifier token (<https://developer.intuit.com/app/developer/qbo/docs/develop/webhooks/managing-webhooks-notifications#validating-the-notification>).
//! Notifications carry no delivery id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::Provider;

use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "intuit-signature", prefix: "", alg: Sha256, enc: Base64 };

pub(super) const PROVIDER: Provider = Provider {
    about: "Intuit QuickBooks: intuit-signature <base64 HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, _| (None, None),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Intuit publishes no test vector; built from the docs' description with
    //   printf '%s' '{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[]}}]}' | openssl dgst -sha256 -hmac 'intuit-verifier-token' -binary | base64
    const SECRET: &str = "intuit-verifier-token";
    const BODY: &[u8] = br#"{"eventNotifications":[{"realmId":"1185883450","dataChangeEvent":{"entities":[]}}]}"#;
    const SIG: &str = "vTeMyy58hp0ary0bvuGnPVRcWD933oUJTFJZ7Ql4Pbo=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Intuit), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("intuit-verifier-tokeN", MAC.header);
    }
}
