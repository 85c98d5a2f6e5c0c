//! PagerDuty v3 webhooks: `X-PagerDuty-Signature: v1=<hex>[,v1=<hex>...]`, each `v1` the hex
//! HMAC-SHA256 of the raw body under one of the subscription's secrets; several appear while
//! PagerDuty rotates them, and any one matching accepts
//! (<https://github.com/PagerDuty/developer-docs/blob/main/docs/webhooks/04-Signatures.md>, published
//! as the developer docs' "Webhook Signatures"). No signed timestamp; dedup keys on the event id.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, VerifyError, required_header};
use super::Provider;
use super::identify::fields;

const HEADER: &str = "X-PagerDuty-Signature";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let mut given = Vec::new();
    for item in value.split(',').map(str::trim) {
        // Only v1 exists; other versions are ignored so that a future one does not break this.
        if let Some(hex) = item.strip_prefix("v1=") {
            given.push(decode(HEADER, hex, Hex, Sha256)?);
        }
    }
    if given.is_empty() {
        return Err(VerifyError::malformed(HEADER, "no `v1=<hex>` signature in the list"));
    }
    outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[req.body])))
}

pub(super) fn sign(secret: &str, body: &[u8]) -> Vec<(String, String)> {
    let v1 = hex::encode(compute(Sha256, secret.as_bytes(), &[body]));
    pairs([(HEADER, format!("v1={v1}")), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "PagerDuty v3: X-PagerDuty-Signature v1=<hex HMAC-SHA256 of the body>[,v1=...]",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| Ok(sign(s.secret, s.body)),
    identify: |_, _, body| fields(body, "/event/id", "/event/event_type"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // No vector in PagerDuty's docs; built from them (body shaped like a v3 event) with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'pd-webhook-secret'
    const SECRET: &str = "pd-webhook-secret";
    const BODY: &[u8] = br#"{"event":{"id":"01DEN5MJ0VGGKX6RBKZ5ADRN2A","event_type":"incident.triggered","resource_type":"incident","occurred_at":"2023-11-14T22:13:20.000Z"}}"#;
    const V1: &str = "v1=45a5ea27084c8f0d1690147c8f1bf3e5937b72daebc976416e08c1423db3df45";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Pagerduty), SECRET, &[(HEADER, V1)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("pd-webhook-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"45a5ea27", b"v2=45a5", b"v1=45a5", b"v1=zz,v1=00", b""]);
    }

    #[test]
    fn any_signature_in_the_list_may_match() {
        let case = case();
        let other = "v1=6ffbb59b2300aae63f272406069a9788598b792a944a07aba816edb039989a39";
        for value in [format!("{other},{V1}"), format!("{V1}, {other}"), format!("v2=future,{V1}")] {
            assert_eq!(case.verify_header(HEADER, value.as_bytes()), Ok(()), "{value}");
        }
        assert_eq!(case.verify_header(HEADER, other.as_bytes()), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn sign_then_verify_round_trips() {
        case().round_trips();
        assert_eq!(case().scheme.sign(SECRET, BODY, 0, "d").unwrap()[0].1, V1);
    }
}
