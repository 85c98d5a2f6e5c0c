//! Frame.io: `X-Frameio-Signature: v0=<hex HMAC-SHA256 of "v0:{timestamp}:{body}">` with
//! `X-Frameio-Request-Timestamp: <unix seconds>`, keyed with the webhook's secret
//! (<https://developer.frame.io/docs/automations-webhooks/webhooks-overview#security-and-verification>),
//! the same construction as Slack's under other headers; the timestamp is checked against the
//! source's tolerance (Frame.io suggests five minutes).
use super::identify::body_str;
use super::mac::pairs;
use super::slack::{v0_value, verify_v0};
use super::{Provider, Signing};

const SIG: &str = "X-Frameio-Signature";
const TS: &str = "X-Frameio-Request-Timestamp";

pub(super) const PROVIDER: Provider = Provider {
    about: "Frame.io: X-Frameio-Signature v0=<hex HMAC-SHA256 of v0:timestamp:body>",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify_v0(req, keys, tol, SIG, TS),
    sign: |_, s| Ok(sign(s)),
    identify: |_, _, body| (body_str(body, "/resource/id"), body_str(body, "/type")),
    ..Provider::DEFAULT
};

fn sign(s: &Signing<'_>) -> Vec<(String, String)> {
    pairs([(SIG, v0_value(s.secret, s.body, s.now)), (TS, s.now.to_string()), ("Content-Type", "application/json".into())])
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Frame.io publishes no vector; built from the docs with
    //   printf '%s' 'v0:1700000000:{"type":"asset.created","resource":{"id":"a1"}}' \
    //     | openssl dgst -sha256 -hmac 'frameio-secret'
    const BODY: &[u8] = br#"{"type":"asset.created","resource":{"id":"a1"}}"#;
    const SIG_V: &str = "v0=5f4d8ac4762ceb7b154301c3262295aaa1c8c7627e2709efabf769d3175aa631";

    #[test]
    fn vector_and_negatives() {
        let case =
            Case::new(scheme(SchemeKind::Frameio), "frameio-secret", &[(SIG, SIG_V), (TS, "1700000000")], BODY, 1_700_000_000);
        case.standard("frameio-secreT");
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        case.rejects_malformed(SIG, &[b"5f4d8ac4", b"v0=zz", b""]);
        case.rejects_malformed(TS, &[b"soon", b""]);
        case.enforces_tolerance(1_700_000_000);
        assert_eq!(case.verify_header(TS, b"1700000001"), Err(super::super::VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
