//! `Webman\Push\Server`: the embedded push server, started in the process that calls it.
//!
//! In webman it is the handler of the `plugin.webman.push.server` process: webman constructs it
//! with the plugin config in every process (harmless, nothing starts) and calls
//! `onWorkerStart` only in the push worker, after the fork. Outside webman, `run()` keeps it in
//! the foreground until SIGINT or SIGTERM.

use super::{json_encode, push_error};
use crate::config::ServerConfig;
use crate::server::PushServer;
use ext_php_rs::prelude::*;
use ext_php_rs::types::Zval;
use std::collections::HashMap;

#[php_class]
#[php(name = "Webman\\Push\\Server")]
pub struct Server {
    config: ServerConfig,
    running: Option<PushServer>,
}

#[php_impl]
impl Server {
    /// `new Server(config('plugin.webman.push.app'))`: the array of `app.php`.
    pub fn __construct(config: &Zval) -> PhpResult<Self> {
        if config.array().is_none() {
            return Err(push_error(
                "Server expects the config array of config/plugin/webman/push/app.php",
            ));
        }
        let json = json_encode(config, 0)?;
        let config = ServerConfig::from_json(&json).map_err(push_error)?;
        Ok(Server {
            config,
            running: None,
        })
    }

    /// Binds both ports and starts the server threads; returns at once.
    pub fn start(&mut self) -> PhpResult<()> {
        if let Some(running) = &self.running {
            return Err(push_error(format!(
                "the push server is already running on {}",
                running.websocket_addr()
            )));
        }
        let server = PushServer::start(self.config.clone()).map_err(|e| push_error(e.to_string()))?;
        self.running = Some(server);
        Ok(())
    }

    /// Reads `ssl.local_cert` and `ssl.local_pk` again: new TLS handshakes use them, open
    /// connections stay. Throws `PushException` naming the file when it cannot be used (the
    /// previous certificate stays), or when the server is not running with `ssl`.
    pub fn reload_tls(&self) -> PhpResult<()> {
        match &self.running {
            Some(server) => server.reload_tls().map_err(push_error),
            None => Err(push_error("the push server is not running")),
        }
    }

    /// Closes every connection and the listeners; bounded by 1.5 s. False if it was not running.
    pub fn stop(&mut self) -> bool {
        match self.running.take() {
            Some(server) => {
                server.stop();
                true
            }
            None => false,
        }
    }

    /// Starts and blocks until SIGINT or SIGTERM, then stops. With `ssl`, SIGHUP reloads the certificate.
    pub fn run(&mut self) -> PhpResult<()> {
        // Blocked before the threads start: a SIGTERM that arrived between start() and wait()
        // would take the default action and end the process without closing its clients.
        let signals = StopSignals::block(self.config.tls());
        self.start()?;
        signals.wait_reloading(self.running.as_ref());
        self.stop();
        Ok(())
    }

    /// Blocks a started server's process until SIGINT or SIGTERM, then stops it. With `ssl`,
    /// SIGHUP reloads the certificate meanwhile.
    pub fn wait(&mut self) {
        if self.running.is_some() {
            // Kept blocked through the stop, so a second signal cannot cut it short.
            let signals = StopSignals::block(self.config.tls());
            signals.wait_reloading(self.running.as_ref());
            self.stop();
        }
    }

    pub fn is_running(&self) -> bool {
        self.running.is_some()
    }

    /// The bound WebSocket port (useful when the config asked for port 0); 0 when stopped.
    pub fn websocket_port(&self) -> i64 {
        self.running
            .as_ref()
            .map_or(0, |s| i64::from(s.websocket_addr().port()))
    }

    /// The bound HTTP API port; 0 when stopped.
    pub fn api_port(&self) -> i64 {
        self.running
            .as_ref()
            .map_or(0, |s| i64::from(s.api_addr().port()))
    }

