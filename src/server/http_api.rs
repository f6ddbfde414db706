//! The HTTP API (Pusher's REST API): publish events, query channels.
//!
//! Every request is signed: [`Signed`] finds the app by `auth_key` (the path's app id is not
//! trusted, so webman's fixed `/apps/1024` works), reads the body under a size limit, and checks
//! timestamp window, `body_md5` and signature before any handler runs. A request head must arrive
//! within `api_head_timeout`; a body that has to be waited for is bounded by `api_body`. The same
//! router serves TCP and, with `api_socket`, a Unix socket.

use super::api_body::{BodyTimedOut, BoundedBody, PendingBodies, TooManyPending};
use super::busy_poll::{BusyPoll, Callers};
use super::flusher::{Batch, Flushers};
use super::inline_wake::InlineWake;
use super::monitoring::{self, api_requests, Monitor};
use super::rate_limit::RateLimit;
use super::shutdown::Shutdown;
use super::tls::Certificate;
use super::{unix_now, Limits};
use crate::hub::{AppHub, Hub, Publish};
use crate::protocol::channel::is_cache_channel;
use crate::protocol::signature::{parse_query, ApiRequest};
use crate::protocol::{ChannelKind, ChannelName, SocketId};
use axum::body::HttpBody;
use axum::extract::{FromRequest, Path, Request};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::fd::AsRawFd;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, UnixListener};
use tokio_rustls::TlsAcceptor;

#[derive(Clone)]
struct ApiState {
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    /// `api_rate_limit` of the apps that set one, by key.
    api_rates: Arc<HashMap<String, RateLimit>>,
}

/// Every Unix-socket caller is accounted as this one peer: it has no address, and only processes
/// on this host that the socket's mode lets in can be one. No TCP peer has this address.
const UNIX_PEER: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// Serves the API on `listener` and, when `api_socket` is set, on `unix` too; both share one
/// router, one set of busy-poll callers and one pending-body budget.
// Each listener option (Unix socket, TLS, metrics) added one argument; gathering the server's
// parts into one value is issue 17's Shutdown/TaskTracker step.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn serve(
    listener: TcpListener,
    unix: Option<UnixListener>,
    hub: Arc<Hub>,
    limits: Arc<Limits>,
    flushers: Arc<Flushers>,
    (monitor, with_metrics): (Arc<Monitor>, bool),
    tls: Option<Arc<Certificate>>,
    shutdown: Shutdown,
) {
    let api_rates = hub
        .apps()
        .filter(|app| app.config.api_rate_limit > 0)
        .map(|app| (app.config.key.clone(), RateLimit::new(app.config.api_rate_limit)))
        .collect();
    let spawner = Arc::new(Spawner {
        callers: Callers::new(limits.api_busy_poll, flushers),
        pending: Arc::new(PendingBodies::new(
            limits.api_pending_body_per_ip,
            limits.api_pending_body_total,
        )),
        app: router(ApiState {
            hub,
            limits: limits.clone(),
            api_rates: Arc::new(api_rates),
        })
        .layer(api_requests::TrackLayer(monitor.api_requests()))
        .merge(monitoring::routes(monitor, with_metrics)),
        limits,
        shutdown: shutdown.clone(),
    });
    let tcp = super::accept_loop(listener, "HTTP API connections", shutdown.clone(), |stream| {
        let ip = stream
            .peer_addr()
            .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
        match &tls {
            None => spawner.spawn(stream, ip),
            Some(certificate) => spawner.spawn_tls(stream, ip, certificate.acceptor()),
        }
    });
    match unix {
        None => tcp.await,
        Some(unix) => {
            let local =
                super::api_socket::accept_loop(unix, shutdown, |stream| spawner.spawn(stream, UNIX_PEER));
            tokio::join!(tcp, local);
        }
    }
}

/// What every connection of the API shares, whichever listener accepted it.
struct Spawner {
    callers: Arc<Callers>,
    pending: Arc<PendingBodies>,
    app: Router,
    limits: Arc<Limits>,
    shutdown: Shutdown,
}

