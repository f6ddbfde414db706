//! The HTTP API (Pusher's REST API): publish events, query channels.
//!
//! Every request is signed: [`Signed`] finds the app by `auth_key` (the path's app id is not
//! trusted, so webman's fixed `/apps/1024` works), reads the body under a size limit, and checks
//! timestamp window, `body_md5` and signature before any handler runs. A request head must arrive
//! within `api_head_timeout`; a body that has to be waited for is bounded by `api_body`. The same
//! router serves TCP and, with `api_socket`, a Unix socket.
//!
//! Here: the listeners, each connection's hyper setup and the routes. [`auth`] checks a request,
//! [`publish`] and [`query`] answer it, [`error`] says what went wrong; [`hot_routes`] serves the
//! two publish routes before the `Router`; [`remote`] names a request's sender in the debug log.

mod auth;
mod error;
mod event;
mod hot_routes;
mod publish;
mod query;
mod remote;

use super::api_body::{BoundedBody, PendingBodies};
use super::busy_poll::{BusyPoll, Callers};
use super::inline_wake::InlineWake;
use super::monitoring::{self, api_requests, Monitor};
use super::rate_limit::RateLimit;
use super::send::Flushers;
use super::shutdown::Shutdown;
use super::tls::Certificate;
use super::Limits;
use crate::hub::Hub;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::routing::{get, post};
use axum::Router;
use error::ApiError;
use futures_util::future::Either;
use hot_routes::{HotRoute, HotRoutes};
use hyper::service::Service;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
pub(super) use publish::publish_event;
use publish::{trigger_batch, trigger_events};
use query::{
    channel_info, channel_users, list_channels, terminate_connections, terminate_connections_unprefixed,
};
use remote::Peer;
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
        callers: Callers::new(limits.api_busy_poll, flushers.pending()),
        pending: Arc::new(PendingBodies::new(
            limits.api_pending_body_per_ip,
            limits.api_pending_body_total,
        )),
        app: Routes::new(
            ApiState {
                hub,
                limits: limits.clone(),
                api_rates: Arc::new(api_rates),
            },
            monitor,
            with_metrics,
            super::console::routes(&limits.console, shutdown.clone()),
        ),
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

/// The API's answers: the publish routes served before the `Router`, which has all the others.
#[derive(Clone)]
struct Routes {
    hot: Arc<HotRoutes>,
    router: Router,
}

impl Routes {
    /// `console`: the debug console's routes (none when it is off), merged like monitoring's.
    fn new(state: ApiState, monitor: Arc<Monitor>, with_metrics: bool, console: Router) -> Routes {
        Routes {
            hot: Arc::new(HotRoutes::new(state.clone(), monitor.api_requests())),
            router: router(state)
                .layer(api_requests::TrackLayer(monitor.api_requests()))
                .merge(monitoring::routes(monitor, with_metrics))
                .merge(console),
        }
    }
}

/// What every connection of the API shares, whichever listener accepted it.
struct Spawner {
    callers: Arc<Callers>,
    pending: Arc<PendingBodies>,
    app: Routes,
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
    app: Routes,
    bodies: Bodies,
    shutdown: Shutdown,
) {
    let (head_timeout, body_timeout) = (bodies.limits.api_head_timeout, bodies.limits.api_body_timeout);
    let (hot, router) = (app.hot, TowerToHyperService::new(app.router));
    let service = hyper::service::service_fn(move |req: Request<hyper::body::Incoming>| {
        let req = req.map(|body| {
            axum::body::Body::new(BoundedBody::new(
                body,
                bodies.ip,
                bodies.pending.clone(),
                body_timeout,
            ))
        });
        let peer = Peer(bodies.ip);
        match HotRoute::of(&req) {
            Some(route) => {
                let hot = hot.clone();
                Either::Left(async move { Ok(hot.serve(route, req, peer).await) })
            }
            None => {
                let mut req = req;
                req.extensions_mut().insert(peer);
                Either::Right(router.call(req))
            }
        }
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
