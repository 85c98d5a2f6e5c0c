//! Endpoint-verification handshakes: the requests a provider sends when a webhook URL is
//! registered, answered here and never published.
//!
//! Which a source answers: those its provider implies, written in the provider's file and
//! dispatched from here (`before_verify`, `after_verify`; the GET/HEAD checks go straight through
//! `Provider::get_handshake`): signed ones such as Slack's `url_verification`, Zoom's
//! `endpoint.url_validation`, Twitch's `webhook_callback_verification`, Discord's PINGs and Xero's
//! intent to receive, answered only after the signature verified; unsigned ones that carry nothing
//! (WooCommerce's creation ping, monday.com's challenge, Dropbox's `?challenge=`). Plus those listed
//! in `sources.NAME.handshakes`, implemented here: Meta and WebSub `GET ?hub.*`, Microsoft Graph
//! `?validationToken=`, none of which carries a signature. Everything here is a pure function of
//! the request.
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use hookbus_core::config::{Handshake, Secret};
use serde_json::Value;
use subtle::ConstantTimeEq;

use crate::IngressError;
use crate::verify::Scheme;

/// What to answer, and which handshake it was (the `kind` label of the handshake metric).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub kind: &'static str,
    pub body: AnswerBody,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnswerBody {
    /// Echoed challenge, `text/plain`.
    Text(String),
    Json(Value),
    /// 204 No Content.
    Empty,
}

impl Answer {
    pub(crate) fn text(kind: &'static str, text: impl Into<String>) -> Self {
        Self { kind, body: AnswerBody::Text(text.into()) }
    }
}

impl IntoResponse for Answer {
    fn into_response(self) -> Response {
        let mut resp = match self.body {
            AnswerBody::Text(t) => {
                let mut r = (StatusCode::OK, t).into_response();
                r.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain; charset=utf-8"));
                r
            }
            AnswerBody::Json(v) => (StatusCode::OK, axum::Json(v)).into_response(),
            AnswerBody::Empty => StatusCode::NO_CONTENT.into_response(),
        };
        // The echoed text is chosen by the caller: never let a browser treat it as anything else.
        resp.headers_mut().insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
        resp.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        resp
    }
}

/// URL-decoded value of query parameter `name` (the first one, if repeated).
pub(crate) fn query_param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes()).find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

/// Microsoft Graph subscription validation: `POST ?validationToken=...` is answered with the
/// decoded token as text/plain before the body is even read (Graph sends an empty text body,
/// unsigned). Only for sources that list `msgraph`.
pub fn before_body(handshakes: &[Handshake], query: Option<&str>) -> Option<Answer> {
    if !handshakes.contains(&Handshake::Msgraph) {
        return None;
    }
    query_param(query, "validationToken").map(|token| Answer::text("msgraph", token))
}

/// An unsigned handshake the scheme implies, recognised on the body before verification
/// (WooCommerce's creation ping; see the provider's file).
pub fn before_verify(scheme: &Scheme, headers: &HeaderMap, body: &[u8]) -> Option<Answer> {
    (scheme.provider().unsigned_handshake)(headers, body)
}

/// A handshake the scheme implies, checked after the signature verified (these providers sign
/// them; see each provider's file). `secret` is the source secret that verified the request
/// (Zoom's answer is keyed by it). Ok(None): an ordinary delivery, to be published.
pub fn after_verify(
    scheme: &Scheme,
    headers: &HeaderMap,
    body: &[u8],
    secret: &str,
) -> Result<Option<Answer>, IngressError> {
    (scheme.provider().handshake)(headers, body, secret)
}

/// Whether a GET is a `?hub.mode=` verification of intent the source answers (Meta, WebSub).
pub fn is_hub_request(handshakes: &[Handshake], query: Option<&str>) -> bool {
    let listed = handshakes.iter().any(|h| matches!(h, Handshake::Meta | Handshake::Websub));
    listed && query_param(query, "hub.mode").is_some()
}

