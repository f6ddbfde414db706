//! `/metrics`, `/up` and `/ready`: served unsigned, guarded by `metrics_token`, movable to a
//! listener of their own, and `/ready` following a real Redis going away.

mod common;
mod redis_servers;

use common::{publish_head, start_server, Client};
use redis_servers::RedisProcess;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One request on its own connection: the status and the body.
async fn request(addr: SocketAddr, raw: &str) -> (u16, String, String) {
    common::http::exchange(addr, raw).await
}

async fn get(addr: SocketAddr, path: &str, headers: &str) -> (u16, String, String) {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: push\r\n{headers}Connection: close\r\n\r\n"),
    )
    .await
}

/// The value of the sample written exactly as `series` (name and labels), if present.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn up_answers_200_on_the_api_listener() {
    let server = start_server(json!({}));
    let (status, _, body) = get(server.api_addr(), "/up", "").await;
    assert_eq!(status, 200);
    assert_eq!(serde_json::from_str::<Value>(&body).unwrap()["status"], "up");
}

#[tokio::test]
async fn ready_answers_200_with_a_reason_while_serving_without_redis() {
    let server = start_server(json!({}));
    let (status, _, body) = get(server.api_addr(), "/ready", "").await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (body["ready"].clone(), body["reason"].clone()),
        (json!(true), json!("serving"))
    );
}

#[tokio::test]
async fn metrics_are_served_unsigned_on_the_api_listener_in_prometheus_text_format() {
    let server = start_server(json!({}));
    let (status, head, page) = get(server.api_addr(), "/metrics", "").await;
    assert_eq!(status, 200, "{page}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: text/plain; version=0.0.4"),
        "{head}"
    );
    assert!(page.contains("# TYPE webman_push_connections gauge"), "{page}");
    assert_eq!(
        sample(&page, r#"webman_push_connections{app_id="1024"}"#),
        Some(0.0)
    );
}

#[tokio::test]
async fn with_a_metrics_token_metrics_need_the_bearer_token_and_health_does_not() {
    let server = start_server(json!({ "metrics_token": "s3cret" }));
    let addr = server.api_addr();
    assert_eq!(get(addr, "/metrics", "").await.0, 401);
    assert_eq!(
        get(addr, "/metrics", "Authorization: Bearer wrong\r\n").await.0,
        401
    );
    assert_eq!(get(addr, "/metrics", "Authorization: s3cret\r\n").await.0, 401);
    let (status, _, page) = get(addr, "/metrics", "Authorization: Bearer s3cret\r\n").await;
    assert_eq!(status, 200);
    assert!(page.contains("webman_push_connections"), "{page}");
    assert_eq!(get(addr, "/up", "").await.0, 200);
    assert_eq!(get(addr, "/ready", "").await.0, 200);
}

#[tokio::test]
async fn a_metrics_listener_serves_metrics_and_health_and_takes_metrics_off_the_api() {
    let server = start_server(json!({ "metrics": "http://127.0.0.1:0" }));
    let metrics = server.metrics_addr().expect("a metrics listener");
    assert_ne!(metrics, server.api_addr());
    let (status, _, page) = get(metrics, "/metrics", "").await;
    assert_eq!(status, 200);
    assert!(page.contains("webman_push_connections"), "{page}");
    assert_eq!(get(metrics, "/up", "").await.0, 200);
    assert_eq!(get(metrics, "/ready", "").await.0, 200);
    assert_eq!(get(metrics, "/apps/1024/channels", "").await.0, 404);
    assert_eq!(get(server.api_addr(), "/metrics", "").await.0, 404);
    assert_eq!(get(server.api_addr(), "/up", "").await.0, 200);
}

#[tokio::test]
async fn a_metrics_address_already_in_use_is_an_error_naming_it() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config = webman_push::config::ServerConfig::from_json(
        &json!({
            "app_key": common::KEY, "app_secret": common::SECRET,
            "websocket": "websocket://127.0.0.1:0", "api": "http://127.0.0.1:0",
            "metrics": format!("http://{addr}"),
        })
        .to_string(),
    )
    .unwrap();
    let err = webman_push::server::PushServer::start(config)
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains(&format!("cannot listen for metrics on {addr}")),
        "{err}"
    );
}

