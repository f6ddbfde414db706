//! HTTP API requests by route and status, with a latency histogram per route.
//!
//! Routes and statuses come from fixed tables, so recording a request is a lookup and three
//! relaxed atomic adds, with no lock and no map: the API's publish path pays nothing else. The
//! histogram's buckets are kept non-cumulative and summed when a scrape encodes them.

use axum::extract::MatchedPath;
use axum::http::Request;
use axum::response::Response;
use pin_project_lite::pin_project;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::task::{ready, Context, Poll};
use std::time::Instant;
use tower_layer::Layer;
use tower_service::Service;

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

/// Where `template` is in [`ROUTES`]; `other` when no route matched.
pub(crate) fn route_index(template: Option<&str>) -> usize {
    template
        .and_then(|t| ROUTES.iter().position(|r| *r == t))
        .unwrap_or(ROUTES.len() - 1)
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
    /// Counts one answer of route `route` (an index into [`ROUTES`]).
    pub(crate) fn record(&self, route: usize, status: u16, started: Instant) {
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

/// Wraps each API route: times the request and records it by route template. Its future wraps
/// the route's own instead of boxing it, so the API pays no allocation for being measured.
#[derive(Clone)]
pub struct TrackLayer(pub Arc<ApiRequests>);

impl<S> Layer<S> for TrackLayer {
    type Service = Track<S>;

    fn layer(&self, inner: S) -> Track<S> {
        Track {
            inner,
            requests: self.0.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Track<S> {
    inner: S,
    requests: Arc<ApiRequests>,
}

impl<S, B> Service<Request<B>> for Track<S>
where
    S: Service<Request<B>, Response = Response>,
{
    type Response = Response;
    type Error = S::Error;
    type Future = Tracked<S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The router puts the matched template in before it calls the route this layer wraps.
        let route = route_index(request.extensions().get::<MatchedPath>().map(MatchedPath::as_str));
        Tracked {
            started: Instant::now(),
            inner: self.inner.call(request),
            route,
            requests: self.requests.clone(),
        }
    }
}

pin_project! {
    /// A route's answer in progress, recorded when it is ready.
    pub struct Tracked<F> {
        #[pin]
        inner: F,
        route: usize,
        started: Instant,
        requests: Arc<ApiRequests>,
    }
}

impl<F, E> Future for Tracked<F>
where
    F: Future<Output = Result<Response, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let answer = ready!(this.inner.poll(cx));
        if let Ok(response) = &answer {
            this.requests
                .record(*this.route, response.status().as_u16(), *this.started);
        }
        Poll::Ready(answer)
    }
}