/// `GET /webhooks/{source}`: only Meta's and WebSub's verification of intent use it.
pub fn on_get(
    handshakes: &[Handshake],
    query: Option<&str>,
    secrets: &[Secret],
    now: i64,
) -> Result<Answer, IngressError> {
    let meta = handshakes.contains(&Handshake::Meta);
    let websub = handshakes.contains(&Handshake::Websub);
    if !meta && !websub {
        return Err(IngressError::MethodNotAllowed {
            method: "GET".into(),
            allow: "POST",
            hint: "webhooks are POSTed; GET answers only the `meta` and `websub` handshakes of sources that list them",
        });
    }
    let mode = query_param(query, "hub.mode");
    let challenge = query_param(query, "hub.challenge");
    let has_token = query_param(query, "hub.verify_token").is_some();
    let has_topic = query_param(query, "hub.topic").is_some();
    // Meta's request has a verify token and no topic; WebSub's has a topic and no token.
    if meta && (has_token || !websub || !has_topic) {
        return meta_challenge(mode.as_deref(), query, challenge, secrets, now);
    }
    match mode.as_deref() {
        Some("subscribe" | "unsubscribe") => {
            if !has_topic {
                return Err(IngressError::BadHandshake("WebSub verification without `hub.topic`".into()));
            }
            let challenge = challenge
                .ok_or_else(|| IngressError::BadHandshake("WebSub verification without `hub.challenge`".into()))?;
            Ok(Answer::text("websub", challenge))
        }
        // The hub refused a subscription: acknowledge, there is nothing to publish.
        Some("denied") => Ok(Answer::text("websub", "")),
        _ => Err(IngressError::BadHandshake(
            "expected `hub.mode` subscribe, unsubscribe or denied (WebSub verification of intent)".into(),
        )),
    }
}

fn meta_challenge(
    mode: Option<&str>,
    query: Option<&str>,
    challenge: Option<String>,
    secrets: &[Secret],
    now: i64,
) -> Result<Answer, IngressError> {
    if mode != Some("subscribe") {
        return Err(IngressError::BadHandshake("Meta verification needs `hub.mode=subscribe`".into()));
    }
    let token = query_param(query, "hub.verify_token").unwrap_or_default();
    // Every active secret is compared, without stopping at the first match, in constant time each.
    let matched = secrets
        .iter()
        .filter(|s| s.active_at(now) && !s.value.is_empty())
        .fold(subtle::Choice::from(0), |acc, s| acc | s.value.as_bytes().ct_eq(token.as_bytes()));
    if !bool::from(matched) {
        return Err(IngressError::HandshakeRejected(
            "`hub.verify_token` does not match any active secret of this source: set the same value as \
             the Verify Token in the provider's webhook settings"
                .into(),
        ));
    }
    let challenge =
        challenge.ok_or_else(|| IngressError::BadHandshake("Meta verification without `hub.challenge`".into()))?;
    Ok(Answer::text("meta", challenge))
}

/// The body as JSON when the string at `pointer` equals `ty`.
pub(crate) fn json_of_type(body: &[u8], pointer: &str, ty: &str) -> Option<Value> {
    let v: Value = serde_json::from_slice(body).ok()?;
    (v.pointer(pointer)?.as_str()? == ty).then_some(v)
}

pub(crate) fn string_at(v: &Value, pointer: &str, what: &str) -> Result<String, IngressError> {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| IngressError::BadHandshake(format!("{what} without a string at `{pointer}`")))
}

#[cfg(test)]
mod tests {
    use super::*;

    use hookbus_core::config::SchemeKind;

    const NOW: i64 = 1_700_000_000;

    fn of(kind: SchemeKind) -> Scheme {
        Scheme::of(kind)
    }

    fn secrets(values: &[&str]) -> Vec<Secret> {
        values.iter().map(|v| Secret::new(*v)).collect()
    }

    #[test]
    fn msgraph_token_is_decoded_and_only_for_sources_that_list_it() {
        let q = Some(
            "validationToken=Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+6f2a",
        );
        let answer = before_body(&[Handshake::Msgraph], q).unwrap();
        assert_eq!(
            answer,
            Answer::text(
                "msgraph",
                "Validation: Testing client application reachability for subscription Request-Id: 6f2a"
            )
        );
        assert_eq!(before_body(&[], q), None);
        assert_eq!(before_body(&[Handshake::Msgraph], Some("other=1")), None);
        assert_eq!(before_body(&[Handshake::Msgraph], None), None);
    }

