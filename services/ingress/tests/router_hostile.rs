//! Router tests for what reaches the ingress besides well-behaved deliveries: rate limits (429 with
//! Retry-After), media types (415), wrong methods (405), handshakes (answered, never published) and
//! the per-source dedup window. Driven with `oneshot`, no sockets; the broker is a recording double.
//! The harness is shared with `router.rs` in `harness/mod.rs`.
mod harness;

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::json;

use harness::*;

const SECRET: &str = "hostile-router-test-secret";

fn base_config() -> String {
    format!(
        r#"
[sources.limited]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
rate_limit = {{ per_second = 1, burst = 2 }}

[sources.jsononly]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
content_types = ["application/json", "application/*+json"]

[sources.hooks]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}, {{ value = "meta-verify-token" }}]
handshakes = ["meta", "msgraph", "websub"]
content_types = ["application/json"]

[sources.plain]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]

[sources.shortdedup]
scheme = "github"
secrets = [{{ value = "{SECRET}" }}]
dedup_window_secs = 1
"#
    )
}

/// The providers whose handshakes are signed and implied by the scheme.
fn signed_handshake_config() -> String {
    format!(
        r#"
[sources.slack]
scheme = "slack"
secrets = [{{ value = "{SECRET}" }}]

[sources.zoom]
scheme = "zoom"
secrets = [{{ value = "zoom-old-secret", expires = "2000-01-01T00:00:00Z" }}, {{ value = "zoom-other" }}, {{ value = "{SECRET}" }}]

[sources.twitch]
scheme = "twitch"
secrets = [{{ value = "{SECRET}" }}]

[sources.woo]
scheme = "woocommerce"
secrets = [{{ value = "{SECRET}" }}]
"#
    )
}

impl Harness {
    fn base() -> Self {
        Self::from_toml(&base_config())
    }

    /// A POST to `uri` signed for `source` at `now`, with `extra` headers replacing signed ones.
    fn signed(&self, source: &str, uri: &str, body: &[u8], id: &str, extra: &[(&str, &str)]) -> Request<Body> {
        let signed = self.sign(source, SECRET, body, now(), id);
        let mut builder = Request::post(uri);
        for (k, v) in &signed {
            if !extra.iter().any(|(e, _)| e.eq_ignore_ascii_case(k)) {
                builder = builder.header(k.as_str(), v.as_str());
            }
        }
        for (k, v) in extra {
            builder = builder.header(*k, *v);
        }
        builder.body(Body::from(body.to_vec())).unwrap()
    }
}

const BODY: &[u8] = br#"{"zen":"Keep it logically awesome.","repository":{"full_name":"o/r"}}"#;

// -------------------------------------------------------------------------------------------------
// Rate limit.

