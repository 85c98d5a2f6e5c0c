//! The console's server side on both store backends: sign-in for a session cookie, cookie auth on
//! the API with CSRF for writes and scopes kept, sign-out ending the session; the embedded assets
//! and their CSP; and the API routes added for it (mapping/check, series, text and reason filters).
mod support;

use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use hookbus_control::store::Store;
use hookbus_core::live::{DeliveryObservation, ObservationKind, Rejection};
use hookbus_core::{Attempt, AttemptOutcome, Decision, GiveUpReason};
use serde_json::{Value, json};
use support::{Harness, READ, WRITE, ingest, sub_body};
use time::OffsetDateTime;
use tower::ServiceExt as _;

struct Resp {
    status: StatusCode,
    headers: axum::http::HeaderMap,
    text: String,
}

impl Resp {
    fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or(Value::Null)
    }
    fn cookie(&self) -> Option<String> {
        self.headers.get("set-cookie").map(|v| v.to_str().unwrap().to_owned())
    }
}

async fn raw(h: &Harness, method: Method, path: &str, headers: &[(&str, &str)], body: Option<Value>) -> Resp {
    let mut req = Request::builder().method(method).uri(path);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let body = body.map(|b| Body::from(b.to_string())).unwrap_or_else(Body::empty);
    let resp = h.router.clone().oneshot(req.body(body).unwrap()).await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    let bytes = http_body_util::BodyExt::collect(resp.into_body()).await.unwrap().to_bytes();
    Resp { status, headers, text: String::from_utf8_lossy(&bytes).into_owned() }
}

/// Signs in with `token`; returns the `Cookie` header value and the CSRF token.
async fn sign_in(h: &Harness, token: &str) -> (String, String) {
    let r = raw(
        h,
        Method::POST,
        "/console/session",
        &[("content-type", "application/json")],
        Some(json!({"token": token})),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK, "{}", r.text);
    let set = r.cookie().expect("a session cookie");
    let pair = set.split(';').next().unwrap().to_owned();
    (pair, r.json()["csrf"].as_str().unwrap().to_owned())
}

