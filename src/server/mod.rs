//! The transports and their runtime: a WebSocket server and an HTTP API over one [`Hub`].
//!
//! [`PushServer::start`] binds both listeners, and the HTTP API's Unix socket when `api_socket` is
//! set, synchronously (so a busy port is an error the caller sees, not a silent task failure; with
//! `ssl` the certificate is read first, for the same reason), then
//! starts a tokio runtime whose threads block every signal: signals belong to the embedding process
//! (workerman drives its workers with them). The runtime
//! must be created after any `fork()`: a forked child inherits none of its threads, so a server
//! found in a process other than the one that started it is forgotten, never dropped.

mod accept;
mod api_body;
mod api_socket;
mod busy_poll;
mod cluster;
mod console;
mod http_api;
mod inline_wake;
mod ip_limits;
mod monitoring;
mod random;
mod rate_limit;
mod send;
mod shutdown;
mod tls;
mod upgrade;
mod webhook;
mod ws;

pub(crate) use accept::{accept_loop, set_backlog, ACCEPT_FAILURE_LOG_EVERY};
pub use webhook::Backlog as WebhookBacklog;

use crate::config::ServerConfig;
use crate::hub::{ClusterAdapter, Hub, LocalOnly};
use shutdown::{Shutdown, Stopper};
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

