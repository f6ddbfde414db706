//! Error answers of the HTTP API: a Pusher status code and `{"error": message}`, and what a
//! body that could not be read is answered with.

use super::super::api_body::{BodyTimedOut, TooManyPending};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::json;

/// An error answer: a Pusher status code and `{"error": message}`.
pub(super) struct ApiError {
    pub(super) status: StatusCode,
    pub(super) message: String,
    /// Seconds for a `Retry-After` header (429 from `api_rate_limit`).
    pub(super) retry_after: Option<u64>,
}

impl ApiError {
    pub(super) fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            retry_after: None,
        }
    }
    pub(super) fn bad_request(message: impl Into<String>) -> ApiError {
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

/// Why a body could not be read, as an answer: too large (413), parked too long (408), too many
/// parked bodies (429 from one address, 503 overall), or not valid HTTP framing (400).
pub(super) fn body_error(error: &axum::Error, too_large: impl FnOnce() -> ApiError) -> ApiError {
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