async fn sessions_stand_in_for_bearer_tokens(store: Store) {
    let h = Harness::new(store).await;
    let r = raw(
        &h,
        Method::POST,
        "/console/session",
        &[("content-type", "application/json")],
        Some(json!({"token": "nope"})),
    )
    .await;
    assert_eq!((r.status, r.cookie()), (StatusCode::UNAUTHORIZED, None));
    let form =
        raw(&h, Method::POST, "/console/session", &[("content-type", "application/x-www-form-urlencoded")], None).await;
    assert_eq!(form.status, StatusCode::BAD_REQUEST, "only JSON signs in (no cross-site form posts)");

    let r = raw(
        &h,
        Method::POST,
        "/console/session",
        &[("content-type", "application/json")],
        Some(json!({"token": WRITE})),
    )
    .await;
    let set = r.cookie().unwrap();
    assert!(
        set.starts_with("hookbus_session=") && set.contains("HttpOnly") && set.contains("SameSite=Strict"),
        "{set}"
    );
    assert!(set.contains("Path=/") && set.contains("Max-Age=43200"), "12h absolute limit by default: {set}");
    assert_eq!((r.json()["scope"].as_str(), r.json()["name"].as_str()), (Some("write"), Some("rw")));
    assert!(!r.text.contains(WRITE), "the token is not echoed");
    let (cookie, csrf) = sign_in(&h, WRITE).await;

    let c = [("cookie", cookie.as_str())];
    let me = raw(&h, Method::GET, "/console/session", &c, None).await;
    assert_eq!((me.status, me.json()["csrf"].as_str()), (StatusCode::OK, Some(csrf.as_str())));
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions", &c, None).await.status, StatusCode::OK);
    // Writes need the CSRF token of this session.
    let no_csrf = raw(&h, Method::POST, "/api/v1/subscriptions", &c, Some(sub_body("s1"))).await;
    assert_eq!(
        (no_csrf.status, no_csrf.json()["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("csrf_token_invalid"))
    );
    let wrong = [("cookie", cookie.as_str()), ("x-csrf-token", "forged")];
    assert_eq!(
        raw(&h, Method::POST, "/api/v1/subscriptions", &wrong, Some(sub_body("s1"))).await.status,
        StatusCode::FORBIDDEN
    );
    let ok = [("cookie", cookie.as_str()), ("x-csrf-token", csrf.as_str())];
    let created = raw(&h, Method::POST, "/api/v1/subscriptions", &ok, Some(sub_body("s1"))).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);

    // A read session: reads, dry runs, no writes even with its CSRF token.
    let (rc, rcsrf) = sign_in(&h, READ).await;
    let ro = [("cookie", rc.as_str()), ("x-csrf-token", rcsrf.as_str())];
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions/s1", &ro, None).await.status, StatusCode::OK);
    let pause = raw(&h, Method::POST, "/api/v1/subscriptions/s1/pause", &ro, None).await;
    assert_eq!(
        (pause.status, pause.json()["error"]["code"].as_str()),
        (StatusCode::FORBIDDEN, Some("insufficient_scope"))
    );
    let check = raw(&h, Method::POST, "/api/v1/mapping/check", &ro, Some(json!({"filter": "."}))).await;
    assert_eq!(check.status, StatusCode::OK, "{}", check.text);
    // Another session's CSRF token is refused.
    let mixed = [("cookie", rc.as_str()), ("x-csrf-token", csrf.as_str())];
    assert_eq!(
        raw(&h, Method::POST, "/api/v1/mapping/check", &mixed, Some(json!({}))).await.status,
        StatusCode::FORBIDDEN
    );

    // A tampered cookie is no session; a bearer token still wins over a cookie.
    let tampered = cookie.replacen("hookbus_session=e", "hookbus_session=f", 1);
    assert_eq!(
        raw(&h, Method::GET, "/api/v1/subscriptions", &[("cookie", &tampered)], None).await.status,
        StatusCode::UNAUTHORIZED
    );
    let bearer = format!("Bearer {WRITE}");
    let both = [("cookie", tampered.as_str()), ("authorization", bearer.as_str())];
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions", &both, None).await.status, StatusCode::OK);

    // Sign-out needs the CSRF token, clears the cookie, and ends the session for copies of it.
    assert_eq!(raw(&h, Method::DELETE, "/console/session", &c, None).await.status, StatusCode::FORBIDDEN);
    let out = raw(&h, Method::DELETE, "/console/session", &ok, None).await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    assert!(out.cookie().unwrap().contains("Max-Age=0"));
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions", &c, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(raw(&h, Method::GET, "/console/session", &c, None).await.status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        raw(&h, Method::GET, "/api/v1/subscriptions", &[("cookie", rc.as_str())], None).await.status,
        StatusCode::OK
    );
}
on_both!(sessions_sqlite, sessions_postgres, sessions_stand_in_for_bearer_tokens);

