//! The debug console at `/console` on the HTTP API listener: off with `console => false`, closed
//! without a login, logged in with an app's key and secret or the console token, and its event
//! stream: live, and bounded so that a tab that reads nothing loses events (and is told how
//! many) while the server goes on serving everyone else.

mod common;

use common::console::{api_post, login, request, watched_server, Stream};
use common::webhooks::{next, receiver};
use common::{start_server, Client, KEY, SECRET};
use serde_json::{json, Value};
use std::time::Duration;

#[tokio::test]
async fn every_console_path_is_404_when_the_console_is_off() {
    let server = start_server(json!({ "console": false }));
    let addr = server.api_addr();
    assert_eq!(request(addr, "GET", "/console", "", "").await.0, 404);
    let credentials = json!({ "key": KEY, "secret": SECRET }).to_string();
    assert_eq!(
        request(addr, "POST", "/console/login", "", &credentials).await.0,
        404
    );
    assert_eq!(request(addr, "GET", "/console/stream", "", "").await.0, 404);
}

#[tokio::test]
async fn the_page_is_served_with_a_policy_that_allows_only_itself() {
    let server = start_server(json!({}));
    let (status, head, body) = request(server.api_addr(), "GET", "/console", "", "").await;
    assert_eq!(status, 200);
    let policy = head
        .lines()
        .find_map(|l| l.strip_prefix("content-security-policy: "))
        .expect("a content security policy");
    assert!(
        policy.starts_with("default-src 'self'; script-src 'nonce-"),
        "{policy}"
    );
    assert!(!policy.contains("unsafe"), "{policy}");
    assert!(body.contains("<script nonce=\"") && !body.contains("{{nonce}}"));
}

#[tokio::test]
async fn data_routes_answer_401_without_a_session() {
    let server = start_server(json!({}));
    let addr = server.api_addr();
    assert_eq!(request(addr, "GET", "/console/state", "", "").await.0, 401);
    assert_eq!(request(addr, "GET", "/console/stream", "", "").await.0, 401);
    let event = json!({ "channel": "c", "event": "e", "data": "d" }).to_string();
    assert_eq!(request(addr, "POST", "/console/publish", "", &event).await.0, 401);
    let forged = "Cookie: webman_push_console=00000000000000000000000000000000\r\n";
    assert_eq!(request(addr, "GET", "/console/state", forged, "").await.0, 401);
}

#[tokio::test]
async fn a_wrong_secret_or_token_is_refused_with_401() {
    let server = start_server(json!({ "console_token": "right-token" }));
    let addr = server.api_addr();
    let wrong_secret = json!({ "key": KEY, "secret": "guess" }).to_string();
    assert_eq!(
        request(addr, "POST", "/console/login", "", &wrong_secret).await.0,
        401
    );
    let wrong_token = json!({ "token": "wrong-token" }).to_string();
    assert_eq!(
        request(addr, "POST", "/console/login", "", &wrong_token).await.0,
        401
    );
    let unknown_key = json!({ "key": "nobody", "secret": SECRET }).to_string();
    assert_eq!(
        request(addr, "POST", "/console/login", "", &unknown_key).await.0,
        401
    );
}

#[tokio::test]
async fn login_attempts_beyond_ten_a_second_are_refused_with_429() {
    let server = start_server(json!({}));
    let wrong = json!({ "key": KEY, "secret": "guess" }).to_string();
    let mut statuses = Vec::new();
    for _ in 0..15 {
        statuses.push(
            request(server.api_addr(), "POST", "/console/login", "", &wrong)
                .await
                .0,
        );
    }
    assert!(statuses.contains(&429), "{statuses:?}");
    assert!(statuses.iter().all(|s| *s == 401 || *s == 429), "{statuses:?}");
}

#[tokio::test]
async fn login_with_key_and_secret_gives_an_http_only_strict_cookie_for_that_app() {
    let server = start_server(json!({ "app_id": "77" }));
    let addr = server.api_addr();
    let body = json!({ "key": KEY, "secret": SECRET }).to_string();
    let (status, head, _) = request(addr, "POST", "/console/login", "", &body).await;
    assert_eq!(status, 200);
    let cookie = head.lines().find_map(|l| l.strip_prefix("set-cookie: ")).unwrap();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console", "Max-Age=3600"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    let cookie = login(addr, json!({ "key": KEY, "secret": SECRET })).await;
    let (status, _, state) = request(addr, "GET", "/console/state", &cookie, "").await;
    assert_eq!(status, 200, "{state}");
    let state: Value = serde_json::from_str(&state).unwrap();
    assert_eq!(state["app"]["id"], "77");
}

