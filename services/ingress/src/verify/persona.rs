//! Persona: `Persona-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "{t}.{body}">`, and during a secret
//! rotation several such pairs separated by spaces, any one matching
//! (<https://docs.withpersona.com/docs/webhooks-best-practices#checking-signatures>); the timestamp
//! is checked against the source's tolerance. The body's `data.id` identifies the event.
use hookbus_core::config::HmacAlgorithm::Sha256;

use super::identify::fields;
use super::mac::{any_matches, compute, pairs, parse_ts_sigs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const HEADER: &str = "Persona-Signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "Persona: Persona-Signature t=<unix>,v1=<hex HMAC-SHA256 of t.body>[ t=..,v1=..]",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let t = s.now.to_string();
        let v1 = hex::encode(compute(Sha256, s.secret.as_bytes(), &[t.as_bytes(), b".", s.body]));
        Ok(pairs([(HEADER, format!("t={t},v1={v1}")), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| fields(body, "/data/id", "/data/attributes/name"),
    ..Provider::DEFAULT
};

/// Each space-separated pair is checked on its own timestamp; the first that matches decides.
/// Pairs that do not parse cannot match; only a header without any usable pair is malformed.
fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let parsed: Vec<_> = value.split_whitespace().map(|p| parse_ts_sigs(HEADER, p, ',', "t", "v1")).collect();
    if !parsed.iter().any(Result::is_ok) {
        let first = parsed.into_iter().find_map(Result::err);
        return Err(first.unwrap_or_else(|| VerifyError::malformed(HEADER, "expected `t=<unix>,v1=<hex>`")));
    }
    let matched = parsed.iter().flatten().fold(None, |found, (t_text, t, given)| {
        let mac = |key: &[u8]| compute(Sha256, key, &[t_text.as_bytes(), b".", req.body]);
        let hit = any_matches(secrets, given, mac).map(|i| (i, *t));
        found.or(hit)
    });
    let (i, t) = matched.ok_or(VerifyError::SignatureMismatch)?;
    check_tolerance(req.now, t, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Persona publishes no vector; built from the docs with
    //   printf '%s' '1700000000.{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed"}}}' \
    //     | openssl dgst -sha256 -hmac 'wbhsec_persona'
    const BODY: &[u8] = br#"{"data":{"type":"event","id":"evt_1","attributes":{"name":"inquiry.completed"}}}"#;
    const VALUE: &str = "t=1700000000,v1=a5ba76c2a2414c35241b49fad4157e78228389c06e29fae9ec95ec70bea4e0cb";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Persona), "wbhsec_persona", &[(HEADER, VALUE)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("wbhsec_personA");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"v1=a5ba", b"t=1700000000", b"t=x,v1=00", b""]);
        case.enforces_tolerance(1_700_000_000);
        // Rotation on Persona's side: a pair under the old secret, then the current one.
        let rotated = format!("t=1700000000,v1={} {VALUE}", "00".repeat(32));
        assert_eq!(case.verify_header(HEADER, rotated.as_bytes()), Ok(()));
        let moved = VALUE.replace("t=1700000000", "t=1700000001");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