#[tokio::test]
async fn the_console_is_embedded_with_a_strict_csp_and_no_inline_script() {
    let (store, _dir) = support::sqlite();
    let h = Harness::new(store).await;
    let page = raw(&h, Method::GET, "/console", &[], None).await;
    assert_eq!(page.status, StatusCode::OK);
    let csp = page.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'") && !csp.contains("unsafe"),
        "{csp}"
    );
    assert_eq!(page.headers["x-frame-options"], "DENY");
    assert!(!page.text.contains("<script>") && !page.text.contains(" on"), "no inline script or handler");
    assert!(!page.text.contains("http://") && !page.text.contains("https://"), "no external fetch");
    // Every module the page loads, and every module they import, is served as JavaScript.
    let mut todo = vec!["app.js".to_owned(), "style.css".to_owned()];
    let mut seen = Vec::new();
    while let Some(f) = todo.pop() {
        if seen.contains(&f) {
            continue;
        }
        let r = raw(&h, Method::GET, &format!("/console/assets/{f}"), &[], None).await;
        assert_eq!(r.status, StatusCode::OK, "{f} is embedded");
        let ct = r.headers["content-type"].to_str().unwrap();
        assert!(ct.starts_with(if f.ends_with(".js") { "text/javascript" } else { "text/css" }), "{f}: {ct}");
        assert!(!r.text.contains("innerHTML") && !r.text.contains("eval("), "{f} builds the DOM from text nodes");
        // The SVG namespace and a placeholder are the only URLs; neither is fetched.
        let t = r.text.replace("'http://www.w3.org/2000/svg'", "").replace("'https://crm.example.com/hooks'", "");
        assert!(!t.contains("http://") && !t.contains("https://"), "{f} fetches nothing external");
        for part in r.text.split("from './").skip(1) {
            todo.push(part.split('\'').next().unwrap().to_owned());
        }
        seen.push(f);
    }
    assert!(seen.len() >= 8, "{seen:?}");
    assert_eq!(raw(&h, Method::GET, "/console/assets/..%2Fsecret", &[], None).await.status, StatusCode::NOT_FOUND);
}

async fn mapping_check_reports_positions(store: Store) {
    let h = Harness::new(store).await;
    let (s, ok) = h.post("/api/v1/mapping/check", json!({"filter": ".type == \"x\"", "transform": "{a: .data}"})).await;
    assert_eq!((s.as_u16(), ok["ok"].as_bool(), ok["problems"].as_array().map(Vec::len)), (200, Some(true), Some(0)));
    let (_, bad) =
        h.post("/api/v1/mapping/check", json!({"filter": "(", "transform": "{a: .data,\n  b: (.x | }"})).await;
    assert_eq!(bad["ok"], false, "{bad}");
    let p = bad["problems"].as_array().unwrap();
    assert_eq!(p.len(), 2, "{bad}");
    let t = p.iter().find(|x| x["field"] == "transform").unwrap();
    assert_eq!(t["line"], 2, "{t}");
    assert!(t["column"].as_u64().unwrap() >= 1, "{t}");
    // Read scope may check; no token may not.
    let (s, _) = h.call(Method::POST, "/api/v1/mapping/check", Some(READ), Some(json!({"filter": "."}))).await;
    assert_eq!(s.as_u16(), 200);
    let (s, _) = h.call(Method::POST, "/api/v1/mapping/check", None, Some(json!({"filter": "."}))).await;
    assert_eq!(s.as_u16(), 401);
    let (s, e) = h.post("/api/v1/mapping/check", json!({"filtr": "."})).await;
    assert_eq!((s.as_u16(), e["error"]["code"].as_str()), (422, Some("validation_failed")), "{e}");
}
on_both!(check_sqlite, check_postgres, mapping_check_reports_positions);

fn attempt(n: u32, status: u16, outcome: AttemptOutcome, decision: Decision) -> Attempt {
    Attempt {
        attempt: n,
        at: OffsetDateTime::now_utc(),
        latency_ms: 5,
        outcome,
        decision,
        status: Some(status),
        error: None,
        response_snippet: None,
        retry_after_ms: None,
    }
}

fn observed(id: &str, kind: ObservationKind) -> DeliveryObservation {
    DeliveryObservation {
        subscription: "from-config".into(),
        generation: String::new(),
        version: 1,
        event_id: id.into(),
        event_type: "github.push".into(),
        at: OffsetDateTime::now_utc(),
        kind,
    }
}

