//! The debug console: a live view of one app on this server, at `GET /console` on the HTTP API
//! listener (what Pusher's Debug Console shows, served where the data lives: in this process).
//!
//! The page ([`PAGE`], compiled in) holds no data. It logs in (`POST /console/login`, see
//! [`sessions`]) and then reads, with the session cookie: `GET /console/state` (connections,
//! channels with their type and subscriber count, the members of one presence channel, the
//! webhook queues; polled every second), `GET /console/stream` (the event log as Server-Sent
//! Events, see [`feed`] and [`tap`]) and `POST /console/publish` (a test event, validated and
//! published like `POST /apps/{id}/events`). Without a session every data route answers 401;
//! with `console => false` no route exists, so every `/console*` path is the API's 404.

mod feed;
mod sessions;
mod tap;

pub(crate) use tap::Tap;

use super::rate_limit::RateLimit;
use super::shutdown::Shutdown;
use super::webhook::WebhookStats;
use crate::config::ServerConfig;
use crate::hub::{AppHub, ChannelType, Hub};
use crate::protocol::query;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::sse::Sse;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Map, Value};
use sessions::{Access, Sessions, COOKIE, SESSION_LIFETIME};
use std::sync::Arc;
use std::time::Instant;

/// The page: one file, inline CSS and JS, no external resources.
const PAGE: &str = include_str!("page.html");
/// Login bodies are a key and a secret or a token.
const MAX_LOGIN_BODY: usize = 4096;
/// Login attempts per second, over all clients: guessing a secret stays slow.
const LOGIN_RATE: u32 = 10;
/// Channels listed in one state answer; the rest are counted.
const MAX_CHANNELS_SHOWN: usize = 500;
/// Presence members listed in one state answer.
const MAX_MEMBERS_SHOWN: usize = 500;

/// What the console answers from, one per server.
pub(crate) struct Console {
    enabled: bool,
    hub: Arc<Hub>,
    webhooks: Arc<WebhookStats>,
    sessions: Sessions,
    logins: RateLimit,
    /// Where the transports' hooks send the event log.
    pub tap: Arc<Tap>,
}

impl Console {
    /// `tap`: made before the console, as the webhook senders report to it too.
    pub fn new(
        config: &ServerConfig,
        hub: Arc<Hub>,
        webhooks: Arc<WebhookStats>,
        tap: Arc<Tap>,
    ) -> Arc<Console> {
        Arc::new(Console {
            enabled: config.console,
            hub,
            webhooks,
            sessions: Sessions::new(&config.console_token),
            logins: RateLimit::new(LOGIN_RATE),
            tap,
        })
    }

    /// The app a request's session may see: its own, or (logged in with the token) the one
    /// `?app=` names by key or id, the first app without one.
    fn authorize(&self, headers: &HeaderMap, query: Option<&str>) -> Result<Arc<AppHub>, Refusal> {
        let access = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(sessions::session_cookie)
            .and_then(|id| self.sessions.access(id, Instant::now()))
            .ok_or_else(|| error(StatusCode::UNAUTHORIZED, "Log in to the console first"))?;
        let app = match access {
            Access::App(key) => self.hub.app_by_key(&key),
            Access::AllApps => match query::find(query.unwrap_or(""), "app") {
                Some(wanted) => self
                    .hub
                    .apps()
                    .find(|a| a.config.key == wanted || a.config.id == wanted),
                None => self.hub.apps().next(),
            },
        };
        app.cloned()
            .ok_or_else(|| error(StatusCode::NOT_FOUND, "No such app on this server"))
    }
}

/// The console's routes, none when `console` is false.
pub(crate) fn routes(console: &Arc<Console>, shutdown: Shutdown) -> Router {
    if !console.enabled {
        return Router::new();
    }
    Router::new()
        .route("/console", get(page))
        .route("/console/login", post(login))
        .route("/console/logout", post(logout))
        .route("/console/state", get(state))
        .route("/console/publish", post(publish))
        .route("/console/stream", get(stream))
        .with_state((console.clone(), shutdown))
}

type ConsoleState = State<(Arc<Console>, Shutdown)>;

/// A refused console request: its status and `{"error": message}`.
struct Refusal(StatusCode, String);

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        (self.0, Json(json!({ "error": self.1 }))).into_response()
    }
}

fn error(status: StatusCode, message: &str) -> Refusal {
    Refusal(status, message.to_owned())
}

fn unix_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// The page, its inline script and style allowed by a fresh nonce: nothing else may run on it.
async fn page(State((console, _)): ConsoleState) -> Result<Response, Refusal> {
    let nonce = console
        .sessions
        .random_hex()
        .ok_or_else(|| error(StatusCode::SERVICE_UNAVAILABLE, "No random source for a nonce"))?;
    let policy = format!(
        "default-src 'self'; script-src 'nonce-{nonce}'; style-src 'nonce-{nonce}'; img-src 'self' data:; \
         connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
    );
    let policy = header::HeaderValue::from_str(&policy)
        .map_err(|_| error(StatusCode::INTERNAL_SERVER_ERROR, "Bad content security policy"))?;
    Ok((
        [
            (
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (header::CONTENT_SECURITY_POLICY, policy),
            (header::X_FRAME_OPTIONS, header::HeaderValue::from_static("DENY")),
            (
                header::CACHE_CONTROL,
                header::HeaderValue::from_static("no-store"),
            ),
        ],
        PAGE.replace("{{nonce}}", &nonce),
    )
        .into_response())
}

/// Reads a JSON object body of at most `limit` bytes.
async fn json_object(body: Body, limit: usize) -> Result<Map<String, Value>, Refusal> {
    let bytes = axum::body::to_bytes(body, limit).await.map_err(|_| {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request body too large or unreadable",
        )
    })?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "Request body must be a JSON object",
        )),
    }
}