    #[test]
    fn meta_echoes_the_challenge_when_the_verify_token_matches_an_active_secret() {
        let hs = [Handshake::Meta];
        let q = Some("hub.mode=subscribe&hub.verify_token=tok-2&hub.challenge=1158201444");
        let answer = on_get(&hs, q, &secrets(&["tok-1", "tok-2"]), NOW).unwrap();
        assert_eq!(answer, Answer::text("meta", "1158201444"));

        let err = on_get(&hs, q, &secrets(&["tok-1"]), NOW).unwrap_err();
        assert_eq!((err.status(), err.code()), (StatusCode::FORBIDDEN, "handshake_rejected"));

        let mut expired = Secret::new("tok-2");
        expired.expires = Some(time::OffsetDateTime::from_unix_timestamp(NOW - 1).unwrap());
        assert!(on_get(&hs, q, &[expired], NOW).is_err(), "an expired secret is no verify token");

        let no_challenge = Some("hub.mode=subscribe&hub.verify_token=tok-1");
        assert_eq!(on_get(&hs, no_challenge, &secrets(&["tok-1"]), NOW).unwrap_err().code(), "bad_handshake");
        let no_token = Some("hub.mode=subscribe&hub.challenge=1");
        assert_eq!(on_get(&hs, no_token, &secrets(&["tok-1"]), NOW).unwrap_err().code(), "handshake_rejected");
        // An empty secret never matches an empty token.
        let empty = Some("hub.mode=subscribe&hub.verify_token=&hub.challenge=1");
        assert_eq!(on_get(&hs, empty, &secrets(&[""]), NOW).unwrap_err().code(), "handshake_rejected");
    }

    #[test]
    fn websub_echoes_the_challenge_for_subscribe_and_unsubscribe() {
        let hs = [Handshake::Websub];
        for mode in ["subscribe", "unsubscribe"] {
            let q = format!(
                "hub.mode={mode}&hub.topic=https%3A%2F%2Fexample.com%2Ffeed&hub.challenge=c%2F1&hub.lease_seconds=864000"
            );
            assert_eq!(on_get(&hs, Some(&q), &[], NOW).unwrap(), Answer::text("websub", "c/1"));
        }
        assert_eq!(on_get(&hs, Some("hub.mode=denied&hub.topic=t&hub.reason=x"), &[], NOW).unwrap().kind, "websub");
        assert_eq!(on_get(&hs, Some("hub.mode=subscribe&hub.topic=t"), &[], NOW).unwrap_err().code(), "bad_handshake");
        assert_eq!(on_get(&hs, Some("hub.mode=publish"), &[], NOW).unwrap_err().code(), "bad_handshake");
    }

    #[test]
    fn meta_and_websub_on_one_source_are_told_apart_by_their_parameters() {
        let hs = [Handshake::Meta, Handshake::Websub];
        let s = secrets(&["tok"]);
        let meta = on_get(&hs, Some("hub.mode=subscribe&hub.verify_token=tok&hub.challenge=m"), &s, NOW).unwrap();
        assert_eq!(meta.kind, "meta");
        let websub = on_get(&hs, Some("hub.mode=subscribe&hub.topic=t&hub.challenge=w"), &s, NOW).unwrap();
        assert_eq!(websub, Answer::text("websub", "w"));
    }

