//! SendGrid signed Event Webhook: `X-Twilio-Email-Event-Webhook-Signature` is a base64 DER ECDSA
//! P-256 / SHA-256 signature over `X-Twilio-Email-Event-Webhook-Timestamp` + raw body, verified
//! with the public key SendGrid shows (base64 DER SubjectPublicKeyInfo; PEM armor is tolerated)
//! (<https://www.twilio.com/docs/sendgrid/for-developers/tracking-events/getting-started-event-webhook-security-features>).
//! The source's "secrets" are public keys; several are tried (rotation). The timestamp is signed
//! and checked against the tolerance. High-S signatures are accepted, as OpenSSL and SendGrid's
//! own verifiers accept them. `sign` cannot work without SendGrid's private key.
use base64::Engine as _;
use p256::ecdsa::signature::Verifier as _;
use p256::ecdsa::{Signature, VerifyingKey};
use p256::pkcs8::DecodePublicKey as _;

use super::mac::{B64, any_public_key};
use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header};
use super::Provider;
use super::identify::batch;

const SIG: &str = "X-Twilio-Email-Event-Webhook-Signature";
const TS: &str = "X-Twilio-Email-Event-Webhook-Timestamp";

const BAD_KEY: &str = "a `sendgrid` secret is not a P-256 public key: give the base64 \"Verification Key\" \
                       SendGrid shows for the signed Event Webhook";

/// The public key from its base64 DER (with or without PEM armor and line breaks).
pub(super) fn public_key(secret: &str) -> Option<VerifyingKey> {
    let b64: String =
        secret.lines().filter(|l| !l.trim_start().starts_with("-----")).flat_map(str::split_whitespace).collect();
    VerifyingKey::from_public_key_der(&B64.decode(b64).ok()?).ok()
}

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let sig_text = required_header(req.headers, SIG)?;
    let ts_text = required_header(req.headers, TS)?;
    let ts = parse_timestamp(TS, ts_text)?;
    let der = B64.decode(sig_text).map_err(|_| VerifyError::malformed(SIG, "the signature is not base64"))?;
    let sig = Signature::from_der(&der)
        .map_err(|_| VerifyError::malformed(SIG, "the signature is not a DER-encoded ECDSA signature"))?;
    let message = [ts_text.as_bytes(), req.body].concat();
    let i = any_public_key(secrets, public_key, |key| key.verify(&message, &sig).is_ok(), BAD_KEY)?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

