//! From a verified request to a CloudEvent: the provider's event type and delivery id per scheme.
//!
//! The id is what the provider documents as identifying a delivery (stable across its retries),
//! or failing that the event's own id; it becomes the CloudEvent id and the dedup key. Batching
//! providers (HubSpot, SendGrid) get one only for a batch of one event; a batch without a common
//! event type is typed `webhook`.
use axum::http::HeaderMap;
use hookbus_core::CloudEvent;
use serde_json::Value;

use crate::source::Source;
use crate::verify::Scheme;

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// A string, or a number as its text (some providers use numeric ids).
fn text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn body_str(body: &Option<Value>, pointer: &str) -> Option<String> {
    text(body.as_ref()?.pointer(pointer)?)
}

/// For a JSON array of events: the id of the only event, and the type all events share.
fn batch(body: &Option<Value>, id: &str, ty: &str) -> (Option<String>, Option<String>) {
    let Some(events) = body.as_ref().and_then(Value::as_array) else { return (None, None) };
    let id = match events.as_slice() {
        [only] => only.get(id).and_then(text),
        _ => None,
    };
    let types: Vec<Option<String>> = events.iter().map(|e| e.get(ty).and_then(text)).collect();
    let ty = match types.first() {
        Some(Some(first)) if types.iter().all(|t| t.as_ref() == Some(first)) => Some(first.clone()),
        _ => None,
    };
    (id, ty)
}

