//! The scenarios. Each prints human-readable lines and returns its JSON result.
//!
//! One file per scenario; this one holds what they share (the [`Bench`] handle, rates, rounding).

mod api;
mod churn;
mod connections;
mod fanout;
mod php;

pub use api::api;
pub use churn::churn;
pub use connections::connections;
pub use fanout::fanout;
pub use php::php;

use crate::args::Args;
use crate::client::{event_body, report_first_failure, Publisher, Sources};
use crate::stats::{load_avg, now_ns, Histogram, ServerProc};
use crate::subscribers::{join_all, open_many, Drops};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{watch, Semaphore};

/// What every scenario needs.
pub struct Bench {
    pub args: Args,
    pub ws: SocketAddr,
    pub api: SocketAddr,
    pub key: String,
    pub secret: String,
    pub app_id: String,
    pub server: ServerProc,
    pub me: ServerProc,
    pub sources: Arc<Sources>,
    pub concurrency: usize,
}

impl Bench {
    async fn publisher(&self) -> Result<Publisher, String> {
        Publisher::connect(
            self.sources.next(),
            self.api,
            &self.key,
            &self.secret,
            &self.app_id,
        )
        .await
    }

    fn cpu(&self) -> f64 {
        self.server.cpu_seconds().unwrap_or(f64::NAN)
    }

    /// This process's own CPU seconds (the load generator's cost, for context).
    fn own_cpu(&self) -> f64 {
        self.me.cpu_seconds().unwrap_or(f64::NAN)
    }

    pub fn rss(&self) -> u64 {
        self.server.rss_kib().unwrap_or(0)
    }
}

fn per_sec(count: u64, secs: f64) -> f64 {
    if secs > 0.0 {
        (count as f64 / secs).round()
    } else {
        0.0
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / 1e9
}

pub fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}
