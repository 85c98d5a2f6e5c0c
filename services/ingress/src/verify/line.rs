//! LINE Messaging API: `x-line-signature: <base64 HMAC-SHA256 of the body>` keyed with the channel
//! secret (<https://developers.line.biz/en/docs/messaging-api/verify-webhook-signature/>). Events
//! come in batches; a batch of one is identified by its `webhookEventId` (stable across redeliveries).
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::Provider;
use super::identify::batch;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "x-line-signature", prefix: "", alg: Sha256, enc: Base64 };

pub(super) const PROVIDER: Provider = Provider {
    about: "LINE: x-line-signature <base64 HMAC-SHA256 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| batch(body.and_then(|b| b.get("events")), "webhookEventId", "type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // From LINE's Node SDK tests (line/line-bot-sdk-nodejs, test/validate-signature.spec.ts):
    // `JSON.stringify({ hello: "world" })` under `test_secret`.
    const SECRET: &str = "test_secret";
    const BODY: &[u8] = br#"{"hello":"world"}"#;
    const SIG: &str = "t7Hn4ZDHqs6e+wdvI5TyQIvzie0DmMUmuXEBqyyE/tM=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Line), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("test_secreT", MAC.header);
    }
}