#[tokio::test]
async fn connection_subscription_and_delivery_counters_move_as_a_client_comes_and_goes() {
    let server = start_server(json!({}));
    let api = server.api_addr();
    let page = || async { get(api, "/metrics", "").await.2 };
    let mut client = Client::connect(&server).await;
    client.subscribe("news").await;
    let p = page().await;
    assert_eq!(sample(&p, r#"webman_push_connections{app_id="1024"}"#), Some(1.0));
    assert_eq!(
        sample(&p, r#"webman_push_connections_opened_total{app_id="1024"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&p, r#"webman_push_channels{app_id="1024",type="public"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(&p, r#"webman_push_subscriptions{app_id="1024"}"#),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &p,
            r#"webman_push_messages_received_total{app_id="1024",kind="subscribe"}"#
        ),
        Some(1.0)
    );
    let body = br#"{"name":"e","channel":"news","data":"hello"}"#;
    let head = publish_head(body).replace("\r\n\r\n", "\r\nConnection: close\r\n\r\n");
    let (status, _, _) = request(api, &format!("{head}{}", std::str::from_utf8(body).unwrap())).await;
    assert_eq!(status, 200);
    assert!(client.next_event().await.is_some());
    let p = page().await;
    assert_eq!(
        sample(
            &p,
            r#"webman_push_events_published_total{app_id="1024",source="http"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(&p, r#"webman_push_deliveries_total{app_id="1024"}"#),
        Some(1.0)
    );
    assert!(sample(&p, r#"webman_push_delivered_bytes_total{app_id="1024"}"#).unwrap() > 20.0);
    assert_eq!(
        sample(
            &p,
            r#"webman_push_api_requests_total{endpoint="/apps/{app_id}/events",status="200"}"#
        ),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &p,
            r#"webman_push_api_request_duration_seconds_count{endpoint="/apps/{app_id}/events"}"#
        ),
        Some(1.0)
    );
    // A close frame without a code: counted as 1005 (RFC 6455's "no status received").
    client.close().await;
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let p = page().await;
        if sample(&p, r#"webman_push_connections{app_id="1024"}"#) == Some(0.0) {
            assert_eq!(
                sample(&p, r#"webman_push_subscriptions{app_id="1024"}"#),
                Some(0.0)
            );
            assert_eq!(
                sample(
                    &p,
                    r#"webman_push_connections_closed_total{app_id="1024",code="1005"}"#
                ),
                Some(1.0),
                "{p}"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the connection was never counted as closed:\n{p}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn presence_members_count_each_user_once_per_channel() {
    let server = start_server(json!({}));
    let alice = r#"{"user_id":"alice"}"#;
    let mut first = Client::connect(&server).await;
    first.subscribe_presence("presence-room", alice).await;
    let mut second = Client::connect(&server).await;
    second.subscribe_presence("presence-room", alice).await;
    let mut bob = Client::connect(&server).await;
    bob.subscribe_presence("presence-room", r#"{"user_id":"bob"}"#)
        .await;
    let page = get(server.api_addr(), "/metrics", "").await.2;
    assert_eq!(
        sample(&page, r#"webman_push_presence_members{app_id="1024"}"#),
        Some(2.0),
        "{page}"
    );
    assert_eq!(
        sample(&page, r#"webman_push_subscriptions{app_id="1024"}"#),
        Some(3.0)
    );
    assert_eq!(
        sample(&page, r#"webman_push_channels{app_id="1024",type="presence"}"#),
        Some(1.0)
    );
}

#[tokio::test]
async fn client_events_over_client_event_rate_are_counted_as_rate_limit_hits() {
    let server = start_server(json!({ "client_event_rate": 1 }));
    let mut client = Client::connect(&server).await;
    client
        .subscribe_presence("presence-chat", r#"{"user_id":"u1"}"#)
        .await;
    for _ in 0..3 {
        client
            .send(json!({"event":"client-typing","channel":"presence-chat","data":{}}))
            .await;
    }
    let deadline = Instant::now() + Duration::from_secs(3);
    loop {
        let page = get(server.api_addr(), "/metrics", "").await.2;
        let hits = sample(&page, r#"webman_push_rate_limit_hits_total{app_id="1024"}"#);
        if hits == Some(2.0) {
            assert_eq!(
                sample(
                    &page,
                    r#"webman_push_events_published_total{app_id="1024",source="client"}"#
                ),
                Some(1.0)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "rate-limit hits stayed {hits:?}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn webhook_attempts_failures_and_retries_are_counted_per_destination() {
    let (url, mut hooks) = common::webhooks::receiver(500).await;
    let server = start_server(json!({
        "channel_hook": url, "webhook_retry_interval": 0.05, "webhook_retry_for": 60,
    }));
    let mut client = Client::connect(&server).await;
    client.subscribe("hooked").await;
    // The receiver refuses: the request is tried again and again.
    for _ in 0..3 {
        common::webhooks::next(&mut hooks, Duration::from_secs(3))
            .await
            .expect("a webhook attempt");
    }
    // The third attempt reached the receiver; its failure is counted once the answer is read.
    let series = |name: &str| format!(r#"{name}{{app_id="1024",destination="{url}"}}"#);
    let deadline = Instant::now() + Duration::from_secs(3);
    let page = loop {
        let page = get(server.api_addr(), "/metrics", "").await.2;
        let failures = sample(&page, &series("webman_push_webhook_failures_total"));
        if failures >= Some(3.0) || Instant::now() > deadline {
            break page;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let value = |name: &str| sample(&page, &series(name)).unwrap_or_else(|| panic!("no {name}:\n{page}"));
    assert!(value("webman_push_webhook_requests_total") >= 3.0, "{page}");
    assert!(value("webman_push_webhook_failures_total") >= 3.0, "{page}");
    assert!(value("webman_push_webhook_retries_total") >= 2.0, "{page}");
    assert_eq!(value("webman_push_webhook_dropped_total"), 0.0);
    assert_eq!(value("webman_push_webhook_queue_depth"), 1.0);
}

#[tokio::test]
async fn unmatched_api_paths_are_counted_as_other_never_by_raw_path() {
    let server = start_server(json!({}));
    let api = server.api_addr();
    assert_eq!(get(api, "/no/such/path-123", "").await.0, 404);
    let page = get(api, "/metrics", "").await.2;
    assert_eq!(
        sample(
            &page,
            r#"webman_push_api_requests_total{endpoint="other",status="404"}"#
        ),
        Some(1.0),
        "{page}"
    );
    assert!(!page.contains("path-123"), "{page}");
}

/// Polls `/ready` until it answers `status`, for at most `within`.
async fn ready_becomes(addr: SocketAddr, status: u16, within: Duration) -> Value {
    let deadline = Instant::now() + within;
    loop {
        let (got, _, body) = get(addr, "/ready", "").await;
        if got == status {
            return serde_json::from_str(&body).unwrap();
        }
        assert!(Instant::now() < deadline, "/ready stayed {got}: {body}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn ready_is_503_once_redis_has_been_unreachable_longer_than_cluster_node_timeout() {
    let redis = RedisProcess::plain(&[]);
    let server = start_server(json!({
        "redis": format!("redis://127.0.0.1:{}", redis.port),
        "redis_prefix": format!("m{}", redis.port),
        "cluster_node_timeout": 2,
    }));
    let api = server.api_addr();
    let deadline = Instant::now() + Duration::from_secs(3);
    while sample(
        &get(api, "/metrics", "").await.2,
        "webman_push_cluster_redis_connected",
    ) != Some(1.0)
    {
        assert!(Instant::now() < deadline, "never connected to Redis");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let up = ready_becomes(api, 200, Duration::from_secs(1)).await;
    assert_eq!(up["reason"], "serving; Redis connected");
    let killed_at = Instant::now();
    drop(redis);
    // Still ready while the outage is shorter than cluster_node_timeout.
    let (status, _, body) = get(api, "/ready", "").await;
    assert_eq!(status, 200, "{body}");
    let down = ready_becomes(api, 503, Duration::from_secs(6)).await;
    assert!(
        killed_at.elapsed() >= Duration::from_secs(2),
        "503 came before cluster_node_timeout"
    );
    assert!(
        down["reason"].as_str().unwrap().starts_with("Redis unreachable"),
        "{down}"
    );
    let page = get(api, "/metrics", "").await.2;
    assert_eq!(
        sample(&page, "webman_push_cluster_redis_connected"),
        Some(0.0),
        "{page}"
    );
}

#[tokio::test]
async fn cluster_peers_and_bus_messages_are_counted() {
    let redis = RedisProcess::plain(&[]);
    let config = json!({
        "redis": format!("redis://127.0.0.1:{}", redis.port),
        "redis_prefix": format!("p{}", redis.port),
    });
    let first = start_server(config.clone());
    let _second = start_server(config);
    let api = first.api_addr();
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let page = get(api, "/metrics", "").await.2;
        let peers = sample(&page, "webman_push_cluster_peers_alive");
        let received = sample(&page, r#"webman_push_cluster_messages_total{direction="in"}"#);
        let sent = sample(&page, r#"webman_push_cluster_messages_total{direction="out"}"#);
        if peers == Some(1.0) && received > Some(0.0) && sent > Some(0.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "peers {peers:?}, in {received:?}, out {sent:?}:\n{page}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
