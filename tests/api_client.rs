//! The Api's blocking HTTP client (src/api_client.rs) against the real server and against small
//! hand-driven HTTP servers that answer the ways real ones do (chunked, closing, never).

mod common;

use common::{signed_target, start_server, Client};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use webman_push::api_client::{request, Error};

const TIMEOUT: Duration = Duration::from_secs(2);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_publish_reaches_subscribers_and_answers_200() {
    let server = start_server(serde_json::json!({}));
    let mut sub = Client::connect(&server).await;
    sub.subscribe("news").await;
    let authority = server.api_addr().to_string();
    let body = br#"{"name":"flash","channel":"news","data":"{\"n\":1}"}"#;
    let target = signed_target("POST", "/apps/1024/events", body);
    let answer = tokio::task::spawn_blocking(move || request(&authority, "POST", &target, body, TIMEOUT))
        .await
        .unwrap()
        .expect("an answer");
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body, b"{}");
    let event = sub.next_event().await.expect("the event");
    assert_eq!(event["event"], "flash");
    assert_eq!(event["data"], r#"{"n":1}"#);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_signature_is_an_answer_not_an_error() {
    let server = start_server(serde_json::json!({}));
    let authority = server.api_addr().to_string();
    let body = br#"{"name":"e","channel":"news","data":"x"}"#.to_vec();
    let target =
        signed_target("POST", "/apps/1024/events", &body).replace("auth_signature=", "auth_signature=00");
    let answer = tokio::task::spawn_blocking(move || request(&authority, "POST", &target, &body, TIMEOUT))
        .await
        .unwrap()
        .expect("an answer");
    assert_eq!(answer.status, 401);
    assert!(String::from_utf8_lossy(&answer.body).contains("error"));
}

/// A one-connection-at-a-time HTTP server: for each request read, `answer(n)` gives the bytes to
/// write (n counts requests over all connections) and whether to close afterwards.
struct Scripted {
    authority: String,
    accepted: Arc<AtomicUsize>,
    requests: Arc<AtomicUsize>,
}

fn scripted(answer: impl Fn(usize) -> (Vec<u8>, bool) + Send + 'static) -> Scripted {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let requests = Arc::new(AtomicUsize::new(0));
    let (a, r) = (accepted.clone(), requests.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            a.fetch_add(1, Ordering::SeqCst);
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut writer = stream;
            while let Some(()) = read_request(&mut reader) {
                let n = r.fetch_add(1, Ordering::SeqCst);
                let (bytes, close) = answer(n);
                if writer.write_all(&bytes).is_err() || close {
                    break;
                }
            }
        }
    });
    Scripted {
        authority,
        accepted,
        requests,
    }
}

/// Reads one request (head and Content-Length body); None at the end of the stream.
fn read_request(reader: &mut BufReader<TcpStream>) -> Option<()> {
    let mut length = 0;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().ok()?;
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()
}

fn ok(body: &str) -> Vec<u8> {
    format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len()).into_bytes()
}

fn post(s: &Scripted) -> Result<webman_push::api_client::Response, Error> {
    request(&s.authority, "POST", "/apps/1/events", b"{}", TIMEOUT)
}