    /// Counts for monitoring and tests: connections, channels, subscriptions, presence_members,
    /// the webhooks_* counters, and the cluster_publish_* counters (messages for other nodes that
    /// Redis did not take, or a full queue dropped).
    pub fn stats(&self) -> HashMap<String, i64> {
        let mut out: HashMap<String, i64> = [
            "connections",
            "channels",
            "subscriptions",
            "presence_members",
            "webhooks_queued",
            "webhooks_delivered",
            "webhooks_dropped",
            "webhooks_dropped_events",
            "webhooks_pending_bytes",
            "cluster_publish_failed",
            "cluster_publish_dropped",
        ]
        .iter()
        .map(|k| (k.to_string(), 0))
        .collect();
        if let Some(server) = &self.running {
            let w = server.webhook_backlog();
            let (failed, dropped) = server.cluster_lost_messages();
            out.insert("cluster_publish_failed".into(), failed as i64);
            out.insert("cluster_publish_dropped".into(), dropped as i64);
            for (k, v) in [
                ("webhooks_queued", w.queued as i64),
                ("webhooks_delivered", w.delivered as i64),
                ("webhooks_dropped", w.dropped as i64),
                ("webhooks_dropped_events", w.dropped_events as i64),
                ("webhooks_pending_bytes", w.pending_bytes as i64),
            ] {
                out.insert(k.to_string(), v);
            }
            for app in server.hub().apps() {
                let s = app.stats();
                for (k, v) in [
                    ("connections", s.connections),
                    ("channels", s.channels),
                    ("subscriptions", s.subscriptions),
                    ("presence_members", s.presence_members),
                ] {
                    *out.entry(k.to_string()).or_default() += v as i64;
                }
            }
        }
        out
    }

    /// webman/workerman process hook: start in the worker, after the fork.
    pub fn on_worker_start(&mut self, worker: Option<&Zval>) -> PhpResult<()> {
        let _ = worker;
        self.start()
    }

    /// webman/workerman process hook.
    pub fn on_worker_stop(&mut self, worker: Option<&Zval>) -> bool {
        let _ = worker;
        self.stop()
    }
}

/// SIGINT and SIGTERM, blocked on the PHP thread while it waits for them.
struct StopSignals {
    set: libc::sigset_t,
    previous: libc::sigset_t,
}

impl StopSignals {
    /// `reload`: SIGHUP too (it reloads the TLS certificate); without TLS it keeps its default
    /// action, as before.
    fn block(reload: bool) -> StopSignals {
        // SAFETY: libc signal-set calls on sets owned by this value.
        unsafe {
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, libc::SIGINT);
            libc::sigaddset(&mut set, libc::SIGTERM);
            if reload {
                libc::sigaddset(&mut set, libc::SIGHUP);
            }
            let mut previous: libc::sigset_t = std::mem::zeroed();
            libc::pthread_sigmask(libc::SIG_BLOCK, &set, &mut previous);
            StopSignals { set, previous }
        }
    }

    /// Waits for SIGINT or SIGTERM; each SIGHUP meanwhile reloads `server`'s TLS certificate.
    fn wait_reloading(&self, server: Option<&PushServer>) {
        while self.wait() == libc::SIGHUP {
            if let Some(Err(e)) = server.map(PushServer::reload_tls) {
                tracing::warn!("SIGHUP: keeping the previous TLS certificate: {e}");
            }
        }
    }

    /// Waits for the first of them and returns it.
    fn wait(&self) -> libc::c_int {
        let timeout = libc::timespec {
            tv_sec: 1,
            tv_nsec: 0,
        };
        loop {
            // SAFETY: `set` is a valid, initialised signal set.
            let sig = unsafe { libc::sigtimedwait(&self.set, std::ptr::null_mut(), &timeout) };
            if sig == libc::SIGINT || sig == libc::SIGTERM || sig == libc::SIGHUP {
                return sig;
            }
        }
    }
}

impl Drop for StopSignals {
    /// Swallows repeats (an impatient second Ctrl-C during the stop) before unblocking, so they
    /// cannot kill the process after a clean stop.
    fn drop(&mut self) {
        let zero = libc::timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: as in `block`.
        unsafe {
            while libc::sigtimedwait(&self.set, std::ptr::null_mut(), &zero) > 0 {}
            libc::pthread_sigmask(libc::SIG_SETMASK, &self.previous, std::ptr::null_mut());
        }
    }
}