    #[test]
    fn get_without_a_get_handshake_is_405() {
        let err = on_get(&[Handshake::Msgraph], Some("hub.challenge=1"), &[], NOW).unwrap_err();
        assert_eq!((err.status(), err.code()), (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"));
    }

    #[test]
    fn slack_url_verification_echoes_the_challenge() {
        // https://docs.slack.dev/reference/events/url_verification (example payload)
        let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
        let answer = after_verify(&of(SchemeKind::Slack), &HeaderMap::new(), body, "").unwrap().unwrap();
        assert_eq!(answer, Answer::text("slack", "3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P"));
        // An event callback is an ordinary delivery.
        let event = br#"{"type":"event_callback","event":{"type":"app_mention"}}"#;
        assert_eq!(after_verify(&of(SchemeKind::Slack), &HeaderMap::new(), event, "").unwrap(), None);
        let bad = br#"{"type":"url_verification"}"#;
        assert_eq!(
            after_verify(&of(SchemeKind::Slack), &HeaderMap::new(), bad, "").unwrap_err().code(),
            "bad_handshake"
        );
    }

    #[test]
    fn zoom_url_validation_answers_with_the_hmac_of_the_plain_token() {
        // https://developers.zoom.us/docs/api/webhooks/#validate-your-webhook-endpoint: encryptedToken is
        // hex HMAC-SHA256(secret token, plainToken). Zoom publishes no vector; this one was computed with
        // `printf %s qgg8vlvZRS6UYooatFL8Aw | openssl dgst -sha256 -hmac secret-token`.
        let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
        let answer = after_verify(&of(SchemeKind::Zoom), &HeaderMap::new(), body, "secret-token").unwrap().unwrap();
        let expected = crate::verify::zoom::encrypted_token("secret-token", "qgg8vlvZRS6UYooatFL8Aw");
        assert_eq!(expected, "5b72bd117f184f54093c1c3c11499c1d13e6d56dc0d96e6b78fbfecedc953b75");
        let json = serde_json::json!({ "plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected });
        assert_eq!(answer, Answer { kind: "zoom", body: AnswerBody::Json(json) });
        let meeting = br#"{"event":"meeting.started","payload":{}}"#;
        assert_eq!(after_verify(&of(SchemeKind::Zoom), &HeaderMap::new(), meeting, "").unwrap(), None);
    }

    #[test]
    fn twitch_callback_verification_echoes_the_challenge() {
        // https://dev.twitch.tv/docs/eventsub/handling-webhook-events/#responding-to-a-challenge-request
        let mut headers = HeaderMap::new();
        headers.insert("Twitch-Eventsub-Message-Type", HeaderValue::from_static("webhook_callback_verification"));
        let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow"}}"#;
        let answer = after_verify(&of(SchemeKind::Twitch), &headers, body, "").unwrap().unwrap();
        assert_eq!(answer, Answer::text("twitch", "pogchamp-kappa-360noscope-vohiyo"));
        headers.insert("Twitch-Eventsub-Message-Type", HeaderValue::from_static("notification"));
        assert_eq!(after_verify(&of(SchemeKind::Twitch), &headers, body, "").unwrap(), None);
    }

    #[test]
    fn discord_pings_are_answered_and_events_are_not() {
        let h = HeaderMap::new();
        // Interactions: https://discord.com/developers/docs/interactions/overview#setting-up-an-endpoint-acknowledging-ping-requests
        let ping = br#"{"id":"1","application_id":"2","type":1,"token":"t","version":1}"#;
        let answer = after_verify(&of(SchemeKind::Discord), &h, ping, "").unwrap().unwrap();
        assert_eq!(answer, Answer { kind: "discord", body: AnswerBody::Json(serde_json::json!({ "type": 1 })) });
        let command = br#"{"id":"1","type":2,"data":{"name":"hello"}}"#;
        assert_eq!(after_verify(&of(SchemeKind::Discord), &h, command, "").unwrap(), None);
        // Webhook events: https://discord.com/developers/docs/events/webhook-events#responding-to-ping
        let event_ping = br#"{"version":1,"application_id":"2","type":0}"#;
        let answer = after_verify(&of(SchemeKind::Discord), &h, event_ping, "").unwrap().unwrap();
        assert_eq!(answer, Answer { kind: "discord", body: AnswerBody::Empty });
        assert_eq!(answer.into_response().status(), StatusCode::NO_CONTENT);
        let event = br#"{"version":1,"application_id":"2","type":1,"event":{"type":"APPLICATION_AUTHORIZED","timestamp":"2024-10-18T14:42:53.064834","data":{}}}"#;
        assert_eq!(after_verify(&of(SchemeKind::Discord), &h, event, "").unwrap(), None, "an event is published");
    }

    #[test]
    fn woocommerce_ping_is_answered_only_as_an_unsigned_webhook_id_form() {
        // WC_Webhook::deliver_ping posts `webhook_id=<id>` without signature headers.
        let h = HeaderMap::new();
        assert_eq!(
            before_verify(&of(SchemeKind::Woocommerce), &h, b"webhook_id=42"),
            Some(Answer::text("woocommerce", ""))
        );
        for body in [&b"webhook_id="[..], b"webhook_id=42&x=1", b"{\"id\":42}", b"webhook_id=123456789012345678901"] {
            assert_eq!(
                before_verify(&of(SchemeKind::Woocommerce), &h, body),
                None,
                "{:?}",
                String::from_utf8_lossy(body)
            );
        }
        let mut signed = HeaderMap::new();
        signed.insert("X-WC-Webhook-Signature", HeaderValue::from_static("abc="));
        assert_eq!(
            before_verify(&of(SchemeKind::Woocommerce), &signed, b"webhook_id=42"),
            None,
            "a signed delivery is verified"
        );
        assert_eq!(before_verify(&of(SchemeKind::Github), &h, b"webhook_id=42"), None);
    }

    #[test]
    fn other_schemes_have_no_implied_handshake() {
        let body = br#"{"type":"url_verification","challenge":"x"}"#;
        assert_eq!(after_verify(&of(SchemeKind::Github), &HeaderMap::new(), body, "").unwrap(), None);
    }
}
