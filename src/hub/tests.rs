//! Hub behaviour, driven through sessions with a recording outbox in place of a socket.

use super::*;
use crate::protocol::message::{error_frame, ClientEvent, SubscribeRequest};
use crate::protocol::ErrorCode;
use parking_lot::Mutex;

#[derive(Default)]
pub(crate) struct RecordingOutbox {
    pub frames: Mutex<Vec<String>>,
    pub closed: Mutex<Option<u16>>,
}

impl RecordingOutbox {
    pub fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.frames.lock())
    }
}

impl Outbox for RecordingOutbox {
    fn send(&self, frame: Frame) {
        self.frames.lock().push(frame.as_str().to_owned());
    }
    fn close(&self, code: u16, _reason: &str) {
        *self.closed.lock() = Some(code);
    }
}

fn app(config: AppConfig) -> Arc<AppHub> {
    Arc::new(AppHub::new(config, Arc::new(LocalOnly), Arc::new(NoObserver)))
}

fn test_app() -> Arc<AppHub> {
    app(AppConfig {
        key: "key".into(),
        secret: "secret".into(),
        ..AppConfig::default()
    })
}

fn connect(app: &Arc<AppHub>, n: u64) -> (Session, Arc<RecordingOutbox>) {
    let outbox = Arc::new(RecordingOutbox::default());
    let slot = app.try_connect().expect("admitted");
    (Session::new(slot, n, SocketId::new(1, n), outbox.clone()), outbox)
}

fn subscribe_presence(s: &mut Session, channel: &str, data: &str) {
    let sig = crate::protocol::signature::auth_token(
        "key",
        "secret",
        &format!("{}:{channel}:{data}", s.socket_id()),
    );
    let msg = serde_json::json!({"event":"pusher:subscribe","data":{"channel":channel,"auth":sig,"channel_data":data}});
    s.handle_text(&msg.to_string());
}

