//! Varied provider payloads for the load generators: GitHub pushes and Stripe events with distinct
//! ids, timestamps, names and amounts, each signed the way its provider signs. A repeated body
//! would flatter any compressing or deduplicating store, so no two bodies are the same.
use hookbus_core::signing::hmac_sha256;
use rand::Rng as _;
use rand::rngs::StdRng;
use serde_json::json;

/// One signed request: where it goes, its headers and body, and the event id hookbus will use.
pub struct Signed {
    pub stripe: bool,
    pub id: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: Vec<u8>,
}

pub struct Secrets {
    pub github: String,
    pub stripe: String,
}

const WORDS: &[&str] = &[
    "fix", "add", "remove", "update", "refactor", "docs", "test", "bump", "parser", "cache", "retry", "queue", "login",
    "billing", "invoice", "webhook", "timeout", "config", "README", "metrics", "logging", "schema",
];
const NAMES: &[&str] = &["mona", "hubot", "octocat", "alice", "bob", "carol", "dave", "erin", "frank", "grace"];

fn hex_id(rng: &mut StdRng, bytes: usize) -> String {
    (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect()
}

fn sentence(rng: &mut StdRng, max_words: usize) -> String {
    let n = rng.random_range(2..=max_words);
    (0..n).map(|_| WORDS[rng.random_range(0..WORDS.len())]).collect::<Vec<_>>().join(" ")
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| t.format(&time::format_description::well_known::Rfc3339).ok())
        .unwrap_or_default()
}

/// The hex HMAC-SHA256 GitHub sends as `X-Hub-Signature-256: sha256=<hex>`.
pub fn github_signature(secret: &str, body: &[u8]) -> String {
    format!("sha256={}", hex::encode(hmac_sha256(secret.as_bytes(), &[body])))
}

/// A GitHub push to one of `keys` repositories (the partition key), 1–4 commits.
pub fn github_push(rng: &mut StdRng, secrets: &Secrets, seq: u64, keys: u64, now: i64) -> Signed {
    let repo = seq % keys.max(1);
    let pusher = NAMES[rng.random_range(0..NAMES.len())];
    let commits: Vec<_> = (0..rng.random_range(1..=4))
        .map(|i| {
            let author = NAMES[rng.random_range(0..NAMES.len())];
            json!({
                "id": hex_id(rng, 20),
                "message": sentence(rng, 12),
                "timestamp": rfc3339(now - 60 * i),
                "author": { "name": author, "email": format!("{author}@example.com") },
            })
        })
        .collect();
    let body = json!({
        "ref": if rng.random_bool(0.7) { "refs/heads/main".to_owned() } else { format!("refs/heads/{}", sentence(rng, 2).replace(' ', "-")) },
        "before": hex_id(rng, 20),
        "after": hex_id(rng, 20),
        "repository": {
            "id": 1_000_000 + repo,
            "full_name": format!("org-{}/repo-{repo}", repo % 97),
            "html_url": format!("https://github.com/org-{}/repo-{repo}", repo % 97),
        },
        "pusher": { "name": pusher, "email": format!("{pusher}@example.com") },
        "sender": { "login": pusher, "id": rng.random_range(1..1_000_000) },
        "commits": commits,
    });
    let body = serde_json::to_vec(&body).expect("a JSON value serializes");
    let id = uuid::Uuid::new_v4().to_string();
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-github-event", "push".to_owned()),
        ("x-github-delivery", id.clone()),
        ("x-hub-signature-256", github_signature(&secrets.github, &body)),
    ];
    Signed { stripe: false, id, headers, body }
}

/// A Stripe event: a charge, an invoice or a customer, with its own amounts and ids.
pub fn stripe_event(rng: &mut StdRng, secrets: &Secrets, now: i64) -> Signed {
    let id = format!("evt_{}", hex_id(rng, 12));
    let amount = rng.random_range(100..500_000);
    let customer = format!("cus_{}", hex_id(rng, 7));
    let (ty, object) = match rng.random_range(0..3) {
        0 => (
            "charge.succeeded",
            json!({ "id": format!("ch_{}", hex_id(rng, 12)), "object": "charge", "amount": amount,
                    "currency": "usd", "customer": customer, "paid": true,
                    "description": sentence(rng, 6), "created": now }),
        ),
        1 => (
            "invoice.paid",
            json!({ "id": format!("in_{}", hex_id(rng, 12)), "object": "invoice", "amount_paid": amount,
                    "currency": "eur", "customer": customer, "number": format!("INV-{}", rng.random_range(1000..99999)),
                    "lines": { "data": [{ "amount": amount, "description": sentence(rng, 5) }] }, "created": now }),
        ),
        _ => (
            "customer.created",
            json!({ "id": customer, "object": "customer", "email": format!("{}@example.org", hex_id(rng, 5)),
                    "name": NAMES[rng.random_range(0..NAMES.len())], "created": now }),
        ),
    };
    let body = json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": now, "type": ty,
        "livemode": false, "pending_webhooks": 1, "data": { "object": object },
    });
    let body = serde_json::to_vec(&body).expect("a JSON value serializes");
    let mac = hmac_sha256(secrets.stripe.as_bytes(), &[now.to_string().as_bytes(), b".", &body]);
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("stripe-signature", format!("t={now},v1={}", hex::encode(mac))),
    ];
    Signed { stripe: true, id, headers, body }
}
