//! Vercel: `x-vercel-signature: <hex HMAC-SHA1 of the body>` keyed with the webhook secret
//! (<https://vercel.com/docs/webhooks/webhooks-api#securing-webhooks>). The body's `id` identifies
//! the event.
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Hex;

use super::Provider;
use super::identify::fields;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "x-vercel-signature", prefix: "", alg: Sha1, enc: Hex };

pub(super) const PROVIDER: Provider = Provider {
    about: "Vercel: x-vercel-signature <hex HMAC-SHA1 of the body>",
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

    // Vercel publishes no test vector; built from the docs' description with
    //   printf '%s' '{"id":"evt_1","type":"deployment.created","payload":{}}' | openssl dgst -sha1 -hmac 'vercel-webhook-secret'
    const SECRET: &str = "vercel-webhook-secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"deployment.created","payload":{}}"#;
    const SIG: &str = "41b216efdb0a49aee90c013c7539adceeec0e8c5";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Vercel), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("vercel-webhook-secreT", MAC.header);
    }
}
