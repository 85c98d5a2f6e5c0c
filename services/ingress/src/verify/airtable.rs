//! Airtable webhooks: `X-Airtable-Content-MAC: hmac-sha256=<hex HMAC-SHA256 of the body>`, keyed
//! with the *base64-decoded* `macSecretBase64` returned when the webhook was created; give that
//! base64 text as the source's secret (<https://airtable.com/developers/web/api/webhooks-overview#webhook-notification-delivery>).
//! Notifications only say that a base changed: no delivery id, no event type.
use base64::Engine as _;
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use hookbus_core::signing::constant_time_eq;

use super::mac::{B64, compute, decode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, required_header};

const HEADER: &str = "X-Airtable-Content-MAC";
const PREFIX: &str = "hmac-sha256=";
const BAD_SECRET: &str = "an `airtable` secret is the webhook's `macSecretBase64`, and this one is not base64";

pub(super) const PROVIDER: Provider = Provider {
    about: "Airtable: X-Airtable-Content-MAC hmac-sha256=<hex HMAC-SHA256 of the body, base64-decoded key>",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        let key = B64.decode(s.secret.trim()).map_err(|_| VerifyError::Misconfigured(BAD_SECRET.into()))?;
        let mac = hex::encode(compute(Sha256, &key, &[s.body]));
        Ok(pairs([(HEADER, format!("{PREFIX}{mac}")), ("Content-Type", "application/json".into())]))
    },
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let hex = value.strip_prefix(PREFIX).ok_or_else(|| VerifyError::malformed(HEADER, "expected `hmac-sha256=<hex>`"))?;
    let given = decode(HEADER, hex, Hex, Sha256)?;
    // A secret that is not base64 cannot match; it is blamed only when no other one matched.
    let keys: Vec<Option<Vec<u8>>> = secrets.iter().map(|s| B64.decode(s.trim()).ok()).collect();
    let matched = keys.iter().enumerate().fold(None, |found, (i, key)| {
        let hit = key.as_ref().is_some_and(|k| constant_time_eq(&given, &compute(Sha256, k, &[req.body])));
        found.or(hit.then_some(i))
    });
    if matched.is_none() && keys.iter().any(Option::is_none) {
        return Err(VerifyError::Misconfigured(BAD_SECRET.into()));
    }
    outcome(matched)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Airtable publishes no vector; built from the docs with the key `airtable-mac-secret-bytes`
    // (base64 `YWlydGFibGUtbWFjLXNlY3JldC1ieXRlcw==`):
    //   printf '%s' "$BODY" | openssl dgst -sha256 -mac HMAC -macopt hexkey:$(printf airtable-mac-secret-bytes | xxd -p)
    const BODY: &[u8] = br#"{"base":{"id":"appABC"},"webhook":{"id":"achXYZ"},"timestamp":"2023-11-14T22:13:20.000Z"}"#;
    const VALUE: &str = "hmac-sha256=538b54133ac169966eeaabc658e6278c8530a01cdc22d5b2eb3dc0eceb8601b6";
    const SECRET: &str = "YWlydGFibGUtbWFjLXNlY3JldC1ieXRlcw==";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Airtable), SECRET, &[(HEADER, VALUE)], BODY, 0);
        case.body_mac("YWlydGFibGUtbWFjLXNlY3JldC1ieXRleg==", HEADER);
        // The raw text of the key is not the key.
        assert_eq!(case.check(&case.headers, BODY, 0, &[hookbus_core::config::Secret::new("airtable-mac-secret-bytes")]).unwrap_err().code(), "source_misconfigured");
    }
}
