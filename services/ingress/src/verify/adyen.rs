//! Adyen standard notifications: each `NotificationRequestItem` carries
//! `additionalData.hmacSignature`, the base64 HMAC-SHA256 of its `pspReference`,
//! `originalReference`, `merchantAccountCode`, `merchantReference`, `amount.value`,
//! `amount.currency`, `eventCode` and `success` joined by `:`, keyed with the *hex-decoded* HMAC key
//! from the Customer Area (<https://docs.adyen.com/development-resources/webhooks/verify-hmac-signatures/>).
//! Every item of a batch must verify. Only those fields are signed: the rest of an item (e.g.
//! `reason`) is not protected. Adyen redelivers a notification with the same `pspReference` and
//! `eventCode`, so together they are the dedup key of a one-item batch. The signature is inside the
//! body, so `hookbus sign` cannot produce it.
use base64::Engine as _;
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::signing::constant_time_eq;
use serde_json::Value;

use super::identify::text;
use super::mac::{B64, compute, outcome};
use super::{Ids, Inbound, Provider, VerifyError};

const BAD_KEY: &str = "an `adyen` secret is the HMAC key as Adyen shows it: 64 hex digits";

pub(super) const PROVIDER: Provider = Provider {
    about: "Adyen: additionalData.hmacSignature per item, base64 HMAC-SHA256 of its signed fields (hex key)",
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, _| {
        Err(VerifyError::Misconfigured(
            "scheme `adyen` carries its signatures inside the body, so they cannot be added as headers".into(),
        ))
    },
    identify: |_, _, body| identify(body),
    ..Provider::DEFAULT
};

fn items(body: Option<&Value>) -> Vec<&Value> {
    let list = body.and_then(|b| b.get("notificationItems")).and_then(Value::as_array);
    list.into_iter().flatten().filter_map(|i| i.get("NotificationRequestItem")).collect()
}

fn identify(body: Option<&Value>) -> Ids {
    match items(body).as_slice() {
        [only] => {
            let field = |p: &str| only.pointer(p).and_then(text);
            let id = field("/pspReference").zip(field("/eventCode")).map(|(p, e)| format!("{p}:{e}"));
            (id, field("/eventCode"))
        }
        _ => (None, None),
    }
}

