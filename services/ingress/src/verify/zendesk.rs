//! Zendesk webhooks: `X-Zendesk-Webhook-Signature: <base64 HMAC-SHA256 of timestamp + body>` with
//! `X-Zendesk-Webhook-Signature-Timestamp: <RFC 3339>`, keyed with the webhook's signing secret
//! (<https://developer.zendesk.com/documentation/webhooks/verifying/>); the timestamp is signed as
//! sent and checked against the source's tolerance. The body's `id` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::identify::fields;
use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const SIG: &str = "X-Zendesk-Webhook-Signature";
const TS: &str = "X-Zendesk-Webhook-Signature-Timestamp";

pub(super) const PROVIDER: Provider = Provider {
    about: "Zendesk: X-Zendesk-Webhook-Signature <base64 HMAC-SHA256 of timestamp + body>",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let at = OffsetDateTime::from_unix_timestamp(s.now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let ts = at.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
        let mac = compute(Sha256, s.secret.as_bytes(), &[ts.as_bytes(), s.body]);
        Ok(pairs([(SIG, encode(Base64, &mac)), (TS, ts), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| fields(body, "/id", "/type"),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let given = decode(SIG, required_header(req.headers, SIG)?, Base64, Sha256)?;
    let ts_text = required_header(req.headers, TS)?;
    let ts = OffsetDateTime::parse(ts_text, &Rfc3339)
        .map_err(|_| VerifyError::malformed(TS, "expected an RFC 3339 timestamp such as 2023-11-14T22:13:20Z"))?
        .unix_timestamp();
    let i = outcome(any_matches(secrets, &[given], |key| compute(Sha256, key, &[ts_text.as_bytes(), req.body])))?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Zendesk publishes no vector; built from the docs with
    //   printf '%s' '2023-11-14T22:13:20Z{"type":"zen:event-type:ticket.created","id":"01GT"}' \
    //     | openssl dgst -sha256 -hmac 'zendesk-signing-secret' -binary | base64
    const BODY: &[u8] = br#"{"type":"zen:event-type:ticket.created","id":"01GT"}"#;
    const SIG_V: &str = "M12iSVPu2nq95mjPCQBwpLIhn1fYPCfJ7DPrWyx2ZmA=";
    const TS_V: &str = "2023-11-14T22:13:20Z";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Zendesk), "zendesk-signing-secret", &[(SIG, SIG_V), (TS, TS_V)], BODY, 1_700_000_000);
        case.standard("zendesk-signing-secreT");
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        case.rejects_malformed(SIG, &[b"M12i", b"!!", b""]);
        case.rejects_malformed(TS, &[b"1700000000", b"2023-11-14", b""]);
        case.enforces_tolerance(1_700_000_000);
        assert_eq!(case.verify_header(TS, b"2023-11-14T22:13:21Z"), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
