//! Xero: `x-xero-signature: <base64 HMAC-SHA256 of the body>` keyed with the webhook key
//! (<https://developer.xero.com/documentation/guides/webhooks/configuring-your-server/>). Xero's
//! "intent to receive" checks, signed like any delivery but with no events, must get a bare 200
//! (and a wrongly signed one 401, which verification already gives); they are answered, not published.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;

use super::Provider;
use crate::IngressError;
use crate::handshake::Answer;
use super::mac::BodyMac;

const MAC: BodyMac = BodyMac { header: "x-xero-signature", prefix: "", alg: Sha256, enc: Base64 };

pub(super) const PROVIDER: Provider = Provider {
    about: "Xero: x-xero-signature <base64 HMAC-SHA256 of the body>; answers intent to receive",
    headers: &[MAC.header],
    verify: |_, req, keys, _| MAC.verify(req, keys),
    sign: |_, s| Ok(MAC.sign(s.secret, s.body, &[])),
    identify: |_, _, _| (None, None),
    handshake: intent_to_receive,
    ..Provider::DEFAULT
};

/// An intent-to-receive request is a signed delivery whose `events` list is empty.
fn intent_to_receive(_: &http::HeaderMap, body: &[u8], _: &str) -> Result<Option<Answer>, IngressError> {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(body) else { return Ok(None) };
    let empty = v.get("events").and_then(serde_json::Value::as_array).is_some_and(Vec::is_empty);
    Ok(empty.then(|| Answer::text("xero", "")))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Xero publishes no test vector; built from the docs' description with
    //   printf '%s' '{"events":[{"resourceId":"1","eventCategory":"INVOICE","eventType":"UPDATE"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"x"}' | openssl dgst -sha256 -hmac 'xero-webhook-key' -binary | base64
    const SECRET: &str = "xero-webhook-key";
    const BODY: &[u8] = br#"{"events":[{"resourceId":"1","eventCategory":"INVOICE","eventType":"UPDATE"}],"firstEventSequence":1,"lastEventSequence":1,"entropy":"x"}"#;
    const SIG: &str = "q3Kg5fpM+QNrPThYUgGaWaH5gvrqcd53FBCehFpJSGM=";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Xero), SECRET, &[(MAC.header, SIG)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        case().body_mac("xero-webhook-keY", MAC.header);
    }

    #[test]
    fn intent_to_receive_is_answered_and_events_are_not() {
        let h = http::HeaderMap::new();
        let itr = br#"{"events":[],"firstEventSequence":0,"lastEventSequence":0,"entropy":"S0m3r4Nd0mt3xt"}"#;
        assert_eq!((PROVIDER.handshake)(&h, itr, SECRET).unwrap(), Some(Answer::text("xero", "")));
        assert_eq!((PROVIDER.handshake)(&h, BODY, SECRET).unwrap(), None);
    }
}
