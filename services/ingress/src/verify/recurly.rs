//! Recurly: `recurly-signature: <unix ms>,<hex HMAC-SHA256 of "{ms}.{body}">[,<hex>...]`, one
//! signature per active webhook key while Recurly rotates them
//! (<https://recurly.com/developers/guides/signature-verification.html>); the timestamp is checked
//! against the source's tolerance. The body's `id` identifies the notification.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::identify::{body_str, fields};
use super::mac::{any_matches, compute, decode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const HEADER: &str = "recurly-signature";

pub(super) const PROVIDER: Provider = Provider {
    about: "Recurly: recurly-signature <ms>,<hex HMAC-SHA256 of ms.body>[,...]",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let ms = s.now.saturating_mul(1000).to_string();
        let mac = compute(Sha256, s.secret.as_bytes(), &[ms.as_bytes(), b".", s.body]);
        Ok(pairs([(HEADER, format!("{ms},{}", hex::encode(mac))), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| {
        let (id, ty) = fields(body, "/id", "/event_type");
        (id, ty.map(|t| format!("{}.{t}", body_str(body, "/object_type").unwrap_or_default())))
    },
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let value = required_header(req.headers, HEADER)?;
    let mut items = value.split(',').map(str::trim);
    let ms_text = items.next().unwrap_or_default();
    let ms = ms_text
        .parse::<i64>()
        .map_err(|_| VerifyError::malformed(HEADER, "expected `<unix ms>,<hex signature>[,...]`"))?;
    let given: Vec<Vec<u8>> = items.filter_map(|s| decode(HEADER, s, Hex, Sha256).ok()).collect();
    if given.is_empty() {
        return Err(VerifyError::malformed(HEADER, "no 64-hex-digit signature after the timestamp"));
    }
    let mac = |key: &[u8]| compute(Sha256, key, &[ms_text.as_bytes(), b".", req.body]);
    let i = outcome(any_matches(secrets, &given, mac))?;
    check_tolerance(req.now, ms.div_euclid(1000), tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Recurly publishes no vector; built from the docs with
    //   printf '%s' '1700000000000.{"id":"tgq3ik6nbjqq","object_type":"account","event_type":"created"}' \
    //     | openssl dgst -sha256 -hmac 'recurly-webhook-key'
    const BODY: &[u8] = br#"{"id":"tgq3ik6nbjqq","object_type":"account","event_type":"created"}"#;
    const SIG: &str = "ec3168645a38c88502687497bd16353845ccb1f6c94e3caad4d37c1d01590882";

    fn case() -> Case {
        let value = format!("1700000000000,{SIG}");
        Case::new(scheme(SchemeKind::Recurly), "recurly-webhook-key", &[(HEADER, &value)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("recurly-webhook-keY");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[SIG.as_bytes(), b"1700000000000", b"1700000000000,zz", b""]);
        case.enforces_tolerance(1_700_000_000);
        // Rotation on Recurly's side: any listed signature may match.
        let other = "00".repeat(32);
        let both = format!("1700000000000,{other},{SIG}");
        assert_eq!(case.verify_header(HEADER, both.as_bytes()), Ok(()));
        let moved = format!("1700000000001,{SIG}");
        assert_eq!(case.verify_header(HEADER, moved.as_bytes()), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }
}
