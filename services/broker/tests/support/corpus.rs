//! A varied corpus of realistic provider webhooks as ingress stores them (CloudEvent headers with a
//! trace context, partition key, body): GitHub pushes built from examples/github-push.json, Stripe
//! invoice events (pretty-printed, as Stripe sends them) and Shopify orders, each with its own ids,
//! shas, timestamps, amounts and names — never one body repeated.
use hookbus_broker::Record;
use hookbus_core::CloudEvent;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

const NAMES: [&str; 8] = ["octocat", "mona", "hubot", "defunkt", "mojombo", "pjhyett", "wycats", "ezmobius"];
const WORDS: [&str; 10] = ["fix", "update", "README", "parser", "retry", "timeout", "docs", "bump", "deps", "tests"];

pub struct Corpus {
    rng: StdRng,
    github: Value,
    n: u64,
}

impl Corpus {
    pub fn new(seed: u64) -> Self {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/github-push.json");
        let github = serde_json::from_str(&std::fs::read_to_string(path).expect("examples/github-push.json")).unwrap();
        Self { rng: StdRng::seed_from_u64(seed), github, n: 0 }
    }

    fn hex(&mut self, len: usize) -> String {
        (0..len).map(|_| char::from_digit(self.rng.random_range(0..16), 16).unwrap()).collect()
    }

    fn pick<'a>(&mut self, from: &[&'a str]) -> &'a str {
        from[self.rng.random_range(0..from.len())]
    }

    fn sentence(&mut self) -> String {
        let n = self.rng.random_range(2..7);
        (0..n).map(|_| self.pick(&WORDS)).collect::<Vec<_>>().join(" ")
    }

    fn time(&mut self) -> String {
        let s = 1_764_000_000 + self.n as i64 * 7 + self.rng.random_range(0..5);
        time::OffsetDateTime::from_unix_timestamp(s)
            .unwrap()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    }

    fn github_push(&mut self) -> (String, String, Vec<u8>, String) {
        let mut v = self.github.clone();
        let (user, repo) = (self.pick(&NAMES), format!("{}-{}", self.pick(&WORDS), self.rng.random_range(1..500)));
        let full = format!("{user}/{repo}");
        let (before, after) = (self.hex(40), self.hex(40));
        v["before"] = json!(before);
        v["after"] = json!(after);
        v["repository"] = json!({"id": self.rng.random_range(1_000_000..900_000_000u64), "full_name": full,
            "html_url": format!("https://github.com/{full}")});
        v["pusher"] = json!({"name": user, "email": format!("{user}@users.noreply.github.com")});
        v["sender"] = json!({"login": user, "id": self.rng.random_range(1..90_000_000u64)});
        v["commits"] = json!([{"id": after, "message": self.sentence(), "timestamp": self.time(),
            "author": {"name": user, "email": format!("{user}@users.noreply.github.com")}}]);
        (uuid_like(self), "github.push".into(), serde_json::to_vec(&v).unwrap(), full)
    }

    fn stripe_invoice(&mut self) -> (String, String, Vec<u8>, String) {
        let customer = format!("cus_{}", self.hex(14));
        let amount = self.rng.random_range(100..500_000u64);
        let v = json!({
            "id": format!("evt_{}", self.hex(24)), "object": "event", "api_version": "2024-06-20",
            "created": 1_764_000_000 + self.n, "type": "invoice.paid", "livemode": false,
            "data": {"object": {"id": format!("in_{}", self.hex(24)), "object": "invoice", "customer": customer,
                "amount_due": amount, "amount_paid": amount, "currency": "usd", "status": "paid",
                "number": format!("{}-{:04}", self.hex(8).to_uppercase(), self.n % 10_000),
                "hosted_invoice_url": format!("https://invoice.stripe.com/i/acct_{}/{}", self.hex(16), self.hex(32))}},
            "request": {"id": format!("req_{}", self.hex(14)), "idempotency_key": uuid_like(self)}
        });
        let id = v["id"].as_str().unwrap().to_owned();
        (id, "stripe.invoice.paid".into(), serde_json::to_vec_pretty(&v).unwrap(), customer)
    }

    fn shopify_order(&mut self) -> (String, String, Vec<u8>, String) {
        let id = self.rng.random_range(5_000_000_000_000u64..6_000_000_000_000);
        let price = format!("{}.{:02}", self.rng.random_range(1..400), self.rng.random_range(0..100));
        let v = json!({
            "id": id, "admin_graphql_api_id": format!("gid://shopify/Order/{id}"), "created_at": self.time(),
            "currency": "EUR", "total_price": price, "financial_status": "paid", "order_number": 1000 + self.n,
            "email": format!("{}.{}@example.com", self.pick(&NAMES), self.rng.random_range(1..9999)),
            "line_items": [{"id": id + 1, "title": self.sentence(), "quantity": self.rng.random_range(1..5),
                "price": price, "sku": format!("SKU-{}", self.hex(6).to_uppercase())}]
        });
        (uuid_like(self), "shopify.orders.create".into(), serde_json::to_vec(&v).unwrap(), id.to_string())
    }

    /// The next event: `(source, record)`.
    pub fn next(&mut self) -> (&'static str, Record) {
        self.n += 1;
        let (source, (id, ty, body, key)) = match self.n % 3 {
            0 => ("github", self.github_push()),
            1 => ("stripe", self.stripe_invoice()),
            _ => ("shopify", self.shopify_order()),
        };
        let mut event = CloudEvent::from_body(id, source, ty, Some("application/json"), &body);
        event.partitionkey = key;
        event.traceparent = Some(format!("00-{}-{}-01", self.hex(32), self.hex(16)));
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as i64;
        (source, Record::from_event(&event, &body, ts))
    }
}

fn uuid_like(c: &mut Corpus) -> String {
    format!("{}-{}-{}-{}-{}", c.hex(8), c.hex(4), c.hex(4), c.hex(4), c.hex(12))
}
