//! Buildkite: `X-Buildkite-Signature: timestamp=<unix>,signature=<hex HMAC-SHA256 of
//! "{timestamp}.{body}">` keyed with the webhook's token (<https://buildkite.com/docs/apis/webhooks#webhook-signature>);
//! the timestamp is checked against the source's tolerance. (Buildkite's other mode, sending the
//! token itself in `X-Buildkite-Token`, is not supported: use the signature.)
use hookbus_core::config::HmacAlgorithm::Sha256;

use super::identify::{body_str, header};
use super::mac::{any_matches, compute, outcome, pairs, parse_ts_sigs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const HEADER: &str = "X-Buildkite-Signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "Buildkite: X-Buildkite-Signature timestamp=<unix>,signature=<hex HMAC-SHA256 of ts.body>",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let t = s.now.to_string();
        let sig = hex::encode(compute(Sha256, s.secret.as_bytes(), &[t.as_bytes(), b".", s.body]));
        Ok(pairs([(HEADER, format!("timestamp={t},signature={sig}")), ("Content-Type", "application/json".into())]))
    },
    identify: |_, h, body| (None, header(h, "x-buildkite-event").or_else(|| body_str(body, "/event"))),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let (t_text, t, given) = parse_ts_sigs(HEADER, value, ',', "timestamp", "signature")?;
    let i = outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[t_text.as_bytes(), b".", req.body])))?;
    check_tolerance(req.now, t, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Buildkite publishes no vector; built from the docs with
    //   printf '%s' '1700000000.{"event":"build.finished","build":{"id":"b1"}}' | openssl dgst -sha256 -hmac 'buildkite-token'
    const BODY: &[u8] = br#"{"event":"build.finished","build":{"id":"b1"}}"#;
    const VALUE: &str = "timestamp=1700000000,signature=6d467cee84cc86aad439158eef75b6f692614eb8498c514ccedc164155e13b44";

    #[test]
    fn vector_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Buildkite), "buildkite-token", &[(HEADER, VALUE)], BODY, 1_700_000_000);
        case.standard("buildkite-tokeN");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"signature=6d46", b"timestamp=1700000000", b"timestamp=x,signature=00", b""]);
        case.enforces_tolerance(1_700_000_000);
        let moved = VALUE.replace("timestamp=1700000000", "timestamp=1700000001");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
