//! Twilio: `X-Twilio-Signature: <base64 HMAC-SHA1>` keyed with the account's Auth Token
//! (<https://www.twilio.com/docs/usage/webhooks/webhooks-security>). For form posts the signed text
//! is the full URL Twilio requested (with its query) followed by every POST parameter, sorted by
//! name, as `name` + `value` with no separators. For JSON bodies Twilio instead adds a
//! `bodySHA256=<hex SHA-256 of the body>` query parameter and signs the URL alone; both the body hash
//! and the signature are checked. The URL comes from the source's `public_url` (see `signed_url`).
//! Like Twilio's own validators (twilio-python `RequestValidator`), the URL is also tried without
//! its port and with the default port, since Twilio's signing side is inconsistent about them.
//! Not supported: Webhook Rules' HMAC-SHA256 `X-Twilio-Webhooks-Signature-Settings` variant.
//! No signed timestamp; dedup keys on `I-Twilio-Idempotency-Token`.
use hookbus_core::config::HmacAlgorithm::Sha1;
use hookbus_core::config::SigEncoding::Base64;
use hookbus_core::signing::constant_time_eq;
use sha2::{Digest, Sha256};

use super::mac::{any_matches, compute, decode, encode, outcome, pairs};
use super::signed_url::{self, port_variants};
use super::{Inbound, VerifyError, required_header};
use super::Provider;
use super::identify::header;

const HEADER: &str = "X-Twilio-Signature";

/// The `bodySHA256` query parameter of `url`, if any.
fn body_sha256(url: &str) -> Option<String> {
    let (_, query) = url.split_once('?')?;
    url::form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "bodySHA256").map(|(_, v)| v.into_owned())
}

/// Form parameters sorted by name (then value), concatenated as name + value. A repeated name
/// with the same value counts once: Twilio's SDKs sign the sorted *set* of a name's values
/// (twilio-node `toFormUrlEncodedParam`: `Array.from(new Set(values)).sort()`; twilio-python
/// `compute_signature`: `sorted(set(values))`). A body that is not a form still contributes (as
/// parameter names), so it can never be swapped unnoticed.
fn sorted_params(body: &[u8]) -> Vec<u8> {
    let mut params: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    params.sort();
    params.dedup();
    params.into_iter().flat_map(|(k, v)| [k, v]).collect::<String>().into_bytes()
}

pub(super) fn verify(public_url: Option<&str>, req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given = decode(HEADER, required_header(req.headers, HEADER)?, Base64, Sha1)?;
    let url = signed_url::resolve(public_url, req.url, "twilio")?;
    let (params, body_ok) = match body_sha256(&url) {
        Some(expected) => {
            let actual = Sha256::digest(req.body);
            (Vec::new(), hex::decode(expected.trim()).is_ok_and(|e| constant_time_eq(&e, &actual)))
        }
        None => (sorted_params(req.body), true),
    };
    let matched = port_variants(&url).iter().fold(None, |found, candidate| {
        let hit = any_matches(secrets, std::slice::from_ref(&given), |key| {
            compute(Sha1, key, &[candidate.as_bytes(), &params])
        });
        found.or(hit)
    });
    outcome(matched.filter(|_| body_ok))
}

/// Signs `body` as a form post to `public_url`.
pub(super) fn sign(
    public_url: Option<&str>,
    secret: &str,
    body: &[u8],
    delivery_id: &str,
) -> Result<Vec<(String, String)>, VerifyError> {
    let url = signed_url::for_signing(public_url, "twilio")?;
    let mac = compute(Sha1, secret.as_bytes(), &[url.as_bytes(), &sorted_params(body)]);
    Ok(pairs([
        (HEADER, encode(Base64, &mac)),
        ("I-Twilio-Idempotency-Token", delivery_id.into()),
        ("Content-Type", "application/x-www-form-urlencoded".into()),
    ]))
}

pub(super) const PROVIDER: Provider = Provider {
    about: "Twilio: X-Twilio-Signature <base64 HMAC-SHA1 of URL + sorted form params> (bodySHA256 for JSON)",
    headers: &[HEADER],
    verify: |s, req, keys, _| verify(s.public_url.as_deref(), req, keys),
    sign: |s, g| sign(s.public_url.as_deref(), g.secret, g.body, g.id),
    round_trips: false,
    identify: |_, h, _| (header(h, "i-twilio-idempotency-token"), None),
    ..Provider::DEFAULT
};

#[cfg(test)]
mod tests {
    use super::super::Scheme;
    use super::super::test_util::Case;
    use super::*;

    // Vectors from Twilio's Python library tests (twilio/twilio-python,
    // tests/unit/test_request_validator.py), built on the docs' example request; each
    // cross-checked with `printf '%s' "$URL$PARAMS" | openssl dgst -sha1 -hmac 12345 -binary | base64`.
    const TOKEN: &str = "12345";
    const PUBLIC: &str = "https://mycompany.com/myapp.php";
    const QUERY: &str = "/myapp.php?foo=1&bar=2";
    const FORM: &[u8] =
        b"CallSid=CA1234567890ABCDE&Digits=1234&From=%2B14158675309&To=%2B18005551212&Caller=%2B14158675309";
    const SIG: &str = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

