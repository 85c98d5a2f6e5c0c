//! Help Scout: `X-HelpScout-Signature: <base64 HMAC-SHA1 of the body>` keyed with the webhook's secret
//! key (<https://developer.helpscout.com/webhooks/>); the event is in `X-HelpScout-Event`.
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Base64;

use super::Provider;
use super::identify::header;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-HelpScout-Signature", prefix: "", alg: Sha1, enc: Base64 };

pub(super) const PROVIDER: Provider = Provider {
    about: "Help Scout: X-HelpScout-Signature <base64 HMAC-SHA1 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[("X-HelpScout-Event", "convo.created")])),
    identify: |_, h, _| (None, header(h, "x-helpscout-event")),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Help Scout publishes no test vector; built from the docs' description with
    //   printf '%s' '{"id":1,"type":"email","subject":"Hi"}' | openssl dgst -sha1 -hmac 'helpscout-secret-key' -binary | base64
    const SECRET: &str = "helpscout-secret-key";
    const BODY: &[u8] = br#"{"id":1,"type":"email","subject":"Hi"}"#;
    const SIG: &str = "kNkfhij/AJG/WYTsNG4gay5YOSs=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Helpscout), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("helpscout-secret-keY", MAC.header);
    }
}
