//! Pusher features beyond webman/push, end to end over real sockets: sign-in, server-to-user,
//! watchlists, terminate, cache channels and subscription counts.

mod common;

use common::{start_server, Client, KEY, SECRET};
use serde_json::{json, Value};
use webman_push::protocol::signature::{auth_token, user_string_to_sign};

async fn sign_in(client: &mut Client, user_data: &str) -> Value {
    let auth = auth_token(KEY, SECRET, &user_string_to_sign(&client.socket_id, user_data));
    client
        .send(json!({"event":"pusher:signin","data":{"auth":auth,"user_data":user_data}}))
        .await;
    client.next_event().await.expect("signin answer")
}

fn data(frame: &Value) -> Value {
    serde_json::from_str(frame["data"].as_str().expect("string data")).expect("JSON data")
}

#[tokio::test]
async fn signin_succeeds_with_a_valid_signature_and_unlocks_the_user_channel() {
    let server = start_server(json!({}));
    let mut c = Client::connect(&server).await;
    let other = c.subscribe("#server-to-user-42").await;
    assert_eq!(other["event"], "pusher:error", "no signin yet");
    let ok = sign_in(&mut c, r#"{"id":"42"}"#).await;
    assert_eq!(
        ok,
        json!({"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"42\"}"}})
    );
    assert_eq!(
        c.subscribe("#server-to-user-42").await["event"],
        "pusher_internal:subscription_succeeded"
    );
    assert_eq!(c.subscribe("#server-to-user-43").await["event"], "pusher:error");
}

#[tokio::test]
async fn signin_with_a_wrong_signature_is_refused() {
    let server = start_server(json!({}));
    let mut c = Client::connect(&server).await;
    c.send(json!({"event":"pusher:signin","data":{"auth":format!("{KEY}:00"),"user_data":"{\"id\":\"1\"}"}}))
        .await;
    let answer = c.next_event().await.unwrap();
    assert_eq!(answer["event"], "pusher:error");
    assert!(answer["data"]["message"]
        .as_str()
        .unwrap()
        .starts_with("Received invalid Auth"));
}

#[tokio::test]
async fn watchlists_report_online_and_offline() {
    let server = start_server(json!({}));
    let mut bob = Client::connect(&server).await;
    sign_in(&mut bob, r#"{"id":"bob"}"#).await;
    let mut alice = Client::connect(&server).await;
    sign_in(&mut alice, r#"{"id":"alice","watchlist":["bob","carol"]}"#).await;
    let initial = alice.next_event().await.unwrap();
    assert_eq!(initial["event"], "pusher_internal:watchlist_events");
    assert_eq!(
        data(&initial),
        json!({"events":[{"name":"online","user_ids":["bob"]},{"name":"offline","user_ids":["carol"]}]})
    );
    let mut carol = Client::connect(&server).await;
    sign_in(&mut carol, r#"{"id":"carol"}"#).await;
    assert_eq!(
        data(&alice.next_event().await.unwrap()),
        json!({"events":[{"name":"online","user_ids":["carol"]}]})
    );
    bob.close().await;
    assert_eq!(
        data(&alice.next_event().await.unwrap()),
        json!({"events":[{"name":"offline","user_ids":["bob"]}]})
    );
}

#[tokio::test]
async fn a_watchlist_over_a_hundred_ids_is_cut_with_4302() {
    let server = start_server(json!({}));
    let mut c = Client::connect(&server).await;
    let ids: Vec<String> = (0..101).map(|i| format!("u{i}")).collect();
    let user_data = json!({"id":"me","watchlist":ids}).to_string();
    assert_eq!(
        sign_in(&mut c, &user_data).await["event"],
        "pusher:signin_success"
    );
    let error = c.next_event().await.unwrap();
    assert_eq!(error["data"]["code"], 4302);
}

#[tokio::test]
async fn cache_channels_replay_the_last_event_or_report_a_miss() {
    let server = start_server(json!({}));
    let mut first = Client::connect(&server).await;
    first.subscribe("cache-news").await;
    let miss = first.next_event().await.unwrap();
    assert_eq!(
        miss,
        json!({"event":"pusher:cache_miss","data":"{}","channel":"cache-news"})
    );
    let app = server.hub().app_by_key(KEY).unwrap().clone();
    app.publish(&webman_push::hub::Publish {
        channel: webman_push::protocol::ChannelName::parse("cache-news", 200).unwrap(),
        event: "headline".into(),
        data: "\"rain\"".into(),
        except: None,
        user_id: None,
        from_client: false,
    });
    first.next_event().await.unwrap();
    let mut late = Client::connect(&server).await;
    late.subscribe("cache-news").await;
    assert_eq!(
        late.next_event().await.unwrap(),
        json!({"event":"headline","data":"\"rain\"","channel":"cache-news"})
    );
}

#[tokio::test]
async fn subscription_counts_reach_subscribers_when_enabled() {
    let server = start_server(json!({ "subscription_count": true }));
    let mut a = Client::connect(&server).await;
    a.subscribe("room").await;
    let count = a.next_event().await.unwrap();
    assert_eq!(count["event"], "pusher_internal:subscription_count");
    assert_eq!(data(&count), json!({"subscription_count":1}));
    let mut b = Client::connect(&server).await;
    b.subscribe("room").await;
    assert_eq!(
        data(&a.next_event().await.unwrap()),
        json!({"subscription_count":2})
    );
    b.close().await;
    assert_eq!(
        data(&a.next_event().await.unwrap()),
        json!({"subscription_count":1})
    );
}

#[tokio::test]
async fn terminating_a_user_closes_only_their_connections() {
    let server = start_server(json!({}));
    let mut u = Client::connect(&server).await;
    sign_in(&mut u, r#"{"id":"u1"}"#).await;
    let mut other = Client::connect(&server).await;
    sign_in(&mut other, r#"{"id":"u2"}"#).await;
    let app = server.hub().app_by_key(KEY).unwrap().clone();
    assert_eq!(app.terminate_user_connections("u1"), 1);
    let error = u.next_event().await.unwrap();
    assert_eq!(error["data"]["code"], 4009);
    assert!(u.next_event().await.is_none(), "closed");
    assert_eq!(
        other.subscribe("still-open").await["event"],
        "pusher_internal:subscription_succeeded"
    );
}

#[tokio::test]
async fn unauthorized_connections_are_closed_when_the_app_requires_it() {
    let server = start_server(json!({ "user_authentication_timeout": 1 }));
    let mut idle = Client::connect(&server).await;
    let mut signed = Client::connect(&server).await;
    sign_in(&mut signed, r#"{"id":"x"}"#).await;
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let error = idle.next_event().await.expect("told why");
    assert_eq!(error["data"]["code"], 4009);
    assert!(idle.next_event().await.is_none(), "closed after the timeout");
    assert_eq!(
        signed.subscribe("ok").await["event"],
        "pusher_internal:subscription_succeeded"
    );
}
