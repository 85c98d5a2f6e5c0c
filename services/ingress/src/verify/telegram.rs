//! Telegram Bot API: with `secret_token` set on `setWebhook`, every update carries it in
//! `X-Telegram-Bot-Api-Secret-Token` (nothing is signed; <https://core.telegram.org/bots/api#setwebhook>).
//! The update's `update_id` identifies it; its type is the one field beside `update_id`
//! (`message`, `callback_query`, ...).
use serde_json::Value;

use super::identify::body_str;
use super::mac::{outcome, pairs, token_matches};
use super::{Inbound, Provider, VerifyError, required_header};

const HEADER: &str = "X-Telegram-Bot-Api-Secret-Token";

pub(super) const PROVIDER: Provider = Provider {
    about: "Telegram: X-Telegram-Bot-Api-Secret-Token carries the webhook's secret_token",
    headers: &[HEADER],
    verify: |_, req, keys, _| verify(req, keys),
    sign: |_, s| {
        if !valid_token(s.secret) {
            return Err(VerifyError::Misconfigured(TOKEN_RULE.into()));
        }
        Ok(pairs([(HEADER, s.secret.to_owned()), ("Content-Type", "application/json".into())]))
    },
    identify: |_, _, body| (body_str(body, "/update_id"), update_type(body)),
    ..Provider::DEFAULT
};

const TOKEN_RULE: &str = "a Telegram secret token is 1-256 of A-Z, a-z, 0-9, _ and -";

/// What `setWebhook` accepts as `secret_token`.
fn valid_token(token: &str) -> bool {
    (1..=256).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

fn update_type(body: Option<&Value>) -> Option<String> {
    body?.as_object()?.keys().find(|k| *k != "update_id").cloned()
}

fn verify(req: &Inbound<'_>, secrets: &[&str]) -> Result<usize, VerifyError> {
    let given = required_header(req.headers, HEADER)?;
    if !valid_token(given) {
        return Err(VerifyError::malformed(HEADER, TOKEN_RULE));
    }
    outcome(token_matches(secrets, given))
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;
    use serde_json::json;

    use super::super::test_util::{Case, scheme};
    use super::*;

    // Nothing is signed; the documented request shape (https://core.telegram.org/bots/api#update).
    const BODY: &[u8] = br#"{"update_id":10000,"message":{"message_id":1365,"text":"/start"}}"#;

    #[test]
    fn secret_token_and_negatives() {
        let case = Case::new(scheme(SchemeKind::Telegram), "tg_secret-1", &[(HEADER, "tg_secret-1")], BODY, 0);
        case.passes();
        case.rejects_wrong_secret("tg_secret-2");
        case.rotates();
        case.rejects_missing(HEADER);
        case.rejects_malformed(HEADER, &[b"", b"has space", b"\xff", "x".repeat(257).as_bytes()]);
        case.round_trips();
    }

    #[test]
    fn the_update_kind_is_the_event_type() {
        let s = scheme(SchemeKind::Telegram);
        let h = http::HeaderMap::new();
        let ids = s.identify(&h, Some(&json!({"update_id": 7, "callback_query": {}})));
        assert_eq!(ids, (Some("7".into()), Some("callback_query".into())));
        assert_eq!(s.identify(&h, Some(&json!({"update_id": 7}))), (Some("7".into()), None));
    }
}
