//! Publishing: `POST /apps/{id}/events` and `/batch_events`. A body is validated completely
//! (every event of a batch) before anything is published, so a bad item publishes nothing.

use super::super::flusher::Batch;
use super::auth::Signed;
use super::error::ApiError;
use crate::hub::{AppHub, Publish};
use crate::protocol::{ChannelKind, ChannelName, SocketId};
use axum::extract::Path;
use axum::http::StatusCode;
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

/// Validates one event object (`name`, `data`, `channels`/`channel`, `socket_id`) into publishes.
fn event_publishes(app: &AppHub, event: &Map<String, Value>) -> Result<Vec<Publish>, ApiError> {
    let limits = &app.config;
    let name = match event.get("name") {
        Some(Value::String(s)) if !s.is_empty() => s.clone(),
        _ => return Err(ApiError::bad_request("name must be a non-empty string")),
    };
    if name.len() > limits.max_event_name_length {
        return Err(ApiError::bad_request(format!(
            "name is longer than {} characters",
            limits.max_event_name_length
        )));
    }
    let data = match event.get("data") {
        Some(Value::String(s)) => s.clone(),
        None | Some(Value::Null) => return Err(ApiError::bad_request("data is required")),
        Some(other) => other.to_string(),
    };
    if data.len() > limits.max_event_payload {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "data is {} bytes, the limit is {}",
                data.len(),
                limits.max_event_payload
            ),
        ));
    }
    let names: Vec<&str> = match (event.get("channels"), event.get("channel")) {
        (Some(Value::Array(list)), _) => list
            .iter()
            .map(|v| {
                v.as_str()
                    .ok_or_else(|| ApiError::bad_request("channels must be an array of strings"))
            })
            .collect::<Result<_, _>>()?,
        (Some(_), _) => return Err(ApiError::bad_request("channels must be an array of strings")),
        (None, Some(Value::String(c))) => vec![c.as_str()],
        (None, Some(_)) => return Err(ApiError::bad_request("channel must be a string")),
        (None, None) => return Err(ApiError::bad_request("channels or channel is required")),
    };
    if names.is_empty() {
        return Err(ApiError::bad_request("channels must not be empty"));
    }
    if names.len() > limits.max_channels_per_event {
        return Err(ApiError::bad_request(format!(
            "{} channels given, the limit is {}",
            names.len(),
            limits.max_channels_per_event
        )));
    }
    let except = match event.get("socket_id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            SocketId::parse(s).ok_or_else(|| ApiError::bad_request(format!("Invalid socket_id {s:?}")))?,
        ),
        Some(_) => return Err(ApiError::bad_request("socket_id must be a string")),
    };
    names
        .into_iter()
        .map(|n| {
            let channel = ChannelName::parse(n, limits.max_channel_name_length)
                .map_err(|e| ApiError::bad_request(format!("Invalid channel {n:?}: {e}")))?;
            Ok(Publish {
                channel,
                event: name.clone(),
                data: data.clone(),
                except: except.clone(),
                user_id: None,
                from_client: false,
            })
        })
        .collect()
}

/// The `info` a publish asked for (`user_count`, `subscription_count`), as a list of attributes.
fn publish_info(event: &Map<String, Value>) -> Result<Vec<String>, ApiError> {
    match event.get("info") {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => {
            let fields: Vec<String> = s
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect();
            match fields
                .iter()
                .find(|f| !matches!(f.as_str(), "user_count" | "subscription_count"))
            {
                Some(bad) => Err(ApiError::bad_request(format!("Unknown info attribute {bad:?}"))),
                None => Ok(fields),
            }
        }
        Some(_) => Err(ApiError::bad_request("info must be a comma-separated string")),
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
    let body = json_body(&signed)?;
    let info = publish_info(&body)?;
    let publishes = event_publishes(&signed.app, &body)?;
    let scheduling = Batch::begin();
    for publish in &publishes {
        signed.app.publish(publish);
    }
    drop(scheduling);
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
    let body = json_body(&signed)?;
    let Some(Value::Array(batch)) = body.get("batch") else {
        return Err(ApiError::bad_request("batch must be an array of events"));
    };
    let max = signed.app.config.max_batch_size;
    if batch.len() > max {
        return Err(ApiError::bad_request(format!(
            "batch has {} events, the limit is {max}",
            batch.len()
        )));
    }
    // Validate everything first so a bad item publishes nothing.
    let mut all = Vec::new();
    for (i, item) in batch.iter().enumerate() {
        let Value::Object(item) = item else {
            return Err(ApiError::bad_request(format!("batch[{i}] must be an object")));
        };
        let at = |e: ApiError| ApiError::new(e.status, format!("batch[{i}]: {}", e.message));
        let info = publish_info(item).map_err(at)?;
        let publishes = event_publishes(&signed.app, item).map_err(at)?;
        all.push((publishes, info));
    }
    let scheduling = Batch::begin();
    for publish in all.iter().flat_map(|(p, _)| p) {
        signed.app.publish(publish);
    }
    drop(scheduling);
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
