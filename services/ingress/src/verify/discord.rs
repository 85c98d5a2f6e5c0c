//! Discord interactions endpoint: `X-Signature-Ed25519` is the hex Ed25519 signature over
//! `X-Signature-Timestamp` + raw body, verified with the application's public key (hex, from the
//! Developer Portal) (<https://discord.com/developers/docs/interactions/receiving-and-responding#security-and-authorization>).
//! The source's "secrets" are public keys. Verification is strict (no small-order keys, canonical
//! signatures), which every signature Discord makes passes. The timestamp (unix seconds) is signed
//! and checked against the tolerance. `sign` cannot work without Discord's private key.
use ed25519_dalek::{Signature, VerifyingKey};

use super::mac::any_public_key;
use super::{Inbound, VerifyError, check_tolerance, parse_timestamp, required_header};
use serde_json::Value;

use super::Provider;
use super::identify::body_str;
use crate::IngressError;
use crate::handshake::{Answer, AnswerBody};

const SIG: &str = "X-Signature-Ed25519";
const TS: &str = "X-Signature-Timestamp";

const BAD_KEY: &str = "a `discord` secret is not an Ed25519 public key: give the application's \"Public Key\" \
                       (64 hex digits) from the Discord Developer Portal";

fn public_key(secret: &str) -> Option<VerifyingKey> {
    let bytes: [u8; 32] = hex::decode(secret.trim()).ok()?.try_into().ok()?;
    VerifyingKey::from_bytes(&bytes).ok()
}

pub(super) fn verify(req: &Inbound<'_>, secrets: &[&str], tolerance_secs: u64) -> Result<usize, VerifyError> {
    let sig_text = required_header(req.headers, SIG)?;
    let ts_text = required_header(req.headers, TS)?;
    let ts = parse_timestamp(TS, ts_text)?;
    let bytes: [u8; 64] = hex::decode(sig_text)
        .ok()
        .and_then(|b| b.try_into().ok())
        .ok_or_else(|| VerifyError::malformed(SIG, "expected 128 hex digits"))?;
    let sig = Signature::from_bytes(&bytes);
    let message = [ts_text.as_bytes(), req.body].concat();
    let i = any_public_key(secrets, public_key, |key| key.verify_strict(&message, &sig).is_ok(), BAD_KEY)?;
    check_tolerance(req.now, ts, tolerance_secs)?;
    Ok(i)
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Discord: X-Signature-Ed25519 over timestamp + body; the secret is the app's public key; answers PINGs",
    headers: &[SIG, TS],
    verify: |_, req, keys, tol| verify(req, keys, tol),
    identify: |_, _, body| (body_str(body, "/id"), discord_type(body)),
    handshake: ping,
    ..Provider::DEFAULT
};

/// Interaction types by number (webhook events carry a string `event.type` instead).
fn discord_type(body: Option<&Value>) -> Option<String> {
    body_str(body, "/event/type").or_else(|| {
        let name = match body?.get("type")?.as_u64()? {
            1 => "ping",
            2 => "application_command",
            3 => "message_component",
            4 => "application_command_autocomplete",
            5 => "modal_submit",
            _ => return None,
        };
        Some(name.to_owned())
    })
}

/// Discord checks an endpoint with a signed PING. Interactions: `type` 1, answered with a PONG
/// `{"type":1}`. Webhook events (they carry `event`): `type` 0, answered 204; their `type` 1 is
/// an event, published like any delivery.
fn ping(_: &http::HeaderMap, body: &[u8], _: &str) -> Result<Option<Answer>, IngressError> {
    let Ok(v) = serde_json::from_slice::<Value>(body) else { return Ok(None) };
    let ty = v.get("type").and_then(Value::as_u64);
    let webhook_event = v.get("event").is_some() || v.get("version").is_some() && ty == Some(0);
    Ok(match (webhook_event, ty) {
        (true, Some(0)) => Some(Answer { kind: "discord", body: AnswerBody::Empty }),
        (false, Some(1)) => Some(Answer { kind: "discord", body: AnswerBody::Json(serde_json::json!({ "type": 1 })) }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use ed25519_dalek::{Signer as _, SigningKey};
    use hookbus_core::config::Secret;

    use super::super::Scheme;
    use super::super::test_util::{Case, headers};
    use super::*;

    // Discord publishes no vector. The fixed key pair is RFC 8032 section 7.1 TEST 1 (seed
    // 9d61b1...7f60, public key d75a98...511a); the signature below was made with OpenSSL from the
    // docs' construction: printf '%s' "$TS$BODY" | openssl pkeyutl -sign -inkey key.pem -rawin
    const SEED: &str = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
    const PUBLIC_KEY: &str = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
    const NOW: i64 = 1_700_000_000;
    const BODY: &[u8] = br#"{"id":"1180262306286084157","type":1,"application_id":"1180262306286084100","version":1}"#;
    const SIGNATURE: &str = "dae8df3a63afa3c865e6d6c0ebef267b7feef216f9d5c976c57aeca1231baa71e1303a6b31d75853413a2da27157e34067cf10f169e887c4d89ece334ecea40d";

    fn case() -> Case {
        Case::new(Scheme::of(hookbus_core::config::SchemeKind::Discord), PUBLIC_KEY, &[(SIG, SIGNATURE), (TS, "1700000000")], BODY, NOW)
    }

    #[test]
    fn openssl_vector_and_negatives() {
        let case = case();
        // Another key (RFC 8032 TEST 2's public key) does not verify it.
        case.standard("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c");
        case.rejects_missing(SIG);
        case.rejects_missing(TS);
        case.rejects_malformed(SIG, &[&SIGNATURE.as_bytes()[..64], b"zz", b"", b"0x00"]);
        case.rejects_malformed(TS, &[b"now", b"1700000000.0"]);
        assert_eq!(case.verify_header(TS, b"1700000001"), Err(VerifyError::SignatureMismatch));
        assert_eq!(case.verify_header(SIG, "00".repeat(64).as_bytes()), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn non_keys_are_misconfiguration() {
        for bad in ["not-a-key", &PUBLIC_KEY[..62], "zz"] {
            assert_eq!(Case { secret: bad.into(), ..case() }.verify().unwrap_err().code(), "source_misconfigured");
        }
    }

    #[test]
    fn expired_and_future_timestamps_are_rejected() {
        case().enforces_tolerance(NOW);
    }

    #[test]
    fn signatures_made_with_the_fixed_key_verify_and_sign_says_why_not() {
        let key = SigningKey::from_bytes(&hex::decode(SEED).unwrap().try_into().unwrap());
        assert_eq!(hex::encode(key.verifying_key().as_bytes()), PUBLIC_KEY);
        // Ed25519 is deterministic: the library reproduces OpenSSL's signature.
        assert_eq!(hex::encode(key.sign(&[b"1700000000", BODY].concat()).to_bytes()), SIGNATURE);
        for body in [BODY, b""] {
            let sig = key.sign(&[NOW.to_string().as_bytes(), body].concat());
            let map = headers(&[(SIG.into(), hex::encode(sig.to_bytes())), (TS.into(), NOW.to_string())]);
            assert_eq!(case().check(&map, body, NOW, &[Secret::new(PUBLIC_KEY)]), Ok(()));
        }
        let err = Scheme::of(hookbus_core::config::SchemeKind::Discord).sign(PUBLIC_KEY, BODY, NOW, "d").unwrap_err();
        assert!(err.to_string().contains("cannot be signed without the provider's private key"), "{err}");
    }
}
