//! Which part of the API answers what: the publish routes, served before the `Router`, answer and
//! are counted in `api_requests` exactly as their `Router` routes were, and every request their
//! path match is not sure of is still the `Router`'s (405, 404, an escaped app id).

mod common;

use common::{signed_target, start_server};
use std::net::SocketAddr;

/// One request on its own connection: the status, the head and the body of the answer.
async fn request(addr: SocketAddr, method: &str, target: &str, body: &str) -> (u16, String, String) {
    common::http::exchange(addr, &common::http::json_request(method, target, "", body)).await
}

/// The value of `webman_push_api_requests_total` for `endpoint` and `status`.
async fn counted(addr: SocketAddr, endpoint: &str, status: u16) -> Option<f64> {
    let page = request(addr, "GET", "/metrics", "").await.2;
    let series = format!(r#"webman_push_api_requests_total{{endpoint="{endpoint}",status="{status}"}} "#);
    page.lines().find_map(|l| l.strip_prefix(&series)?.parse().ok())
}

const EVENT: &str = r#"{"name":"e","channel":"c","data":"{}"}"#;

#[tokio::test]
async fn a_signed_publish_is_answered_and_counted_under_the_events_template() {
    let server = start_server(serde_json::json!({}));
    let api = server.api_addr();
    let target = signed_target("POST", "/apps/1024/events", EVENT.as_bytes());
    let (status, head, body) = request(api, "POST", &target, EVENT).await;
    assert_eq!((status, body.as_str()), (200, "{}"), "{head}");
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{head}"
    );
    assert_eq!(counted(api, "/apps/{app_id}/events", 200).await, Some(1.0));
}

#[tokio::test]
async fn an_unsigned_batch_publish_is_refused_and_counted_under_the_batch_template() {
    let server = start_server(serde_json::json!({}));
    let api = server.api_addr();
    let (status, _, body) = request(api, "POST", "/apps/1024/batch_events", r#"{"batch":[]}"#).await;
    assert_eq!(status, 401);
    assert_eq!(body, r#"{"error":"Missing auth_key in the query string"}"#);
    assert_eq!(counted(api, "/apps/{app_id}/batch_events", 401).await, Some(1.0));
}

#[tokio::test]
async fn a_publish_to_an_escaped_app_id_is_still_answered() {
    let server = start_server(serde_json::json!({}));
    let api = server.api_addr();
    let target = signed_target("POST", "/apps/10%32%34/events", EVENT.as_bytes());
    let (status, head, body) = request(api, "POST", &target, EVENT).await;
    assert_eq!((status, body.as_str()), (200, "{}"), "{head}");
    assert_eq!(counted(api, "/apps/{app_id}/events", 200).await, Some(1.0));
}

#[tokio::test]
async fn a_get_on_a_publish_path_is_method_not_allowed() {
    let server = start_server(serde_json::json!({}));
    let (status, head, _) = request(server.api_addr(), "GET", "/apps/1024/events", "").await;
    assert_eq!(status, 405, "{head}");
    assert!(head.to_ascii_lowercase().contains("allow: post"), "{head}");
}

#[tokio::test]
async fn a_publish_path_with_a_trailing_slash_is_not_found() {
    let server = start_server(serde_json::json!({}));
    let api = server.api_addr();
    let target = signed_target("POST", "/apps/1024/events/", EVENT.as_bytes());
    let (status, _, body) = request(api, "POST", &target, EVENT).await;
    assert_eq!((status, body.as_str()), (404, r#"{"error":"Not found"}"#));
    assert_eq!(counted(api, "other", 404).await, Some(1.0));
}
