//! PayPal webhooks: `PAYPAL-TRANSMISSION-SIG`, base64 RSA-SHA256 (`PAYPAL-AUTH-ALGO:
//! SHA256withRSA`) over `{PAYPAL-TRANSMISSION-ID}|{PAYPAL-TRANSMISSION-TIME}|{webhook id}|{CRC-32 of
//! the body, decimal}` (<https://developer.paypal.com/api/rest/webhooks/#link-verifysignature>,
//! "verify the signature yourself"). PayPal names its certificate in `PAYPAL-CERT-URL`; hookbus does
//! no fetch at verify time: give the certificate (PEM, downloaded once from that URL) as the secret,
//! and the webhook's id as `settings.webhook_id`. The transmission time is checked against the
//! source's tolerance. The body's `id` (the event, stable across redeliveries) is the dedup key.
use base64::Engine as _;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::signature::Verifier as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::aws_sns::certificate_key;
use super::identify::fields;
use super::mac::{B64, any_public_key};
use super::{Inbound, Provider, Scheme, VerifyError, check_tolerance, required_header};

const ID: &str = "PAYPAL-TRANSMISSION-ID";
const TIME: &str = "PAYPAL-TRANSMISSION-TIME";
const SIG: &str = "PAYPAL-TRANSMISSION-SIG";
const ALGO: &str = "PAYPAL-AUTH-ALGO";
const BAD_KEY: &str = "a `paypal` secret is PayPal's signing certificate (PEM) from PAYPAL-CERT-URL";

pub(super) const PROVIDER: Provider = Provider {
    about: "PayPal: PAYPAL-TRANSMISSION-SIG, RSA-SHA256 over id|time|webhook_id|crc32(body); certificate from config",
    headers: &[ID, TIME, SIG, ALGO, "PAYPAL-CERT-URL"],
    settings: &["webhook_id"],
    check: |s| webhook_id(s).map(|_| ()),
    verify: |s, req, keys, tol| verify(webhook_id(s)?, req, keys, tol),
    identify: |_, _, body| fields(body, "/id", "/event_type"),
    ..Provider::DEFAULT
};

fn webhook_id(s: &Scheme) -> Result<&str, VerifyError> {
    s.settings.get("webhook_id").map(String::as_str).filter(|id| !id.is_empty()).ok_or_else(|| {
        VerifyError::Misconfigured(
            "scheme `paypal` signs the webhook's id: set `settings = { webhook_id = \"...\" }` as PayPal shows it".into(),
        )
    })
}