impl Spawner {
    fn spawn<S: Stream>(&self, stream: S, ip: IpAddr) {
        let bodies = Bodies {
            ip,
            pending: self.pending.clone(),
            limits: self.limits.clone(),
        };
        tokio::spawn(InlineWake::new(connection(
            BusyPoll::new(stream, self.callers.clone()),
            self.app.clone(),
            bodies,
            self.shutdown.clone(),
        )));
    }
}

impl Spawner {
    /// Like [`Self::spawn`] behind a TLS handshake, which counts against `api_head_timeout`.
    fn spawn_tls(&self, stream: tokio::net::TcpStream, ip: IpAddr, acceptor: TlsAcceptor) {
        let bodies = Bodies {
            ip,
            pending: self.pending.clone(),
            limits: self.limits.clone(),
        };
        let (app, shutdown) = (self.app.clone(), self.shutdown.clone());
        let handshake = acceptor.accept(BusyPoll::new(stream, self.callers.clone()));
        tokio::spawn(async move {
            let timeout = bodies.limits.api_head_timeout;
            if let Ok(Ok(stream)) = tokio::time::timeout(timeout, handshake).await {
                InlineWake::new(connection(stream, app, bodies, shutdown)).await;
            }
        });
    }
}

/// A connected socket the API can serve: TCP or Unix.
trait Stream: AsyncRead + AsyncWrite + AsRawFd + Unpin + Send + 'static {}
impl<S: AsyncRead + AsyncWrite + AsRawFd + Unpin + Send + 'static> Stream for S {}

/// Where one connection's request bodies are accounted.
struct Bodies {
    ip: IpAddr,
    pending: Arc<PendingBodies>,
    limits: Arc<Limits>,
}

/// One keep-alive connection. On shutdown the request in progress is answered, then it closes.
async fn connection<S: AsyncRead + AsyncWrite + Unpin + Send + 'static>(
    stream: S,
    app: Router,
    bodies: Bodies,
    shutdown: Shutdown,
) {
    let (head_timeout, body_timeout) = (bodies.limits.api_head_timeout, bodies.limits.api_body_timeout);
    let app = TowerToHyperService::new(app);
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let req = req.map(|body| {
            axum::body::Body::new(BoundedBody::new(
                body,
                bodies.ip,
                bodies.pending.clone(),
                body_timeout,
            ))
        });
        app.call(req)
    });
    let conn = hyper::server::conn::http1::Builder::new()
        .timer(TokioTimer::new())
        // Counted from the end of the previous answer: a client that opens connections and sends
        // nothing (or half a head) cannot hold them, and an idle keep-alive connection is closed.
        .header_read_timeout(head_timeout)
        // Answers are a few hundred bytes: copying the body behind the head and sending both with
        // one send(2) costs less than writev(2) with two buffers (A/B in bench/notes.md).
        .writev(false)
        .serve_connection(TokioIo::new(stream), service);
    shutdown.serve_http1(conn).await;
}

fn router(state: ApiState) -> Router {
    Router::new()
        .route("/apps/{app_id}/events", post(trigger_events))
        .route("/apps/{app_id}/batch_events", post(trigger_batch))
        .route("/apps/{app_id}/channels", get(list_channels))
        .route("/apps/{app_id}/channels/{channel}", get(channel_info))
        .route("/apps/{app_id}/channels/{channel}/users", get(channel_users))
        .route(
            "/apps/{app_id}/users/{user_id}/terminate_connections",
            post(terminate_connections),
        )
        // PyPI pusher 3.3.4 posts here without the /apps/{id} prefix; the app is found by key anyway.
        .route(
            "/users/{user_id}/terminate_connections",
            post(terminate_connections_unprefixed),
        )
        .fallback(|| async { ApiError::new(StatusCode::NOT_FOUND, "Not found") })
        .with_state(state)
}

/// An error answer: a Pusher status code and `{"error": message}`.
struct ApiError {
    status: StatusCode,
    message: String,
    /// Seconds for a `Retry-After` header (429 from `api_rate_limit`).
    retry_after: Option<u64>,
}

impl ApiError {
    fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(seconds) = self.retry_after {
            response
                .headers_mut()
                .insert(axum::http::header::RETRY_AFTER, seconds.into());
        }
        response
    }
}

/// A request whose signature checked out, with the app it is for and its body.
struct Signed {
    app: Arc<AppHub>,
    params: Vec<(String, String)>,
    body: axum::body::Bytes,
}