#[test]
fn public_subscribe_is_acknowledged_and_receives_publishes() {
    let app = test_app();
    let (mut s, out) = connect(&app, 1);
    s.handle_text(r#"{"event":"pusher:subscribe","data":{"channel":"news"}}"#);
    assert_eq!(
        out.take(),
        vec![r#"{"event":"pusher_internal:subscription_succeeded","data":"{}","channel":"news"}"#]
    );
    let n = app.publish(&Publish {
        channel: ChannelName::parse("news", 200).unwrap(),
        event: "e".into(),
        data: "\"hi\"".into(),
        except: None,
        user_id: None,
        from_client: false,
    });
    assert_eq!(n, 1);
    assert_eq!(
        out.take(),
        vec![r#"{"event":"e","data":"\"hi\"","channel":"news"}"#]
    );
}

#[test]
fn publish_skips_the_excluded_socket() {
    let app = test_app();
    let (mut a, out_a) = connect(&app, 1);
    let (mut b, out_b) = connect(&app, 2);
    for s in [&mut a, &mut b] {
        s.handle_text(r#"{"event":"pusher:subscribe","data":{"channel":"c"}}"#);
    }
    out_a.take();
    out_b.take();
    app.publish(&Publish {
        channel: ChannelName::parse("c", 200).unwrap(),
        event: "e".into(),
        data: "1".into(),
        except: Some(a.socket_id().clone()),
        user_id: None,
        from_client: false,
    });
    assert!(out_a.take().is_empty());
    assert_eq!(out_b.take().len(), 1);
}

fn request(channel: &str, auth: Option<&str>) -> SubscribeRequest {
    SubscribeRequest {
        channel: channel.into(),
        auth: auth.map(str::to_owned),
        channel_data: None,
    }
}

#[test]
fn private_channel_needs_a_valid_auth_and_the_error_leaks_no_signature() {
    let app = test_app();
    let (mut s, out) = connect(&app, 1);
    let refused = s.subscribe(&request("private-a", Some("key:00")));
    assert!(
        matches!(&refused, Err(SubscribeError::InvalidAuth { channel, .. }) if channel == "private-a"),
        "{refused:?}"
    );
    let good = crate::protocol::signature::auth_token("key", "secret", "1.1:private-a");
    let told = refused.unwrap_err().to_string();
    assert!(!told.contains(good.split(':').nth(1).unwrap()), "{told}");
    assert!(out.take().is_empty());
    assert_eq!(app.stats().channels, 0);
    assert_eq!(s.subscribe(&request("private-a", Some(&good))), Ok(()));
    assert!(out.take()[0].contains("subscription_succeeded"));
}

#[test]
fn a_refusal_reaches_the_client_as_a_pusher_error_with_its_code_and_text() {
    let app = app(AppConfig {
        key: "key".into(),
        secret: "secret".into(),
        max_channels_per_connection: 1,
        ..AppConfig::default()
    });
    let (mut s, out) = connect(&app, 1);
    subscribe(&mut s, "a");
    out.take();
    subscribe(&mut s, "b");
    let refusal = SubscribeError::TooManyChannels { max: 1 };
    assert_eq!(out.take(), vec![error_frame(Some(4303), &refusal.to_string())]);
    s.handle_text(r#"{"event":"client-x","channel":"a"}"#);
    let refusal = ClientEventError::WrongChannelKind;
    assert_eq!(out.take(), vec![error_frame(None, &refusal.to_string())]);
}

#[test]
fn presence_counts_a_user_once_across_sockets() {
    let app = test_app();
    let (mut a1, out_a1) = connect(&app, 1);
    let (mut a2, _out_a2) = connect(&app, 2);
    let (mut b, out_b) = connect(&app, 3);
    subscribe_presence(&mut b, "presence-r", r#"{"user_id":"bob"}"#);
    out_b.take();
    subscribe_presence(
        &mut a1,
        "presence-r",
        r#"{"user_id":"alice","user_info":{"n":1}}"#,
    );
    assert_eq!(
        out_b.take(),
        vec![
            r#"{"event":"pusher_internal:member_added","data":"{\"user_id\":\"alice\",\"user_info\":{\"n\":1}}","channel":"presence-r"}"#
        ]
    );
    let ok = out_a1.take();
    assert!(ok[0].contains(r#"\"count\":2"#), "{}", ok[0]);
    subscribe_presence(
        &mut a2,
        "presence-r",
        r#"{"user_id":"alice","user_info":{"n":1}}"#,
    );
    assert!(
        out_b.take().is_empty(),
        "second socket of alice is not a new member"
    );
    assert_eq!(app.presence_members("presence-r").len(), 2);
    drop(a1);
    assert!(out_b.take().is_empty(), "alice still has a socket");
    drop(a2);
    assert_eq!(
        out_b.take(),
        vec![
            r#"{"event":"pusher_internal:member_removed","data":"{\"user_id\":\"alice\"}","channel":"presence-r"}"#
        ]
    );
}

#[test]
fn unsubscribing_a_channel_never_joined_is_a_no_op() {
    let app = test_app();
    let (mut a, _) = connect(&app, 1);
    let (mut b, out_b) = connect(&app, 2);
    subscribe_presence(&mut a, "presence-r", r#"{"user_id":"a"}"#);
    b.handle_text(r#"{"event":"pusher:unsubscribe","data":{"channel":"presence-r"}}"#);
    assert!(out_b.take().is_empty());
    assert_eq!(app.stats().presence_members, 1);
    assert_eq!(app.subscription_count("presence-r"), 1);
}

fn client_event(event: &str, channel: &str) -> ClientEvent {
    ClientEvent {
        event: event.into(),
        channel: channel.into(),
        data: "{}".into(),
    }
}

#[test]
fn client_events_follow_webman_check_order() {
    let app = test_app();
    let (mut s, out) = connect(&app, 1);
    assert_eq!(
        s.client_event(client_event("foo", "public")),
        Err(ClientEventError::WrongChannelKind)
    );
    assert_eq!(
        s.client_event(client_event("client-a", "private-x")),
        Err(ClientEventError::NotSubscribed)
    );
    let good = crate::protocol::signature::auth_token("key", "secret", "1.1:private-x");
    assert_eq!(s.subscribe(&request("private-x", Some(&good))), Ok(()));
    out.take();
    assert_eq!(
        s.client_event(client_event("foo", "private-x")),
        Err(ClientEventError::NotClientPrefixed)
    );
}

#[test]
fn client_events_reach_others_not_the_sender_and_are_rate_limited() {
    let app = test_app();
    let (mut a, out_a) = connect(&app, 1);
    let (mut b, out_b) = connect(&app, 2);
    subscribe_presence(&mut a, "presence-r", r#"{"user_id":"a"}"#);
    subscribe_presence(&mut b, "presence-r", r#"{"user_id":"b"}"#);
    out_a.take();
    out_b.take();
    for _ in 0..10 {
        a.handle_text(r#"{"event":"client-t","channel":"presence-r","data":{"x":1}}"#);
    }
    assert!(out_a.take().is_empty());
    let got = out_b.take();
    assert_eq!(got.len(), 10);
    assert_eq!(
        got[0],
        r#"{"event":"client-t","data":"{\"x\":1}","channel":"presence-r","user_id":"a"}"#
    );
    assert_eq!(
        a.client_event(client_event("client-t", "presence-r")),
        Err(ClientEventError::RateLimited { rate: 10 })
    );
    assert!(out_b.take().is_empty());
}

#[test]
fn connection_quota_is_enforced_and_released() {
    let app = app(AppConfig {
        key: "k".into(),
        secret: "s".into(),
        max_connections: 1,
        ..AppConfig::default()
    });
    let first = app.try_connect().unwrap();
    assert_eq!(app.try_connect().err(), Some(ErrorCode::OverConnectionQuota));
    drop(first);
    assert!(app.try_connect().is_ok());
}

#[test]
fn a_thousand_presence_cycles_leave_nothing_behind() {
    let app = test_app();
    for i in 0..1000u64 {
        let (mut s, _) = connect(&app, i);
        subscribe_presence(
            &mut s,
            "presence-cycle",
            &format!(r#"{{"user_id":"u{}"}}"#, i % 7),
        );
        if i % 2 == 0 {
            s.handle_text(r#"{"event":"pusher:unsubscribe","data":{"channel":"presence-cycle"}}"#);
        }
    }
    assert_eq!(app.stats(), AppStats::default());
}

fn subscribe(s: &mut Session, channel: &str) {
    s.handle_text(&format!(
        r#"{{"event":"pusher:subscribe","data":{{"channel":"{channel}"}}}}"#
    ));
}

fn unsubscribe(s: &mut Session, channel: &str) {
    s.handle_text(&format!(
        r#"{{"event":"pusher:unsubscribe","data":{{"channel":"{channel}"}}}}"#
    ));
}

#[test]
fn a_subscribe_over_max_channels_per_connection_is_refused_and_unsubscribing_frees_a_slot() {
    let app = app(AppConfig {
        key: "key".into(),
        secret: "secret".into(),
        max_channels_per_connection: 2,
        subscription_rate: 0,
        ..AppConfig::default()
    });
    let (mut s, out) = connect(&app, 1);
    subscribe(&mut s, "a");
    subscribe(&mut s, "b");
    out.take();
    assert_eq!(
        s.subscribe(&request("c", None)),
        Err(SubscribeError::TooManyChannels { max: 2 })
    );
    assert!(!app.is_occupied("c"));
    subscribe(&mut s, "a");
    assert!(
        out.take()[0].contains("subscription_succeeded"),
        "a channel already joined is answered, not refused"
    );
    unsubscribe(&mut s, "a");
    subscribe(&mut s, "c");
    assert!(out.take()[0].contains("subscription_succeeded"));
    assert_eq!(app.stats().subscriptions, 2);
}

#[test]
fn subscribes_and_unsubscribes_over_subscription_rate_get_4301_and_are_ignored() {
    let app = app(AppConfig {
        key: "key".into(),
        secret: "secret".into(),
        subscription_rate: 3,
        ..AppConfig::default()
    });
    let (mut s, out) = connect(&app, 1);
    subscribe(&mut s, "a");
    unsubscribe(&mut s, "a");
    subscribe(&mut s, "b");
    out.take();
    let refused = SubscribeError::RateLimited { rate: 3 };
    assert_eq!(s.subscribe(&request("c", None)), Err(refused.clone()));
    assert_eq!(s.unsubscribe_request("b"), Err(refused));
    assert!(out.take().is_empty());
    assert!(!app.is_occupied("c"), "the refused subscribe was ignored");
    assert!(app.is_occupied("b"), "the refused unsubscribe was ignored");
}

#[test]
fn zero_max_channels_per_connection_and_subscription_rate_mean_unlimited() {
    let app = app(AppConfig {
        key: "key".into(),
        secret: "secret".into(),
        max_channels_per_connection: 0,
        subscription_rate: 0,
        ..AppConfig::default()
    });
    let (mut s, out) = connect(&app, 1);
    for i in 0..1500 {
        subscribe(&mut s, &format!("c{i}"));
    }
    assert!(out.take().iter().all(|f| f.contains("subscription_succeeded")));
    assert_eq!(app.stats().subscriptions, 1500);
}

#[test]
fn the_default_limits_are_a_thousand_channels_and_a_hundred_subscription_requests_per_second() {
    let config = AppConfig::default();
    assert_eq!(
        (config.max_channels_per_connection, config.subscription_rate),
        (1000, 100)
    );
}
