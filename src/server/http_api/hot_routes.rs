//! The two publish routes, `POST /apps/{app_id}/events` and `/batch_events`, served before the
//! `Router`: they are nearly every request a push server gets, and the `Router`'s work per
//! request (matching, the `MatchedPath` extension and its map, the boxed route service, a clone
//! of the router) was about a twentieth of a publish. Their path is matched here by hand; any
//! other request, and any publish path the match is not sure of (an app id with a `%` escape,
//! which the `Router`'s `Path` would decode or refuse), goes to the `Router` as before.
//!
//! The answers are the same handlers' with the same [`Signed`] checks and limits, and each is
//! recorded in `api_requests` under its route template, as the `Router`'s `TrackLayer` records it.

use super::auth::Signed;
use super::publish::{trigger_batch, trigger_events};
use super::remote::Peer;
use super::ApiState;
use crate::server::monitoring::api_requests::{self, ApiRequests};
use axum::extract::{Path, Request};
use axum::http::Method;
use axum::response::{IntoResponse, Response};
use std::sync::Arc;
use std::time::Instant;

/// A publish route this module serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum HotRoute {
    Events,
    BatchEvents,
}

impl HotRoute {
    /// The route a request is for, if it is one of the two; `None` sends it to the `Router`.
    pub(super) fn of<B>(request: &Request<B>) -> Option<HotRoute> {
        if request.method() != Method::POST {
            return None;
        }
        let (app_id, route) = request.uri().path().strip_prefix("/apps/")?.split_once('/')?;
        if app_id.is_empty() || app_id.contains('%') {
            return None;
        }
        match route {
            "events" => Some(HotRoute::Events),
            "batch_events" => Some(HotRoute::BatchEvents),
            _ => None,
        }
    }

    fn template(self) -> &'static str {
        match self {
            HotRoute::Events => "/apps/{app_id}/events",
            HotRoute::BatchEvents => "/apps/{app_id}/batch_events",
        }
    }
}

/// What the publish routes need: the API's state and where requests are counted.
pub(super) struct HotRoutes {
    pub(super) state: ApiState,
    pub(super) requests: Arc<ApiRequests>,
    /// Indices of the two templates in `api_requests`, looked up once.
    indices: [usize; 2],
}

impl HotRoutes {
    pub(super) fn new(state: ApiState, requests: Arc<ApiRequests>) -> HotRoutes {
        let indices = [HotRoute::Events, HotRoute::BatchEvents]
            .map(|route| api_requests::route_index(Some(route.template())));
        HotRoutes {
            state,
            requests,
            indices,
        }
    }

    /// Answers a request [`HotRoute::of`] picked, as its `Router` route would; `peer` is where
    /// it came from (the `Router`'s routes find it in an extension, which would cost a map here).
    pub(super) async fn serve(&self, route: HotRoute, request: Request, peer: Peer) -> Response {
        let started = Instant::now();
        // The app id in the path is not trusted (the app is found by `auth_key`), as in the routes.
        let app_id = Path(String::new());
        let response = match Signed::check(request, &self.state, peer).await {
            Err(rejection) => rejection.into_response(),
            Ok(signed) => match route {
                HotRoute::Events => trigger_events(app_id, signed).await.into_response(),
                HotRoute::BatchEvents => trigger_batch(app_id, signed).await.into_response(),
            },
        };
        let index = self.indices[route as usize];
        self.requests.record(index, response.status().as_u16(), started);
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(method: Method, target: &str) -> Option<HotRoute> {
        HotRoute::of(&Request::builder().method(method).uri(target).body(()).unwrap())
    }

    #[test]
    fn only_posts_to_the_two_publish_paths_are_hot() {
        assert_eq!(
            route(Method::POST, "/apps/1024/events?a=b"),
            Some(HotRoute::Events)
        );
        assert_eq!(
            route(Method::POST, "/apps/x/batch_events"),
            Some(HotRoute::BatchEvents)
        );
        for (method, target) in [
            (Method::GET, "/apps/1/events"),
            (Method::POST, "/apps//events"),
            (Method::POST, "/apps/%31/events"),
            (Method::POST, "/apps/1/events/"),
            (Method::POST, "/apps/1/2/events"),
            (Method::POST, "/apps/1/channels"),
            (Method::POST, "//apps/1/events"),
            (Method::POST, "/users/1/terminate_connections"),
        ] {
            assert_eq!(route(method.clone(), target), None, "{method} {target}");
        }
    }
}
