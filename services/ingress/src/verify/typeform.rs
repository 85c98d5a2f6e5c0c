//! Typeform: `Typeform-Signature: sha256=<base64 HMAC-SHA256 of the raw body>`, keyed with the
//! webhook's secret (<https://www.typeform.com/developers/webhooks/secure-your-webhooks/>). No
//! signed timestamp; dedup keys on `event_id` in the body.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::mac::{BodyMac, pairs};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "Typeform-Signature";
pub(super) const MAC: BodyMac = BodyMac { header: HEADER, prefix: "sha256=", alg: Sha256, enc: Base64 };

pub(super) fn sign(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    pairs([(HEADER, MAC.value(secret, body)), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Typeform: Typeform-Signature sha256=<base64 HMAC-SHA256 of the body>",
    headers: &[HEADER],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body)),
    identify: |_, _, body| fields(body, "/event_id", "/event_type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No published vector; built from the docs with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'tf-secret' -binary | base64
    const SECRET: &str = "tf-secret";
    const BODY: &[u8] = br#"{"event_id":"01HXYZ","event_type":"form_response","form_response":{"form_id":"lT4Z3j"}}"#;
    const SIG: &str = "sha256=gHRaoAOpsiKwpZ1pz3o2dC+QLzXwQXENrjxmMcwlPs4=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Typeform), SECRET, &[(HEADER, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("tf-secreT");
        case.rejects_missing(HEADER);
        let hex = b"sha256=80745aa003a9b222b0a59d69cf7a36742f902f35f041710dae3c6631cc253ece";
        case.rejects_malformed(
            HEADER,
            &[b"gHRaoAOpsiKwpZ1pz3o2dC+QLzXwQXENrjxmMcwlPs4=", hex, b"sha256=@@", b"sha256="],
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, SIG);
    }
}