impl Signed {
    fn param(&self, name: &str) -> Option<&str> {
        crate::protocol::signature::find_param(&self.params, name)
    }
}

impl FromRequest<ApiState> for Signed {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &ApiState) -> Result<Signed, ApiError> {
        let (head, body) = req.into_parts();
        let params = parse_query(head.uri.query().unwrap_or(""));
        let limit = state.limits.max_request_body;
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request body is larger than {limit} bytes"),
            )
        };
        // A declared Content-Length over the limit is refused before any of the body is read.
        if body.size_hint().lower() > limit as u64 {
            return Err(too_large());
        }
        let body = axum::body::to_bytes(body, limit)
            .await
            .map_err(|e| body_error(&e, too_large))?;
        let key = params
            .iter()
            .find(|(k, _)| k == "auth_key")
            .map(|(_, v)| v.as_str())
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Missing auth_key in the query string"))?;
        let app = state.hub.app_by_key(key).cloned().ok_or_else(|| {
            tracing::debug!(
                app_key = key,
                path = head.uri.path(),
                "HTTP API request rejected: unknown app key"
            );
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                format!("Invalid app_key: no app has the key {key}"),
            )
        })?;
        let request = ApiRequest {
            method: head.method.as_str(),
            path: head.uri.path(),
            params: &params,
            body: &body,
        };
        request
            .verify(&app.config.secret, unix_now(), state.limits.timestamp_window)
            .map_err(|e| {
                // The reason names the check that failed, never the expected signature.
                tracing::debug!(app = %app.config.id, path = head.uri.path(), reason = %e, "HTTP API request rejected");
                ApiError::new(StatusCode::UNAUTHORIZED, e.to_string())
            })?;
        if !app.config.enabled {
            return Err(ApiError::new(StatusCode::FORBIDDEN, "Application disabled"));
        }
        // Counted only once signed: the key is public, and unsigned requests must not use up the
        // budget of the app's real publisher.
        if let Some(Err(wait)) = state
            .api_rates
            .get(app.config.key.as_str())
            .map(|rate| rate.take(std::time::Instant::now()))
        {
            return Err(ApiError {
                retry_after: Some(wait.as_secs_f64().ceil().max(1.0) as u64),
                ..ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!(
                        "Over this app's api_rate_limit of {} requests per second",
                        app.config.api_rate_limit
                    ),
                )
            });
        }
        Ok(Signed { app, params, body })
    }
}

/// Why a body could not be read, as an answer: too large (413), parked too long (408), too many
/// parked bodies (429 from one address, 503 overall), or not valid HTTP framing (400).
fn body_error(error: &axum::Error, too_large: impl FnOnce() -> ApiError) -> ApiError {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(e) = cause {
        if e.is::<http_body_util::LengthLimitError>() {
            return too_large();
        }
        if let Some(timed_out) = e.downcast_ref::<BodyTimedOut>() {
            return ApiError::new(StatusCode::REQUEST_TIMEOUT, timed_out.to_string());
        }
        if let Some(busy) = e.downcast_ref::<TooManyPending>() {
            let status = match busy {
                TooManyPending::FromAddress => StatusCode::TOO_MANY_REQUESTS,
                TooManyPending::Overall => StatusCode::SERVICE_UNAVAILABLE,
            };
            return ApiError::new(status, busy.to_string());
        }
        cause = e.source();
    }
    ApiError::bad_request(format!("Request body is malformed: {error}"))
}

fn json_body(signed: &Signed) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(&signed.body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "Request body is not valid JSON: {e}"
        ))),
    }
}

