//! Mailgun: the signature travels in the body, not a header
//! (<https://documentation.mailgun.com/docs/mailgun/user-manual/webhooks/securing-webhooks>):
//! `signature.signature` is the hex HMAC-SHA256 of `signature.timestamp` + `signature.token`,
//! keyed with the Webhook Signing Key. Current webhooks post JSON with a `signature` object; legacy
//! ones post a form with top-level `timestamp`, `token` and `signature` fields; both are read.
//!
//! Mailgun signs only the timestamp and token, not `event-data`: the signature proves the sender
//! knew the key at that time, not that the event is intact (TLS protects that). Mailgun therefore
//! says to reject reused tokens, which is why the token is the dedup key (`normalize.rs`) and the
//! timestamp is checked against the tolerance.
use hookbus_core::config::HmacAlgorithm::Sha256;
use serde_json::Value;

use super::mac::{any_matches, compute, outcome};
use super::{Inbound, VerifyError, check_tolerance};
use super::Provider;
use super::identify::body_str;

/// The three signed fields, as text.
struct Fields {
    timestamp: String,
    token: String,
    signature: String,
}

fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn fields(body: &[u8]) -> Result<Fields, VerifyError> {
    // Name/value pairs from the JSON `signature` object, or from a legacy form's top level.
    let found: Vec<(String, String)> = match serde_json::from_slice::<Value>(body) {
        Ok(v) => ["timestamp", "token", "signature"]
            .into_iter()
            .filter_map(|k| Some((k.to_owned(), text(v.get("signature")?.get(k))?)))
            .collect(),
        Err(_) => url::form_urlencoded::parse(body).into_owned().collect(),
    };
    let field = |k: &str| {
        let value = found.iter().find(|(name, _)| name == k).map(|(_, v)| v.clone());
        value.ok_or_else(|| VerifyError::payload(&format!("signature.{k}"), "missing or not text"))
    };
    Ok(Fields { timestamp: field("timestamp")?, token: field("token")?, signature: field("signature")? })
}

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let f = fields(req.body)?;
    let ts = f
        .timestamp
        .trim()
        .parse::<i64>()
        .map_err(|_| VerifyError::payload("signature.timestamp", "not an integer of unix seconds"))?;
    let given = hex::decode(f.signature.trim())
        .ok()
        .filter(|b| b.len() == 32)
        .ok_or_else(|| VerifyError::payload("signature.signature", "expected 64 hex digits"))?;
    let mac = |key: &[u8]| compute(Sha256, key, &[f.timestamp.as_bytes(), f.token.as_bytes()]);
    let i = outcome(any_matches(secrets, &[given], mac))?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

/// `sign` produces headers, and Mailgun's signature lives in the body.
pub(super) fn cannot_sign() -> VerifyError {
    VerifyError::Misconfigured(
        "scheme `mailgun` carries its signature inside the body (`signature.timestamp`, `.token`, `.signature`), \
         so it cannot be added as headers; send a captured Mailgun request instead"
            .into(),
    )
}

/// A JSON body as Mailgun would post it, for tests.
pub(super) const PROVIDER: Provider = Provider {
    about: "Mailgun: signature.{timestamp,token,signature} in the body, HMAC-SHA256 of timestamp + token",
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, _| Err(cannot_sign()),
    // Mailgun signs only timestamp + token and says to refuse reused tokens: the token is the key.
    identify: |_, _, body| (body_str(body, "/signature/token"), body_str(body, "/event-data/event")),
    ..Provider::DEFAULT
};

#[cfg(test)]
pub(super) fn signed_body(secret: &str, timestamp: i64, token: &str, event: &str) -> Vec<u8> {
    let ts = timestamp.to_string();
    let signature = hex::encode(compute(Sha256, secret.as_bytes(), &[ts.as_bytes(), token.as_bytes()]));
    let body = serde_json::json!({
        "signature": { "timestamp": ts, "token": token, "signature": signature },
        "event-data": { "event": event, "id": "CPgfbmQMTCKtHW6uIWtuVe" },
    });
    serde_json::to_vec(&body).unwrap()
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Mailgun's docs show the fields with a placeholder signature, so this one is built from their
    // procedure: printf '%s' "$TIMESTAMP$TOKEN" | openssl dgst -sha256 -hmac 'key-mailgun-signing'
    const SECRET: &str = "key-mailgun-signing";
    const NOW: i64 = 1_700_000_000;
    const TOKEN: &str = "a8ce0edb2dd8301dccd2ce71f5e7e7c6d0a0a3e5a4f9b7f6c8";
    const SIG: &str = "7342f87c68623476f7430b0b3e9dd6de26a4466d98889cfce51a1e935f1f4014";

    fn body(timestamp: &str, token: &str, sig: &str) -> Vec<u8> {
        format!(
            r#"{{"signature":{{"timestamp":{timestamp},"token":"{token}","signature":"{sig}"}},"event-data":{{"event":"delivered","id":"CPgfbmQMTCKtHW6uIWtuVe"}}}}"#
        )
        .into_bytes()
    }

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Mailgun), SECRET, &[], &body(r#""1700000000""#, TOKEN, SIG), NOW)
    }

    #[test]
    fn vector_in_json_and_legacy_form() {
        let case = case();
        case.passes();
        case.rotates();
        case.rejects_wrong_secret("key-mailgun-signinG");
        // The timestamp as a JSON number, as the docs' type table says.
        assert_eq!(case.verify_body(&body("1700000000", TOKEN, SIG)), Ok(()));
        let form = format!("timestamp=1700000000&token={TOKEN}&signature={SIG}&event=delivered");
        assert_eq!(case.verify_body(form.as_bytes()), Ok(()));
    }

    #[test]
    fn signed_fields_cannot_be_changed_but_event_data_is_not_covered() {
        let case = case();
        let other_token = TOKEN.replace('a', "b");
        assert_eq!(case.verify_body(&body(r#""1700000001""#, TOKEN, SIG)), Err(VerifyError::SignatureMismatch));
        assert_eq!(case.verify_body(&body(r#""1700000000""#, &other_token, SIG)), Err(VerifyError::SignatureMismatch));
        let swapped = String::from_utf8(case.body.clone()).unwrap().replace("delivered", "failed");
        assert_eq!(case.verify_body(swapped.as_bytes()), Ok(()), "by Mailgun's design; dedup on the token");
    }

    #[test]
    fn missing_and_malformed_fields() {
        let case = case();
        for bad in [
            &br#"{"event-data":{}}"#[..],
            br#"{"signature":{"timestamp":"1700000000","token":"t"}}"#,
            br#"{"signature":{"timestamp":[],"token":"t","signature":"00"}}"#,
            &body(r#""soon""#, TOKEN, SIG),
            &body(r#""1700000000""#, TOKEN, "7342f87c"),
            &body(r#""1700000000""#, TOKEN, "not hex"),
            b"",
            b"token=t&signature=00",
        ] {
            let err = case.verify_body(bad).unwrap_err();
            assert_eq!(err.code(), "malformed_signature_payload", "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn a_body_signed_like_mailgun_verifies_and_sign_explains() {
        let case = case();
        let signed = signed_body(SECRET, NOW, TOKEN, "opened");
        assert_eq!(case.verify_body(&signed), Ok(()));
        assert_eq!(case.scheme.sign(SECRET, b"{}", NOW, "d").unwrap_err().code(), "source_misconfigured");
    }
}
