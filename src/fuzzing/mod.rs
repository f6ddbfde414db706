//! Entry points for the fuzz targets in `fuzz/` and for their always-run smoke, `tests/fuzz_corpus.rs`.
//!
//! Each function takes the fuzzer's raw bytes, drives real code with them and asserts properties
//! (a valid name round-trips, a parsed message re-serialises to the same message, a signed request
//! verifies, every frame or webhook the server produces is well-formed JSON); a failed property is
//! a panic, which the fuzzer reports as a crash. Kept in one module so nothing else has to be made
//! public for fuzzing. Not part of the supported API.

use crate::config::ServerConfig;
use crate::hub::{Frame, Hub, Outbox, Session};
use crate::protocol::channel::{is_cache_channel, server_to_user_id, SERVER_TO_USER_PREFIX};
use crate::protocol::message::{parse_client_message, ClientMessage};
use crate::protocol::query::{self, Params};
use crate::protocol::signature::{
    auth_token, channel_string_to_sign, sign_api_request, verify_auth_token, ApiAuthError, ApiRequest,
};
use crate::protocol::{ChannelKind, ChannelName, SocketId};
use crate::server::PushServer;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

mod webhook_receiver;

pub use webhook_receiver::{assert_webhooks_ok, webhooks_received};

const KEY: &str = "fuzz-key";
const SECRET: &str = "fuzz-secret";
/// An `auth` the harness replaces with a correct signature, so inputs can get past the check.
const SIGN_ME: &str = "SIGN";

/// Splits fuzz input into `n` text fields at NUL bytes (missing fields are empty).
fn fields(data: &[u8], n: usize) -> Vec<String> {
    let mut out: Vec<String> = data
        .splitn(n, |b| *b == 0)
        .map(|f| String::from_utf8_lossy(f).into_owned())
        .collect();
    out.resize(n, String::new());
    out
}

/// Records frames and asserts each is a JSON object with a string `event`.
#[derive(Default)]
struct CheckedOutbox;

impl Outbox for CheckedOutbox {
    fn send(&self, frame: Frame) {
        let value: Value = serde_json::from_str(frame.as_str()).expect("every frame is JSON");
        assert!(
            value["event"].is_string(),
            "frame without event: {}",
            frame.as_str()
        );
    }
    fn close(&self, _code: u16, _reason: &str) {}
}

static NEXT_CONNECTION: AtomicU64 = AtomicU64::new(1);

fn session_on(hub: &Hub) -> Session {
    let app = hub.app_by_key(KEY).expect("the fuzz app");
    let slot = app.try_connect().expect("no connection limit");
    let id = NEXT_CONNECTION.fetch_add(1, Ordering::Relaxed);
    Session::new(slot, id, SocketId::new(7, id), Arc::new(CheckedOutbox))
}

/// Subscribe requests whose `auth` is [`SIGN_ME`] get a correct signature for this session.
fn signed(session: &Session, message: ClientMessage) -> ClientMessage {
    match message {
        ClientMessage::Subscribe(mut req) if req.auth.as_deref() == Some(SIGN_ME) => {
            let to_sign = channel_string_to_sign(
                session.socket_id().as_str(),
                &req.channel,
                req.channel_data.as_deref(),
            );
            req.auth = Some(auth_token(KEY, SECRET, &to_sign));
            ClientMessage::Subscribe(req)
        }
        other => other,
    }
}

/// The message written back as a client would send it.
fn reserialise(message: &ClientMessage) -> Value {
    match message {
        ClientMessage::Ping => json!({"event": "pusher:ping"}),
        ClientMessage::Pong => json!({"event": "pusher:pong"}),
        ClientMessage::Subscribe(r) => json!({"event": "pusher:subscribe",
            "data": {"channel": r.channel, "auth": r.auth, "channel_data": r.channel_data}}),
        ClientMessage::Unsubscribe { channel } => {
            json!({"event": "pusher:unsubscribe", "data": {"channel": channel}})
        }
        ClientMessage::Signin { auth, user_data } => {
            json!({"event": "pusher:signin", "data": {"auth": auth, "user_data": user_data}})
        }
        ClientMessage::ClientEvent(e) => json!({"event": e.event, "channel": e.channel, "data": e.data}),
    }
}

