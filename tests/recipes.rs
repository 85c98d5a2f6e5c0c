//! Golden tests of docs/recipes: each recipe's config snippet, run through `hookbus mapping test
//! --source` (the worker's mapping after ingress's normalization) on the recipe's sample payload,
//! must produce the recipe's expected.json. Regenerate after a deliberate change with
//! HOOKBUS_BLESS=1 cargo test --test recipes, and review the diff.
use std::path::{Path, PathBuf};
use std::process::Command;

struct Recipe {
    name: &'static str,
    subscription: &'static str,
    source: &'static str,
    headers: &'static [&'static str],
}

const RECIPES: &[Recipe] = &[
    Recipe { name: "stripe-mailchimp", subscription: "mailchimp-members", source: "stripe", headers: &[] },
    Recipe { name: "hubspot-sendgrid", subscription: "sendgrid-contacts", source: "hubspot", headers: &[] },
    Recipe {
        name: "shopify-quickbooks",
        subscription: "quickbooks-invoices",
        source: "shopify",
        headers: &["X-Shopify-Topic: orders/create", "X-Shopify-Webhook-Id: b54557e4-bdd9-4b37-8a5f-bf7d70bcd043"],
    },
    Recipe {
        name: "github-linear",
        subscription: "linear-issues",
        source: "github",
        headers: &["X-GitHub-Event: issues", "X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958"],
    },
    Recipe { name: "fhir-claim", subscription: "billing-claims", source: "ehr", headers: &["webhook-id: msg_enc_17"] },
    Recipe { name: "calendly-salesforce", subscription: "salesforce-leads", source: "calendly", headers: &[] },
];

fn recipes_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/recipes")
}

/// The first ```toml block of the recipe's page.
fn snippet(page: &str) -> String {
    let start = page.find("```toml\n").expect("the recipe has a ```toml block") + "```toml\n".len();
    let len = page[start..].find("```").expect("the toml block is closed");
    page[start..start + len].to_owned()
}

fn run(recipe: &Recipe) -> serde_json::Value {
    let page = std::fs::read_to_string(recipes_dir().join(format!("{}.md", recipe.name))).unwrap();
    let toml = snippet(&page);
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("hookbus.toml");
    std::fs::write(&config, &toml).unwrap();
    let payload = recipes_dir().join(recipe.name).join("payload.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_hookbus"));
    cmd.args(["mapping", "test", "--config"]).arg(&config);
    cmd.args(["--subscription", recipe.subscription, "--source", recipe.source, "--event"]).arg(&payload);
    for h in recipe.headers {
        cmd.args(["--header", h]);
    }
    // The snippets read their secrets from the environment, as deployments do.
    for var in toml.split("env = \"").skip(1).filter_map(|rest| rest.split('"').next()) {
        cmd.env(var, "recipe-test-secret");
    }
    let out = cmd.output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", recipe.name);
    assert!(!out.stdout.is_empty(), "{}: nothing would be sent: {stderr}", recipe.name);
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{}: output is not JSON: {e}", recipe.name))
}

#[test]
fn every_recipe_maps_its_sample_to_the_expected_request() {
    let bless = std::env::var("HOOKBUS_BLESS").is_ok_and(|v| v == "1");
    for recipe in RECIPES {
        let got = run(recipe);
        let path = recipes_dir().join(recipe.name).join("expected.json");
        if bless {
            std::fs::write(&path, serde_json::to_string_pretty(&got).unwrap() + "\n").unwrap();
            continue;
        }
        let want: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        // Compared as text: key order is part of what the target receives.
        assert_eq!(
            serde_json::to_string_pretty(&got).unwrap(),
            serde_json::to_string_pretty(&want).unwrap(),
            "{}: the mapping's output changed; if intended, bless it (see the file's docs)",
            recipe.name
        );
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