    fn case_at(public_url: &str, sig: &str) -> Case {
        let scheme = Scheme { kind: hookbus_core::config::SchemeKind::Twilio, public_url: Some(public_url.into()), hmac: None, settings: Default::default() };
        Case::new(scheme, TOKEN, &[(HEADER, sig)], FORM, 1_700_000_000).at_url(QUERY)
    }

    fn case() -> Case {
        case_at(PUBLIC, SIG)
    }

    #[test]
    fn library_vectors_and_negatives() {
        let case = case();
        case.standard("54321");
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"sha1=RSOY", b"RSOYDt4T", b"\xff", b""]);
        // Parameter order in the body does not matter; their values do.
        let reordered =
            b"To=%2B18005551212&Caller=%2B14158675309&Digits=1234&CallSid=CA1234567890ABCDE&From=%2B14158675309";
        assert_eq!(case.verify_body(reordered), Ok(()));
        // Repeated names sort by value: the library's multi-dict vector.
        let dup = Case { body: b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234".to_vec(), ..case.clone() };
        assert_eq!(dup.verify_header(HEADER, b"IK+Dwps556ElfBT0I3Rgjkr1wJU="), Ok(()));
        // A value repeated under one name is signed once (the SDKs sign the set of values), so the
        // same vector holds with `Digits=1234` sent twice, in any position. Confirmed with Twilio's
        // SDK (`npm install twilio`, 6.3.1): `twilio.validateRequest('12345', 'IK+Dwps556ElfBT0I3Rgjkr1wJU=',
        // 'https://mycompany.com/myapp.php?foo=1&bar=2', { Sid: 'CA123', SidAccount: 'AC123',
        // Digits: ['5678', '1234', '1234'] })` is true, and false with a third value '9'.
        for body in [
            &b"Digits=5678&Digits=1234&Digits=1234&Sid=CA123&SidAccount=AC123"[..],
            b"Sid=CA123&Digits=1234&SidAccount=AC123&Digits=5678&Digits=1234",
        ] {
            let twice = Case { body: body.to_vec(), ..case.clone() };
            assert_eq!(twice.verify_header(HEADER, b"IK+Dwps556ElfBT0I3Rgjkr1wJU="), Ok(()), "{body:?}");
        }
        // A different value under a repeated name is not a duplicate.
        let third = Case { body: b"Sid=CA123&SidAccount=AC123&Digits=5678&Digits=1234&Digits=9".to_vec(), ..case.clone() };
        assert_eq!(third.verify_header(HEADER, b"IK+Dwps556ElfBT0I3Rgjkr1wJU="), Err(VerifyError::SignatureMismatch));
        // The query is signed.
        assert_eq!(case.clone().at_url("/myapp.php?foo=1&bar=3").verify(), Err(VerifyError::SignatureMismatch));
    }

    #[test]
    fn ports_are_tried_both_ways_like_twilios_validators() {
        // Signed without the port, requested with one.
        assert_eq!(case_at("https://mycompany.com:1234/myapp.php", SIG).verify(), Ok(()));
        // Signed with the default port (library vectors "kvajT1..." for https, "0ZXoZL..." for http).
        assert_eq!(case_at(PUBLIC, "kvajT1Ptam85bY51eRf/AJRuM3w=").verify(), Ok(()));
        assert_eq!(case_at("http://mycompany.com/myapp.php", "0ZXoZLH/DfblKGATFgpif+LLRf4=").verify(), Ok(()));
        // Signed with a non-default port ("Zmvh+3..." for http://...:1234).
        assert_eq!(case_at("http://mycompany.com:1234/myapp.php", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU=").verify(), Ok(()));
    }

    #[test]
    fn json_bodies_are_checked_through_body_sha256() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        let json = Case { body: body.to_vec(), ..case_at(PUBLIC, "a9nBmqA0ju/hNViExpshrM61xv4=") }
            .at_url(&format!("{QUERY}&bodySHA256={hash}"));
        json.passes();
        json.rejects_tampered_body();
        json.rejects_wrong_secret("54321");
        // A body hash that does not match, or is not hex, fails even with a valid URL signature.
        let wrong_hash = json.clone().at_url(&format!("{QUERY}&bodySHA256={}", hash.replace("0a1f", "0a1e")));
        assert_eq!(wrong_hash.verify(), Err(VerifyError::SignatureMismatch));
        assert_eq!(
            json.clone().at_url(&format!("{QUERY}&bodySHA256=zz")).verify(),
            Err(VerifyError::SignatureMismatch)
        );
    }

    #[test]
    fn sign_then_verify_round_trips() {
        let case = case().at_url("/webhooks/twilio");
        case.round_trips();
        let bare = Scheme { kind: hookbus_core::config::SchemeKind::Twilio, public_url: None, hmac: None, settings: Default::default() };
        assert_eq!(bare.sign(TOKEN, FORM, 0, "d").unwrap_err().code(), "source_misconfigured");
    }
}
