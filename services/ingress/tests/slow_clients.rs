//! The listener against slow and idle clients, with real connections held open on loopback:
//! connections that send nothing or only part of their headers are closed after the header
//! timeout, a stalled body gets 408 after the body timeout, and connections beyond the cap are
//! closed on accept. Every wait is bounded.
mod harness;

use std::time::{Duration, Instant};

use harness::Harness;
use hookbus_ingress::listener::{Limits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

/// How long a test waits for the server to act before calling it a failure.
const BOUND: Duration = Duration::from_secs(5);

struct Server {
    addr: std::net::SocketAddr,
    shutdown: CancellationToken,
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

/// The ingress router behind the listener, with one source.
async fn start(limits: Limits) -> Server {
    let app = Harness::from_toml("[sources.gh]\nscheme = \"github\"\nsecrets = [{ value = \"s\" }]\n").ingress();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    tokio::spawn(serve(listener, app, limits, shutdown.clone()));
    Server { addr, shutdown }
}

/// Reads until the server closes the connection (or `BOUND` passes); returns what it sent and
/// how long after `since` it closed.
async fn until_closed(stream: &mut TcpStream, since: Instant) -> (String, Duration) {
    let mut got = Vec::new();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout_at((since + BOUND).into(), stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (String::from_utf8_lossy(&got).into_owned(), since.elapsed()),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
            Err(_) => {
                panic!("the server kept the connection open for {BOUND:?}; got {:?}", String::from_utf8_lossy(&got))
            }
        }
    }
}

fn limits(header_ms: u64, body_ms: u64, max_connections: usize) -> Limits {
    Limits {
        header_timeout: Duration::from_millis(header_ms),
        body_timeout: Duration::from_millis(body_ms),
        max_connections,
    }
}

#[tokio::test]
async fn silent_and_half_sent_headers_are_closed_after_the_header_timeout() {
    let server = start(limits(300, 10_000, 100)).await;
    let started = Instant::now();
    let mut silent = Vec::new();
    for _ in 0..20 {
        silent.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut partial = TcpStream::connect(server.addr).await.unwrap();
    partial.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Le").await.unwrap();
    for mut s in silent {
        let (_, after) = until_closed(&mut s, started).await;
        assert!(after >= Duration::from_millis(250), "closed before the timeout: {after:?}");
    }
    let (_, after) = until_closed(&mut partial, started).await;
    assert!(after >= Duration::from_millis(250), "closed before the timeout: {after:?}");

    // A client that sends its request in time is served.
    let mut ok = TcpStream::connect(server.addr).await.unwrap();
    ok.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nhi")
        .await
        .unwrap();
    let (reply, _) = until_closed(&mut ok, Instant::now()).await;
    assert!(reply.starts_with("HTTP/1.1 401") && reply.contains("missing_signature_header"), "{reply}");
}

#[tokio::test]
async fn a_stalled_body_gets_408_after_the_body_timeout() {
    let server = start(limits(10_000, 300, 100)).await;
    let mut held = Vec::new();
    for _ in 0..10 {
        let mut s = TcpStream::connect(server.addr).await.unwrap();
        s.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{").await.unwrap();
        held.push(s);
    }
    let started = Instant::now();
    for mut s in held {
        let (reply, after) = until_closed(&mut s, started).await;
        assert!(reply.starts_with("HTTP/1.1 408") && reply.contains("request_timeout"), "{reply:?}");
        assert!(after >= Duration::from_millis(200), "answered before the timeout: {after:?}");
    }
    // A body that keeps coming, each part within the timeout, is read to the end.
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    for part in [b"a", b"b", b"c", b"d"] {
        tokio::time::sleep(Duration::from_millis(100)).await;
        slow.write_all(part).await.unwrap();
    }
    let (reply, _) = until_closed(&mut slow, Instant::now()).await;
    assert!(reply.starts_with("HTTP/1.1 401") && reply.contains("missing_signature_header"), "{reply}");
}

#[tokio::test]
async fn connections_beyond_the_cap_are_closed_on_accept() {
    let server = start(limits(10_000, 10_000, 5)).await;
    let mut held = Vec::new();
    for _ in 0..5 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    // Let the server accept the five before the sixth arrives.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let mut over = TcpStream::connect(server.addr).await.unwrap();
    let _ = over.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n").await;
    let (reply, after) = until_closed(&mut over, started).await;
    assert!(reply.is_empty(), "a connection over the cap was served: {reply}");
    assert!(after < Duration::from_secs(2), "closed only after {after:?}");
    // Once one closes, a new connection is served again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut next = TcpStream::connect(server.addr).await.unwrap();
    next.write_all(b"POST /webhooks/gh HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let (reply, _) = until_closed(&mut next, Instant::now()).await;
    assert!(reply.starts_with("HTTP/1.1 401"), "{reply:?}");
}
