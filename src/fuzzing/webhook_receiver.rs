//! A loopback HTTP receiver for the fuzz server's webhooks: checks every request it gets (signature,
//! JSON shape, names) and counts them, so a smoke run can tell that webhooks arrived at all.

use crate::protocol::signature::verify_hmac_sha256_hex;
use crate::protocol::{ChannelName, SocketId};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

static RECEIVED: AtomicUsize = AtomicUsize::new(0);
/// The first property a webhook broke. The check runs on the receiver's thread, whose panic would
/// not fail a `cargo test` on its own; the entry points and the smoke test look here.
static FAILURE: Mutex<Option<String>> = Mutex::new(None);

/// Webhook requests received and checked so far in this process.
pub fn webhooks_received() -> usize {
    RECEIVED.load(Ordering::Acquire)
}

/// Panics with the first broken webhook property, if any.
pub fn assert_webhooks_ok() {
    if let Some(failure) = FAILURE.lock().unwrap_or_else(|e| e.into_inner()).as_ref() {
        panic!("a webhook broke a property: {failure}");
    }
}

/// Starts the receiver on a free loopback port; returns its URL.
pub(super) fn start(key: &'static str, secret: &'static str) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("a loopback port for the webhook receiver");
    let url = format!("http://{}/hook", listener.local_addr().expect("bound"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream, key, secret));
        }
    });
    url
}

/// Answers one keep-alive connection's requests with 200 until it closes.
fn serve(stream: TcpStream, key: &str, secret: &str) {
    let Ok(mut writer) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(stream);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match reader.read_line(&mut line) {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" => break,
                Ok(_) => head.push(line.trim_end().to_owned()),
            }
        }
        let header = |name: &str| {
            head.iter().skip(1).find_map(|h| {
                let (k, v) = h.split_once(':')?;
                k.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length")
            .and_then(|l| l.parse().ok())
            .expect("a webhook request has a Content-Length");
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let (got_key, signature) = (header("x-pusher-key"), header("x-pusher-signature"));
        let checked = catch_unwind(AssertUnwindSafe(|| {
            check(&body, got_key.as_deref(), signature.as_deref(), key, secret)
        }));
        if let Err(panic) = checked {
            let why = panic
                .downcast_ref::<String>()
                .cloned()
                .unwrap_or_else(|| "(no message)".into());
            FAILURE
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert(why);
            return;
        }
        RECEIVED.fetch_add(1, Ordering::AcqRel);
        if writer
            .write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n")
            .is_err()
        {
            return;
        }
    }
}

/// One webhook request: signed with the app's secret, `{"time_ms", "events": [...]}` with known names.
fn check(body: &[u8], got_key: Option<&str>, signature: Option<&str>, key: &str, secret: &str) {
    let text = std::str::from_utf8(body).expect("a webhook body is UTF-8");
    assert_eq!(got_key, Some(key), "X-Pusher-Key");
    assert!(
        verify_hmac_sha256_hex(secret, text, signature.expect("X-Pusher-Signature")),
        "the signature covers the body"
    );
    let value: Value = serde_json::from_str(text).expect("a webhook body is JSON");
    assert!(value["time_ms"].is_u64(), "{text}");
    let events = value["events"].as_array().expect("events is an array");
    assert!(!events.is_empty(), "{text}");
    for e in events {
        let channel = e["channel"].as_str().expect("every event names its channel");
        assert!(ChannelName::parse(channel, usize::MAX).is_ok(), "{channel:?}");
        match e["name"].as_str().expect("every event has a name") {
            "channel_occupied" | "channel_vacated" | "cache_miss" => {}
            "member_added" | "member_removed" => {
                assert!(e["user_id"].as_str().is_some_and(|u| !u.is_empty()), "{e}");
            }
            "subscription_count" => assert!(e["subscription_count"].is_u64(), "{e}"),
            "client_event" => {
                assert!(
                    e["event"].as_str().is_some_and(|n| n.starts_with("client-")),
                    "{e}"
                );
                assert!(e["data"].is_string(), "{e}");
                assert!(e["socket_id"].as_str().and_then(SocketId::parse).is_some(), "{e}");
            }
            other => panic!("unknown webhook event {other:?} in {text}"),
        }
    }
}
