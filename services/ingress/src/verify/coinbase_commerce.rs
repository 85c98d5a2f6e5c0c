//! Coinbase Commerce: `X-CC-Webhook-Signature: <hex HMAC-SHA256 of the raw body>`, keyed with the
//! webhook shared secret (<https://docs.cdp.coinbase.com/commerce/api-arcitecture/webhooks-security>).
//! No signed timestamp; dedup keys on the event id in the body.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "X-CC-Webhook-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "", alg: Sha256, enc: Hex };

pub(super) fn sign(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    pairs([(HEADER, MAC.value(secret, body)), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Coinbase Commerce: X-CC-Webhook-Signature <hex HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body)),
    identify: |_, _, body| fields(body, "/event/id", "/event/type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs' procedure (body shaped like their example event) with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'cc-shared-secret'
    const SECRET: &str = "cc-shared-secret";
    const BODY: &[u8] = br#"{"id":1,"scheduled_for":"2017-01-31T20:50:02Z","event":{"id":"24934862-d980-46cb-9402-43c81b0cdba6","type":"charge:created"}}"#;
    const SIG: &str = "1d9fe118c3c6f0b6e54a62e11df0f0a9f3ca48e6e6aeb416b89d1fa77e3700c0";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::CoinbaseCommerce), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("cc-shared-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"sha256=1d9f", b"zz", &SIG.as_bytes()[..40], b""]);
        assert_eq!(case.verify_header(HEADER, SIG.to_uppercase().as_bytes()), Ok(()));
        // Header names are case-insensitive.
        assert_eq!(case.verify_header("x-cc-webhook-signature", SIG.as_bytes()), Ok(()));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, SIG);
    }
}
