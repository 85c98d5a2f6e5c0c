//! Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the raw body>`, keyed with the app's
//! client secret (<https://shopify.dev/docs/apps/build/webhooks/verify-deliveries>). No signed
//! timestamp; duplicates are dropped by dedup on `X-Shopify-Webhook-Id`, which Shopify documents as
//! the delivery id to detect them with.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::headers;

const HEADER: &str = "X-Shopify-Hmac-Sha256";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "", alg: Sha256, enc: Base64 };

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    pairs([
        (HEADER, MAC.value(secret, body)),
        ("X-Shopify-Topic", "orders/create".into()),
        ("X-Shopify-Webhook-Id", delivery_id.into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Shopify: X-Shopify-Hmac-Sha256 <base64 HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    identify: |_, h, _| headers(h, "x-shopify-webhook-id", "x-shopify-topic"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Shopify publishes no vector; built from the docs' procedure with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'shpss_test_secret' -binary | base64
    const SECRET: &str = "shpss_test_secret";
    const BODY: &[u8] = br#"{"id":820982911946154508,"email":"jon@example.com","topic":"orders/create"}"#;
    const SIG: &str = "sTt9RaOhi2L8h63HdzGr3K+oErwk988IFB3KhRdvUIU=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Shopify), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("shpss_test_secreT");
        case.rejects_missing(HEADER);
        // Hex is not Shopify's encoding; a SHA-1 sized value; not base64 at all.
        let hex = b"b13b7d45a3a18b62fc87adc77731abdcafa812bc24f7cf08141dca85176f5085";
        case.rejects_malformed(HEADER, &[hex, b"oQNLIzGMQrpJDKyxHlLn2tNxr1o=", b"!!!", b"", b"\xff"]);
        // Unpadded base64 is accepted.
        assert_eq!(case.verify_header(HEADER, SIG.trim_end_matches('=').as_bytes()), Ok(()));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let case = case();
        case.round_trips();
        let pairs = case.scheme.sign(SECRET, BODY, 0, "d-1").unwrap();
        assert_eq!(pairs[0], (HEADER.to_string(), SIG.to_string()));
        assert!(pairs.contains(&("X-Shopify-Webhook-Id".into(), "d-1".into())));
    }
}
