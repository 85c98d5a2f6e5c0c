//! From a verified request to a CloudEvent: the provider's event type and delivery id, as each
//! provider's `identify` reads them (see `verify/identify.rs`); the id becomes the CloudEvent id
//! and the dedup key. Without an event type the event is typed `webhook`.
use axum::http::HeaderMap;
use hookbus_core::CloudEvent;
use serde_json::Value;

use crate::source::Source;
use crate::verify::Prefix;

fn header(h: &HeaderMap, name: &str) -> Option<String> {
    h.get(name).and_then(|v| v.to_str().ok()).map(str::trim).filter(|s| !s.is_empty()).map(str::to_owned)
}

/// Builds the envelope. `id` is the provider's delivery id when it sends one, else a UUIDv7.
/// The second value is the provider's id alone: the dedup key (None when the provider sent none).
pub fn normalize(source: &Source, headers: &HeaderMap, body: &[u8]) -> (CloudEvent, Option<String>) {
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let (provider_id, ty) = source.scheme.identify(headers, parsed.as_ref());
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
        match self.scheme.provider().prefix {
            Prefix::Source => &self.name,
            Prefix::Fixed(name) => name,
            Prefix::Name => self.scheme.name(),
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
        scheme(kind).identify(&headers(&pairs), Some(&body))
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