fn verify(webhook_id: &str, req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let id = required_header(req.headers, ID)?;
    let time_text = required_header(req.headers, TIME)?;
    let sig_text = required_header(req.headers, SIG)?;
    if let Some(algo) = req.headers.get(ALGO).map(|v| v.to_str().map(str::trim).ok())
        && algo != Some("SHA256withRSA")
    {
        return Err(VerifyError::malformed(ALGO, "only SHA256withRSA is supported"));
    }
    let at = OffsetDateTime::parse(time_text, &Rfc3339)
        .map_err(|_| VerifyError::malformed(TIME, "expected an RFC 3339 time such as 2023-11-14T22:13:20Z"))?
        .unix_timestamp();
    let sig = B64
        .decode(sig_text)
        .ok()
        .filter(|b| !b.is_empty())
        .and_then(|b| Signature::try_from(b.as_slice()).ok())
        .ok_or_else(|| VerifyError::malformed(SIG, "the signature is not base64"))?;
    let message = format!("{id}|{time_text}|{webhook_id}|{}", crc32fast::hash(req.body));
    let check = |key: &rsa::RsaPublicKey| {
        VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(message.as_bytes(), &sig).is_ok()
    };
    let i = any_public_key(secrets, certificate_key, check, BAD_KEY)?;
    check_tolerance(req.now, at, tolerance_secs)?;
    Ok(i)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, source};
    use super::*;

    // PayPal publishes no vector that verifies offline; built from the docs with a self-signed
    // certificate (`openssl req -x509 -newkey rsa:2048 -nodes`, the same as aws_sns's tests), the
    // CRC-32 of BODY (1138859173, Python's `zlib.crc32`) and
    //   printf '%s' '69cd13f0-d67a-11e5-baa3-778b53f4ae55|2023-11-14T22:13:20Z|1JE4291016473214C|1138859173' \
    //     | openssl dgst -sha256 -sign key.pem | base64
    const CERT: &str = super::super::test_util::SELF_SIGNED_RSA_CERT;
    const BODY: &[u8] = br#"{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_type":"PAYMENT.CAPTURE.COMPLETED","resource":{"id":"1"}}"#;
    const SIG_V: &str = "ABl14Ex/2uIDm5GAmf+cqSdup4T1lkK7R2BJO7vYuEGWT+08nXtH/Xkxeei1Dcpl/gKLQ5CniYfF1+dgP+QjYPlToyS0yLWY7iGVbk3rYY+KW7sKPkCDqJGdNCgCnzlOqdXhV6xDMOAsjFmy7+tc/9xnhXc8QVj/mbYpL96yjFPFnVE185u3hDGfjiRbqFfbJH+eGCkaAZNeBCMNHvJvPCrWLsb+tuN9rPKmLNCJ+eKXrKtyocOY7ugtI1O5oF7SuhHmTDGMGn513kMnHP+/MKunIHDwTJcFy3Yyqn0WCSSrP8VdS0UctvH7zh8uSFpN+kvYCxzZZp8zC3oKFUMYRg==";

    fn scheme_with(webhook_id: &str) -> Scheme {
        let mut config = source("paypal", None);
        config.settings.insert("webhook_id".into(), webhook_id.into());
        Scheme::from_config(&config).unwrap()
    }

    fn case() -> Case {
        let pairs = [
            (ID, "69cd13f0-d67a-11e5-baa3-778b53f4ae55"),
            (TIME, "2023-11-14T22:13:20Z"),
            (SIG, SIG_V),
            (ALGO, "SHA256withRSA"),
            ("PAYPAL-CERT-URL", "https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-a5cafa77"),
        ];
        Case::new(scheme_with("1JE4291016473214C"), CERT, &pairs, BODY, 1_700_000_000)
    }

    #[test]
    fn vector_and_negatives() {
        let case = case();
        case.passes();
        case.rejects_tampered_body();
        case.rotates();
        case.enforces_tolerance(1_700_000_000);
        for h in [ID, TIME, SIG] {
            case.rejects_missing(h);
        }
        case.rejects_malformed(TIME, &[b"1700000000", b""]);
        case.rejects_malformed(SIG, &[b"!!", b""]);
        case.rejects_malformed(ALGO, &[b"SHA1withRSA"]);
        // Every signed part matters: the transmission id and the webhook id.
        assert_eq!(case.verify_header(ID, b"69cd13f0-d67a-11e5-baa3-778b53f4ae56"), Err(VerifyError::SignatureMismatch));
        let other_hook = Case { scheme: scheme_with("1JE4291016473214D"), ..case.clone() };
        assert_eq!(other_hook.verify(), Err(VerifyError::SignatureMismatch));
        assert!(case.scheme.sign(CERT, BODY, 0, "d").is_err());
    }

    #[test]
    fn the_webhook_id_is_required_and_other_settings_refused() {
        let mut bare = source("paypal", None);
        bare.settings.clear();
        assert_eq!(Scheme::from_config(&bare).unwrap_err().code(), "source_misconfigured");
        let mut extra = source("paypal", None);
        extra.settings.insert("webhook_id".into(), "x".into());
        extra.settings.insert("webhookid".into(), "x".into());
        let err = Scheme::from_config(&extra).unwrap_err();
        assert!(err.to_string().contains("webhookid") && err.to_string().contains("webhook_id"), "{err}");
        let mut github = source("github", None);
        github.settings.insert("webhook_id".into(), "x".into());
        assert_eq!(Scheme::from_config(&github).unwrap_err().code(), "source_misconfigured");
        let _ = SchemeKind::Paypal;
    }
}
