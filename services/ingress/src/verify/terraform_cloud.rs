//! HCP Terraform (Terraform Cloud / Enterprise) notifications: `X-TFE-Notification-Signature: <hex
//! HMAC-SHA512 of the body>` keyed with the notification token (<https://developer.hashicorp.com/terraform/cloud-docs/api-docs/notification-configurations#notification-authenticity>).
use hookbus_core::config::HmacAlgorithm::Sha512;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::body_str;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-TFE-Notification-Signature", prefix: "", alg: Sha512, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "HCP Terraform: X-TFE-Notification-Signature <hex HMAC-SHA512 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| (None, body_str(body, "/notifications/0/trigger")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // HCP Terraform publishes no test vector; built from the docs' description with
    //   printf '%s' '{"payload_version":1,"run_id":"run-1","notifications":[{"trigger":"run:completed"}]}' | openssl dgst -sha512 -hmac 'tfe-notification-token'
    const SECRET: &str = "tfe-notification-token";
    const BODY: &[u8] = br#"{"payload_version":1,"run_id":"run-1","notifications":[{"trigger":"run:completed"}]}"#;
    const SIG: &str = "8d7914b7ec54007801908148f79311ae90b22cea00f58f5c88705fcd9f9b1e0be2f986e406a70d836290eda98f5d3f6c2c9ce9cf0d8dd918ff91245de142ecc3";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::TerraformCloud), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("tfe-notification-tokeN", MAC.header);
    }
}