/// Validates one event object (`name`, `data`, `channels`/`channel`, `socket_id`) into publishes.
fn event_publishes(app: &AppHub, event: &Map<String, Value>) -> Result<Vec<Publish>, ApiError> {
    let limits = &app.config;
    let name = match event.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ApiError::bad_request("name must be a non-empty string")),
    };
    if name.len() > limits.max_event_name_length {
        return Err(ApiError::bad_request(format!(
            "name is longer than {} characters",
            limits.max_event_name_length
        )));
    }
    let data = match event.get("data") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(ApiError::bad_request("data is required")),
        Some(other) => other.to_string(),
    };
    if data.len() > limits.max_event_payload {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "data is {} bytes, the limit is {}",
                data.len(),
                limits.max_event_payload
            ),
        ));
    }
    let names: Vec<&str> = match (event.get("channels"), event.get("channel")) {
        (Some(Value::Array(list)), _) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| ApiError::bad_request("channels must be an array of strings"))
            })
            .collect::<Result<_, _>>()?,
        (Some(_), _) => return Err(ApiError::bad_request("channels must be an array of strings")),
        (None, Some(Value::String(c))) => vec![c.as_str()],
        (None, Some(_)) => return Err(ApiError::bad_request("channel must be a string")),
        (None, None) => return Err(ApiError::bad_request("channels or channel is required")),
    };
    if names.is_empty() {
        return Err(ApiError::bad_request("channels must not be empty"));
    }
    if names.len() > limits.max_channels_per_event {
        return Err(ApiError::bad_request(format!(
            "{} channels given, the limit is {}",
            names.len(),
            limits.max_channels_per_event
        )));
    }
    let except = match event.get("socket_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            SocketId::parse(s).ok_or_else(|| ApiError::bad_request(format!("Invalid socket_id {s:?}")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("socket_id must be a string")),
    };
    names
        .into_iter()
        .map(|n| {
            let channel = ChannelName::parse(n, limits.max_channel_name_length)
                .map_err(|e| ApiError::bad_request(format!("Invalid channel {n:?}: {e}")))?;
            Ok(Publish {
                channel,
                event: name.clone(),
                data: data.clone(),
                except: except.clone(),
                user_id: None,
                from_client: false,
            })
        })
        .collect()
}

/// The `info` a publish asked for (`user_count`, `subscription_count`), as a list of attributes.
fn publish_info(event: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    match event.get("info") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => {
            let fields: Vec<String> = s
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect();
            match fields
                .iter()
                .find(|f| !matches!(f.as_str(), "user_count" | "subscription_count"))
            {
                Some(bad) => Err(ApiError::bad_request(format!("Unknown info attribute {bad:?}"))),
                None => Ok(fields),
            }
        }
        Some(_) => Err(ApiError::bad_request("info must be a comma-separated string")),
    }
}

/// Counts for one channel after a publish; `user_count` only applies to presence channels.
fn channel_counts(app: &AppHub, channel: &ChannelName, info: &[String]) -> Value {
    let mut attrs = Map::new();
    for field in info {
        match field.as_str() {
            "user_count" if channel.kind() == ChannelKind::Presence => {
                attrs.insert(field.clone(), json!(app.presence_members(channel.as_str()).len()));
            }
            "subscription_count" => {
                attrs.insert(field.clone(), json!(app.subscription_count(channel.as_str())));
            }
            _ => {}
        }
    }
    Value::Object(attrs)
}

async fn trigger_events(Path(_app_id): Path<String>, signed: Signed) -> Result<Json<Value>, ApiError> {
    let body = json_body(&signed)?;
    let info = publish_info(&body)?;
    let publishes = event_publishes(&signed.app, &body)?;
    let scheduling = Batch::begin();
    for publish in &publishes {
        signed.app.publish(publish);
    }
    drop(scheduling);
    if info.is_empty() {
        return Ok(Json(json!({})));
    }
    let channels: Map<String, Value> = publishes
        .iter()
        .map(|p| {
            (
                p.channel.to_string(),
                channel_counts(&signed.app, &p.channel, &info),
            )
        })
        .collect();
    Ok(Json(json!({ "channels": channels })))
}

async fn terminate_connections_unprefixed(
    path: Path<String>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    terminate_connections(Path((String::new(), path.0)), signed).await
}

