//! Amazon SNS HTTP(S) subscriptions: the JSON body carries `Signature`, RSA PKCS#1 v1.5 over the
//! message's fields (`Message`, `MessageId`, `Subject` when present, `Timestamp`, `TopicArn`,
//! `Type`; for subscription messages `Message`, `MessageId`, `SubscribeURL`, `Timestamp`, `Token`,
//! `TopicArn`, `Type`), each as `{name}\n{value}\n`, with SHA-1 (`SignatureVersion` 1) or SHA-256 (2)
//! (<https://docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html>).
//! SNS names its certificate in `SigningCertURL`; hookbus does no fetch at verify time: give the
//! certificate (PEM, as downloaded once from that URL) as the source's secret, several while AWS
//! rotates it. `SubscriptionConfirmation` is verified and published like any message (typed
//! `aws_sns.SubscriptionConfirmation`), for an operator or a subscriber to visit its `SubscribeURL`:
//! ingress makes no outbound requests. Dedup on `MessageId`.
use base64::Engine as _;
use rsa::RsaPublicKey;
use rsa::pkcs1v15::{Signature, VerifyingKey};
use rsa::pkcs8::DecodePublicKey as _;
use rsa::signature::Verifier as _;
use serde_json::Value;
use x509_cert::Certificate;
use x509_cert::der::{DecodePem as _, Encode as _};

use super::identify::fields;
use super::mac::{B64, any_public_key};
use super::{Inbound, Provider, VerifyError};

const BAD_KEY: &str = "an `aws_sns` secret is the signing certificate (PEM) from the message's SigningCertURL";

pub(super) const PROVIDER: Provider = Provider {
    about: "AWS SNS: Signature in the body, RSA SHA1/SHA256 over the message fields; certificate from config",
    headers: &["x-amz-sns-message-type", "x-amz-sns-message-id"],
    verify: |_, req, keys, _| verify(req, keys),
    identify: |_, _, body| fields(body, "/MessageId", "/Type"),
    ..Provider::DEFAULT
};

/// The RSA key of a PEM certificate.
pub(super) fn certificate_key(pem: &str) -> Option<RsaPublicKey> {
    let cert = Certificate::from_pem(pem.trim().as_bytes()).ok()?;
    let spki = cert.tbs_certificate.subject_public_key_info.to_der().ok()?;
    RsaPublicKey::from_public_key_der(&spki).ok()
}

