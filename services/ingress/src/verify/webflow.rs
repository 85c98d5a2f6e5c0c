//! Webflow: `x-webflow-signature: <hex HMAC-SHA256 of "{timestamp}:{body}">` with
//! `x-webflow-timestamp: <unix milliseconds>`, keyed with the webhook's secret (or the app's client
//! secret) (<https://developers.webflow.com/data/docs/working-with-webhooks#validating-request-signatures>);
//! the timestamp is checked against the source's tolerance (Webflow suggests five minutes).
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::identify::body_str;
use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const SIG: &str = "x-webflow-signature";
const TS: &str = "x-webflow-timestamp";

pub(super) const PROVIDER: Provider = Provider {
    about: "Webflow: x-webflow-signature <hex HMAC-SHA256 of ms-timestamp:body>",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let ts = s.now.saturating_mul(1000).to_string();
        let mac = compute(Sha256, s.secret.as_bytes(), &[ts.as_bytes(), b":", s.body]);
        Ok(pairs([(SIG, hex::encode(mac)), (TS, ts), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (body_str(body, "/payload/id"), body_str(body, "/triggerType")),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let given = decode(SIG, required_header(req.headers, SIG)?, Hex, Sha256)?;
    let ts_text = required_header(req.headers, TS)?;
    let ms = ts_text.parse::<i64>().map_err(|_| VerifyError::malformed(TS, "expected unix milliseconds"))?;
    let mac = |key: &[u8]| compute(Sha256, key, &[ts_text.as_bytes(), b":", req.body]);
    let i = outcome(any_matches(secrets, &[given], mac))?;
    check_tolerance(req.now, ms.div_euclid(1000), tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Webflow publishes no vector; built from the docs with
    //   printf '%s' '1700000000000:{"triggerType":"form_submission","payload":{"id":"f1"}}' \
    //     | openssl dgst -sha256 -hmac 'webflow-secret'
    // and confirmed with Webflow's SDK (`npm install webflow-api`, 3.3.4):
    //   await client.webhooks.verifySignature({ headers, body: BODY, secret: 'webflow-secret' })   # true
    const BODY: &[u8] = br#"{"triggerType":"form_submission","payload":{"id":"f1"}}"#;
    const SIG_V: &str = "a25f886450dbd5fd07f32eed40222812df1815897df2141feaeb17c08a3f85e5";

    #[test]
    fn vector_and_negatives() {
        let case =
            Case::new(scheme(SchemeKind::Webflow), "webflow-secret", &[(SIG, SIG_V), (TS, "1700000000000")], BODY, 1_700_000_000);
        case.standard("webflow-secreT");
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        case.rejects_malformed(SIG, &[b"a25f", b"zz", b""]);
        case.rejects_malformed(TS, &[b"1700000000.5", b""]);
        case.enforces_tolerance(1_700_000_000);
        assert_eq!(case.verify_header(TS, b"1700000000001"), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