/// Discord interaction types by number (webhook events carry a string `event.type` instead).
fn discord_type(body: &Option<Value>) -> Option<String> {
    body_str(body, "/event/type").or_else(|| {
        let name = match body.as_ref()?.get("type")?.as_u64()? {
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

/// The provider's delivery id (the dedup key) and the event type suffix, as each provider sends them.
fn identify(scheme: &Scheme, h: &HeaderMap, body: &Option<Value>) -> (Option<String>, Option<String>) {
    match scheme {
        Scheme::Github => (header(h, "x-github-delivery"), header(h, "x-github-event")),
        Scheme::Stripe => (body_str(body, "/id"), body_str(body, "/type")),
        Scheme::StandardWebhooks => (
            header(h, "webhook-id").or_else(|| header(h, "svix-id")),
            body_str(body, "/type").or_else(|| body_str(body, "/eventType")),
        ),
        Scheme::Hmac { params: p, .. } => {
            (p.id_header.as_deref().and_then(|n| header(h, n)), p.type_header.as_deref().and_then(|n| header(h, n)))
        }
        // `Idempotency-Key` (GitLab 17.4+) is stable across retries; `X-Gitlab-Event-UUID` before it.
        Scheme::Gitlab => (
            header(h, "idempotency-key").or_else(|| header(h, "x-gitlab-event-uuid")),
            body_str(body, "/object_kind").or_else(|| body_str(body, "/event_name")),
        ),
        // Events API; slash commands and interactivity are forms and carry no JSON id.
        Scheme::Slack => {
            (body_str(body, "/event_id"), body_str(body, "/event/type").or_else(|| body_str(body, "/type")))
        }
        Scheme::Shopify => (header(h, "x-shopify-webhook-id"), header(h, "x-shopify-topic")),
        Scheme::Twilio { .. } => (header(h, "i-twilio-idempotency-token"), None),
        Scheme::Paddle => (body_str(body, "/event_id"), body_str(body, "/event_type")),
        Scheme::Square { .. } => (body_str(body, "/event_id"), body_str(body, "/type")),
        Scheme::Hubspot { .. } | Scheme::HubspotV2 { .. } | Scheme::HubspotV1 => {
            batch(body, "eventId", "subscriptionType")
        }
        Scheme::Sendgrid => batch(body, "sg_event_id", "event"),
        Scheme::CoinbaseCommerce => (body_str(body, "/event/id"), body_str(body, "/event/type")),
        Scheme::Pagerduty => (body_str(body, "/event/id"), body_str(body, "/event/event_type")),
        Scheme::Woocommerce => (header(h, "x-wc-webhook-delivery-id"), header(h, "x-wc-webhook-topic")),
        Scheme::Zoom => (header(h, "x-zm-trackingid"), body_str(body, "/event")),
        Scheme::Linear => (header(h, "linear-delivery"), header(h, "linear-event").or_else(|| body_str(body, "/type"))),
        // Mailgun signs only timestamp + token and says to refuse reused tokens: the token is the key.
        Scheme::Mailgun => (body_str(body, "/signature/token"), body_str(body, "/event-data/event")),
        Scheme::Intercom => (body_str(body, "/id"), body_str(body, "/topic")),
        Scheme::Twitch => (header(h, "twitch-eventsub-message-id"), header(h, "twitch-eventsub-subscription-type")),
        Scheme::Discord => (body_str(body, "/id"), discord_type(body)),
        Scheme::Typeform => (body_str(body, "/event_id"), body_str(body, "/event_type")),
        Scheme::Calendly => (None, body_str(body, "/event")),
        Scheme::Bitbucket => {
            (header(h, "x-request-uuid").or_else(|| header(h, "x-request-id")), header(h, "x-event-key"))
        }
        Scheme::Jira => (header(h, "x-atlassian-webhook-identifier"), body_str(body, "/webhookEvent")),
    }
}

/// Builds the envelope. `id` is the provider's delivery id when it sends one, else a UUIDv7.
/// The second value is the provider's id alone: the dedup key (None when the provider sent none).
pub fn normalize(source: &Source, headers: &HeaderMap, body: &[u8]) -> (CloudEvent, Option<String>) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (provider_id, ty) = identify(&source.scheme, headers, &parsed);
    let id = provider_id.clone().unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let ty = format!("{}.{}", source.scheme_prefix(), ty.as_deref().unwrap_or("webhook"));
    let ct = header(headers, "content-type");
    let mut ev = CloudEvent::from_body(id, &source.name, ty, ct.as_deref(), body);
    if let Some(key) = source.partition_key.as_deref().and_then(|p| parsed.as_ref()?.pointer(p)) {
        let key = match key {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        // An empty key would put unrelated events together; the event id is the better default.
        if !key.is_empty() {
            ev.partitionkey = key;
        }
    }
    (ev, provider_id)
}

impl Source {
    /// The provider's name (`github.push`, `stripe.invoice.paid`, `hubspot.contact.creation`);
    /// generic sources use their own name.
    fn scheme_prefix(&self) -> &str {
        match &self.scheme {
            Scheme::StandardWebhooks | Scheme::Hmac { .. } => &self.name,
            Scheme::Hubspot { .. } | Scheme::HubspotV2 { .. } | Scheme::HubspotV1 => "hubspot",
            other => other.name(),
        }
    }
}

#[cfg(test)]
mod tests {
    use hookbus_core::config::SchemeKind;
    use serde_json::json;

    use super::*;
    use crate::verify::test_util::{headers, scheme};

    fn ids(kind: SchemeKind, pairs: &[(&str, &str)], body: Value) -> Ids {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        identify(&scheme(kind), &headers(&pairs), &Some(body))
    }

    /// What `identify` returns: the delivery id and the event type.
    type Ids = (Option<String>, Option<String>);
    /// A scheme, the headers and body it receives, and what should come out.
    type Row = (SchemeKind, Vec<(&'static str, &'static str)>, Value, Ids);

    fn both(id: &str, ty: &str) -> Ids {
        (Some(id.into()), Some(ty.into()))
    }

    #[test]
    fn each_provider_gives_its_delivery_id_and_type() {
        use SchemeKind::*;
        let cases: Vec<Row> = vec![
            (
                Gitlab,
                vec![("Idempotency-Key", "k1"), ("X-Gitlab-Event-UUID", "u1")],
                json!({"object_kind": "push"}),
                both("k1", "push"),
            ),
            (
                Gitlab,
                vec![("X-Gitlab-Event-UUID", "u1")],
                json!({"event_name": "project_create"}),
                both("u1", "project_create"),
            ),
            (
                Slack,
                vec![],
                json!({"event_id": "Ev1", "type": "event_callback", "event": {"type": "app_mention"}}),
                both("Ev1", "app_mention"),
            ),
            (
                Shopify,
                vec![("X-Shopify-Webhook-Id", "w1"), ("X-Shopify-Topic", "orders/create")],
                json!({}),
                both("w1", "orders/create"),
            ),
            (Twilio, vec![("I-Twilio-Idempotency-Token", "t1")], json!({}), (Some("t1".into()), None)),
            (
                Paddle,
                vec![],
                json!({"event_id": "evt_1", "event_type": "transaction.completed"}),
                both("evt_1", "transaction.completed"),
            ),
            (Square, vec![], json!({"event_id": "e1", "type": "payment.updated"}), both("e1", "payment.updated")),
            (
                Hubspot,
                vec![],
                json!([{"eventId": 100, "subscriptionType": "contact.creation"}]),
                both("100", "contact.creation"),
            ),
            (
                HubspotV1,
                vec![],
                json!([{"eventId": 1, "subscriptionType": "a"}, {"eventId": 2, "subscriptionType": "a"}]),
                (None, Some("a".into())),
            ),
            (
                Sendgrid,
                vec![],
                json!([{"sg_event_id": "s1", "event": "open"}, {"sg_event_id": "s2", "event": "click"}]),
                (None, None),
            ),
            (
                CoinbaseCommerce,
                vec![],
                json!({"id": 1, "event": {"id": "c1", "type": "charge:created"}}),
                both("c1", "charge:created"),
            ),
            (
                Pagerduty,
                vec![],
                json!({"event": {"id": "p1", "event_type": "incident.triggered"}}),
                both("p1", "incident.triggered"),
            ),
            (
                Woocommerce,
                vec![("X-WC-Webhook-Delivery-ID", "9"), ("X-WC-Webhook-Topic", "order.created")],
                json!({}),
                both("9", "order.created"),
            ),
            (Zoom, vec![("x-zm-trackingid", "z1")], json!({"event": "meeting.started"}), both("z1", "meeting.started")),
            (
                Linear,
                vec![("Linear-Delivery", "l1"), ("Linear-Event", "Issue")],
                json!({"type": "Issue"}),
                both("l1", "Issue"),
            ),
            (
                Mailgun,
                vec![],
                json!({"signature": {"token": "tok"}, "event-data": {"event": "delivered"}}),
                both("tok", "delivered"),
            ),
            (
                Intercom,
                vec![],
                json!({"id": "notif_1", "topic": "conversation.user.created"}),
                both("notif_1", "conversation.user.created"),
            ),
            (
                Twitch,
                vec![("Twitch-Eventsub-Message-Id", "m1"), ("Twitch-Eventsub-Subscription-Type", "channel.follow")],
                json!({}),
                both("m1", "channel.follow"),
            ),
            (Discord, vec![], json!({"id": "i1", "type": 2}), both("i1", "application_command")),
            (
                Discord,
                vec![],
                json!({"type": 1, "event": {"type": "APPLICATION_AUTHORIZED"}}),
                (None, Some("APPLICATION_AUTHORIZED".into())),
            ),
            (Typeform, vec![], json!({"event_id": "f1", "event_type": "form_response"}), both("f1", "form_response")),
            (Calendly, vec![], json!({"event": "invitee.created"}), (None, Some("invitee.created".into()))),
            (
                Bitbucket,
                vec![("X-Request-UUID", "b1"), ("X-Event-Key", "repo:push")],
                json!({}),
                both("b1", "repo:push"),
            ),
            (Bitbucket, vec![("X-Request-Id", "b2"), ("X-Event-Key", "pr:opened")], json!({}), both("b2", "pr:opened")),
            (
                Jira,
                vec![("X-Atlassian-Webhook-Identifier", "j1")],
                json!({"webhookEvent": "jira:issue_created"}),
                both("j1", "jira:issue_created"),
            ),
        ];
        for (kind, pairs, body, expected) in cases {
            assert_eq!(ids(kind, &pairs, body.clone()), expected, "{kind:?} {body}");
        }
    }

    #[test]
    fn missing_or_odd_fields_give_none_not_garbage() {
        for kind in
            [SchemeKind::Paddle, SchemeKind::Hubspot, SchemeKind::Sendgrid, SchemeKind::Discord, SchemeKind::Mailgun]
        {
            assert_eq!(ids(kind, &[], json!({"event_id": {}, "type": 9, "signature": []})), (None, None), "{kind:?}");
            assert_eq!(ids(kind, &[], json!([])), (None, None), "{kind:?}");
        }
        assert_eq!(ids(SchemeKind::Slack, &[], json!({"event_id": ""})), (None, None));
    }
}
