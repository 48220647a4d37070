//! A client cannot hold a connection forever: unfinished headers and idle keep-alive
//! connections are closed after the header-read timeout (10 s).

mod common;

use std::time::{Duration, Instant};

use common::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Reads until the server closes the connection; returns what it sent and when it closed.
async fn until_closed(stream: &mut TcpStream, limit: Duration) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return (received, started.elapsed()),
            Ok(Ok(n)) => received.extend_from_slice(&buf[..n]),
            Err(_) => panic!("the server kept the connection open for {limit:?}"),
        }
    }
}

#[tokio::test]
async fn unfinished_headers_and_idle_connections_are_closed() {
    let server = TestServer::start().await;

    // Half a request, then silence (a slowloris).
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .await
        .unwrap();
    // An idle keep-alive connection after one answered request.
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    idle.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
        .await
        .unwrap();

    let (slow_got, slow_after) = until_closed(&mut slow, Duration::from_secs(20)).await;
    let (idle_got, idle_after) = until_closed(&mut idle, Duration::from_secs(20)).await;
    assert!(
        slow_after >= Duration::from_secs(9) && slow_after < Duration::from_secs(15),
        "closed after {slow_after:?}"
    );
    let slow_text = String::from_utf8_lossy(&slow_got);
    assert!(!slow_text.contains("200 OK"), "{slow_text}");
    let idle_text = String::from_utf8_lossy(&idle_got);
    assert!(idle_text.starts_with("HTTP/1.1 200 OK"), "{idle_text}");
    assert!(
        idle_after < Duration::from_secs(15),
        "idle closed after {idle_after:?}"
    );
}
