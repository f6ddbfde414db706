//! Monitoring: `GET /metrics` (Prometheus), `GET /up` (liveness) and `GET /ready` (readiness).
//!
//! They are served without a signature on the HTTP API's listener, or, when `metrics` names an
//! address, on a listener of their own (then `/metrics` is only there). `metrics_token` guards
//! `/metrics` with a bearer token, compared in constant time; `/up` and `/ready` stay open, as
//! load balancers and orchestrators call them without credentials and they reveal nothing.
//! `/ready` says 503 while the server stops and while a configured Redis has been unreachable
//! for longer than `cluster_node_timeout` (the node then serves only its own clients).

pub(crate) mod api_requests;
mod metrics;

pub(crate) use api_requests::ApiRequests;
pub(crate) use metrics::Sources;

use crate::server::shutdown::Shutdown;
use axum::extract::State;
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use prometheus_client::registry::Registry;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;

/// What the monitoring endpoints answer from.
pub(crate) struct Monitor {
    sources: Arc<Sources>,
    registry: Registry,
    /// SHA-256 of `metrics_token`: comparing digests takes the same time whatever the guess.
    token: Option<[u8; 32]>,
    shutdown: Shutdown,
    node_timeout: Duration,
}

impl Monitor {
    pub fn new(sources: Sources, token: &str, shutdown: Shutdown, node_timeout: Duration) -> Monitor {
        let sources = Arc::new(sources);
        Monitor {
            registry: metrics::registry(sources.clone()),
            sources,
            token: (!token.is_empty()).then(|| Sha256::digest(token.as_bytes()).into()),
            shutdown,
            node_timeout,
        }
    }

    pub fn api_requests(&self) -> Arc<ApiRequests> {
        self.sources.api.clone()
    }

    /// Whether this node should get traffic, and why (or why not).
    fn readiness(&self) -> Result<&'static str, String> {
        if self.shutdown.is_cancelled() {
            return Err("stopping".into());
        }
        let Some(cluster) = &self.sources.cluster else {
            return Ok("serving");
        };
        match cluster.health.down_for() {
            None => Ok("serving; Redis connected"),
            Some(down) if down > self.node_timeout => Err(format!(
                "Redis unreachable for {:.1} s (cluster_node_timeout is {} s)",
                down.as_secs_f64(),
                self.node_timeout.as_secs()
            )),
            Some(_) => Ok("serving; reconnecting to Redis"),
        }
    }

    fn authorized(&self, headers: &HeaderMap) -> bool {
        let Some(expected) = &self.token else {
            return true;
        };
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        let given: [u8; 32] = Sha256::digest(given).into();
        given.iter().zip(expected).fold(0u8, |d, (a, b)| d | (a ^ b)) == 0
    }
}

/// The unsigned monitoring routes; `/metrics` only when `with_metrics`.
pub(crate) fn routes(monitor: Arc<Monitor>, with_metrics: bool) -> Router {
    let router = Router::new().route("/up", get(up)).route("/ready", get(ready));
    let router = match with_metrics {
        true => router.route("/metrics", get(scrape)),
        false => router,
    };
    router.with_state(monitor)
}

async fn up() -> Json<serde_json::Value> {
    Json(json!({ "status": "up" }))
}

async fn ready(State(monitor): State<Arc<Monitor>>) -> Response {
    match monitor.readiness() {
        Ok(reason) => Json(json!({ "ready": true, "reason": reason })).into_response(),
        Err(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(json!({ "ready": false, "reason": reason })),
        )
            .into_response(),
    }
}

async fn scrape(State(monitor): State<Arc<Monitor>>, headers: HeaderMap) -> Response {
    if !monitor.authorized(&headers) {
        return (
            StatusCode::UNAUTHORIZED,
            [(header::WWW_AUTHENTICATE, "Bearer")],
            Json(json!({ "error": "metrics_token is set: send Authorization: Bearer <token>" })),
        )
            .into_response();
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        metrics::render(&monitor.registry),
    )
        .into_response()
}

/// Serves the monitoring routes on the `metrics` listener until shutdown. A connection must send
/// its request head within `head_timeout`, so idle or slow clients cannot hold one.
pub(crate) async fn serve(
    listener: TcpListener,
    monitor: Arc<Monitor>,
    head_timeout: Duration,
    shutdown: Shutdown,
) {
    let app = routes(monitor, true)
        .fallback(|| async { (StatusCode::NOT_FOUND, Json(json!({ "error": "Not found" }))) });
    let stop = shutdown.clone();
    super::accept_loop(listener, "metrics connections", stop, |stream| {
        let service = TowerToHyperService::new(app.clone());
        let shutdown = shutdown.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(head_timeout)
                .serve_connection(TokioIo::new(stream), service);
            shutdown.serve_http1(conn).await;
        });
    })
    .await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Hub;
    use crate::server::webhook::Webhooks;
    use std::sync::atomic::AtomicBool;

    fn monitor(shutdown: Shutdown) -> Monitor {
        let tap = Arc::new(crate::server::console::Tap::new(1));
        let webhooks = Webhooks::new(&[], Arc::new(AtomicBool::new(true)), None, &tap);
        let sources = Sources {
            hub: Arc::new(Hub::new(Vec::new())),
            webhooks: webhooks.stats(),
            cluster: None,
            api: Arc::new(ApiRequests::default()),
        };
        Monitor::new(sources, "", shutdown, Duration::from_secs(5))
    }

    #[test]
    fn ready_turns_to_stopping_once_shutdown_begins() {
        let (stop, shutdown) = crate::server::shutdown::channel();
        let monitor = monitor(shutdown);
        assert_eq!(monitor.readiness(), Ok("serving"));
        stop.begin();
        assert_eq!(monitor.readiness(), Err("stopping".to_owned()));
    }
}
