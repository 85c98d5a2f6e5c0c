//! Mux: `Mux-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">` keyed with the webhook's
//! signing secret (<https://docs.mux.com/core/verify-webhook-signatures>), the timestamp checked
//! against the source's tolerance. The body's `id` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha256;

use super::identify::fields;
use super::mac::{any_matches, compute, outcome, pairs, parse_ts_sigs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const HEADER: &str = "Mux-Signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "Mux: Mux-Signature t=<unix>,v1=<hex HMAC-SHA256 of t.body>",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    identify: |_, _, body| fields(body, "/id", "/type"),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let (t_text, t, given) = parse_ts_sigs(HEADER, required_header(req.headers, HEADER)?, ',', "t", "v1")?;
    let i = outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[t_text.as_bytes(), b".", req.body])))?;
    check_tolerance(req.now, t, tolerance_secs)?;
    Ok(i)
}

fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    let t = now.to_string();
    let v1 = hex::encode(compute(Sha256, secret.as_bytes(), &[t.as_bytes(), b".", body]));
    pairs([(HEADER, format!("t={t},v1={v1}")), ("Content-Type", "application/json".into())])
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Mux publishes no vector; built from the docs with
    //   printf '%s' '1700000000.{"type":"video.asset.ready","id":"3a56ac3d","data":{}}' \
    //     | openssl dgst -sha256 -hmac 'mux-signing-secret'
    // and confirmed with Mux's SDK (`npm install @mux/mux-node`, 15.3.0), its clock set to 1700000000:
    //   await new Mux({ webhookSecret }).webhooks.verifySignature(BODY, { 'mux-signature': VALUE })   # no throw
    const BODY: &[u8] = br#"{"type":"video.asset.ready","id":"3a56ac3d","data":{}}"#;
    const VALUE: &str = "t=1700000000,v1=3da3652dc88c7a63f967d2b4389fa8348d3cbb050f0180167ce6fd282ed0eb8b";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Mux), "mux-signing-secret", &[(HEADER, VALUE)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("mux-signing-secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"v1=3da3", b"t=1700000000", b"t=x,v1=00", b""]);
        case.enforces_tolerance(1_700_000_000);
        let moved = VALUE.replace("t=1700000000", "t=1700000001");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
