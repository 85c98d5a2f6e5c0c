//! Figma webhooks (v2): the `passcode` chosen when the webhook was created comes back in every
//! request's JSON body; nothing is signed (<https://www.figma.com/developers/api#webhooks-v2-security>).
//! Because the proof is inside the body, `hookbus sign` cannot produce it as headers. Figma's
//! `PING` event, sent on creation, is published like any event.
use serde_json::Value;

use super::identify::body_str;
use super::mac::{outcome, token_matches};
use super::{Inbound, Provider, VerifyError};

pub(super) const PROVIDER: Provider = Provider {
    about: "Figma: the webhook's passcode in the JSON body (nothing is signed)",
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, _| {
        Err(VerifyError::Misconfigured(
            "scheme `figma` carries its passcode inside the body, so it cannot be added as headers".into(),
        ))
    },
    identify: |_, _, body| (None, body_str(body, "/event_type")),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let body: Value = serde_json::from_slice(req.body).map_err(|_| VerifyError::payload("passcode", "the body is not JSON"))?;
    let passcode = body
        .get("passcode")
        .and_then(Value::as_str)
        .filter(|p| !p.is_empty())
        .ok_or_else(|| VerifyError::payload("passcode", "missing or not a string"))?;
    outcome(token_matches(secrets, passcode))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::test_util::{Case, expired, scheme};
    use super::*;

    // Nothing is signed; the documented payload shape (https://www.figma.com/developers/api#webhooks-v2-payloads).
    const BODY: &[u8] = br#"{"event_type":"FILE_UPDATE","file_key":"zH5zp","passcode":"figma-passcode","timestamp":"2023-11-14T22:13:20Z","webhook_id":"22"}"#;

    #[test]
    fn passcode_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Figma), "figma-passcode", &[], BODY, 0);
        case.passes();
        case.rejects_wrong_secret("figma-passcodE");
        case.rotates();
        let other = br#"{"event_type":"FILE_UPDATE","passcode":"figma-passcodE"}"#;
        assert_eq!(case.verify_body(other), Err(VerifyError::SignatureMismatch));
        for bad in [&br#"{"event_type":"PING"}"#[..], br#"{"passcode":7}"#, br#"{"passcode":""}"#, b"passcode=figma-passcode", b""] {
            assert_eq!(case.verify_body(bad).unwrap_err().code(), "malformed_signature_payload", "{bad:?}");
        }
        assert_eq!(case.check(&case.headers, BODY, 0, &[expired("figma-passcode", 0)]), Err(VerifyError::NoActiveSecret));
        assert!(case.scheme.sign("figma-passcode", BODY, 0, "d").is_err());
        let _ = Secret::new("unused");
    }
}