/// The client-message parser, and a session on a real hub handling what it parsed.
pub fn client_message(data: &[u8]) {
    static HUB: OnceLock<Hub> = OnceLock::new();
    let Ok(text) = std::str::from_utf8(data) else {
        return; // the transport refuses non-UTF-8 text frames before parsing
    };
    let hub = HUB.get_or_init(|| Hub::new(fuzz_config(json!({})).all_apps()));
    let mut session = session_on(hub);
    match parse_client_message(text) {
        Ok(message) => {
            let again =
                parse_client_message(&reserialise(&message).to_string()).expect("re-serialised parses");
            assert_eq!(again, message, "a parsed message re-serialises to itself");
            let message = signed(&session, message);
            session.handle(message);
        }
        Err(e) => {
            assert!(!e.0.is_empty());
            session.handle_text(text);
        }
    }
}

/// Channel-name and socket-id validation.
pub fn names(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match ChannelName::parse(&text, 200) {
        Ok(name) => {
            assert_eq!(name.as_str(), text);
            assert!(text.chars().count() <= 200);
            assert_eq!(
                ChannelName::parse(name.as_str(), 200).as_ref(),
                Ok(&name),
                "a valid name round-trips"
            );
            assert!(ChannelName::parse(&text, usize::MAX).is_ok());
            assert_eq!(name.kind(), ChannelKind::of(&text));
            let body = text.strip_prefix(SERVER_TO_USER_PREFIX).unwrap_or(&text);
            assert!(body
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_-=@,.;".contains(c)));
        }
        Err(e) => assert!(!e.to_string().is_empty()),
    }
    if let Some(user) = server_to_user_id(&text) {
        assert_eq!(format!("{SERVER_TO_USER_PREFIX}{user}"), text);
    }
    let _ = is_cache_channel(&text);
    match SocketId::parse(&text) {
        Some(id) => {
            assert_eq!(id.as_str(), text);
            let (a, b) = text.split_once('.').expect("a socket id has a dot");
            assert!([a, b]
                .iter()
                .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())));
        }
        None => assert!(!text.split_once('.').is_some_and(|(a, b)| {
            [a, b]
                .iter()
                .all(|p| (1..=20).contains(&p.len()) && p.bytes().all(|b| b.is_ascii_digit()))
        })),
    }
    if data.len() >= 12 {
        let prefix = u32::from_le_bytes([data[0], data[1], data[2], data[3]]);
        let counter = u64::from_le_bytes(data[4..12].try_into().expect("8 bytes"));
        let id = SocketId::new(prefix, counter);
        assert_eq!(
            SocketId::parse(id.as_str()),
            Some(id.clone()),
            "a new socket id parses"
        );
    }
}

/// Query parsing and HTTP API / channel signatures: a signed request verifies, a tampered one does not.
pub fn signature(data: &[u8]) {
    let f = fields(data, 6);
    let (method, path, secret, body, query, auth) = (&f[0], &f[1], &f[2], f[3].as_bytes(), &f[4], &f[5]);
    let raw_request = ApiRequest {
        method,
        path,
        params: &Params::parse(query),
        body,
    };
    let _ = raw_request.verify(secret, 1_700_000_000, 600);
    // Extra parameters as a client would add them (the auth_* names are the signer's own).
    let extra: Vec<(String, String)> = query::parse_owned(query)
        .into_iter()
        .filter(|(k, _)| !k.to_ascii_lowercase().starts_with("auth_") && !k.eq_ignore_ascii_case("body_md5"))
        .collect();
    let now = 1_700_000_000;
    let signed_query = sign_api_request(KEY, secret, method, path, body, now, &extra);
    let params = Params::parse(&signed_query);
    assert_eq!(
        &query::parse_owned(&signed_query)[..extra.len()],
        &extra[..],
        "a query round-trips through encoding"
    );
    let request = ApiRequest {
        method,
        path,
        params: &params,
        body,
    };
    assert_eq!(
        request.verify(secret, now + 5, 600),
        Ok(()),
        "a signed request verifies"
    );
    let longer = [body, b"x"].concat();
    let tampered = ApiRequest {
        body: &longer,
        ..request
    };
    assert!(
        tampered.verify(secret, now, 600).is_err(),
        "a changed body is refused"
    );
    let late = request.verify(secret, now + 601, 600);
    assert!(
        matches!(late, Err(ApiAuthError::TimestampExpired { .. })),
        "{late:?}"
    );
    let token = auth_token(KEY, secret, query);
    assert!(verify_auth_token(KEY, secret, query, &token));
    assert_eq!(verify_auth_token(KEY, secret, query, auth), *auth == token);
}

/// A config as the PHP binding hands it over, with the fuzz app and loopback listeners.
fn fuzz_config(extra: Value) -> ServerConfig {
    let mut config = json!({"app_key": KEY, "app_secret": SECRET,
        "websocket": "websocket://127.0.0.1:0", "api": "http://127.0.0.1:0", "api_busy_poll_us": 0});
    if let (Value::Object(c), Value::Object(e)) = (&mut config, extra) {
        c.extend(e);
    }
    ServerConfig::from_json(&config.to_string()).expect("the fuzz config is valid")
}