async fn series_count_attempts_and_webhooks_per_minute(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    ingest(&h.broker, "github", "gh-1", "github.push", br#"{"n": 1}"#).await;
    ingest(&h.broker, "github", "gh-2", "github.push", br#"{"n": 2}"#).await;
    let sink = h.plane.observer();
    let ok = attempt(1, 200, AttemptOutcome::Delivered, Decision::Delivered);
    let bad = attempt(1, 500, AttemptOutcome::HttpError, Decision::Retry);
    sink.observe(observed("gh-1", ObservationKind::Attempted { attempt: ok, request_headers: vec![] }));
    sink.observe(observed("gh-2", ObservationKind::Attempted { attempt: bad, request_headers: vec![] }));
    h.plane.rejections().rejected(Rejection {
        source: "github".into(),
        at: OffsetDateTime::now_utc(),
        code: "signature_mismatch".into(),
        message: "x".into(),
    });
    let total = |b: &Value, group: &str, name: &str, col: &str| -> u64 {
        b[group]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == name)
            .map_or(0, |s| s[col].as_array().unwrap().iter().map(|v| v.as_u64().unwrap()).sum())
    };
    let b = h
        .get_until("/api/v1/series?minutes=5", |b| {
            b["minutes"] == 5
                && total(b, "subscriptions", "from-config", "failed") == 1
                && total(b, "sources", "github", "accepted") == 2
                && total(b, "sources", "github", "rejected") == 1
        })
        .await;
    assert_eq!(total(&b, "subscriptions", "from-config", "delivered"), 1, "{b}");
    assert_eq!(total(&b, "subscriptions", "from-config", "failed"), 1, "{b}");
    assert_eq!((total(&b, "sources", "github", "accepted"), total(&b, "sources", "github", "rejected")), (2, 1), "{b}");
    assert_eq!(total(&b, "sources", "stripe", "accepted"), 0, "every configured source is listed");
    let sub = b["subscriptions"].as_array().unwrap().iter().find(|s| s["name"] == "from-config").unwrap();
    assert_eq!(sub["delivered"].as_array().unwrap().len(), 5, "one point per minute");
    assert_eq!(sub["delivered"][4], 1, "this minute is the last point: {sub}");
    for q in ["?minutes=0", "?minutes=1441", "?minutes=x"] {
        let (s, _) = h.get(&format!("/api/v1/series{q}")).await;
        assert_eq!(s.as_u16(), 400, "{q}");
    }
}
on_both!(series_sqlite, series_postgres, series_count_attempts_and_webhooks_per_minute);

async fn events_are_searched_by_text_and_dead_letter_reason(store: Store) {
    let h = Harness::new(store).await;
    let _running = h.start();
    ingest(&h.broker, "github", "gh-1", "github.push", br#"{"customer": "Ada Lovelace"}"#).await;
    ingest(&h.broker, "github", "gh-2", "github.push", br#"{"customer": "100%_sure"}"#).await;
    h.get_until("/api/v1/events", |b| b["events"].as_array().is_some_and(|e| e.len() == 2)).await;
    let ids = |b: &Value| -> Vec<String> {
        b["events"].as_array().unwrap().iter().map(|e| e["id"].as_str().unwrap().to_owned()).collect()
    };
    let (_, b) = h.get("/api/v1/events?q=ada%20LOVELACE").await;
    assert_eq!(ids(&b), ["gh-1"], "case-insensitive text search");
    let (_, b) = h.get("/api/v1/events?q=0%25_s").await;
    assert_eq!(ids(&b), ["gh-2"], "% and _ are literal");
    let (_, b) = h.get("/api/v1/events?q=%25").await;
    assert_eq!(ids(&b), ["gh-2"]);
    let (_, b) = h.get("/api/v1/events?q=gh-1").await;
    assert_eq!(ids(&b), ["gh-1"], "the id is searched too");

    let sink = h.plane.observer();
    let gave_up = attempt(1, 400, AttemptOutcome::HttpError, Decision::GiveUp);
    sink.observe(observed("gh-2", ObservationKind::Attempted { attempt: gave_up, request_headers: vec![] }));
    sink.observe(observed("gh-2", ObservationKind::DeadLettered { reason: GiveUpReason::PermanentFailure }));
    let b = h.get_until("/api/v1/events?reason=permanent_failure", |b| !ids(b).is_empty()).await;
    assert_eq!(ids(&b), ["gh-2"], "{b}");
    assert_eq!(b["events"][0]["statuses"], json!([{"subscription": "from-config", "status": "dead_lettered"}]), "{b}");
    let (_, all) = h.get("/api/v1/events").await;
    let first = all["events"].as_array().unwrap().iter().find(|e| e["id"] == "gh-1").unwrap();
    assert_eq!(first["statuses"], json!([]), "no report on gh-1 yet: {first}");
    let (_, detail) = h.get("/api/v1/events/gh-2").await;
    assert_eq!(detail["statuses"][0]["status"], "dead_lettered", "{detail}");
    let (_, b) = h.get("/api/v1/events?reason=retries_exhausted&subscription=from-config").await;
    assert!(ids(&b).is_empty());
}
on_both!(search_sqlite, search_postgres, events_are_searched_by_text_and_dead_letter_reason);

#[tokio::test]
async fn an_idle_session_ends_and_the_absolute_limit_is_the_cookie_lifetime() {
    let (store, _dir) = support::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::config(dir.path());
    let admin = config.admin.as_mut().unwrap();
    // Times are whole seconds: 2 s idle is never crossed by the request right after sign-in.
    admin.session_idle = "2s".into();
    admin.session_max = "1h".into();
    let broker = hookbus_broker::embedded::EmbeddedBroker::open(&config.broker.embedded.path).unwrap();
    let mut registry = prometheus_client::registry::Registry::default();
    let plane =
        hookbus_control::ControlPlane::with_store(&config, std::sync::Arc::new(broker.clone()), store, &mut registry)
            .await
            .unwrap();
    let h = Harness { router: plane.router(), plane, broker, config, dir };
    let r = raw(
        &h,
        Method::POST,
        "/console/session",
        &[("content-type", "application/json")],
        Some(json!({"token": READ})),
    )
    .await;
    assert!(r.cookie().unwrap().contains("Max-Age=3600"), "{:?}", r.cookie());
    assert_eq!(r.json()["idle_secs"], 2);
    let (cookie, _) = sign_in(&h, READ).await;
    let c = [("cookie", cookie.as_str())];
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions", &c, None).await.status, StatusCode::OK);
    tokio::time::sleep(std::time::Duration::from_millis(3100)).await;
    assert_eq!(raw(&h, Method::GET, "/api/v1/subscriptions", &c, None).await.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn use_keeps_a_session_alive_past_its_idle_limit() {
    let (store, _dir) = support::sqlite();
    let dir = tempfile::tempdir().unwrap();
    let mut config = support::config(dir.path());
    config.admin.as_mut().unwrap().session_idle = "3s".into();
    let broker = hookbus_broker::embedded::EmbeddedBroker::open(&config.broker.embedded.path).unwrap();
    let mut registry = prometheus_client::registry::Registry::default();
    let plane =
        hookbus_control::ControlPlane::with_store(&config, std::sync::Arc::new(broker.clone()), store, &mut registry)
            .await
            .unwrap();
    let h = Harness { router: plane.router(), plane, broker, config, dir };
    let (mut cookie, _) = sign_in(&h, READ).await;
    // Four requests 1.1 s apart (4.4 s in all, past the 3 s limit; times are whole seconds), each taking the refreshed cookie;
    // a background poll does not refresh it.
    for _ in 0..4 {
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let polled =
            raw(&h, Method::GET, "/api/v1/subscriptions", &[("cookie", &cookie), ("x-console-poll", "1")], None).await;
        assert_eq!((polled.status, polled.cookie()), (StatusCode::OK, None));
        let r = raw(&h, Method::GET, "/api/v1/subscriptions", &[("cookie", &cookie)], None).await;
        assert_eq!(r.status, StatusCode::OK);
        if let Some(set) = r.cookie() {
            cookie = set.split(';').next().unwrap().to_owned();
        }
    }
}