pub(super) const PROVIDER: Provider = Provider {
    about: "SendGrid Event Webhook: ECDSA P-256 over timestamp + body; the secret is the public key",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    identify: |_, _, body| batch(body, "sg_event_id", "event"),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use p256::ecdsa::SigningKey;
    use p256::ecdsa::signature::Signer as _;

    use super::super::Scheme;
    use super::super::test_util::{Case, headers};
    use super::*;

    // From SendGrid's SDK test suites (sendgrid-nodejs `@sendgrid/eventwebhook`, sendgrid-python,
    // sendgrid-go, sendgrid-java, sendgrid-ruby, sendgrid-php: the same vector in each), cross-checked
    // with `openssl dgst -sha256 -verify pub.der -keyform DER -signature sig.der` over "$TS$BODY".
    const PUBLIC_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEDr2LjtURuePQzplybdC+u4CwrqDqBaWjcMMsTbhdbcwHBcepxo7yAQGhHPTnlvFYPAZFceEu/1FwCM/QmGUhA==";
    const OTHER_KEY: &str = "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEqTxd43gyp8IOEto2LdIfjRQrIbsd4SXZkLW6jDutdhXSJCWHw8REntlo7aNDthvj+y7GjUuFDb/R1NGe1OPzpA==";
    const SIGNATURE: &str =
        "MEUCIQCtIHJeH93Y+qpYeWrySphQgpNGNr/U+UyUlBkU6n7RAwIgJTz2C+8a8xonZGi6BpSzoQsbVRamr2nlxFDWYNH2j/0=";
    const STAMP: &str = "1588788367";
    const NOW: i64 = 1588788367;
    const BODY: &[u8] = br#"{"category":"example_payload","event":"test_event","message_id":"message_id"}"#;
    /// The private scalar behind PUBLIC_KEY, from sendgrid-go's tests (`testPrivateKey`, SEC1 DER;
    /// read with `openssl ec -inform DER -text`), so round trips verify under the published key.
    const SCALAR: &str = "442666004487d0dc53dccc977e1cccadf1a2fe0062f9bd3f7afbacd07674d5ed";

    fn case() -> Case {
        Case::new(Scheme::of(hookbus_core::config::SchemeKind::Sendgrid), PUBLIC_KEY, &[(SIG, SIGNATURE), (TS, STAMP)], BODY, NOW)
    }

    /// Headers as SendGrid would send them, signed with the fixed key.
    fn signed(body: &[u8], ts: i64) -> http::HeaderMap {
        let key = SigningKey::from_slice(&hex::decode(SCALAR).unwrap()).unwrap();
        let sig: Signature = key.sign(&[ts.to_string().as_bytes(), body].concat());
        headers(&[(SIG.into(), B64.encode(sig.to_der())), (TS.into(), ts.to_string())])
    }

    #[test]
    fn sdk_vector_and_negatives() {
        let case = case();
        case.standard(OTHER_KEY);
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        // The SDKs' failing signature (one digit changed) and timestamp.
        let failing = SIGNATURE.replace("WYNH2j", "WYNH3j");
        assert_eq!(case.verify_header(SIG, failing.as_bytes()), Err(VerifyError::SignatureMismatch));
        assert_eq!(case.verify_header(TS, b"1388788367"), Err(VerifyError::SignatureMismatch));
        // Not base64; base64 but not DER; a raw r||s pair is not what SendGrid sends.
        let raw = B64.encode([7u8; 64]);
        case.rejects_malformed(SIG, &[b"***", b"AAAA", raw.as_bytes(), b""]);
        case.rejects_malformed(TS, &[b"yesterday", b"1588788367.5"]);
    }

    #[test]
    fn keys_in_pem_armor_are_accepted_and_non_keys_are_misconfiguration() {
        let pem = format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n{}\n-----END PUBLIC KEY-----\n",
            &PUBLIC_KEY[..64],
            &PUBLIC_KEY[64..]
        );
        assert_eq!(Case { secret: pem, ..case() }.verify(), Ok(()));
        for bad in ["not-a-key", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "AAAA"] {
            assert_eq!(Case { secret: bad.into(), ..case() }.verify().unwrap_err().code(), "source_misconfigured");
        }
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn signatures_made_with_the_fixed_key_verify_and_sign_says_why_not() {
        let case = case();
        for (body, ts) in [(BODY, NOW), (&b"[]"[..], NOW + 60), (b"", NOW)] {
            let map = signed(body, ts);
            assert_eq!(case.check(&map, body, ts, &[hookbus_core::config::Secret::new(PUBLIC_KEY)]), Ok(()));
        }
        let err = Scheme::of(hookbus_core::config::SchemeKind::Sendgrid).sign(PUBLIC_KEY, BODY, NOW, "d").unwrap_err();
        assert!(err.to_string().contains("cannot be signed without the provider's private key"), "{err}");
    }

    #[test]
    fn high_s_signatures_verify_like_openssl() {
        let key = SigningKey::from_slice(&hex::decode(SCALAR).unwrap()).unwrap();
        let message = [STAMP.as_bytes(), BODY].concat();
        let low: Signature = key.sign(&message);
        let (r, s) = low.split_scalars();
        let high = Signature::from_scalars(r, -*s).unwrap();
        let map = headers(&[(SIG.into(), B64.encode(high.to_der())), (TS.into(), STAMP.into())]);
        assert_eq!(case().check(&map, BODY, NOW, &[hookbus_core::config::Secret::new(PUBLIC_KEY)]), Ok(()));
    }
}