/// The text SNS signs for this message.
fn string_to_sign(msg: &Value) -> Result<String, VerifyError> {
    let ty = msg.get("Type").and_then(Value::as_str).ok_or_else(|| VerifyError::payload("Type", "missing"))?;
    let names: &[&str] = match ty {
        "Notification" => &["Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"],
        "SubscriptionConfirmation" | "UnsubscribeConfirmation" => {
            &["Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"]
        }
        _ => return Err(VerifyError::payload("Type", "not an SNS message type")),
    };
    let mut out = String::new();
    for name in names {
        match msg.get(*name).and_then(Value::as_str) {
            Some(v) => out.push_str(&format!("{name}\n{v}\n")),
            // Only a notification's Subject is optional.
            None if *name == "Subject" => {}
            None => return Err(VerifyError::payload(name, "missing or not a string")),
        }
    }
    Ok(out)
}

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let msg: Value = serde_json::from_slice(req.body).map_err(|_| VerifyError::payload("Signature", "the body is not JSON"))?;
    let text = string_to_sign(&msg)?;
    let sig = msg
        .get("Signature")
        .and_then(Value::as_str)
        .and_then(|s| B64.decode(s).ok())
        .filter(|b| !b.is_empty())
        .and_then(|b| Signature::try_from(b.as_slice()).ok())
        .ok_or_else(|| VerifyError::payload("Signature", "missing or not base64"))?;
    let version = msg.get("SignatureVersion").and_then(Value::as_str);
    let check = |key: &RsaPublicKey| match version {
        Some("1") => VerifyingKey::<sha1::Sha1>::new(key.clone()).verify(text.as_bytes(), &sig).is_ok(),
        _ => VerifyingKey::<sha2::Sha256>::new(key.clone()).verify(text.as_bytes(), &sig).is_ok(),
    };
    if !matches!(version, Some("1" | "2")) {
        return Err(VerifyError::payload("SignatureVersion", "expected \"1\" or \"2\""));
    }
    any_public_key(secrets, certificate_key, check, BAD_KEY)
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::{SchemeKind, Secret};

    use super::super::test_util::{Case, scheme};
    use super::*;

    // AWS publishes no vector that verifies offline (its certificates expire); built from the docs
    // with a self-signed certificate (`openssl req -x509 -newkey rsa:2048 -nodes`) and the docs'
    // example messages, the string to sign signed with `openssl dgst -sha1|-sha256 -sign key.pem`.
    const CERT: &str = super::super::test_util::SELF_SIGNED_RSA_CERT;
    const SIG1: &str = "nQz2778rDoyGizxx7rKFZ9YyHNbLvxGpiFCS9VndZpBuFAJthhNrXLdfyzPvkEbxuCBFt7lBXpARCNEJHfcY74jsfyYFKBe98Dh2T3xFQOyQq05qQpmwFBtq2hSU1nPYUfySdwEvGYf7BZi6a1mj8kT5swzTGZVhlv6uTUAyLVMqL/Q9noVQFjRqmuFxZBb6uM/6CkVKlmihBid1i33W+VDrh2RY410twrhvZHexi9goNEE5LVVLWobZ429N++z/7fsJVWQpRiWcbxK7SSN98+JeLwSJGkoRutHABmB7vAu9eXjWPRuJKQ9Txijbuz+9OSTjaIJ99K/DAQGnJSFRYA==";
    const SIG2: &str = "jKbrGTXKBNw3jr+Uea68M3i7e1G0KxKctBTo8grSWCSqqY590Gf9DiqGcC34kcp3Ts8J7/HDnIw9BQCmbJe/8EGrfyBgobb5EcOKolpitzfWScDXZGHK8lFWeyn4QmSPUupx/5xNSjc9BgSFsMjT9Pjk6TlP4zbd5ryd4iHQmRUVl6xo8HeBbht+ey6z7kWF8ldHaXFIYFqLaiGN3bjtibjc7PJ5HCUJSPTSCck7gPXWb4G907euu5Yi4QTnUl2hlcTeFJxgW5tmvA97x+uD8qE06BxUiHz/xTMHSZ9rEDcVxj/qbi8OGGyjInRB9pamypW3oVTAjIkBUM5p2UrGDA==";
    const SUBSIG: &str = "kNPEmQAalcGHu4sLZ0zTm+bpQ/4o99FVjzM5ospg36O54EnZIr3HJKzsLOdOf31Ktg94WoqExF07O9STcrzraJVQXSjO2nBcfrlCbBxvwAmbtJOAfNui4dofspQZpQkeYr+XPHpjrsCSscEdLYLG7dXGfB2JDbEoHUrMim0CV051jAfo9MWgCU3oe3Jh/SRVn98VVbWORwTBYwNYTVkXbrjo2gAtBN/9kzMbW9rsPqaea80to/VjfElS7AKI0W8hUhsRH8JH6oLs46JLjO6k/aMjD79d/HcJTnQhJlLQ/9nXhigoM2iuuJ1wSr2pnmvolltlhprd5F4X6PILd9zvmA==";

    fn notification(version: &str, sig: &str) -> Vec<u8> {
        serde_json::json!({
            "Type": "Notification",
            "MessageId": "22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Subject": "My First Message",
            "Message": "Hello world!",
            "Timestamp": "2012-05-02T00:54:06.655Z",
            "SignatureVersion": version,
            "Signature": sig,
            "SigningCertURL": "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-f3ecfb7224c7233fe7bb5f59f96de52f.pem",
        })
        .to_string()
        .into_bytes()
    }

    #[test]
    fn notifications_under_both_signature_versions_and_negatives() {
        for (version, sig) in [("1", SIG1), ("2", SIG2)] {
            let case = Case::new(scheme(SchemeKind::AwsSns), CERT, &[], &notification(version, sig), 0);
            case.passes();
            case.rotates();
            let tampered = String::from_utf8(notification(version, sig)).unwrap().replace("Hello world!", "Hello world?");
            assert_eq!(case.verify_body(tampered.as_bytes()), Err(VerifyError::SignatureMismatch));
        }
        // The version decides the hash: a v2 signature announced as v1 fails.
        let case = Case::new(scheme(SchemeKind::AwsSns), CERT, &[], &notification("1", SIG2), 0);
        assert_eq!(case.verify(), Err(VerifyError::SignatureMismatch));
        for bad in [notification("3", SIG2), notification("2", "!!"), b"{}".to_vec(), b"Type=Notification".to_vec()] {
            assert_eq!(case.verify_body(&bad).unwrap_err().code(), "malformed_signature_payload", "{:?}", String::from_utf8_lossy(&bad));
        }
        let wrong = [Secret::new("-----BEGIN CERTIFICATE-----\nnot one\n-----END CERTIFICATE-----")];
        assert_eq!(case.check(&case.headers, &notification("2", SIG2), 0, &wrong).unwrap_err().code(), "source_misconfigured");
        assert!(case.scheme.sign(CERT, b"{}", 0, "d").is_err());
    }

    #[test]
    fn subscription_confirmation_is_verified_and_identified() {
        let body = serde_json::json!({
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a747ba6f3beb71854e285d6ad02428b09ceece29417f1f02d609c582afbacc99c583a916b9981dd2728f4ae6fdb82efd087cc3b7849e05798d2d2785c03b0879594eeac82c01f235d0e717736",
            "TopicArn": "arn:aws:sns:us-west-2:123456789012:MyTopic",
            "Message": "You have chosen to subscribe to the topic arn:aws:sns:us-west-2:123456789012:MyTopic.\nTo confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn=arn:aws:sns:us-west-2:123456789012:MyTopic&Token=2336412f37",
            "Timestamp": "2012-04-26T20:45:04.751Z",
            "SignatureVersion": "2",
            "Signature": SUBSIG,
        });
        let case = Case::new(scheme(SchemeKind::AwsSns), CERT, &[], body.to_string().as_bytes(), 0);
        case.passes();
        let ids = case.scheme.identify(&http::HeaderMap::new(), Some(&body));
        assert_eq!(ids, (Some("165545c9-2a5c-472c-8df2-7ff2be2b3b1b".into()), Some("SubscriptionConfirmation".into())));
        let no_token = body.to_string().replace("\"Token\"", "\"Tok\"");
        assert_eq!(case.verify_body(no_token.as_bytes()).unwrap_err().code(), "malformed_signature_payload");
    }
}
