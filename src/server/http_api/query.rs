//! The API's other routes: channel queries (`channels`, one channel's info, a presence
//! channel's users) and terminating a user's connections.

use super::auth::Signed;
use super::error::ApiError;
use crate::protocol::channel::is_cache_channel;
use crate::protocol::{ChannelKind, ChannelName};
use axum::extract::Path;
use axum::Json;
use serde_json::{json, Map, Value};

pub(super) async fn terminate_connections_unprefixed(
    path: Path<String>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    terminate_connections(Path((String::new(), path.0)), signed).await
}

pub(super) async fn terminate_connections(
    Path((_app_id, user_id)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    signed.app.terminate_user_connections(&user_id);
    Ok(Json(json!({})))
}

fn info_fields(signed: &Signed) -> Vec<String> {
    signed
        .param("info")
        .map(|s| {
            s.split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

pub(super) async fn list_channels(
    Path(_app_id): Path<String>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    let prefix = signed
        .param("filter_by_prefix")
        .map(|p| p.into_owned())
        .unwrap_or_default();
    let info = info_fields(&signed);
    if info.iter().any(|f| f == "user_count") && !prefix.starts_with("presence-") {
        return Err(ApiError::bad_request(
            "info=user_count is only allowed with filter_by_prefix=presence-",
        ));
    }
    let mut channels = Map::new();
    for (name, subscriptions) in signed.app.channels(&prefix) {
        let mut attrs = Map::new();
        for field in &info {
            match field.as_str() {
                "user_count" => {
                    attrs.insert(
                        field.clone(),
                        json!(signed.app.presence_members(name.as_str()).len()),
                    );
                }
                "subscription_count" => {
                    attrs.insert(field.clone(), json!(subscriptions));
                }
                _ => {}
            }
        }
        channels.insert(name.to_string(), Value::Object(attrs));
    }
    Ok(Json(json!({ "channels": channels })))
}

pub(super) async fn channel_info(
    Path((_app_id, channel)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    let name = ChannelName::parse(&channel, signed.app.config.max_channel_name_length)
        .map_err(|e| ApiError::bad_request(format!("Invalid channel {channel:?}: {e}")))?;
    let app = &signed.app;
    let mut out = Map::new();
    out.insert("occupied".into(), json!(app.is_occupied(name.as_str())));
    for field in info_fields(&signed) {
        match field.as_str() {
            "user_count" if name.kind() != ChannelKind::Presence => {
                return Err(ApiError::bad_request(
                    "user_count is only available for presence channels",
                ));
            }
            "user_count" => {
                out.insert(field, json!(app.presence_members(name.as_str()).len()));
            }
            "subscription_count" => {
                out.insert(field, json!(app.subscription_count(name.as_str())));
            }
            "cache" if !is_cache_channel(name.as_str()) => {
                return Err(ApiError::bad_request(
                    "cache is only available for cache channels",
                ));
            }
            "cache" => {
                if let Some((data, ttl)) = app.cached(name.as_str()) {
                    out.insert(field, json!({ "data": data, "ttl": ttl }));
                }
            }
            other => return Err(ApiError::bad_request(format!("Unknown info attribute {other:?}"))),
        }
    }
    Ok(Json(Value::Object(out)))
}

pub(super) async fn channel_users(
    Path((_app_id, channel)): Path<(String, String)>,
    signed: Signed,
) -> Result<Json<Value>, ApiError> {
    if ChannelKind::of(&channel) != ChannelKind::Presence {
        return Err(ApiError::bad_request(
            "Users can only be listed for presence channels",
        ));
    }
    let users: Vec<Value> = signed
        .app
        .presence_members(&channel)
        .into_iter()
        .map(|m| json!({ "id": m.user_id }))
        .collect();
    Ok(Json(json!({ "users": users })))
}
