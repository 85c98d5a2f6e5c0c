//! Segment (webhook destination with a shared secret): `X-Signature: <hex HMAC-SHA1 of the body>`
//! (<https://segment.com/docs/connections/destinations/catalog/webhooks/#authentication>). The body's
//! `messageId` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "X-Signature", prefix: "", alg: Sha1, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Segment: X-Signature <hex HMAC-SHA1 of the body>",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, body| fields(body, "/messageId", "/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Segment publishes no test vector; built from the docs' description with
    //   printf '%s' '{"messageId":"ajs-1","type":"track","event":"Signed Up"}' | openssl dgst -sha1 -hmac 'segment-shared-secret'
    const SECRET: &str = "segment-shared-secret";
    const BODY: &[u8] = br#"{"messageId":"ajs-1","type":"track","event":"Signed Up"}"#;
    const SIG: &str = "62ad4731486ec93bb81976ad03b3f47bd01fbc9b";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Segment), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("segment-shared-secreT", MAC.header);
    }
}