async fn terminate_connections(
    Path((_app_id, user_id)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    signed.app.terminate_user_connections(&user_id);
    Ok(Json(json!({})))
}

async fn trigger_batch(Path(_app_id): Path<String>, signed: Signed) -> Result<Json<Value>, ApiError> {
    let body = json_body(&signed)?;
    let Some(Value::Array(batch)) = body.get("batch") else {
        return Err(ApiError::bad_request("batch must be an array of events"));
    };
    let max = signed.app.config.max_batch_size;
    if batch.len() > max {
        return Err(ApiError::bad_request(format!(
            "batch has {} events, the limit is {max}",
            batch.len()
        )));
    }
    // Validate everything first so a bad item publishes nothing.
    let mut all = Vec::new();
    for (i, item) in batch.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(ApiError::bad_request(format!("batch[{i}] must be an object")));
        };
        let at = |e: ApiError| ApiError::new(e.status, format!("batch[{i}]: {}", e.message));
        let info = publish_info(item).map_err(at)?;
        let publishes = event_publishes(&signed.app, item).map_err(at)?;
        all.push((publishes, info));
    }
    let scheduling = Batch::begin();
    for publish in all.iter().flat_map(|(p, _)| p) {
        signed.app.publish(publish);
    }
    drop(scheduling);
    if all.iter().all(|(_, info)| info.is_empty()) {
        return Ok(Json(json!({})));
    }
    // Pusher answers with one attribute object per batch item, in order.
    let batch: Vec<Value> = all
        .iter()
        .map(|(publishes, info)| match publishes.first() {
            Some(p) if !info.is_empty() => channel_counts(&signed.app, &p.channel, info),
            _ => json!({}),
        })
        .collect();
    Ok(Json(json!({ "batch": batch })))
}

fn info_fields(signed: &Signed) -> Vec<String> {
    signed
        .param("info")
        .map(|s| {
            s.split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

async fn list_channels(Path(_app_id): Path<String>, signed: Signed) -> Result<Json<Value>, ApiError> {
    let prefix = signed.param("filter_by_prefix").unwrap_or("").to_owned();
    let info = info_fields(&signed);
    if info.iter().any(|f| f == "user_count") && !prefix.starts_with("presence-") {
        return Err(ApiError::bad_request(
            "info=user_count is only allowed with filter_by_prefix=presence-",
        ));
    }
    let mut channels = Map::new();
    for (name, subscriptions) in signed.app.channels(&prefix) {
        let mut attrs = Map::new();
        for field in &info {
            match field.as_str() {
                "user_count" => {
                    attrs.insert(
                        field.clone(),
                        json!(signed.app.presence_members(name.as_str()).len()),
                    );
                }
                "subscription_count" => {
                    attrs.insert(field.clone(), json!(subscriptions));
                }
                _ => {}
            }
        }
        channels.insert(name.to_string(), Value::Object(attrs));
    }
    Ok(Json(json!({ "channels": channels })))
}

async fn channel_info(
    Path((_app_id, channel)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    let name = ChannelName::parse(&channel, signed.app.config.max_channel_name_length)
        .map_err(|e| ApiError::bad_request(format!("Invalid channel {channel:?}: {e}")))?;
    let app = &signed.app;
    let mut out = Map::new();
    out.insert("occupied".into(), json!(app.is_occupied(name.as_str())));
    for field in info_fields(&signed) {
        match field.as_str() {
            "user_count" if name.kind() != ChannelKind::Presence => {
                return Err(ApiError::bad_request(
                    "user_count is only available for presence channels",
                ));
            }
            "user_count" => {
                out.insert(field, json!(app.presence_members(name.as_str()).len()));
            }
            "subscription_count" => {
                out.insert(field, json!(app.subscription_count(name.as_str())));
            }
            "cache" if !is_cache_channel(name.as_str()) => {
                return Err(ApiError::bad_request(
                    "cache is only available for cache channels",
                ));
            }
            "cache" => {
                if let Some((data, ttl)) = app.cached(name.as_str()) {
                    out.insert(field, json!({ "data": data, "ttl": ttl }));
                }
            }
            other => return Err(ApiError::bad_request(format!("Unknown info attribute {other:?}"))),
        }
    }
    Ok(Json(Value::Object(out)))
}

async fn channel_users(
    Path((_app_id, channel)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    if ChannelKind::of(&channel) != ChannelKind::Presence {
        return Err(ApiError::bad_request(
            "Users can only be listed for presence channels",
        ));
    }
    let users: Vec<Value> = signed
        .app
        .presence_members(&channel)
        .into_iter()
        .map(|m| json!({ "id": m.user_id }))
        .collect();
    Ok(Json(json!({ "users": users })))
}
