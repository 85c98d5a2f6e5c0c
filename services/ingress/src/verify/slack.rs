//! Slack v0 request signing: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">` with the
//! app's signing secret, and `X-Slack-Request-Timestamp: {ts}` (unix seconds), rejected beyond the
//! tolerance (Slack suggests five minutes)
//! (<https://api.slack.com/authentication/verifying-requests-from-slack>). The same construction,
//! under other header names, is Zoom's (`zoom.rs`), so it lives here as [`verify_v0`].
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header};
use super::Provider;
use super::identify::body_str;
use crate::handshake::{Answer, json_of_type, string_at};

const SIG: &str = "X-Slack-Signature";
const TS: &str = "X-Slack-Request-Timestamp";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    verify_v0(req, secrets, tolerance_secs, SIG, TS)
}

/// `sig_header: v0=<hex HMAC-SHA256 of "v0:{ts}:{body}">` with `ts_header: {unix seconds}`.
pub(super) fn verify_v0(
    req: &Inbound<'_>,
    secrets: &[&str],
    tolerance_secs: u64,
    sig_header: &str,
    ts_header: &str,
) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, sig_header)?;
    let ts_text = required_header(req.headers, ts_header)?;
    let ts = parse_timestamp(ts_header, ts_text)?;
    let hex = value.strip_prefix("v0=").ok_or_else(|| VerifyError::malformed(sig_header, "expected `v0=<hex>`"))?;
    let given = decode(sig_header, hex, Hex, Sha256)?;
    let mac = |key: &[u8]| compute(Sha256, key, &[b"v0:", ts_text.as_bytes(), b":", req.body]);
    let i = outcome(any_matches(secrets, &[given], mac))?;
    // After the signature, so a tolerance error always concerns an authentic delivery.
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

/// The `v0=` signature for `body` at `now`.
pub(super) fn v0_value(secret: &str, body: &[u8], now: i64) -> String {
    let ts = now.to_string();
    format!("v0={}", hex::encode(compute(Sha256, secret.as_bytes(), &[b"v0:", ts.as_bytes(), b":", body])))
}

pub(super) fn sign(secret: &str, body: &[u8], now: i64) -> Vec<(String, String)> {
    pairs([(SIG, v0_value(secret, body, now)), (TS, now.to_string()), ("Content-Type", "application/json".into())])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Slack: X-Slack-Signature v0=<hex HMAC-SHA256 of v0:timestamp:body>; answers url_verification",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.now)),
    // Events API; slash commands and interactivity are forms and carry no JSON id.
    identify: |_, _, body| (body_str(body, "/event_id"), body_str(body, "/event/type").or_else(|| body_str(body, "/type"))),
    handshake: |_, body, _| {
        let Some(v) = json_of_type(body, "/type", "url_verification") else { return Ok(None) };
        let challenge = string_at(&v, "/challenge", "Slack url_verification")?;
        Ok(Some(Answer::text("slack", challenge)))
    },
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Slack's own worked example (a slash command), from
    // https://api.slack.com/authentication/verifying-requests-from-slack ("Step-by-step walk-through"),
    // cross-checked with `printf '%s' "v0:1531420618:$BODY" | openssl dgst -sha256 -hmac "$SECRET"`.
    const SECRET: &str = "8f742231b10e8888abcd99yyyzzz85a5";
    const TS: i64 = 1531420618;
    const BODY: &[u8] = b"token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
    const SIGNATURE: &str = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

    fn case() -> Case {
        let pairs = [(SIG, SIGNATURE), (super::TS, "1531420618")];
        Case::new(scheme(SchemeKind::Slack), SECRET, &pairs, BODY, TS)
    }

    #[test]
    fn documented_example_and_negatives() {
        let case = case();
        case.standard("8f742231b10e8888abcd99yyyzzz85a6");
        case.rejects_missing(SIG);
        case.rejects_missing(super::TS);
        let sig256 = b"a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";
        case.rejects_malformed(SIG, &[sig256, b"v1=a2114d57", b"v0=a2114d57", b"v0=zz", b"v0="]);
        case.rejects_malformed(super::TS, &[b"yesterday", b"1531420618.5", b"", b"99999999999999999999"]);
        // The timestamp is signed: moving it to dodge the tolerance breaks the signature.
        assert_eq!(case.verify_header(super::TS, b"1531420619"), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(TS);
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let case = case();
        case.round_trips();
        let pairs = case.scheme.sign(SECRET, BODY, TS, "d").unwrap();
        assert_eq!(pairs[0].1, SIGNATURE);
    }
}