#[tokio::test]
async fn over_the_rate_limit_is_429_with_retry_after_and_nothing_is_published() {
    let h = Harness::base();
    // burst = 2: two go through at once, the third waits for the 1/s refill.
    for i in 0..2 {
        let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, &format!("d-rl-{i}"), &[])).await;
        assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    }
    let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, "d-rl-2", &[])).await;
    reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    let secs: u64 = reply.header(header::RETRY_AFTER).parse().expect("Retry-After is delay-seconds");
    assert_eq!(secs, 1, "1 request/s refills within a second");
    assert_eq!(h.publisher.count(), 2, "the limited request was not published");

    // Other sources have their own budget.
    let reply = h.send(h.signed("plain", "/webhooks/plain", BODY, "d-rl-other", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED);

    // After the Retry-After the provider's retry is accepted.
    let started = Instant::now();
    loop {
        let reply = h.send(h.signed("limited", "/webhooks/limited", BODY, "d-rl-2", &[])).await;
        if reply.status == StatusCode::ACCEPTED {
            break;
        }
        reply.assert_error(StatusCode::TOO_MANY_REQUESTS, "rate_limited");
        assert!(started.elapsed() < Duration::from_secs(3), "still limited after Retry-After");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(h.publisher.count(), 4);
    assert!(h.metrics().await.contains(r#"hookbus_ingress_rejected_total{source="limited",reason="rate_limited"}"#));
}

// -------------------------------------------------------------------------------------------------
// Media types.

#[tokio::test]
async fn a_media_type_the_source_does_not_accept_is_415_and_nothing_is_published() {
    let h = Harness::base();
    let xml = [("Content-Type", "application/xml")];
    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", b"<a/>", "d-xml", &xml)).await;
    reply.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert!(reply.json()["error"]["message"].as_str().unwrap().contains("application/xml"));

    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", BODY, "d-none", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "`sign` labels the body application/json: {}", reply.text());
    let mut no_type = h.signed("jsononly", "/webhooks/jsononly", BODY, "d-no-type", &[]);
    no_type.headers_mut().remove(header::CONTENT_TYPE);
    h.send(no_type).await.assert_error(StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(h.publisher.count(), 1);

    // Parameters and case do not matter; a listed `+json` suffix type matches literally.
    let ct = [("Content-Type", "Application/JSON; charset=UTF-8")];
    let reply = h.send(h.signed("jsononly", "/webhooks/jsononly", BODY, "d-params", &ct)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    // A source without a list takes anything (the body goes out as data_base64 when not JSON).
    let reply = h.send(h.signed("plain", "/webhooks/plain", b"<a/>", "d-any", &xml)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 3);
}

#[tokio::test]
async fn a_method_other_than_post_is_405_json_with_allow() {
    let h = Harness::base();
    let put = Request::builder().method(Method::PUT).uri("/webhooks/plain").body(Body::from("{}")).unwrap();
    let reply = h.send(put).await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(reply.header(header::ALLOW), "POST");
    let reply = h.get("/webhooks/plain?hub.mode=subscribe&hub.challenge=x").await;
    reply.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let delete = Request::builder().method(Method::DELETE).uri("/webhooks/hooks").body(Body::empty()).unwrap();
    assert_eq!(h.send(delete).await.header(header::ALLOW), "GET, POST");
    // Unknown sources stay 404 whatever the method.
    h.get("/webhooks/nope").await.assert_error(StatusCode::NOT_FOUND, "unknown_source");
    assert_eq!(h.publisher.count(), 0);
}

// -------------------------------------------------------------------------------------------------
// Query handshakes (unsigned).

#[tokio::test]
async fn meta_verification_echoes_the_challenge_only_for_the_right_verify_token() {
    let h = Harness::base();
    let ok = "/webhooks/hooks?hub.mode=subscribe&hub.verify_token=meta-verify-token&hub.challenge=1158201444";
    h.get(ok).await.assert_echo("1158201444");
    let wrong = "/webhooks/hooks?hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1158201444";
    h.get(wrong).await.assert_error(StatusCode::FORBIDDEN, "handshake_rejected");
    assert_eq!(h.publisher.count(), 0);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="meta"} 1"#), "{text}");
}

#[tokio::test]
async fn websub_and_msgraph_validations_are_answered_without_publishing() {
    let h = Harness::base();
    let websub = "/webhooks/hooks?hub.mode=subscribe&hub.topic=https%3A%2F%2Fexample.com%2Ffeed&hub.challenge=ch%2F1&hub.lease_seconds=86400";
    h.get(websub).await.assert_echo("ch/1");

    // Graph posts an empty text/plain body with the token in the query; the source only accepts
    // JSON, and the request is unsigned: the validation is answered before either check.
    let token = "Validation%3A+Testing+client+application+reachability+for+subscription+Request-Id%3A+8e2b";
    let req = Request::post(format!("/webhooks/hooks?validationToken={token}"))
        .header("Content-Type", "text/plain; charset=utf-8")
        .body(Body::empty())
        .unwrap();
    h.send(req)
        .await
        .assert_echo("Validation: Testing client application reachability for subscription Request-Id: 8e2b");

    // A source that does not list msgraph treats the parameter as part of an ordinary delivery.
    let reply = h.send(h.signed("plain", "/webhooks/plain?validationToken=x", BODY, "d-graph", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="websub"} 1"#), "{text}");
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="hooks",kind="msgraph"} 1"#), "{text}");
}

// -------------------------------------------------------------------------------------------------
// Replay protection: the source's own dedup window.

#[tokio::test]
async fn a_sources_dedup_window_overrides_the_default() {
    let h = Harness::base();
    for source in ["plain", "shortdedup"] {
        let uri = format!("/webhooks/{source}");
        let reply = h.send(h.signed(source, &uri, BODY, "d-window", &[])).await;
        assert_eq!(reply.json(), json!({ "id": "d-window", "duplicate": false }));
        let reply = h.send(h.signed(source, &uri, BODY, "d-window", &[])).await;
        assert_eq!(
            reply.json(),
            json!({ "id": "d-window", "duplicate": true }),
            "{source}: a replay within the window"
        );
    }
    // `shortdedup` remembers ids for 1 s, `plain` for the default day.
    let started = Instant::now();
    loop {
        let reply = h.send(h.signed("shortdedup", "/webhooks/shortdedup", BODY, "d-window", &[])).await;
        if reply.json()["duplicate"] == json!(false) {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(3), "still a duplicate 3 s after a 1 s window");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(started.elapsed() >= Duration::from_millis(500), "forgotten before its window");
    let reply = h.send(h.signed("plain", "/webhooks/plain", BODY, "d-window", &[])).await;
    assert_eq!(reply.json()["duplicate"], json!(true));
    assert_eq!(h.publisher.count(), 3);
}

// -------------------------------------------------------------------------------------------------
// Signed handshakes, implied by the scheme: verified first, then answered.

#[tokio::test]
async fn slack_url_verification_is_answered_after_the_signature_verified() {
    let h = Harness::from_toml(&signed_handshake_config());
    let body = br#"{"token":"Jhj5dZrVaK7ZwHHjRyZWjbDl","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P","type":"url_verification"}"#;
    h.send(h.signed("slack", "/webhooks/slack", body, "unused", &[]))
        .await
        .assert_echo("3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P");
    // Unsigned, it is an ordinary forged request.
    let req = Request::post("/webhooks/slack")
        .header("Content-Type", "application/json")
        .body(Body::from(&body[..]))
        .unwrap();
    let reply = h.send(req).await;
    assert_eq!(reply.status, StatusCode::UNAUTHORIZED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 0);
}

#[tokio::test]
async fn zoom_url_validation_is_answered_with_the_hmac_under_the_secret_that_verified() {
    let h = Harness::from_toml(&signed_handshake_config());
    let body = br#"{"payload":{"plainToken":"qgg8vlvZRS6UYooatFL8Aw"},"event_ts":1654503849680,"event":"endpoint.url_validation"}"#;
    let reply = h.send(h.signed("zoom", "/webhooks/zoom", body, "unused", &[])).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    let expected = hookbus_ingress::verify::zoom::encrypted_token(SECRET, "qgg8vlvZRS6UYooatFL8Aw");
    assert_eq!(reply.json(), json!({ "plainToken": "qgg8vlvZRS6UYooatFL8Aw", "encryptedToken": expected }));
    assert_eq!(h.publisher.count(), 0);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="zoom",kind="zoom"} 1"#), "{text}");
}

#[tokio::test]
async fn twitch_callback_verification_is_answered_and_notifications_are_published() {
    let h = Harness::from_toml(&signed_handshake_config());
    let body = br#"{"challenge":"pogchamp-kappa-360noscope-vohiyo","subscription":{"id":"f1c2a387-161a-49f9-a165-0f21d7a4e1c4","status":"webhook_callback_verification_pending","type":"channel.follow","version":"1"}}"#;
    let verification = [("Twitch-Eventsub-Message-Type", "webhook_callback_verification")];
    h.send(h.signed("twitch", "/webhooks/twitch", body, "e-verify", &verification))
        .await
        .assert_echo("pogchamp-kappa-360noscope-vohiyo");
    assert_eq!(h.publisher.count(), 0);

    let notification = [("Twitch-Eventsub-Message-Type", "notification")];
    let event = br#"{"subscription":{"type":"channel.follow"},"event":{"user_id":"1337"}}"#;
    let reply = h.send(h.signed("twitch", "/webhooks/twitch", event, "e-notify", &notification)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
}

#[tokio::test]
async fn woocommerce_creation_ping_gets_200_and_its_deliveries_are_verified() {
    let h = Harness::from_toml(&signed_handshake_config());
    let ping = Request::post("/webhooks/woo")
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(Body::from("webhook_id=17"))
        .unwrap();
    let reply = h.send(ping).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.text());
    assert_eq!(h.publisher.count(), 0);

    // Anything else unsigned is rejected, and signed deliveries are published.
    let req = Request::post("/webhooks/woo").body(Body::from(r#"{"id":17}"#)).unwrap();
    assert_eq!(h.send(req).await.status, StatusCode::UNAUTHORIZED);
    let reply = h.send(h.signed("woo", "/webhooks/woo", br#"{"id":17,"status":"processing"}"#, "wc-1", &[])).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
}

// -------------------------------------------------------------------------------------------------
// GET deliveries (HubSpot workflow webhook actions).

/// HubSpot v2 signs `secret + method + URI + body`; a workflow action configured for GET sends an
/// empty body. The vector is HubSpot's own (hubspot-api-python `test_is_valid__v2_get_method`).
#[tokio::test]
async fn a_signed_get_to_a_source_whose_provider_sends_them_is_verified_and_published() {
    let h = Harness::from_toml(
        "[sources.hs]\nscheme = \"hubspot_v2\"\npublic_url = \"https://www.example.com/webhook_uri\"\n\
         secrets = [{ value = \"yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy\" }]\nhandshakes = [\"websub\"]\n\
         [sources.gh]\nscheme = \"github\"\nsecrets = [{ value = \"s\" }]\n",
    );
    let get = |uri: &str, sig: &str| {
        Request::get(uri)
            .header("X-HubSpot-Signature", sig)
            .header("X-HubSpot-Signature-Version", "v2")
            .body(Body::empty())
            .unwrap()
    };
    let good = "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e";
    let reply = h.send(get("/webhooks/hs", good)).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    assert_eq!(h.publisher.count(), 1);
    // The same signature does not hold for a POST, nor for a GET with another query.
    let post = Request::post("/webhooks/hs").header("X-HubSpot-Signature", good).body(Body::empty()).unwrap();
    h.send(post).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");
    h.send(get("/webhooks/hs?x=1", good)).await.assert_error(StatusCode::UNAUTHORIZED, "signature_mismatch");
    // An unsigned GET is refused, not answered as a handshake.
    h.get("/webhooks/hs").await.assert_error(StatusCode::UNAUTHORIZED, "missing_signature_header");
    // The source's listed WebSub handshake is still answered on GET.
    h.get("/webhooks/hs?hub.mode=subscribe&hub.topic=t&hub.challenge=c1").await.assert_echo("c1");
    // Other providers still take GET only as a handshake.
    h.get("/webhooks/gh").await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    let put = Request::builder().method(Method::PUT).uri("/webhooks/hs").body(Body::empty()).unwrap();
    assert_eq!(h.send(put).await.header(header::ALLOW), "GET, POST");
    assert_eq!(h.publisher.count(), 1);
}

/// Endpoint checks a provider sends with GET or HEAD are answered through its provider file:
/// Dropbox's `?challenge=`, Okta's verification header, Trello's creation HEAD.
#[tokio::test]
async fn provider_get_and_head_checks_are_answered_without_publishing() {
    let h = Harness::from_toml(
        "[sources.db]\nscheme = \"dropbox\"\nsecrets = [{ value = \"s\" }]\n\
         [sources.ok]\nscheme = \"okta\"\nsecrets = [{ value = \"s\" }]\n\
         [sources.tr]\nscheme = \"trello\"\npublic_url = \"https://hooks.example.com/tr\"\nsecrets = [{ value = \"s\" }]\n",
    );
    let reply = h.get("/webhooks/db?challenge=ab%3Cc").await;
    reply.assert_echo("ab<c");
    let okta =
        Request::get("/webhooks/ok").header("X-Okta-Verification-Challenge", "v-123").body(Body::empty()).unwrap();
    let reply = h.send(okta).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.json(), json!({ "verification": "v-123" }));
    let head = Request::head("/webhooks/tr").body(Body::empty()).unwrap();
    assert_eq!(h.send(head).await.status, StatusCode::OK);
    // Without the provider's marker, GET stays refused.
    h.get("/webhooks/db").await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    h.get("/webhooks/tr").await.assert_error(StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed");
    assert_eq!(h.publisher.count(), 0);
    let text = h.metrics().await;
    assert!(text.contains(r#"hookbus_ingress_handshakes_total{source="db",kind="dropbox"} 1"#), "{text}");
}
