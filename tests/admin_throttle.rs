//! An address that keeps presenting wrong admin tokens is refused for the rest of the minute, on
//! the API and at console sign-in alike, even with the right token; other addresses are not.
mod support;

use support::admin::{TOKEN, start, with_admin};
use support::bus::{Backend, Bus, Options};

/// The default of `[admin] auth_failures_per_minute`.
const LIMIT: usize = 20;

fn client_from(ip: [u8; 4]) -> reqwest::Client {
    reqwest::Client::builder().local_address(std::net::IpAddr::from(ip)).no_proxy().build().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_tokens_get_an_address_refused_for_a_minute() {
    let bus = Bus::new(Backend::Embedded, "http://127.0.0.1:9", Options::default());
    with_admin(&bus);
    let node = start(&bus).await;
    let subs = format!("{}/api/v1/subscriptions", node.admin);
    let guesser = client_from([127, 0, 0, 1]);

    // No token at all guesses nothing and is not counted.
    for _ in 0..LIMIT + 5 {
        assert_eq!(guesser.get(&subs).send().await.unwrap().status(), 401);
    }
    for i in 0..LIMIT - 1 {
        let r = guesser.get(&subs).bearer_auth(format!("guess-{i}")).send().await.unwrap();
        assert_eq!(r.status(), 401, "guess {i}");
    }
    // The last allowed failure is a console sign-in: both count against the same address.
    let sign_in = format!("{}/console/session", node.admin);
    let r = guesser.post(&sign_in).json(&serde_json::json!({"token": "guess"})).send().await.unwrap();
    assert_eq!(r.status(), 401);

    let refused = guesser.get(&subs).bearer_auth(TOKEN).send().await.unwrap();
    assert_eq!(refused.status(), 429, "the right token from a refused address");
    let wait: u64 = refused.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1..=60).contains(&wait), "Retry-After {wait}");
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_auth_failures");
    let r = guesser.post(&sign_in).json(&serde_json::json!({"token": TOKEN})).send().await.unwrap();
    assert_eq!(r.status(), 429, "console sign-in from a refused address");

    let other = client_from([127, 0, 0, 2]);
    assert_eq!(other.get(&subs).bearer_auth(TOKEN).send().await.unwrap().status(), 200, "another address");
    node.stop().await;
}