#[tokio::test]
async fn login_with_the_console_token_sees_every_app() {
    let other = json!({ "id": "2", "key": "other-key", "secret": "other-secret" });
    let server = start_server(json!({ "console_token": "t0ken", "apps": [other] }));
    let addr = server.api_addr();
    let (status, _, body) = request(
        addr,
        "POST",
        "/console/login",
        "",
        &json!({ "token": "t0ken" }).to_string(),
    )
    .await;
    assert_eq!(status, 200);
    let apps: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(apps["apps"].as_array().map(Vec::len), Some(2), "{apps}");
    let cookie = login(addr, json!({ "token": "t0ken" })).await;
    let (status, _, state) = request(addr, "GET", "/console/state?app=other-key", &cookie, "").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&state).unwrap()["app"]["id"], "2");
}

#[tokio::test]
async fn the_stream_shows_a_websocket_client_connecting_subscribing_and_an_api_publish() {
    let (server, mut stream) = watched_server(json!({})).await;
    let addr = server.api_addr();
    let mut client = Client::connect(&server).await;
    let opened = stream.next_of("connection_opened").await;
    assert_eq!(opened["socket_id"], client.socket_id.as_str());
    client.subscribe("news").await;
    let subscribed = stream.next_of("subscribed").await;
    assert_eq!(
        (&subscribed["channel"], &subscribed["socket_id"]),
        (&json!("news"), &json!(client.socket_id))
    );
    let event = json!({ "name": "headline", "channel": "news", "data": "{\"n\":1}" }).to_string();
    assert_eq!(api_post(addr, "/apps/1024/events", &event).await, 200);
    let published = stream.next_of("api_publish").await;
    assert_eq!(
        (&published["channel"], &published["name"]),
        (&json!("news"), &json!("headline"))
    );
    client.close().await;
    let closed = stream.next_of("connection_closed").await;
    assert_eq!(closed["code"], 1005, "a close frame without a code");
}

#[tokio::test]
async fn the_publish_form_publishes_through_the_api_validation() {
    let server = start_server(json!({}));
    let addr = server.api_addr();
    let cookie = login(addr, json!({ "key": KEY, "secret": SECRET })).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    let form = json!({ "channel": "news", "event": "hello", "data": "{}" }).to_string();
    assert_eq!(
        request(addr, "POST", "/console/publish", &cookie, &form).await.0,
        200
    );
    let received = client.next_event().await.expect("the event arrives");
    assert_eq!(received["event"], "hello");
    let bad = json!({ "channel": "bad name!", "event": "hello", "data": "{}" }).to_string();
    let (status, _, body) = request(addr, "POST", "/console/publish", &cookie, &bad).await;
    assert_eq!(status, 400, "{body}");
}

#[tokio::test]
async fn a_stream_that_reads_nothing_is_told_how_many_events_it_missed_and_nobody_waits() {
    let (batches, per_batch) = (60, 100);
    let server = start_server(json!({ "console_queue": 8, "max_batch_size": per_batch }));
    let addr = server.api_addr();
    let cookie = login(addr, json!({ "key": KEY, "secret": SECRET })).await;
    // A small receive buffer, read by nobody: the server's writes stop soon, and its queue fills.
    let mut slow = Stream::open(addr, &cookie, Some(4096)).await;
    let mut subscriber = Client::connect(&server).await;
    subscriber.subscribe("elsewhere").await;
    let data = "x".repeat(1000);
    for _ in 0..batches {
        let batch: Vec<Value> = (0..per_batch)
            .map(|_| json!({ "name": "e", "channel": "flood", "data": data }))
            .collect();
        let body = json!({ "batch": batch }).to_string();
        assert_eq!(api_post(addr, "/apps/1024/batch_events", &body).await, 200);
    }
    // The server kept serving: a last publish reaches the WebSocket subscriber at once.
    let last = json!({ "name": "last", "channel": "elsewhere", "data": "{}" }).to_string();
    assert_eq!(api_post(addr, "/apps/1024/events", &last).await, 200);
    let arrived = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if subscriber.next_event().await.expect("still connected")["event"] == "last" {
                break;
            }
        }
    });
    arrived
        .await
        .expect("the subscriber is not held up by the console");
    let total = batches * per_batch + 1;
    let (mut shown, mut skipped) = (0, 0);
    while shown + skipped < total {
        let event = slow.next().await.expect("the stream accounts for every event");
        match event["type"].as_str() {
            Some("api_publish") => shown += 1,
            Some("skipped") => skipped += event["count"].as_u64().unwrap() as usize,
            _ => {}
        }
    }
    assert!(skipped > 0, "{shown} shown, none skipped");
    assert_eq!(shown + skipped, total);
}

#[tokio::test]
async fn the_state_lists_channels_with_type_and_the_members_of_a_chosen_presence_channel() {
    let server = start_server(json!({}));
    let addr = server.api_addr();
    let cookie = login(addr, json!({ "key": KEY, "secret": SECRET })).await;
    let mut client = Client::connect(&server).await;
    client
        .subscribe_presence("presence-room", r#"{"user_id":"ann"}"#)
        .await;
    client.subscribe("news").await;
    let (status, _, body) = request(addr, "GET", "/console/state?presence=presence-room", &cookie, "").await;
    assert_eq!(status, 200, "{body}");
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["connections"], 1);
    assert_eq!(
        state["channels"],
        json!([
            { "name": "news", "type": "public", "subscriptions": 1 },
            { "name": "presence-room", "type": "presence", "subscriptions": 1 },
        ])
    );
    assert_eq!(
        state["presence"]["members"],
        json!([{ "id": "ann", "info": null }])
    );
}

