//! WooCommerce: `X-WC-Webhook-Signature: <base64 HMAC-SHA256 of the raw body>`, keyed with the
//! webhook's secret (<https://developer.woocommerce.com/docs/apis/rest-api/v3/webhooks/>; the
//! signing is `WC_Webhook::generate_signature`). No signed timestamp; dedup keys on
//! `X-WC-Webhook-Delivery-ID`.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::mac::{BodyMac, pairs};

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