/// `ServerConfig::from_json`: whatever it accepts is a config a server can be built from.
pub fn config(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return; // PHP's json_encode only produces UTF-8
    };
    // Listen addresses that are not literal IPs would make every run a DNS lookup.
    let text = match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(mut obj)) => {
            let literal = |s: &str| !s.rsplit("://").next().unwrap_or(s).contains(char::is_alphabetic);
            obj.retain(|k, v| !matches!(k.as_str(), "websocket" | "api") || v.as_str().is_none_or(literal));
            Value::Object(obj).to_string()
        }
        _ => text.to_owned(),
    };
    match ServerConfig::from_json(&text) {
        Ok(c) => {
            let apps = c.all_apps();
            assert!(!apps.is_empty());
            assert!(apps.iter().all(|a| !a.key.is_empty() && !a.secret.is_empty()));
            assert!(c.websocket_addr().is_ok() && c.api_addr().is_ok() && c.threads > 0);
            let hub = Hub::new(apps);
            assert!(hub.apps().count() >= 1);
        }
        Err(e) => assert!(e.contains("config") || !e.is_empty()),
    }
}

/// The fuzz server: real HTTP API and WebSocket listeners on loopback, webhooks to a local receiver.
fn server() -> &'static PushServer {
    static SERVER: OnceLock<PushServer> = OnceLock::new();
    SERVER.get_or_init(|| {
        let hook = webhook_receiver::start(KEY, SECRET);
        let config = fuzz_config(json!({"channel_hook": hook, "webhook_names": "pusher",
            "webhook_delay": 0, "webhook_client_events": true, "subscription_count": true,
            "max_batch_size": 4, "max_channels_per_event": 4}));
        PushServer::start(config).expect("the fuzz server starts")
    })
}

/// The HTTP API's JSON bodies, posted signed to the real server: every answer is 200 or a JSON
/// `{"error": …}` with 400 or 413, never a dropped connection or a 500.
pub fn api_body(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let server = server();
    let path = if which % 2 == 0 {
        "/apps/1/events"
    } else {
        "/apps/1/batch_events"
    };
    let query = sign_api_request(KEY, SECRET, "POST", path, body, crate::clock::unix_now(), &[]);
    let authority = server.api_addr().to_string();
    let target = format!("{path}?{query}");
    let answer = crate::api_client::request(&authority, "POST", &target, body, Duration::from_secs(10))
        .expect("the API answers every body");
    match answer.status {
        200 => {}
        400 | 413 => {
            let value: Value = serde_json::from_slice(&answer.body).expect("errors are JSON");
            assert!(value["error"].is_string(), "{value}");
        }
        status => panic!("{status} for {:?}", String::from_utf8_lossy(body)),
    }
}

/// Webhook bodies: hub events made from fuzzed subscriptions, presence members and client events
/// go through the real webhook builder and delivery to a receiver that checks each request's JSON
/// and signature (`webhook_receiver`). `data` is NUL-separated operations: `s<channel>`
/// subscribe, `u<channel>` unsubscribe, `p<channel_data>` join `presence-fuzz`,
/// `c<event>\n<data>` client event there; a new connection per input, dropped at the end.
pub fn webhook_body(data: &[u8]) {
    static LOCK: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    assert_webhooks_ok();
    let server = server();
    let mut session = session_on(server.hub());
    for op in data.split(|b| *b == 0).take(32) {
        let Some((&kind, rest)) = op.split_first() else {
            continue;
        };
        let rest = String::from_utf8_lossy(rest).into_owned();
        let message = match kind {
            b's' => json!({"event": "pusher:subscribe", "data": {"channel": rest}}),
            b'u' => json!({"event": "pusher:unsubscribe", "data": {"channel": rest}}),
            b'p' => json!({"event": "pusher:subscribe",
                "data": {"channel": "presence-fuzz", "auth": SIGN_ME, "channel_data": rest}}),
            b'c' => {
                let (event, data) = rest.split_once('\n').unwrap_or((&rest, ""));
                json!({"event": event, "channel": "presence-fuzz", "data": data})
            }
            _ => continue,
        };
        // A fuzzed event name may be no client event at all (`pusher:x`): the session answers it.
        match parse_client_message(&message.to_string()) {
            Ok(message) => {
                let message = signed(&session, message);
                session.handle(message);
            }
            Err(_) => session.handle_text(&message.to_string()),
        }
    }
}