fn text<'a>(map: &'a Map<String, Value>, name: &str) -> &'a str {
    map.get(name).and_then(Value::as_str).unwrap_or("")
}

async fn login(State((console, _)): ConsoleState, request: Request) -> Result<Response, Refusal> {
    if console.logins.take(Instant::now()).is_err() {
        return Err(error(
            StatusCode::TOO_MANY_REQUESTS,
            "Too many login attempts; try again in a second",
        ));
    }
    let body = json_object(request.into_body(), MAX_LOGIN_BODY).await?;
    let (key, secret, token) = (text(&body, "key"), text(&body, "secret"), text(&body, "token"));
    let wrong = || {
        error(
            StatusCode::UNAUTHORIZED,
            "Wrong app key and secret, or wrong console token",
        )
    };
    let access = console
        .sessions
        .check(&console.hub, key, secret, token)
        .ok_or_else(wrong)?;
    let no_random = || {
        error(
            StatusCode::SERVICE_UNAVAILABLE,
            "No random source for a session id",
        )
    };
    let id = console
        .sessions
        .open(access.clone(), Instant::now())
        .ok_or_else(no_random)?;
    let cookie = format!(
        "{COOKIE}={id}; HttpOnly; SameSite=Strict; Path=/console; Max-Age={}",
        SESSION_LIFETIME.as_secs()
    );
    let apps: Vec<Value> = console
        .hub
        .apps()
        .filter(|a| access == Access::AllApps || access == Access::App(a.config.key.clone()))
        .map(|a| json!({ "id": a.config.id, "key": a.config.key }))
        .collect();
    Ok(([(header::SET_COOKIE, cookie)], Json(json!({ "apps": apps }))).into_response())
}

async fn logout(State((console, _)): ConsoleState, headers: HeaderMap) -> Response {
    let id = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(sessions::session_cookie);
    if let Some(id) = id {
        console.sessions.close(id);
    }
    let expired = format!("{COOKIE}=; HttpOnly; SameSite=Strict; Path=/console; Max-Age=0");
    ([(header::SET_COOKIE, expired)], Json(json!({}))).into_response()
}

async fn state(State((console, _)): ConsoleState, request: Request) -> Result<Response, Refusal> {
    let app = console.authorize(request.headers(), request.uri().query())?;
    let mut channels = app.channels("");
    let total = channels.len();
    channels.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    let shown: Vec<Value> = channels
        .iter()
        .take(MAX_CHANNELS_SHOWN)
        .map(|(name, subscriptions)| {
            let kind = ChannelType::of(name.as_str()).label();
            json!({ "name": name.as_str(), "type": kind, "subscriptions": subscriptions })
        })
        .collect();
    let presence = query::find(request.uri().query().unwrap_or(""), "presence")
        .filter(|c| c.starts_with("presence-"))
        .map(|channel| {
            let members: Vec<Value> = app
                .presence_members(&channel)
                .into_iter()
                .take(MAX_MEMBERS_SHOWN)
                .map(|m| json!({ "id": m.user_id, "info": m.user_info }))
                .collect();
            json!({ "channel": channel.as_ref(), "members": members })
        });
    let webhooks: Vec<Value> = console
        .webhooks
        .destinations()
        .into_iter()
        .filter(|d| d.app_id == app.config.id)
        .map(|d| {
            json!({ "url": d.url, "queued": d.queued, "sent": d.sent, "failed": d.failed,
                    "retried": d.retried, "dropped": d.dropped })
        })
        .collect();
    Ok(Json(json!({
        "app": { "id": app.config.id, "key": app.config.key },
        "connections": app.census().connections,
        "channels": shown,
        "channels_total": total,
        "presence": presence,
        "webhooks": webhooks,
    }))
    .into_response())
}

async fn publish(State((console, _)): ConsoleState, request: Request) -> Result<Response, Refusal> {
    let app = console.authorize(request.headers(), request.uri().query())?;
    // Room for the largest event the app accepts, its channel and name, and JSON escaping.
    let limit = app.config.max_event_payload.saturating_mul(2) + 4096;
    let form = json_object(request.into_body(), limit).await?;
    let mut event = Map::new();
    for (from, to) in [("channel", "channel"), ("event", "name"), ("data", "data")] {
        if let Some(value) = form.get(from) {
            event.insert(to.into(), value.clone());
        }
    }
    let publishes =
        super::http_api::publish_event(&app, &event).map_err(|(status, why)| Refusal(status, why))?;
    console.tap.published(&app, &publishes, "console");
    Ok(Json(json!({})).into_response())
}

async fn stream(State((console, shutdown)): ConsoleState, request: Request) -> Result<Response, Refusal> {
    let app = console.authorize(request.headers(), request.uri().query())?;
    let Some((registration, queue)) = console.tap.watch(&app.config.key) else {
        let message = format!(
            "This app already has {} console streams open",
            tap::MAX_STREAMS_PER_APP
        );
        return Err(Refusal(StatusCode::TOO_MANY_REQUESTS, message));
    };
    let feed = feed::Feed {
        registration,
        queue,
        shutdown,
    };
    let mut response = Sse::new(feed.into_stream()).into_response();
    response
        .headers_mut()
        .insert("x-accel-buffering", header::HeaderValue::from_static("no"));
    Ok(response)
}