/// Why a server could not start.
#[derive(Debug)]
pub enum StartError {
    Config(String),
    Bind {
        what: &'static str,
        addr: SocketAddr,
        error: std::io::Error,
    },
    /// The HTTP API's Unix socket (`api_socket`) could not be set up.
    Socket {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
    Runtime(std::io::Error),
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(e) => write!(f, "{e}"),
            StartError::Bind { what, addr, error } => {
                write!(f, "cannot listen for {what} on {addr}: {error}")
            }
            StartError::Socket { path, error } => {
                write!(f, "cannot listen for the HTTP API on {}: {error}", path.display())
            }
            StartError::Runtime(e) => write!(f, "cannot start the server threads: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// Settings the transports read on every connection, fixed at start.
pub(crate) struct Limits {
    pub activity_timeout: Duration,
    pub pong_timeout: Duration,
    pub max_message_size: usize,
    pub max_request_body: usize,
    pub max_send_queue: usize,
    pub api_busy_poll: Duration,
    pub timestamp_window: u64,
    pub api_head_timeout: Duration,
    pub api_body_timeout: Duration,
    pub api_pending_body_per_ip: usize,
    pub api_pending_body_total: usize,
    pub handshake_timeout: Duration,
    pub write_timeout: Duration,
    pub close_timeout: Duration,
    pub trusted_proxies: crate::protocol::client_ip::TrustedProxies,
    pub ip_limits: Arc<ip_limits::IpLimits>,
    pub console: Arc<console::Console>,
}

/// A running server. Dropping it stops it.
pub struct PushServer {
    runtime: Option<tokio::runtime::Runtime>,
    stopper: Option<Stopper>,
    /// `stop_timeout`: how long stopping may take.
    stop_timeout: Duration,
    hub: Arc<Hub>,
    webhooks: Arc<webhook::WebhookStats>,
    cluster: Option<Arc<cluster::RedisCluster>>,
    websocket_addr: SocketAddr,
    api_addr: SocketAddr,
    metrics_addr: Option<SocketAddr>,
    api_socket: Option<api_socket::SocketFile>,
    certificate: Option<Arc<tls::Certificate>>,
    pid: u32,
}

impl PushServer {
    pub fn start(config: ServerConfig) -> Result<PushServer, StartError> {
        crate::log::install(config.log_level, config.log_format);
        let ws_addr = config.websocket_addr().map_err(StartError::Config)?;
        // Read before anything binds: a missing certificate is the error the caller sees.
        let certificate = match config.tls() {
            true => Some(tls::Certificate::load(&config.ssl).map_err(StartError::Config)?),
            false => None,
        };
        let api_addr = config.api_addr().map_err(StartError::Config)?;
        let backlog = config.listen_backlog();
        let bind = |what, addr| {
            let bind_error = |error| StartError::Bind { what, addr, error };
            let l = std::net::TcpListener::bind(addr).map_err(bind_error)?;
            set_backlog(&l, backlog).map_err(bind_error)?;
            l.set_nonblocking(true).map_err(bind_error)?;
            Ok::<_, StartError>(l)
        };
        let ws_listener = bind("WebSocket connections", ws_addr)?;
        let api_listener = bind("the HTTP API", api_addr)?;
        let metrics_listener = match config.metrics_addr().map_err(StartError::Config)? {
            Some(addr) => Some(bind("metrics", addr)?),
            None => None,
        };
        let metrics_addr = metrics_listener
            .as_ref()
            .map(|l| l.local_addr())
            .transpose()
            .map_err(StartError::Runtime)?;
        let websocket_addr = ws_listener.local_addr().map_err(StartError::Runtime)?;
        let api_addr = api_listener.local_addr().map_err(StartError::Runtime)?;
        let (unix_listener, api_socket) = match config.api_socket.as_str() {
            "" => (None, None),
            path => {
                let (listener, file) = api_socket::bind(path, config.api_socket_mode, backlog)?;
                (Some(listener), Some(file))
            }
        };

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(config.threads)
            .thread_name("webman-push")
            .on_thread_start(block_all_signals)
            .enable_all()
            .build()
            .map_err(StartError::Runtime)?;

        let apps = config.all_apps();
        // On a single node this node sends every webhook; in a cluster only the lease holder.
        let (adapter, cluster, leader): (Arc<dyn ClusterAdapter>, _, _) = if !config.scale_out() {
            (Arc::new(LocalOnly), None, Arc::new(AtomicBool::new(true)))
        } else {
            let timeout = Duration::from_secs(config.cluster_node_timeout);
            let cluster = cluster::RedisCluster::new(&cluster::key_prefix(&config), timeout);
            let leader = cluster.leader.clone();
            (cluster.clone(), Some(cluster), leader)
        };
        let log = cluster.clone().map(|c| c as Arc<dyn webhook::EmitLog>);
        let monitored_cluster = cluster.clone();
        // The console's event log hears from the transports and the webhook senders alike.
        let tap = Arc::new(console::Tap::new(config.console_queue));
        let webhooks = webhook::Webhooks::new(&apps, leader, log, &tap);
        let hub = Arc::new(Hub::with_parts(apps, adapter, |app| {
            webhooks.observer_for(&app.key)
        }));
        let limits = Arc::new(Limits {
            activity_timeout: Duration::from_secs(config.activity_timeout),
            pong_timeout: Duration::from_secs(config.pong_timeout.max(1)),
            max_message_size: config.max_message_size,
            max_request_body: config.max_request_body,
            max_send_queue: config.max_send_queue,
            api_busy_poll: Duration::from_micros(config.api_busy_poll_us),
            timestamp_window: config.timestamp_window,
            api_head_timeout: Duration::from_secs_f64(config.api_head_timeout),
            api_body_timeout: Duration::from_secs_f64(config.api_body_timeout),
            api_pending_body_per_ip: config.api_pending_body_per_ip,
            api_pending_body_total: config.api_pending_body_total,
            handshake_timeout: Duration::from_secs_f64(config.handshake_timeout),
            write_timeout: Duration::from_secs_f64(config.write_timeout),
            close_timeout: Duration::from_secs_f64(config.close_timeout),
            trusted_proxies: config.trusted_proxies.clone(),
            ip_limits: Arc::new(ip_limits::IpLimits::new(
                config.max_connections_per_ip,
                config.connection_rate_per_ip,
            )),
            console: console::Console::new(&config, hub.clone(), webhooks.stats(), tap),
        });
        let (stopper, shutdown_rx) = shutdown::channel();
        let head_timeout = limits.api_head_timeout;
        let monitor = Arc::new(monitoring::Monitor::new(
            monitoring::Sources {
                hub: hub.clone(),
                webhooks: webhooks.stats(),
                cluster: monitored_cluster,
                api: Arc::new(monitoring::ApiRequests::default()),
            },
            &config.metrics_token,
            shutdown_rx.clone(),
            Duration::from_secs(config.cluster_node_timeout),
        ));
        let webhooks = {
            let _guard = runtime.enter();
            let ws_listener = tokio::net::TcpListener::from_std(ws_listener).map_err(StartError::Runtime)?;
            let api_listener =
                tokio::net::TcpListener::from_std(api_listener).map_err(StartError::Runtime)?;
            let unix_listener = unix_listener
                .map(tokio::net::UnixListener::from_std)
                .transpose()
                .map_err(StartError::Runtime)?;
            if let Some(certificate) = &certificate {
                let every = Duration::from_secs_f64(config.ssl.reload_interval);
                runtime.spawn(tls::watch(certificate.clone(), every, shutdown_rx.clone()));
            }
            let flushers = Arc::new(send::Flushers::new(config.threads));
            flushers.spawn(&shutdown_rx);
            runtime.spawn(ws::serve(
                ws_listener,
                hub.clone(),
                limits.clone(),
                flushers.clone(),
                certificate.clone(),
                shutdown_rx.clone(),
            ));
            runtime.spawn(http_api::serve(
                api_listener,
                unix_listener,
                hub.clone(),
                limits,
                flushers,
                (monitor.clone(), metrics_listener.is_none()),
                certificate.clone().filter(|_| config.api_tls()),
                shutdown_rx.clone(),
            ));
            if let Some(listener) = metrics_listener {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(StartError::Runtime)?;
                runtime.spawn(monitoring::serve(
                    listener,
                    monitor,
                    head_timeout,
                    shutdown_rx.clone(),
                ));
            }
            runtime.spawn(maintenance(hub.clone(), shutdown_rx.clone()));
            if let Some(cluster) = &cluster {
                cluster
                    .spawn(&config, hub.clone(), shutdown_rx.clone())
                    .map_err(StartError::Config)?;
            }
            webhooks.spawn(shutdown_rx)
        };
        tracing::info!(
            websocket = %websocket_addr,
            api = %api_addr,
            api_socket = config.api_socket.as_str(),
            metrics = %metrics_addr.map_or("-".to_owned(), |a| a.to_string()),
            tls = certificate.is_some(),
            "started"
        );
        Ok(PushServer {
            runtime: Some(runtime),
            stopper: Some(stopper),
            stop_timeout: Duration::from_secs_f64(config.stop_timeout),
            hub,
            webhooks,
            cluster,
            websocket_addr,
            api_addr,
            metrics_addr,
            api_socket,
            certificate,
            pid: std::process::id(),
        })
    }

    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    pub fn websocket_addr(&self) -> SocketAddr {
        self.websocket_addr
    }

    pub fn api_addr(&self) -> SocketAddr {
        self.api_addr
    }

    /// The separate monitoring listener, when `metrics` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The HTTP API's Unix socket, when `api_socket` is set.
    pub fn api_socket(&self) -> Option<&std::path::Path> {
        self.api_socket.as_ref().map(|s| s.path())
    }

    /// Reads `ssl.local_cert` and `ssl.local_pk` again now; new TLS handshakes use them, open
    /// connections keep theirs. On error (which names the file) the previous certificate stays.
    pub fn reload_tls(&self) -> Result<(), String> {
        match &self.certificate {
            Some(certificate) => certificate.reload(),
            None => Err("TLS is not configured (ssl.local_cert and ssl.local_pk are empty)".into()),
        }
    }

    /// Webhook requests waiting, delivered and dropped, over every receiver.
    pub fn webhook_backlog(&self) -> WebhookBacklog {
        self.webhooks.backlog()
    }

    /// Messages for the other nodes lost so far, `(not_sent, dropped)`: publishes and terminates
    /// Redis did not take (it was unreachable: logged, and reported here rather than lost
    /// silently), and those a full outgoing queue turned away. Zero on a single node.
    pub fn cluster_lost_messages(&self) -> (u64, u64) {
        self.cluster.as_ref().map_or((0, 0), |c| c.lost_messages())
    }

    /// Closes every connection (4200, "reconnect now") and the listeners, waiting at most
    /// `stop_timeout`.
    pub fn stop(mut self) {
        self.shutdown_now();
    }

    fn shutdown_now(&mut self) {
        let Some(runtime) = self.runtime.take() else {
            return;
        };
        if self.pid != std::process::id() {
            // Inherited through fork(): its threads do not exist here and dropping it would hang.
            std::mem::forget(runtime);
            return;
        }
        let (stopper, within) = (self.stopper.take(), self.stop_timeout / 2);
        let stop = move || {
            // Connection tasks send their close frames before the runtime is torn down.
            if let Some(stopper) = stopper {
                runtime.block_on(stopper.stop(within));
            }
            runtime.shutdown_timeout(within);
        };
        if tokio::runtime::Handle::try_current().is_ok() {
            // Stopped from inside another runtime (an embedding async program, tests): tokio
            // forbids blocking here, so stop ours on a plain thread.
            let _ = std::thread::spawn(stop).join();
        } else {
            stop();
        }
        // Only now that nothing accepts on it: a caller never finds the file gone while it works.
        self.api_socket = None;
        tracing::info!(websocket = %self.websocket_addr, api = %self.api_addr, "stopped");
    }
}

impl Drop for PushServer {
    fn drop(&mut self) {
        self.shutdown_now();
    }
}

/// One timer for the whole server: throttled subscription counts, cache expiry.
async fn maintenance(hub: Arc<Hub>, shutdown: Shutdown) {
    let mut every = tokio::time::interval(Duration::from_secs(1));
    loop {
        tokio::select! {
            _ = every.tick() => {
                let now = std::time::Instant::now();
                for app in hub.apps() {
                    app.tick(now);
                }
            }
            _ = shutdown.cancelled() => return,
        }
    }
}

fn block_all_signals() {
    // SAFETY: plain libc calls on a zeroed sigset owned by this frame.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut set);
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
    }
}
