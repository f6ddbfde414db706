//! One event of a publish (`name`, `data`, `channels`/`channel`, `socket_id`, `info`) checked
//! against the app's limits and turned into the hub's publishes.
//!
//! An event comes either typed and borrowed from the body ([`EventBody`], what every SDK sends)
//! or as a general JSON object (any other shape). Both are read through [`EventFields`] and
//! checked by the one [`validate`], in the same order, so both give the same answer and the same
//! error message for the same event.

use super::error::ApiError;
use crate::hub::{AppHub, Publish};
use crate::protocol::publish_body::{EventBody, Field};
use crate::protocol::{ChannelName, SocketId};
use axum::http::StatusCode;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// An event's publishes and the `info` attributes it asked for.
pub(super) type Validated = (Vec<Publish>, Vec<String>);

/// An event's fields as [`validate`] reads them; the type errors are the reader's.
pub(super) trait EventFields {
    /// `info`: absent or null is none.
    fn info(&self) -> Result<Option<&str>, ApiError>;
    /// `name` when it is a string.
    fn name(&self) -> Option<&str>;
    /// `data`, a string as it is and any other value as JSON text; `None` when absent or null.
    fn data(&self) -> Option<Cow<'_, str>>;
    /// `channels`, or else `channel`.
    fn channel_names(&self) -> Result<Vec<&str>, ApiError>;
    /// `socket_id`: absent or null is none.
    fn socket_id(&self) -> Result<Option<&str>, ApiError>;
}

/// Checks `info`, `name`, `data`, the channels and `socket_id`, in that order.
pub(super) fn validate(app: &AppHub, event: &impl EventFields) -> Result<Validated, ApiError> {
    let info = publish_info(event.info()?)?;
    let limits = &app.config;
    let name = match event.name() {
        Some(s) if !s.is_empty() => s,
        _ => return Err(ApiError::bad_request("name must be a non-empty string")),
    };
    if name.len() > limits.max_event_name_length {
        return Err(ApiError::bad_request(format!(
            "name is longer than {} characters",
            limits.max_event_name_length
        )));
    }
    let Some(data) = event.data() else {
        return Err(ApiError::bad_request("data is required"));
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
    let names = event.channel_names()?;
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
    let except = match event.socket_id()? {
        None => None,
        Some(s) => Some(
            SocketId::parse(s).ok_or_else(|| ApiError::bad_request(format!("Invalid socket_id {s:?}")))?,
        ),
    };
    let publishes = names
        .into_iter()
        .map(|n| {
            let channel = ChannelName::parse(n, limits.max_channel_name_length)
                .map_err(|e| ApiError::bad_request(format!("Invalid channel {n:?}: {e}")))?;
            Ok(Publish {
                channel,
                event: name.to_owned(),
                data: data.clone().into_owned(),
                except: except.clone(),
                user_id: None,
                from_client: false,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    Ok((publishes, info))
}

/// The `info` a publish asked for (`user_count`, `subscription_count`), as a list of attributes.
fn publish_info(info: Option<&str>) -> Result<Vec<String>, ApiError> {
    let Some(info) = info else {
        return Ok(Vec::new());
    };
    let fields: Vec<String> = info
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

fn no_channels() -> ApiError {
    ApiError::bad_request("channels or channel is required")
}

impl EventFields for EventBody<'_> {
    fn info(&self) -> Result<Option<&str>, ApiError> {
        Ok(self.info.value().map(|s| s.as_ref()))
    }
    fn name(&self) -> Option<&str> {
        self.name.value().map(|s| s.as_ref())
    }
    fn data(&self) -> Option<Cow<'_, str>> {
        self.data.value().map(|s| Cow::Borrowed(s.as_ref()))
    }
    fn channel_names(&self) -> Result<Vec<&str>, ApiError> {
        match (&self.channels, &self.channel) {
            (Field::Value(list), _) => Ok(list.iter().map(|c| c.as_ref()).collect()),
            (Field::Null, _) => Err(ApiError::bad_request("channels must be an array of strings")),
            (Field::Absent, Field::Value(c)) => Ok(vec![c.as_ref()]),
            (Field::Absent, Field::Null) => Err(ApiError::bad_request("channel must be a string")),
            (Field::Absent, Field::Absent) => Err(no_channels()),
        }
    }
    fn socket_id(&self) -> Result<Option<&str>, ApiError> {
        Ok(self.socket_id.value().map(|s| s.as_ref()))
    }
}

impl EventFields for Map<String, Value> {
    fn info(&self) -> Result<Option<&str>, ApiError> {
        match self.get("info") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request("info must be a comma-separated string")),
        }
    }
    fn name(&self) -> Option<&str> {
        self.get("name").and_then(Value::as_str)
    }
    fn data(&self) -> Option<Cow<'_, str>> {
        match self.get("data") {
            Some(Value::String(s)) => Some(Cow::Borrowed(s)),
            None | Some(Value::Null) => None,
            Some(other) => Some(Cow::Owned(other.to_string())),
        }
    }
    fn channel_names(&self) -> Result<Vec<&str>, ApiError> {
        match (self.get("channels"), self.get("channel")) {
            (Some(Value::Array(list)), _) => list
                .iter()
                .map(|v| {
                    v.as_str()
                        .ok_or_else(|| ApiError::bad_request("channels must be an array of strings"))
                })
                .collect(),
            (Some(_), _) => Err(ApiError::bad_request("channels must be an array of strings")),
            (None, Some(Value::String(c))) => Ok(vec![c.as_str()]),
            (None, Some(_)) => Err(ApiError::bad_request("channel must be a string")),
            (None, None) => Err(no_channels()),
        }
    }
    fn socket_id(&self) -> Result<Option<&str>, ApiError> {
        match self.get("socket_id") {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err(ApiError::bad_request("socket_id must be a string")),
        }
    }
}