#[test]
fn consecutive_requests_share_one_kept_alive_connection() {
    let s = scripted(|n| (ok(&n.to_string()), false));
    for n in 0..3 {
        assert_eq!(post(&s).unwrap().body, n.to_string().as_bytes());
    }
    assert_eq!(s.accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn a_connection_the_server_closed_while_idle_is_replaced_and_the_request_sent_once() {
    let s = scripted(|n| (ok(&n.to_string()), true));
    assert_eq!(post(&s).unwrap().body, b"0");
    std::thread::sleep(Duration::from_millis(50)); // let the close arrive
    assert_eq!(post(&s).unwrap().body, b"1");
    assert_eq!(s.accepted.load(Ordering::SeqCst), 2);
    assert_eq!(s.requests.load(Ordering::SeqCst), 2);
}

#[test]
fn connection_close_in_the_answer_is_honoured() {
    let close = |n: usize| {
        let body = n.to_string();
        let head = format!(
            "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        ([head.into_bytes(), body.into_bytes()].concat(), true)
    };
    let s = scripted(close);
    assert_eq!(post(&s).unwrap().body, b"0");
    assert_eq!(post(&s).unwrap().body, b"1");
    assert_eq!(s.accepted.load(Ordering::SeqCst), 2);
}

#[test]
fn chunked_answers_are_decoded_with_their_trailers_skipped() {
    let chunked = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n3;ext=1\r\n:1}\r\n0\r\nx-trailer: t\r\n\r\n";
    let s = scripted(move |_| (chunked.to_vec(), false));
    assert_eq!(post(&s).unwrap().body, br#"{"a":1}"#);
    assert_eq!(
        post(&s).unwrap().body,
        br#"{"a":1}"#,
        "the connection stays usable"
    );
    assert_eq!(s.accepted.load(Ordering::SeqCst), 1);
}

#[test]
fn an_answer_without_length_is_read_to_the_end_of_the_stream() {
    let s = scripted(|_| (b"HTTP/1.0 200 OK\r\n\r\n{\"until\":\"close\"}".to_vec(), true));
    assert_eq!(post(&s).unwrap().body, br#"{"until":"close"}"#);
}

#[test]
fn an_interim_100_continue_is_skipped() {
    let s = scripted(|_| {
        (
            [b"HTTP/1.1 100 Continue\r\n\r\n".to_vec(), ok("{}")].concat(),
            false,
        )
    });
    let answer = post(&s).unwrap();
    assert_eq!((answer.status, answer.body.as_slice()), (200, &b"{}"[..]));
}

#[test]
fn a_request_whose_answer_was_cut_off_is_not_sent_again() {
    let s = scripted(|n| {
        if n == 0 {
            (ok("first"), false)
        } else {
            (b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\nabc".to_vec(), true)
        }
    });
    post(&s).unwrap();
    assert!(matches!(post(&s), Err(Error::Io(_))));
    assert_eq!(s.requests.load(Ordering::SeqCst), 2, "not retried");
}

#[test]
fn garbage_instead_of_http_is_a_malformed_answer() {
    let s = scripted(|_| (b"SSH-2.0-OpenSSH_9.2\r\n\r\n".to_vec(), true));
    assert!(matches!(post(&s), Err(Error::Malformed(_))));
}

#[test]
fn an_oversized_length_is_refused_without_reading_it() {
    let s = scripted(|_| {
        (
            b"HTTP/1.1 200 OK\r\ncontent-length: 999999999999\r\n\r\n".to_vec(),
            false,
        )
    });
    assert!(matches!(post(&s), Err(Error::Malformed(_))));
}

#[test]
fn a_server_that_never_answers_times_out() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let held = std::thread::spawn(move || listener.accept().map(|(s, _)| s));
    let started = Instant::now();
    let result = request(&authority, "POST", "/x", b"{}", Duration::from_millis(300));
    assert!(matches!(result, Err(Error::TimedOut)), "{result:?}");
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
    drop(held.join());
}

#[test]
fn a_refused_connection_is_a_connect_error() {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let result = request(&format!("127.0.0.1:{port}"), "GET", "/", b"", TIMEOUT);
    assert!(matches!(result, Err(Error::Connect(_))), "{result:?}");
}

/// A server that records every byte it receives and answers each request (head and
/// Content-Length body) with the request line it read.
fn recording() -> (String, Arc<std::sync::Mutex<Vec<u8>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let wire = Arc::new(std::sync::Mutex::new(Vec::new()));
    let recorded = wire.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            let mut pending = Vec::new();
            let mut chunk = [0u8; 4096];
            while let Ok(n @ 1..) = stream.read(&mut chunk) {
                recorded.lock().unwrap().extend_from_slice(&chunk[..n]);
                pending.extend_from_slice(&chunk[..n]);
                while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&pending[..end]).into_owned();
                    let length = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if pending.len() < end + 4 + length {
                        break;
                    }
                    pending.drain(..end + 4 + length);
                    let line = head.lines().next().unwrap_or("").to_owned();
                    if stream.write_all(&ok(&line)).is_err() {
                        return;
                    }
                }
            }
        }
    });
    (authority, wire)
}

#[test]
fn crlf_in_the_target_is_refused_before_anything_is_sent_and_the_next_call_is_answered_in_step() {
    let (authority, wire) = recording();
    let injected = "/apps/1/channels/x\r\nX-Injected: 1\r\n\r\nGET /apps/1/smuggled HTTP/1.1\r\nHost: y";
    let refused = request(&authority, "GET", injected, b"", TIMEOUT);
    assert!(matches!(refused, Err(Error::InvalidRequest(_))), "{refused:?}");
    for n in 0..2 {
        let target = format!("/apps/1/channels/c{n}");
        let answer = request(&authority, "GET", &target, b"", TIMEOUT).expect("an answer");
        assert_eq!(answer.body, format!("GET {target} HTTP/1.1").as_bytes());
    }
    let wire = String::from_utf8_lossy(&wire.lock().unwrap()).into_owned();
    assert!(!wire.contains("Injected") && !wire.contains("smuggled"), "{wire}");
    assert_eq!(wire.matches(" HTTP/1.1\r\n").count(), 2, "{wire}");
}

#[test]
fn a_control_byte_in_the_authority_is_refused() {
    let result = request("127.0.0.1:1\r\nX-Injected: 1", "GET", "/", b"", TIMEOUT);
    assert!(matches!(result, Err(Error::InvalidRequest(_))), "{result:?}");
}

/// A server that sends an answer nobody asked for after its real one: the caller after it must
/// get its own answer, not the stray one.
#[test]
fn a_connection_with_stray_bytes_after_an_answer_is_not_reused() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let authority = listener.local_addr().unwrap().to_string();
    let accepted = Arc::new(AtomicUsize::new(0));
    let counted = accepted.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(stream) = stream else { return };
            let n = counted.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut writer = stream;
                while read_request(&mut reader).is_some() {
                    let _ = writer.write_all(&ok(&format!("connection {n}")));
                    if n == 0 {
                        std::thread::sleep(Duration::from_millis(20));
                        let _ = writer.write_all(&ok("stray"));
                    }
                }
            });
        }
    });
    let post = || {
        request(&authority, "POST", "/apps/1/events", b"{}", TIMEOUT)
            .unwrap()
            .body
    };
    assert_eq!(post(), b"connection 0");
    std::thread::sleep(Duration::from_millis(100)); // the stray answer arrives
    assert_eq!(post(), b"connection 1");
    assert_eq!(accepted.load(Ordering::SeqCst), 2);
}
