//! Golden tests of docs/recipes. Each recipe's config snippet runs two ways on the recipe's sample
//! payload, signed as the provider signs it (`hookbus sign`):
//! - through `hookbus mapping test --source` (the worker's mapping after ingress's normalization),
//!   whose output must be the recipe's expected.json;
//! - through the real path: `hookbus serve` on the snippet, the signed webhook posted to its
//!   ingress, and the request the worker sends captured by a local target standing in for the API
//!   (the snippet's target and token URLs pointed at it): its method, path and query, auth header
//!   and body must be what the recipe says.
//!
//! Regenerate expected.json after a deliberate change with HOOKBUS_BLESS=1 cargo test --test
//! recipes, and review the diff.
#[macro_use]
mod support;

use std::io::BufRead as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::receiver::Receiver;

/// Every secret the snippets read from the environment: a valid Standard Webhooks secret, which
/// the HMAC schemes take as plain bytes.
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// The access token the stand-in token endpoint hands out.
const OAUTH_TOKEN: &str = "00Dxx0000001gPL!recipe-token";

struct Recipe {
    name: &'static str,
    subscription: &'static str,
    source: &'static str,
    /// The provider's delivery id, signed in where the scheme covers it.
    delivery_id: &'static str,
    /// Headers the provider sends beside its signature (event names, ids).
    headers: &'static [&'static str],
    /// The request the target gets: method, path with query, `Authorization`.
    method: &'static str,
    path: &'static str,
    authorization: &'static str,
}

const RECIPES: &[Recipe] = &[
    Recipe {
        name: "stripe-mailchimp",
        subscription: "mailchimp-members",
        source: "stripe",
        delivery_id: "evt_1NG8Du2eZvKYlo2CUI79vXWy",
        headers: &[],
        method: "PUT",
        // The subscriber hash: md5 of "jenny.rosen@example.com" (md5sum), the lower-cased address.
        path: "/3.0/lists/a1b2c3d4e5/members/6e640c748fb3571aa13cf12cdddebe93",
        authorization: "Basic aG9va2J1czp3aHNlY19NZktROXI4R0tZcXJUd2pVUEQ4SUxQWklvMkxhTGFTdw==",
    },
    Recipe {
        name: "hubspot-sendgrid",
        subscription: "sendgrid-contacts",
        source: "hubspot",
        delivery_id: "",
        headers: &[],
        method: "PUT",
        path: "/v3/marketing/contacts",
        authorization: "Bearer whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    Recipe {
        name: "shopify-quickbooks",
        subscription: "quickbooks-invoices",
        source: "shopify",
        delivery_id: "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
        headers: &["X-Shopify-Topic: orders/create"],
        method: "POST",
        path: "/v3/company/9130355377312345/invoice?minorversion=73&requestid=shopify-order-820982911946154508",
        authorization: "Bearer whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    Recipe {
        name: "github-linear",
        subscription: "linear-issues",
        source: "github",
        delivery_id: "72d3162e-cc78-11e3-81ab-4c9367dc0958",
        headers: &["X-GitHub-Event: issues"],
        method: "POST",
        path: "/graphql",
        authorization: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    Recipe {
        name: "fhir-claim",
        subscription: "billing-claims",
        source: "ehr",
        delivery_id: "msg_enc_17",
        headers: &[],
        method: "POST",
        path: "/fhir/r4/Claim",
        authorization: "Bearer whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
    },
    Recipe {
        name: "calendly-salesforce",
        subscription: "salesforce-leads",
        source: "calendly",
        delivery_id: "",
        headers: &[],
        method: "PATCH",
        path: "/services/data/v60.0/sobjects/Lead/Calendly_Invitee_Id__c/AAAAAAAAAAAAAAAA",
        authorization: "Bearer 00Dxx0000001gPL!recipe-token",
    },
];

fn recipes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/recipes")
}

/// The first ```toml block of the recipe's page.
fn snippet(recipe: &Recipe) -> String {
    let page = std::fs::read_to_string(recipes_dir().join(format!("{}.md", recipe.name))).unwrap();
    let start = page.find("```toml\n").expect("the recipe has a ```toml block") + "```toml\n".len();
    let len = page[start..].find("```").expect("the toml block is closed");
    page[start..start + len].to_owned()
}

