//! Transforms per second on a ~1.2 KB CloudEvent (a GitHub push), and the same events as NDJSON
//! for comparing with jq:
//!
//! ```text
//! cargo run --release -p hookbus-mapping --example throughput -- /tmp/events.ndjson
//! time jq -c "$(cat /tmp/events.ndjson.jq)" /tmp/events.ndjson > /dev/null
//! ```
use std::time::Instant;

use hookbus_mapping::Mapping;
use serde_json::{Value, json};

const EVENTS: usize = 50_000;
const TRANSFORM: &str = r#"{email: (.data.pusher.email | ascii_downcase), repo: .data.repository.full_name, branch: (.data.ref | ltrimstr("refs/heads/")), commits: [.data.commits[] | {id: .id[0:7], message, author: .author.name}], count: (.data.commits | length)}"#;

fn event(i: usize) -> Value {
    let commit = |n: usize| {
        json!({"id": format!("{:040x}", i * 7 + n), "message": format!("Fix issue #{n}: handle empty input"),
               "author": {"name": "Mona Lisa", "email": "mona@example.com", "username": "mona"},
               "added": [], "removed": [], "modified": ["src/parser.rs"]})
    };
    json!({
        "specversion": "1.0", "id": format!("7c1d6f1e-0000-4000-8000-{i:012}"), "source": "hookbus://sources/github",
        "type": "github.push", "time": "2024-05-01T12:00:00Z", "datacontenttype": "application/json",
        "data": {"ref": "refs/heads/main", "before": "0".repeat(40), "after": format!("{i:040x}"),
                 "repository": {"id": 1296269, "full_name": "octo/Hello-World", "private": false, "html_url": "https://github.com/octo/Hello"},
                 "pusher": {"name": "mona", "email": "Mona@Example.com"},
                 "commits": [commit(1), commit(2), commit(3)]},
        "partitionkey": "octo/Hello-World"
    })
}

fn main() {
    let out = std::env::args().nth(1);
    let events: Vec<Value> = (0..EVENTS).map(event).collect();
    let lines: Vec<String> = events.iter().map(|e| serde_json::to_string(e).unwrap()).collect();
    let size = lines.iter().map(String::len).sum::<usize>() / EVENTS;
    if let Some(path) = &out {
        std::fs::write(path, lines.join("\n") + "\n").unwrap();
        std::fs::write(format!("{path}.jq"), TRANSFORM).unwrap();
    }
    let mapping = Mapping::compile(None, Some(TRANSFORM)).unwrap();
    // As the worker does it: the event is already a value; the output is serialized for the body.
    let start = Instant::now();
    let mut bytes = 0;
    for e in &events {
        bytes += serde_json::to_vec(&mapping.apply(e).unwrap().unwrap()).unwrap().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{EVENTS} events of {size} bytes: apply+serialize {:.0} transforms/s ({bytes} bytes out)",
        EVENTS as f64 / secs
    );
    // Like `jq -c` over NDJSON: parse each line too.
    let start = Instant::now();
    for l in &lines {
        let e: Value = serde_json::from_str(l).unwrap();
        bytes += serde_json::to_vec(&mapping.apply(&e).unwrap().unwrap()).unwrap().len();
    }
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{EVENTS} events of {size} bytes: parse+apply+serialize {:.0} transforms/s ({bytes} bytes out in all)",
        EVENTS as f64 / secs
    );
}