/// The signed text of one item; absent fields are empty, as Adyen's libraries treat them.
fn signed_text(item: &Value) -> String {
    let field = |p: &str| item.pointer(p).and_then(text).unwrap_or_default();
    let parts = [
        "/pspReference",
        "/originalReference",
        "/merchantAccountCode",
        "/merchantReference",
        "/amount/value",
        "/amount/currency",
        "/eventCode",
        "/success",
    ];
    parts.map(field).join(":")
}

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let body: Value = serde_json::from_slice(req.body)
        .map_err(|_| VerifyError::payload("notificationItems", "the body is not JSON"))?;
    let items = items(Some(&body));
    if items.is_empty() {
        return Err(VerifyError::payload("notificationItems", "no NotificationRequestItem"));
    }
    let keys: Vec<Option<Vec<u8>>> = secrets.iter().map(|s| hex::decode(s.trim()).ok()).collect();
    let mut first = None;
    for item in items {
        let sig = item
            .pointer("/additionalData/hmacSignature")
            .and_then(Value::as_str)
            .and_then(|s| B64.decode(s.trim()).ok())
            .ok_or_else(|| VerifyError::payload("additionalData.hmacSignature", "missing or not base64"))?;
        let text = signed_text(item);
        let matched = keys.iter().enumerate().fold(None, |found, (i, key)| {
            let hit = key.as_ref().is_some_and(|k| constant_time_eq(&sig, &compute(Sha256, k, &[text.as_bytes()])));
            found.or(hit.then_some(i))
        });
        if matched.is_none() && keys.iter().any(Option::is_none) {
            return Err(VerifyError::Misconfigured(BAD_KEY.into()));
        }
        let i = outcome(matched)?;
        first = first.or(Some(i));
    }
    outcome(first)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // From Adyen's Node library tests (Adyen/adyen-node-api-library,
    // src/__tests__/hmacValidator.spec.ts): that item and key, signature
    // `xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=`; cross-checked with
    //   printf '%s' 'pspReference:originalReference:merchantAccount:reference:1000:EUR:CAPTURE:true' \
    //     | openssl dgst -sha256 -mac HMAC -macopt hexkey:$KEY -binary | base64
    const KEY: &str = "DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB00";

    fn body(value: u32, sig: &str) -> Vec<u8> {
        format!(
            r#"{{"live":"false","notificationItems":[{{"NotificationRequestItem":{{"pspReference":"pspReference","originalReference":"originalReference","merchantAccountCode":"merchantAccount","merchantReference":"reference","amount":{{"currency":"EUR","value":{value}}},"eventCode":"CAPTURE","eventDate":"1970-01-01T00:00:00.000Z","paymentMethod":"VISA","reason":"reason","success":"true","additionalData":{{"hmacSignature":"{sig}"}}}}}}]}}"#
        )
        .into_bytes()
    }

    const SIG: &str = "xhpHvYq2u2Np0rstbZ6QjLGu7JWhvf7Iwaa6EviJSX0=";

    #[test]
    fn library_vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Adyen), KEY, &[], &body(1000, SIG), 0);
        case.passes();
        case.rejects_wrong_secret("DFB1EB5485895CFA84146406857104ABB4CBCABDC8AAF103A624C8F6A3EAAB01");
        case.rotates();
        // A signed field changed: mismatch. An unsigned one (`reason`): still valid, as Adyen signs it.
        assert_eq!(case.verify_body(&body(1001, SIG)), Err(VerifyError::SignatureMismatch));
        let reason = String::from_utf8(body(1000, SIG)).unwrap().replace("\"reason\"", "\"other\"");
        assert_eq!(case.verify_body(reason.as_bytes()), Ok(()));
        // Missing or garbled signature, no items, not JSON.
        for bad in [body(1000, "!!"), br#"{"notificationItems":[]}"#.to_vec(), b"[accepted]".to_vec()] {
            assert_eq!(case.verify_body(&bad).unwrap_err().code(), "malformed_signature_payload");
        }
        let unsigned = String::from_utf8(body(1000, SIG)).unwrap().replace("hmacSignature", "other");
        assert_eq!(case.verify_body(unsigned.as_bytes()).unwrap_err().code(), "malformed_signature_payload");
        // A key that is not hex cannot work.
        let wrong = Case::new(scheme(SchemeKind::Adyen), "not-hex", &[], &body(1000, SIG), 0);
        assert_eq!(wrong.verify().unwrap_err().code(), "source_misconfigured");
        assert!(case.scheme.sign(KEY, b"{}", 0, "d").is_err());
    }

    #[test]
    fn every_item_of_a_batch_must_verify() {
        let one = String::from_utf8(body(1000, SIG)).unwrap();
        let item = &one[one.find("{\"NotificationRequestItem\"").unwrap()..one.rfind(']').unwrap()];
        let forged = item.replace("\"value\":1000", "\"value\":5");
        let both = format!(r#"{{"live":"false","notificationItems":[{item},{forged}]}}"#);
        let case = Case::new(scheme(SchemeKind::Adyen), KEY, &[], both.as_bytes(), 0);
        assert_eq!(case.verify(), Err(VerifyError::SignatureMismatch));
        let twice = format!(r#"{{"live":"false","notificationItems":[{item},{item}]}}"#);
        assert_eq!(case.verify_body(twice.as_bytes()), Ok(()));
        let ids = case.scheme.identify(&http::HeaderMap::new(), serde_json::from_str::<Value>(&one).ok().as_ref());
        assert_eq!(ids, (Some("pspReference:CAPTURE".into()), Some("CAPTURE".into())));
    }
}
