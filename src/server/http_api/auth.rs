//! The signed request: every API route's handler takes a [`Signed`], so nothing runs before the
//! app is found by `auth_key`, the body is read under its limits, and timestamp window,
//! `body_md5`, signature, `enabled` and `api_rate_limit` are checked.

use super::error::{body_error, ApiError};
use super::remote::{Peer, Remote};
use super::ApiState;
use crate::clock::unix_now;
use crate::hub::AppHub;
use crate::protocol::query::{self, Params};
use crate::protocol::signature::ApiRequest;
use axum::body::HttpBody;
use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, Uri};
use std::borrow::Cow;
use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

/// A request whose signature checked out, with the app it is for and its body.
pub(super) struct Signed {
    pub(super) app: Arc<AppHub>,
    /// Kept for the handlers that read a parameter; the publish routes read none.
    uri: Uri,
    pub(super) body: axum::body::Bytes,
    /// The debug console's tap, only while a console watches (else no clone per request).
    pub(super) console: Option<Arc<crate::server::console::Tap>>,
}

impl Signed {
    pub(super) fn param(&self, name: &str) -> Option<Cow<'_, str>> {
        query::find(self.uri.query().unwrap_or(""), name)
    }
}

impl FromRequest<ApiState> for Signed {
    type Rejection = ApiError;

    /// For the `Router`'s routes, which find the peer in the request's extensions.
    async fn from_request(req: Request, state: &ApiState) -> Result<Signed, ApiError> {
        let peer = req.extensions().get::<Peer>().copied();
        Signed::check(req, state, peer.unwrap_or(Peer(UNKNOWN_PEER))).await
    }
}

/// What a request without a [`Peer`] is logged as (none should be: every connection adds it).
const UNKNOWN_PEER: IpAddr = IpAddr::V4(Ipv4Addr::UNSPECIFIED);

impl Signed {
    /// Checks `req`, which came from `peer` (named in the debug log of a refusal).
    pub(super) async fn check(req: Request, state: &ApiState, peer: Peer) -> Result<Signed, ApiError> {
        let (head, body) = req.into_parts();
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
        // Borrowed from the URI; read after the body so it is not held across the wait for it.
        let params = Params::parse(head.uri.query().unwrap_or(""));
        let key = params
            .get("auth_key")
            .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "Missing auth_key in the query string"))?;
        let app = state.hub.app_by_key(key).cloned().ok_or_else(|| {
            tracing::debug!(
                app_key = key,
                path = head.uri.path(),
                remote = %Remote::of(peer, &head.headers, &state.limits.trusted_proxies),
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
                tracing::debug!(
                    app = %app.config.id,
                    path = head.uri.path(),
                    remote = %Remote::of(peer, &head.headers, &state.limits.trusted_proxies),
                    reason = %e,
                    "HTTP API request rejected"
                );
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
        let tap = &state.limits.console.tap;
        let console = tap.active().then(|| tap.clone());
        Ok(Signed {
            app,
            uri: head.uri,
            body,
            console,
        })
    }
}
