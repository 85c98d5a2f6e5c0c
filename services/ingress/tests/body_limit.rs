//! The body size limit (`server.max_body_bytes`): a body at the limit is accepted, one over it is 413 whether
//! it declares its length or streams in chunks, and nothing over the limit is published. Same harness as
//! `router.rs`, with a small limit so the bodies stay readable.
mod harness;

use axum::body::{Body, Bytes};
use axum::http::{StatusCode, header};
use serde_json::Value;

use harness::*;

const GITHUB_SECRET: &str = "gh-limit-test-secret";
const SMALL_LIMIT: usize = 64;

fn limited() -> Harness {
    let h = Harness::from_toml(&format!(
        r#"
[server]
max_body_bytes = {SMALL_LIMIT}

[sources.github]
scheme = "github"
secrets = [{{ value = "{GITHUB_SECRET}" }}]
"#
    ));
    assert_eq!(h.state.max_body_bytes, SMALL_LIMIT, "config value reaches the state");
    h
}

/// A correctly signed GitHub body of exactly `len` bytes, so that only its size can be the problem.
fn github_body_of_len(len: usize) -> Vec<u8> {
    let prefix = br#"{"repository":{"full_name":"o/r"},"pad":""#;
    let suffix = br#""}"#;
    let pad = len - prefix.len() - suffix.len();
    [&prefix[..], &vec![b'x'; pad], &suffix[..]].concat()
}

#[tokio::test]
async fn body_at_the_limit_is_accepted() {
    let h = limited();
    let body = github_body_of_len(SMALL_LIMIT);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-at-limit");
    h.send(h.request("github", &headers, body)).await.assert_accepted("d-at-limit", false);
    h.publisher.single("github");
}

#[tokio::test]
async fn body_over_the_limit_with_content_length_is_413() {
    let h = limited();
    let body = github_body_of_len(SMALL_LIMIT + 1);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-big");
    h.send(h.request("github", &headers, body)).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(h.publisher.records().is_empty());
}

#[tokio::test]
async fn streamed_body_over_the_limit_without_content_length_is_413() {
    let h = limited();
    let body = github_body_of_len(4 * 30);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-stream");
    // Four chunks, each under the limit, together over it; no Content-Length, as with chunked encoding.
    let chunks: Vec<Result<Bytes, std::io::Error>> = body.chunks(30).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    let req = post("github", &headers, Body::from_stream(futures::stream::iter(chunks)));
    assert!(req.headers().get(header::CONTENT_LENGTH).is_none());
    h.send(req).await.assert_error(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");
    assert!(h.publisher.records().is_empty());

    // A streamed body under the limit is read whole and accepted.
    let body = github_body_of_len(SMALL_LIMIT);
    let headers = h.sign("github", GITHUB_SECRET, &body, now(), "d-stream-ok");
    let chunks: Vec<Result<Bytes, std::io::Error>> = body.chunks(20).map(|c| Ok(Bytes::copy_from_slice(c))).collect();
    h.send(post("github", &headers, Body::from_stream(futures::stream::iter(chunks))))
        .await
        .assert_accepted("d-stream-ok", false);
    // (Compared as JSON: byte identity has its own test in `router.rs`.)
    let payload: Value = serde_json::from_slice(&h.publisher.single("github").payload).unwrap();
    assert_eq!(payload, serde_json::from_slice::<Value>(&body).unwrap());
}
