//! WooCommerce: `X-WC-Webhook-Signature: <base64 HMAC-SHA256 of the raw body>`, keyed with the
//! webhook's secret (<https://developer.woocommerce.com/docs/apis/rest-api/v3/webhooks/>; the
//! signing is `WC_Webhook::generate_signature`). No signed timestamp; dedup keys on
//! `X-WC-Webhook-Delivery-ID`.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::headers;
use crate::handshake::Answer;

const HEADER: &str = "X-WC-Webhook-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "", alg: Sha256, enc: Base64 };

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    pairs([
        (HEADER, MAC.value(secret, body)),
        ("X-WC-Webhook-Topic", "order.created".into()),
        ("X-WC-Webhook-Delivery-ID", delivery_id.into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "WooCommerce: X-WC-Webhook-Signature <base64 HMAC-SHA256 of the body>; answers its ping",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    identify: |_, h, _| headers(h, "x-wc-webhook-delivery-id", "x-wc-webhook-topic"),
    unsigned_handshake: ping,
    ..Provider::DEFAULT
};

/// WooCommerce pings a new webhook's URL with the form body `webhook_id=<n>` and no signature,
/// and refuses to save the webhook unless the answer is exactly 200 (`WC_Webhook::deliver_ping`
/// in woocommerce/includes/class-wc-webhook.php). It carries nothing, so it is answered unsigned.
fn ping(headers: &http::HeaderMap, body: &[u8]) -> Option<Answer> {
    if headers.contains_key(HEADER) {
        return None;
    }
    let id = body.strip_prefix(b"webhook_id=")?;
    (!id.is_empty() && id.len() <= 20 && id.iter().all(u8::is_ascii_digit)).then(|| Answer::text("woocommerce", ""))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'wc-secret' -binary | base64
    const SECRET: &str = "wc-secret";
    const BODY: &[u8] = br#"{"id":727,"status":"processing","currency":"USD"}"#;
    const SIG: &str = "VtRsqkxZLe29NumoewqroLdtZoHtJIV0mCXuzprns+o=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Woocommerce), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("wc-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"sha256=VtRs", b"%%%", b"VtRsqkxZ", b""]);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        let pairs = case().scheme.sign(SECRET, BODY, 0, "42").unwrap();
        assert_eq!(pairs[0].1, SIG);
        assert!(pairs.contains(&("X-WC-Webhook-Delivery-ID".into(), "42".into())));
    }
}
