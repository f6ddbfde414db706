//! Both listeners get the configured `backlog` (std binds with 128), seen by the kernel: `ss`
//! (iproute2) shows a listening socket's backlog as its Send-Q.

mod common;

use common::start_server;
use std::net::SocketAddr;

/// The backlog of the socket listening on `addr`, as `ss -ltn` reports it.
fn backlog_of(addr: SocketAddr) -> u32 {
    let output = std::process::Command::new("ss")
        .args(["-ltnH", &format!("sport = :{}", addr.port())])
        .output()
        .expect("ss (Debian package iproute2) runs");
    let text = String::from_utf8_lossy(&output.stdout);
    // State Recv-Q Send-Q Local:Port Peer:Port
    let line = text
        .lines()
        .next()
        .unwrap_or_else(|| panic!("no listener on {addr}: {text}"));
    line.split_whitespace()
        .nth(2)
        .and_then(|q| q.parse().ok())
        .unwrap_or_else(|| panic!("{line}"))
}

fn somaxconn() -> u32 {
    std::fs::read_to_string("/proc/sys/net/core/somaxconn")
        .expect("somaxconn readable")
        .trim()
        .parse()
        .expect("a number")
}

#[test]
fn both_listeners_use_the_configured_backlog() {
    let server = start_server(serde_json::json!({ "backlog": 777 }));
    assert_eq!(backlog_of(server.websocket_addr()), 777.min(somaxconn()));
    assert_eq!(backlog_of(server.api_addr()), 777.min(somaxconn()));
}

#[test]
fn the_default_backlog_is_as_long_as_the_kernel_allows() {
    let server = start_server(serde_json::json!({}));
    // The default asks for max(1024, somaxconn); the kernel caps it at somaxconn.
    assert_eq!(backlog_of(server.websocket_addr()), somaxconn());
    assert_eq!(backlog_of(server.api_addr()), somaxconn());
}