fn payload(recipe: &Recipe) -> PathBuf {
    recipes_dir().join(recipe.name).join("payload.json")
}

/// The environment variables the snippet reads its secrets from, each set to [`SECRET`].
fn secret_env(toml: &str) -> Vec<(String, &'static str)> {
    toml.split("env = \"").skip(1).filter_map(|rest| rest.split('"').next()).map(|v| (v.to_owned(), SECRET)).collect()
}

/// `hookbus <args> --config <config>`, with the snippet's secrets in the environment.
fn hookbus(args: &[&str], config: &Path, toml: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookbus"));
    cmd.args(args).arg("--config").arg(config).envs(secret_env(toml));
    cmd
}

/// The headers the provider would send: its signature from `hookbus sign`, then the recipe's own.
fn provider_headers(recipe: &Recipe, config: &Path, toml: &str) -> Vec<(String, String)> {
    let mut cmd = hookbus(&["sign", "--source", recipe.source], config, toml);
    cmd.arg("--body-file").arg(payload(recipe));
    if !recipe.delivery_id.is_empty() {
        cmd.args(["--id", recipe.delivery_id]);
    }
    let out = cmd.output().unwrap();
    assert!(out.status.success(), "{}: hookbus sign: {}", recipe.name, String::from_utf8_lossy(&out.stderr));
    let signed = String::from_utf8(out.stdout).unwrap();
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in signed.lines().chain(recipe.headers.iter().copied()) {
        let (name, value) = line.split_once(": ").expect("a `Name: value` header line");
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        headers.push((name.to_owned(), value.to_owned()));
    }
    headers
}

