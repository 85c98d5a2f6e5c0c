//! Outbound auth, the request method and secret maps through the real worker path: OAuth2 client
//! credentials against a local token endpoint (one fetch for many deliveries, a fetch again once
//! the token is near expiry, a 401 from the target forgets the token and the request is sent once
//! more with a new one), basic auth with `PUT`, and a per-account key looked up from a secret map
//! (an unknown account is dead-lettered, its key never shown).
#[macro_use]
mod support;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Form, State};
use hookbus_core::GiveUpReason;
use support::bus::{self, Backend, Bus, Options};
use support::receiver::Receiver;

const WAIT: Duration = Duration::from_secs(30);

/// A token endpoint: every fetch gets `tok-N` valid for `EXPIRES_IN` seconds; the forms it
/// received are kept.
#[derive(Clone, Default)]
struct TokenEndpoint {
    forms: Arc<Mutex<Vec<TokenForm>>>,
}

/// The fields of one token request.
type TokenForm = Vec<(String, String)>;

const EXPIRES_IN: u64 = 2;

impl TokenEndpoint {
    async fn start() -> (Self, String) {
        let me = Self::default();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/oauth/token", listener.local_addr().unwrap());
        let app = axum::Router::new().route("/oauth/token", axum::routing::post(token)).with_state(me.clone());
        tokio::spawn(async move { axum::serve(listener, app).await });
        (me, url)
    }

    fn fetches(&self) -> usize {
        self.forms.lock().unwrap().len()
    }
}

async fn token(State(t): State<TokenEndpoint>, Form(form): Form<TokenForm>) -> axum::Json<serde_json::Value> {
    let n = {
        let mut forms = t.forms.lock().unwrap();
        forms.push(form);
        forms.len()
    };
    axum::Json(
        serde_json::json!({"access_token": format!("tok-{n}"), "token_type": "Bearer", "expires_in": EXPIRES_IN}),
    )
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn id() -> String {
    uuid::Uuid::new_v4().to_string()
}

async fn post_push(url: &str, repo: &str) -> String {
    let e = id();
    assert_eq!(bus::post_github(url, &bus::github_push(repo, "a@x.io"), &e).await.0, 202);
    e
}

async fn oauth2_tokens_are_cached_refreshed_and_renewed_after_a_401(backend: Backend) {
    let rx = Receiver::start().await;
    let (tokens, token_url) = TokenEndpoint::start().await;
    let auth = format!(
        r#"auth = {{ kind = "oauth2_client_credentials", token_url = "{token_url}", client_id = "hookbus", client_secret = {{ value = "cl1ent-s3cret" }}, scope = "contacts.write", audience = "https://api.example.com" }}"#
    );
    let bus = Bus::new(backend, &rx.url, Options { crm_settings: leak(auth), ..Options::default() });
    let app = bus.start().await;

    let mut events = Vec::new();
    for _ in 0..5 {
        events.push(post_push(&app.url, "acme/a").await);
    }
    let reqs = rx.wait_until("five deliveries", WAIT, |r| r.iter().filter(|q| q.status == 200).count() == 5).await;
    assert!(reqs.iter().all(|r| r.header("authorization") == "Bearer tok-1"), "one token for all of them");
    assert_eq!(tokens.fetches(), 1, "one fetch for many deliveries");
    let form = tokens.forms.lock().unwrap()[0].clone();
    for pair in [
        ("grant_type", "client_credentials"),
        ("client_id", "hookbus"),
        ("client_secret", "cl1ent-s3cret"),
        ("scope", "contacts.write"),
        ("audience", "https://api.example.com"),
    ] {
        assert!(form.contains(&(pair.0.to_owned(), pair.1.to_owned())), "{pair:?} in {form:?}");
    }

    // Past the refresh point (expires_in minus a fifth): the next delivery fetches a new token.
    tokio::time::sleep(Duration::from_millis(EXPIRES_IN * 1000)).await;
    let late = post_push(&app.url, "acme/a").await;
    let reqs = rx.wait_until("the late delivery", WAIT, |r| r.iter().any(|q| q.header("webhook-id") == late)).await;
    assert_eq!(reqs.last().unwrap().header("authorization"), "Bearer tok-2");
    assert_eq!(tokens.fetches(), 2, "refetched once the token neared expiry");

    // The target refuses the token (revoked): it is forgotten, a new one fetched, the request sent again.
    rx.script(&[401]);
    let refused = post_push(&app.url, "acme/a").await;
    let reqs = rx
        .wait_until("the refused delivery sent again", WAIT, |r| {
            r.iter().any(|q| q.header("webhook-id") == refused && q.status == 200)
        })
        .await;
    let tries: Vec<_> = reqs.iter().filter(|r| r.header("webhook-id") == refused).collect();
    let seen: Vec<(u16, &str)> = tries.iter().map(|r| (r.status, r.header("authorization"))).collect();
    assert_eq!(seen, [(401, "Bearer tok-2"), (200, "Bearer tok-3")]);
    assert!(tries.iter().all(|r| r.header("hookbus-attempt") == "1"), "within the same attempt");
    assert_eq!(tokens.fetches(), 3);
    app.stop().await;
}

async fn basic_auth_with_put_and_secret_map_keys(backend: Backend) {
    let rx = Receiver::start().await;
    let settings = r#"method = "PUT"
auth = { kind = "basic", username = "api", password = { value = "pa55word" } }
headers = { x-api-key = '{{ secret("keys"; .data.repository.full_name) }}' }
secret_maps = { keys = { "acme/a" = { value = "key-for-a" }, "acme/b" = { value = "key-for-b" } } }"#;
    let bus = Bus::new(backend, &rx.url, Options { crm_settings: settings, ..Options::default() });
    let app = bus.start().await;
    let a = post_push(&app.url, "acme/a").await;
    let b = post_push(&app.url, "acme/b").await;
    let unknown = post_push(&app.url, "acme/unknown-tenant").await;
    let reqs = rx.wait_until("a and b delivered", WAIT, |r| r.len() >= 2).await;
    for (e, key) in [(&a, "key-for-a"), (&b, "key-for-b")] {
        let r = reqs.iter().find(|r| r.header("webhook-id") == e).unwrap();
        assert_eq!(r.method, "PUT");
        assert_eq!(r.header("authorization"), "Basic YXBpOnBhNTV3b3Jk");
        assert_eq!(r.header("x-api-key"), key, "the key of the event's account");
    }
    let dead = loop {
        let dead =
            hookbus_worker::dlq::list(bus.broker().as_ref(), &bus.prefix, "crm", &Default::default()).await.unwrap();
        if !dead.is_empty() {
            break dead;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let dl = &dead[0].record;
    assert_eq!((dl.event.id.as_str(), dl.reason), (unknown.as_str(), GiveUpReason::TransformError));
    assert!(dl.message.contains("secret map `keys` has no entry"), "{}", dl.message);
    assert!(!dl.message.contains("unknown-tenant"), "the lookup key is not shown: {}", dl.message);
    assert!(rx.for_event(&unknown).is_empty(), "never sent");
    app.stop().await;
}

on_every_backend!(oauth2_tokens_are_cached_refreshed_and_renewed_after_a_401, basic_auth_with_put_and_secret_map_keys);