#[tokio::test]
async fn the_stream_logs_a_webhook_sent_and_the_state_shows_its_destination() {
    let (url, mut webhooks) = receiver(200).await;
    let server = start_server(json!({ "channel_hook": url }));
    let addr = server.api_addr();
    let cookie = login(addr, json!({ "key": KEY, "secret": SECRET })).await;
    let mut stream = Stream::open(addr, &cookie, None).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    next(&mut webhooks, Duration::from_secs(3))
        .await
        .expect("a webhook");
    let sent = stream.next_of("webhook_sent").await;
    assert_eq!((&sent["url"], &sent["events"]), (&json!(url), &json!(1)));
    let (_, _, body) = request(addr, "GET", "/console/state", &cookie, "").await;
    let state: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(state["webhooks"][0]["url"], json!(url));
    assert_eq!(state["webhooks"][0]["sent"], 1);
}

/// The next client event the stream logs, delivered or refused, skipping everything else.
async fn next_client_event(stream: &mut Stream) -> Value {
    loop {
        let event = stream.next().await.expect("a client event is logged");
        if event["type"] == "client_event" || event["type"] == "client_event_refused" {
            return event;
        }
    }
}

#[tokio::test]
async fn a_refused_client_event_is_logged_as_refused_with_the_reason_the_client_got() {
    let (server, mut stream) = watched_server(json!({})).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    client
        .send(json!({ "event": "client-typing", "channel": "news", "data": "{}" }))
        .await;
    let error = client.next_event().await.expect("a pusher:error");
    assert_eq!(error["event"], "pusher:error");
    let logged = next_client_event(&mut stream).await;
    assert_eq!(logged["type"], "client_event_refused", "{logged}");
    assert_eq!(
        (&logged["channel"], &logged["name"], &logged["socket_id"]),
        (&json!("news"), &json!("client-typing"), &json!(client.socket_id))
    );
    assert_eq!(logged["reason"], error["data"]["message"]);
}

#[tokio::test]
async fn a_client_event_over_the_rate_limit_is_logged_refused_after_the_delivered_one() {
    let (server, mut stream) = watched_server(json!({ "client_event_rate": 1 })).await;
    let mut client = Client::connect(&server).await;
    client
        .subscribe_presence("presence-room", r#"{"user_id":"ann"}"#)
        .await;
    for n in 1..=2 {
        let data = json!({ "n": n }).to_string();
        client
            .send(json!({ "event": "client-n", "channel": "presence-room", "data": data }))
            .await;
    }
    let delivered = next_client_event(&mut stream).await;
    assert_eq!(
        (&delivered["type"], &delivered["data"]),
        (&json!("client_event"), &json!("{\"n\":1}"))
    );
    let refused = next_client_event(&mut stream).await;
    assert_eq!(refused["type"], "client_event_refused", "{refused}");
    assert_eq!(
        refused["reason"],
        "Client event rejected - rate limit of 1 events per second exceeded"
    );
}

#[tokio::test]
async fn an_unsubscribe_is_logged_only_when_the_socket_really_leaves_the_channel() {
    let (server, mut stream) = watched_server(json!({})).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    for channel in ["never-joined", "news", "news"] {
        client
            .send(json!({ "event": "pusher:unsubscribe", "data": { "channel": channel } }))
            .await;
    }
    // A last subscribe marks the end: every unsubscribe was handled before it.
    client.subscribe("end").await;
    let mut unsubscribed = Vec::new();
    loop {
        let event = stream.next().await.expect("the stream goes on");
        match event["type"].as_str() {
            Some("unsubscribed") => unsubscribed.push(event["channel"].clone()),
            Some("subscribed") if event["channel"] == "end" => break,
            _ => {}
        }
    }
    assert_eq!(unsubscribed, [json!("news")]);
}

#[tokio::test]
async fn each_failed_webhook_attempt_is_logged_with_the_reason_and_whether_it_is_retried() {
    let (url, mut webhooks) = receiver(503).await;
    let config = json!({ "channel_hook": url, "webhook_retry_interval": 0.1, "webhook_retry_for": 60 });
    let (server, mut stream) = watched_server(config).await;
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    for _ in 0..2 {
        next(&mut webhooks, Duration::from_secs(3))
            .await
            .expect("an attempt");
        let failed = stream.next_of("webhook_failed").await;
        assert_eq!(
            (&failed["url"], &failed["reason"], &failed["retrying"]),
            (&json!(url), &json!("HTTP status 503"), &json!(true))
        );
        assert_eq!(failed["events"], 1);
    }
}
