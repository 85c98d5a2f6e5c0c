//! Okta event hooks: Okta sends the secret you configured as the value of the `Authorization`
//! header (nothing is signed), and checks a new hook once with a `GET` carrying
//! `X-Okta-Verification-Challenge`, answered with `{"verification": <that value>}`
//! (<https://developer.okta.com/docs/concepts/event-hooks/#one-time-verification-request>).
//! The body's `eventId` identifies the delivery; the type is that of the first event.
use serde_json::json;

use super::identify::body_str;
use super::mac::{outcome, pairs, token_matches};
use super::{Inbound, Provider, VerifyError, required_header};
use crate::handshake::{Answer, AnswerBody};

const HEADER: &str = "Authorization";
const CHALLENGE: &str = "x-okta-verification-challenge";

pub(super) const PROVIDER: Provider = Provider {
    about: "Okta event hooks: Authorization carries the configured secret; answers the verification GET",
    headers: &[HEADER, CHALLENGE],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        // Sent as a header value: one a header cannot carry as is could never match.
        let safe = s.secret.trim() == s.secret && s.secret.bytes().all(|b| (0x20..0x7f).contains(&b));
        if !safe {
            return Err(VerifyError::Misconfigured("an `okta` secret must be printable ASCII without surrounding spaces".into()));
        }
        Ok(pairs([(HEADER, s.secret.to_owned()), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (body_str(body, "/eventId"), body_str(body, "/data/events/0/eventType")),
    get_handshake: |method, headers, _| {
        let value = headers.get(CHALLENGE).filter(|_| method == "GET")?.to_str().ok()?.trim();
        Some(Answer { kind: "okta", body: AnswerBody::Json(json!({ "verification": value })) })
    },
    ..Provider::DEFAULT
};

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given = required_header(req.headers, HEADER)?;
    if given.is_empty() {
        return Err(VerifyError::malformed(HEADER, "empty; set the hook's authentication secret in Okta"));
    }
    outcome(token_matches(secrets, given))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Nothing is signed, so the "vector" is the documented request shape: the configured secret
    // in Authorization (https://developer.okta.com/docs/guides/event-hook-implementation/).
    const BODY: &[u8] = br#"{"eventType":"com.okta.event_hook","eventId":"b5a188b9-5ece-4636-b041-482ffda96311","data":{"events":[{"eventType":"user.session.start"}]}}"#;

    #[test]
    fn secret_header_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Okta), "okta-hook-secret", &[(HEADER, "okta-hook-secret")], BODY, 0);
        case.passes();
        case.rejects_wrong_secret("okta-hook-secreT");
        case.rotates();
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"", b"\xff"]);
        assert_eq!(case.verify_header(HEADER, b"Bearer okta-hook-secret"), Err(VerifyError::SignatureMismatch));
        // The body is not signed: any body passes with the right secret.
        assert_eq!(case.verify_body(b"{}"), Ok(()));
        case.round_trips();
    }

    #[test]
    fn verification_challenge_is_answered_on_get() {
        let mut h = http::HeaderMap::new();
        assert_eq!((PROVIDER.get_handshake)("GET", &h, None), None);
        h.insert(CHALLENGE, http::HeaderValue::from_static("2QjTFPX6H0M-Ozv9SXJ4EP7sWyJjm6jxy7dfW6nRpa5"));
        let answer = (PROVIDER.get_handshake)("GET", &h, None).unwrap();
        assert_eq!(answer.body, AnswerBody::Json(json!({ "verification": "2QjTFPX6H0M-Ozv9SXJ4EP7sWyJjm6jxy7dfW6nRpa5" })));
        assert_eq!((PROVIDER.get_handshake)("HEAD", &h, None), None);
    }
}
