//! Box: `BOX-SIGNATURE-PRIMARY` and `BOX-SIGNATURE-SECONDARY`, each a base64 HMAC-SHA256 of the body
//! followed by `BOX-DELIVERY-TIMESTAMP` (RFC 3339), under the app's primary and secondary key
//! (<https://developer.box.com/guides/webhooks/v2/signatures-v2/>). Give both keys as the source's
//! secrets: any header matching under any key accepts, so either key can be rotated. The timestamp
//! is checked against the source's tolerance (Box's SDKs allow ten minutes). `BOX-DELIVERY-ID`
//! identifies the delivery.
use hookbus_core::config::HmacAlgorithm::Sha256;
use hookbus_core::config::SigEncoding::Base64;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::identify::{body_str, header};
use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::{Inbound, Provider, VerifyError, check_tolerance, required_header};

const PRIMARY: &str = "BOX-SIGNATURE-PRIMARY";
const SECONDARY: &str = "BOX-SIGNATURE-SECONDARY";
const TS: &str = "BOX-DELIVERY-TIMESTAMP";

pub(super) const PROVIDER: Provider = Provider {
    about: "Box: BOX-SIGNATURE-PRIMARY/-SECONDARY <base64 HMAC-SHA256 of body + BOX-DELIVERY-TIMESTAMP>",
    headers: &[PRIMARY, SECONDARY, TS, "BOX-SIGNATURE-VERSION", "BOX-SIGNATURE-ALGORITHM"],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    sign: |_, s| {
        let at = OffsetDateTime::from_unix_timestamp(s.now).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let ts = at.format(&Rfc3339).unwrap_or_else(|_| "1970-01-01T00:00:00Z".into());
        let sig = encode(Base64, &compute(Sha256, s.secret.as_bytes(), &[s.body, ts.as_bytes()]));
        Ok(pairs([
            (PRIMARY, sig),
            (TS, ts),
            ("BOX-DELIVERY-ID", s.id.to_owned()),
            ("BOX-SIGNATURE-VERSION", "1".into()),
            ("BOX-SIGNATURE-ALGORITHM", "HmacSHA256".into()),
            ("Content-Type", "application/json".into()),
        ]))
    },
    identify: |_, h, body| (header(h, "box-delivery-id"), body_str(body, "/trigger")),
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let mut given = Vec::new();
    for name in [PRIMARY, SECONDARY] {
        if let Some(value) = req.headers.get(name) {
            let text = value.to_str().map_err(|_| VerifyError::malformed(name, "not visible ASCII"))?;
            given.push(decode(name, text, Base64, Sha256)?);
        }
    }
    if given.is_empty() {
        return Err(VerifyError::MissingHeader(PRIMARY.into()));
    }
    for (name, expected) in [("BOX-SIGNATURE-VERSION", "1"), ("BOX-SIGNATURE-ALGORITHM", "HmacSHA256")] {
        if let Some(v) = req.headers.get(name).map(|v| v.to_str().map(str::trim).ok())
            && v != Some(expected)
        {
            return Err(VerifyError::malformed(name, format!("only `{expected}` is supported")));
        }
    }
    let ts_text = required_header(req.headers, TS)?;
    let ts = OffsetDateTime::parse(ts_text, &Rfc3339)
        .map_err(|_| VerifyError::malformed(TS, "expected an RFC 3339 timestamp"))?
        .unix_timestamp();
    let i = outcome(any_matches(secrets, &given, |key| compute(Sha256, key, &[req.body, ts_text.as_bytes()])))?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Box publishes no vector; built from the docs with
    //   printf '%s' '{"type":"webhook_event","id":"eb0c4e06","trigger":"FILE.UPLOADED"}2023-11-14T22:13:20+00:00' \
    //     | openssl dgst -sha256 -hmac 'box-primary-key' -binary | base64
    // and confirmed with Box's SDK (`npm install box-node-sdk`, 10.12.0), its clock set to 1700000000:
    //   await WebhooksManager.validateMessage(BODY, headers, 'box-primary-key')   # true
    const BODY: &[u8] = br#"{"type":"webhook_event","id":"eb0c4e06","trigger":"FILE.UPLOADED"}"#;
    const SIG: &str = "PNCJm1hbPgSozLAn8+9QzlymJLnkzYJL2h9JaRimSFY=";
    const TS_V: &str = "2023-11-14T22:13:20+00:00";

    fn case() -> Case {
        Case::new(scheme(SchemeKind::BoxCom), "box-primary-key", &[(PRIMARY, SIG), (TS, TS_V)], BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.standard("box-primary-keY");
        case.rejects_missing(PRIMARY);
        case.rejects_missing(TS);
        case.rejects_malformed(PRIMARY, &[b"PNCJ", b"!!", b""]);
        case.rejects_malformed(TS, &[b"1700000000", b""]);
        case.rejects_malformed("BOX-SIGNATURE-ALGORITHM", &[b"HmacSHA1"]);
        case.enforces_tolerance(1_700_000_000);
        assert_eq!(case.verify_header(TS, b"2023-11-14T22:13:21+00:00"), Err(VerifyError::SignatureMismatch));
        case.round_trips();
    }

    #[test]
    fn the_secondary_signature_and_key_also_verify() {
        // The same signature moved to the secondary header, with the keys in either order.
        let mut only_secondary = case().headers;
        only_secondary.remove(PRIMARY);
        only_secondary.insert(SECONDARY, http::HeaderValue::from_static(SIG));
        let keys = [Secret::new("box-secondary-key"), Secret::new("box-primary-key")];
        assert_eq!(case().check(&only_secondary, BODY, 1_700_000_000, &keys), Ok(()));
        let mut both = only_secondary.clone();
        both.insert(PRIMARY, http::HeaderValue::from_static("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="));
        assert_eq!(case().check(&both, BODY, 1_700_000_000, &keys), Ok(()));
    }
}
