//! Linear: `Linear-Signature: <hex HMAC-SHA256 of the raw body>` keyed with the webhook's signing
//! secret, plus `webhookTimestamp` (unix milliseconds) in the JSON body, which Linear says to check
//! for freshness (<https://linear.app/developers/webhooks>). The body is signed, so the timestamp
//! inside it is too; it is read only after the signature verified.
//! Dedup keys on `Linear-Delivery`.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Hex;

use super::mac::{BodyMac, pairs};
use super::{Inbound, VerifyError, check_tolerance};
use super::Provider;
use super::identify::{body_str, header};

const HEADER: &str = "Linear-Signature";
const MAC: BodyMac = BodyMac { header: HEADER, prefix: "", alg: Sha256, enc: Hex };
const FIELD: &str = "webhookTimestamp";

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let i = MAC.verify(req, secrets)?;
    let body: serde_json::Value =
        serde_json::from_slice(req.body).map_err(|_| VerifyError::payload(FIELD, "the body is not JSON"))?;
    let ms = body
        .get(FIELD)
        .and_then(serde_json::Value::as_i64)
        .ok_or_else(|| VerifyError::payload(FIELD, "expected an integer of unix milliseconds"))?;
    check_tolerance(req.now, ms.div_euclid(1000), tolerance_secs)?;
    Ok(i)
}

pub(super) fn sign(secret: &str, body: &[u8], delivery_id: &str) -> Vec<(String, String)> {
    pairs([
        (HEADER, MAC.value(secret, body)),
        ("Linear-Delivery", delivery_id.into()),
        ("Linear-Event", "Issue".into()),
        ("Content-Type", "application/json".into()),
    ])
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Linear: Linear-Signature <hex HMAC-SHA256 of the body> + webhookTimestamp in the body",
    headers: &[HEADER],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| Ok(sign(s.secret, s.body, s.id)),
    round_trips: false,
    identify: |_, h, body| (header(h, "linear-delivery"), header(h, "linear-event").or_else(|| body_str(body, "/type"))),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::test_util::{Case, headers, scheme};
    use super::*;

    // No published vector; built from the docs (body shaped like their Issue example) with
    //   printf '%s' "$BODY" | openssl dgst -sha256 -hmac 'lin_wh_secret'
    const SECRET: &str = "lin_wh_secret";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"action":"create","type":"Issue","data":{"id":"2174add1-f7c8-44e3-bbf3-2d60b5ea8bc9","title":"Hook it up"},"url":"https://linear.app/acme/issue/ENG-1","webhookTimestamp":1700000000123}"#;
    const SIG: &str = "41bf968663490908eb8db7e7e4377489583289389a15d0b2ba7751dfc83a1f9f";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::Linear), SECRET, &[(HEADER, SIG), ("Linear-Delivery", "d-1")], BODY, NOW)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("lin_wh_secreT");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"sha256=41bf", b"41bf9686", b"not hex"]);
    }

    #[test]
    fn expired_and_future_body_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn a_signed_body_without_a_usable_timestamp_is_refused() {
        let case = case();
        for body in [&br#"{"type":"Issue"}"#[..], br#"{"webhookTimestamp":"1700000000123"}"#, b"not json", b""] {
            let signed = Case { body: body.to_vec(), headers: Default::default(), ..case.clone() };
            let pairs = signed.scheme.sign(SECRET, body, NOW, "d").unwrap();
            let got = signed.check(&headers(&pairs), body, NOW, &[Secret::new(SECRET)]);
            assert_eq!(got.unwrap_err().code(), "malformed_signature_payload", "{:?}", String::from_utf8_lossy(body));
        }
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let pairs = case().scheme.sign(SECRET, BODY, NOW, "d").unwrap();
        assert_eq!(pairs[0].1, SIG);
        let got = case().check(&headers(&pairs), BODY, NOW, &[Secret::new(SECRET)]);
        assert_eq!(got, Ok(()));
    }
}
