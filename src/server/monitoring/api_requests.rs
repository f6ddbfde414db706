//! HTTP API requests by route and status, with a latency histogram per route.
//!
//! Routes and statuses come from fixed tables, so recording a request is a lookup and three
//! relaxed atomic adds, with no lock and no map: the API's publish path pays nothing else. The
//! histogram's buckets are kept non-cumulative and summed when a scrape encodes them.

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

/// The API's route templates; a request that matched none is counted as `other`.
pub const ROUTES: [&str; 8] = [
    "/apps/{app_id}/events",
    "/apps/{app_id}/batch_events",
    "/apps/{app_id}/channels",
    "/apps/{app_id}/channels/{channel}",
    "/apps/{app_id}/channels/{channel}/users",
    "/apps/{app_id}/users/{user_id}/terminate_connections",
    "/users/{user_id}/terminate_connections",
    "other",
];

/// The statuses the API answers with; anything else is counted as `other`.
const STATUSES: [u16; 12] = [200, 400, 401, 403, 404, 405, 408, 413, 429, 500, 503, 504];

/// Upper bounds of the latency buckets, in seconds (`+Inf` is added when encoding).
pub const BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0,
];

#[derive(Debug, Default)]
struct Route {
    by_status: [AtomicU64; STATUSES.len() + 1],
    /// Non-cumulative; the last slot is above every bound.
    buckets: [AtomicU64; BUCKETS.len() + 1],
    sum_nanos: AtomicU64,
}

#[derive(Debug, Default)]
pub struct ApiRequests {
    routes: [Route; ROUTES.len()],
}

/// One route's totals as a scrape sees them.
pub struct RouteSnapshot {
    pub route: &'static str,
    pub by_status: Vec<(String, u64)>,
    /// Cumulative counts per bound of [`BUCKETS`], then `+Inf`.
    pub cumulative: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

impl ApiRequests {
    pub fn record(&self, route: Option<&str>, status: u16, started: Instant) {
        let route = route
            .and_then(|r| ROUTES.iter().position(|t| *t == r))
            .unwrap_or(ROUTES.len() - 1);
        let route = &self.routes[route];
        let status = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        route.by_status[status].fetch_add(1, Ordering::Relaxed);
        let elapsed = started.elapsed();
        let seconds = elapsed.as_secs_f64();
        let bucket = BUCKETS
            .iter()
            .position(|b| seconds <= *b)
            .unwrap_or(BUCKETS.len());
        route.buckets[bucket].fetch_add(1, Ordering::Relaxed);
        route
            .sum_nanos
            .fetch_add(elapsed.as_nanos() as u64, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Vec<RouteSnapshot> {
        ROUTES
            .iter()
            .zip(&self.routes)
            .map(|(name, r)| {
                let mut running = 0;
                let mut cumulative: Vec<(f64, u64)> = BUCKETS
                    .iter()
                    .chain(std::iter::once(&f64::INFINITY))
                    .zip(&r.buckets)
                    .map(|(bound, n)| {
                        running += n.load(Ordering::Relaxed);
                        (*bound, running)
                    })
                    .collect();
                // A request recorded between the two loads must not make the total disagree.
                let count = running;
                if let Some(last) = cumulative.last_mut() {
                    last.1 = count;
                }
                RouteSnapshot {
                    route: name,
                    by_status: STATUSES
                        .iter()
                        .map(|s| s.to_string())
                        .chain(std::iter::once("other".to_owned()))
                        .zip(&r.by_status)
                        .map(|(s, n)| (s, n.load(Ordering::Relaxed)))
                        .filter(|(_, n)| *n > 0)
                        .collect(),
                    cumulative,
                    count,
                    sum_seconds: r.sum_nanos.load(Ordering::Relaxed) as f64 / 1e9,
                }
            })
            .collect()
    }
}

/// Middleware around the API's routes: times each request and records it by route template.
pub async fn track(State(requests): State<Arc<ApiRequests>>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let response = next.run(request).await;
    requests.record(
        route.as_ref().map(|r| r.as_str()),
        response.status().as_u16(),
        started,
    );
    response
}