fn mapped(recipe: &Recipe) -> serde_json::Value {
    let toml = snippet(recipe);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookbus.toml");
    std::fs::write(&config, &toml).unwrap();
    let mut cmd = hookbus(&["mapping", "test", "--subscription", recipe.subscription], &config, &toml);
    cmd.args(["--source", recipe.source, "--event"]).arg(payload(recipe));
    for (name, value) in provider_headers(recipe, &config, &toml) {
        cmd.args(["--header", &format!("{name}: {value}")]);
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", recipe.name);
    assert!(!out.stdout.is_empty(), "{}: nothing would be sent: {stderr}", recipe.name);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: output is not JSON: {e}", recipe.name))
}

fn expected(recipe: &Recipe) -> serde_json::Value {
    let text = std::fs::read_to_string(recipes_dir().join(recipe.name).join("expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[test]
fn every_recipe_maps_its_sample_to_the_expected_request() {
    let bless = std::env::var("HOOKBUS_BLESS").is_ok_and(|v| v == "1");
    for recipe in RECIPES {
        let got = mapped(recipe);
        if bless {
            let path = recipes_dir().join(recipe.name).join("expected.json");
            std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        // Compared as text: key order is part of what the target receives.
        assert_eq!(
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&expected(recipe)).unwrap(),
            "{}: the mapping's output changed; if intended, bless it (see the file's docs)",
            recipe.name
        );
    }
}

/// The snippet as a whole config: an embedded log in `dir`, loopback targets allowed, and every
/// `https://host` of a `target` or `token_url` replaced by `local`.
fn runnable(toml: &str, dir: &Path, local: &str) -> String {
    let head = format!(
        "[server]\nlisten = \"127.0.0.1:0\"\n\n[broker]\nbackend = \"embedded\"\nembedded = {{ path = \"{}\" }}\n\n\
         [worker]\nallow_targets = [\"127.0.0.1\"]\n\n[dedup]\nbackend = \"memory\"\n\n",
        dir.join("log.db").display()
    );
    let body: Vec<String> = toml
        .lines()
        .map(|line| {
            let mut line = line.to_owned();
            for key in ["target = \"https://", "token_url = \"https://"] {
                if let Some(at) = line.find(key) {
                    let host = at + key.len();
                    let end = host + line[host..].find('/').expect("a path after the host");
                    line.replace_range(at + key.len() - "https://".len()..end, local);
                }
            }
            line
        })
        .collect();
    head + &body.join("\n")
}

/// `hookbus serve` on `config`; killed when dropped.
struct Serve(std::process::Child, String);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(config: &Path, toml: &str, log: &Path) -> Serve {
    let mut cmd = hookbus(&["serve"], config, toml);
    cmd.stdout(std::process::Stdio::piped()).stderr(std::fs::File::create(log).unwrap());
    let mut child = cmd.spawn().unwrap();
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.trim().strip_prefix("hookbus listening on ").map(str::to_owned);
    let url = url.unwrap_or_else(|| panic!("serve did not start: {}", std::fs::read_to_string(log).unwrap()));
    Serve(child, url)
}

const TOKEN_PATH: &str = "/services/oauth2/token";

async fn delivered(recipe: &Recipe) {
    let target = Receiver::start().await;
    target.answer_json(TOKEN_PATH, serde_json::json!({"access_token": OAUTH_TOKEN, "token_type": "Bearer"}));
    let dir = tempfile::tempdir().unwrap();
    let toml = runnable(&snippet(recipe), dir.path(), &target.url);
    let config = dir.path().join("hookbus.toml");
    std::fs::write(&config, &toml).unwrap();
    let log = dir.path().join("serve.log");
    let server = serve(&config, &toml, &log);
    support::bus::wait_ready(&server.1).await;

    let body = std::fs::read(payload(recipe)).unwrap();
    let headers = provider_headers(recipe, &config, &toml);
    let (status, answer) = support::bus::post(&server.1, recipe.source, &headers, &body).await;
    let server_log = || std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status, 202, "{}: ingress answered {answer}\n{}", recipe.name, server_log());

    let to_api = |r: &support::receiver::Req| r.path != TOKEN_PATH;
    let reqs = target.wait_until(recipe.name, Duration::from_secs(30), |rs| rs.iter().any(to_api)).await;
    let req = reqs.iter().find(|r| to_api(r)).unwrap();
    let path = if req.query.is_empty() { req.path.clone() } else { format!("{}?{}", req.path, req.query) };
    assert_eq!((req.method.as_str(), path.as_str()), (recipe.method, recipe.path), "{}", recipe.name);
    assert_eq!(req.header("authorization"), recipe.authorization, "{}: Authorization", recipe.name);
    assert_eq!(req.header("content-type"), "application/json", "{}", recipe.name);
    // The APIs do not check Standard Webhooks signatures, so the snippets set no signing secret;
    // the idempotency key goes out all the same.
    assert!(!req.header("idempotency-key").is_empty(), "{}: idempotency key", recipe.name);
    assert_eq!(req.header("idempotency-key"), req.header("webhook-id"), "{}: idempotency key", recipe.name);
    // Compared as text, as in the mapping test: key order is part of what the API receives.
    assert_eq!(
        serde_json::to_string_pretty(&req.json()).unwrap(),
        serde_json::to_string_pretty(&expected(recipe)).unwrap(),
        "{}: the delivered body is not the recipe's expected.json",
        recipe.name
    );
    if recipe.name == "fhir-claim" {
        assert_eq!(req.header("if-none-exist"), "identifier=urn:ehr:encounter|enc-2024-0501-17");
    }
    let tokens = reqs.iter().filter(|r| r.path == TOKEN_PATH).count();
    let wants_token = snippet(recipe).contains("oauth2_client_credentials");
    assert_eq!(tokens, usize::from(wants_token), "{}: token requests", recipe.name);
    // One event, one request: nothing is sent twice.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(target.requests().iter().filter(|r| to_api(r)).count(), 1, "{}: sent once", recipe.name);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_recipe_delivers_through_serve() {
    for recipe in RECIPES {
        delivered(recipe).await;
    }
}

#[test]
fn every_recipe_page_is_listed_and_tested() {
    let mut pages: Vec<String> = std::fs::read_dir(recipes_dir())
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".md") && n != "README.md")
        .collect();
    pages.sort();
    let mut tested: Vec<String> = RECIPES.iter().map(|r| format!("{}.md", r.name)).collect();
    tested.sort();
    assert_eq!(pages, tested);
    let index = std::fs::read_to_string(recipes_dir().join("README.md")).unwrap();
    for r in RECIPES {
        assert!(index.contains(&format!("({}.md)", r.name)), "README.md links {}", r.name);
    }
}
