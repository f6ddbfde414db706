//! Publishing: `POST /apps/{id}/events` and `/batch_events`. A body is validated completely
//! (every event of a batch) before anything is published, so a bad item publishes nothing.

use super::super::send;
use super::auth::Signed;
use super::error::ApiError;
use super::event::{self, Validated};
use crate::hub::AppHub;
use crate::protocol::publish_body::{BatchBody, EventBody, Field};
use crate::protocol::{ChannelKind, ChannelName};
use axum::extract::Path;
use axum::Json;
use serde_json::{json, Map, Value};

fn json_body(signed: &Signed) -> Result<Map<String, Value>, ApiError> {
    match serde_json::from_slice::<Value>(&signed.body) {
        Ok(Value::Object(obj)) => Ok(obj),
        Ok(_) => Err(ApiError::bad_request("Request body must be a JSON object")),
        Err(e) => Err(ApiError::bad_request(format!(
            "Request body is not valid JSON: {e}"
        ))),
    }
}

/// Counts for one channel after a publish; `user_count` only applies to presence channels.
fn channel_counts(app: &AppHub, channel: &ChannelName, info: &[String]) -> Value {
    let mut attrs = Map::new();
    for field in info {
        match field.as_str() {
            "user_count" if channel.kind() == ChannelKind::Presence => {
                attrs.insert(field.clone(), json!(app.presence_members(channel.as_str()).len()));
            }
            "subscription_count" => {
                attrs.insert(field.clone(), json!(app.subscription_count(channel.as_str())));
            }
            _ => {}
        }
    }
    Value::Object(attrs)
}

pub(super) async fn trigger_events(
    Path(_app_id): Path<String>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    let (publishes, info) = match EventBody::parse(&signed.body) {
        Some(event) => event::validate(&signed.app, &event)?,
        None => event::validate(&signed.app, &json_body(&signed)?)?,
    };
    send::publish(&signed.app, &publishes);
    if let Some(tap) = &signed.console {
        tap.published(&signed.app, &publishes, "http")
    }
    if info.is_empty() {
        return Ok(Json(json!({})));
    }
    let channels: Map<String, Value> = publishes
        .iter()
        .map(|p| {
            (
                p.channel.to_string(),
                channel_counts(&signed.app, &p.channel, &info),
            )
        })
        .collect();
    Ok(Json(json!({ "channels": channels })))
}

pub(super) async fn trigger_batch(
    Path(_app_id): Path<String>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    let all = match BatchBody::parse(&signed.body) {
        Some(body) => typed_batch(&signed.app, body)?,
        None => general_batch(&signed.app, &json_body(&signed)?)?,
    };
    send::publish(&signed.app, all.iter().flat_map(|(p, _)| p));
    if let Some(tap) = &signed.console {
        all.iter()
            .for_each(|(p, _)| tap.published(&signed.app, p, "http"))
    }
    if all.iter().all(|(_, info)| info.is_empty()) {
        return Ok(Json(json!({})));
    }
    // Pusher answers with one attribute object per batch item, in order.
    let batch: Vec<Value> = all
        .iter()
        .map(|(publishes, info)| match publishes.first() {
            Some(p) if !info.is_empty() => channel_counts(&signed.app, &p.channel, info),
            _ => json!({}),
        })
        .collect();
    Ok(Json(json!({ "batch": batch })))
}

/// A batch read by [`BatchBody`], validated item by item.
fn typed_batch(app: &AppHub, body: BatchBody<'_>) -> Result<Vec<Validated>, ApiError> {
    let Field::Value(batch) = body.batch else {
        return Err(ApiError::bad_request("batch must be an array of events"));
    };
    check_batch_size(app, batch.len())?;
    let mut all = Vec::with_capacity(batch.len());
    for (i, item) in batch.iter().enumerate() {
        all.push(event::validate(app, item).map_err(|e| at_item(i, e))?);
    }
    Ok(all)
}

/// A batch of any other shape, with the error messages for each.
fn general_batch(app: &AppHub, body: &Map<String, Value>) -> Result<Vec<Validated>, ApiError> {
    let Some(Value::Array(batch)) = body.get("batch") else {
        return Err(ApiError::bad_request("batch must be an array of events"));
    };
    check_batch_size(app, batch.len())?;
    let mut all = Vec::with_capacity(batch.len());
    for (i, item) in batch.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(ApiError::bad_request(format!("batch[{i}] must be an object")));
        };
        all.push(event::validate(app, item).map_err(|e| at_item(i, e))?);
    }
    Ok(all)
}

fn check_batch_size(app: &AppHub, len: usize) -> Result<(), ApiError> {
    let max = app.config.max_batch_size;
    if len > max {
        return Err(ApiError::bad_request(format!(
            "batch has {len} events, the limit is {max}"
        )));
    }
    Ok(())
}

fn at_item(i: usize, e: ApiError) -> ApiError {
    ApiError::new(e.status, format!("batch[{i}]: {}", e.message))
}

/// The debug console's test publish: one event object, validated and published like `POST /events`.
pub(in crate::server) fn publish_event(
    app: &AppHub,
    event: &Map<String, Value>,
) -> Result<Vec<crate::hub::Publish>, (axum::http::StatusCode, String)> {
    let (publishes, _info) = event::validate(app, event).map_err(|e| (e.status, e.message))?;
    send::publish(app, &publishes);
    Ok(publishes)
}
