//! Messages on the wire: what clients may send, and the frames the server sends.
//!
//! Server frames keep the key order `event`, `data`, `channel` of webman/push and carry `data`
//! as a JSON *string* (webman's push.js `JSON.parse`s every `data`), except `pusher:error`,
//! whose `data` is an object as the protocol documents.

use serde_json::Value;

/// A parsed client→server message.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientMessage {
    Ping,
    Pong,
    Subscribe(SubscribeRequest),
    Unsubscribe {
        channel: String,
    },
    Signin {
        auth: String,
        user_data: String,
    },
    /// Any other event name; the hub decides whether it is an acceptable client event.
    ClientEvent(ClientEvent),
}

#[derive(Debug, Clone, PartialEq)]
pub struct SubscribeRequest {
    pub channel: String,
    pub auth: Option<String>,
    /// The exact JSON string the client sent; the presence signature covers these bytes.
    pub channel_data: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ClientEvent {
    pub event: String,
    pub channel: String,
    /// Already a JSON string as it will be relayed: a string `data` verbatim, anything else
    /// serialised once.
    pub data: String,
}

/// Why a client message was refused; the text goes into `pusher:error`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageError(pub String);

impl MessageError {
    fn new(s: impl Into<String>) -> Self {
        MessageError(s.into())
    }
}

/// Parses one text frame. Never panics, whatever the input.
pub fn parse_client_message(text: &str) -> Result<ClientMessage, MessageError> {
    let value: Value =
        serde_json::from_str(text).map_err(|e| MessageError::new(format!("Invalid JSON: {e}")))?;
    let Value::Object(mut obj) = value else {
        return Err(MessageError::new("Invalid message: expected a JSON object"));
    };
    let event = match obj.get("event") {
        None | Some(Value::Null) => return Err(MessageError::new("Empty event")),
        Some(Value::String(s)) => s.clone(),
        Some(_) => return Err(MessageError::new("Invalid event: must be a string")),
    };
    match event.as_str() {
        "pusher:ping" => Ok(ClientMessage::Ping),
        "pusher:pong" => Ok(ClientMessage::Pong),
        "pusher:subscribe" => {
            let data = data_object(&obj)?;
            Ok(ClientMessage::Subscribe(SubscribeRequest {
                channel: required_channel(data)?,
                auth: optional_string(data, "auth")?,
                channel_data: optional_string(data, "channel_data")?,
            }))
        }
        "pusher:unsubscribe" => {
            let data = data_object(&obj)?;
            Ok(ClientMessage::Unsubscribe {
                channel: required_channel(data)?,
            })
        }
        "pusher:signin" => {
            let data = data_object(&obj)?;
            let auth = optional_string(data, "auth")?.unwrap_or_default();
            let user_data =
                optional_string(data, "user_data")?.ok_or_else(|| MessageError::new("Empty user_data"))?;
            Ok(ClientMessage::Signin { auth, user_data })
        }
        e if e.starts_with("pusher:") => Err(MessageError::new("Unknown event")),
        _ => {
            let channel = required_channel(&obj)?;
            let data = match obj.remove("data") {
                None | Some(Value::Null) => "{}".to_owned(),
                Some(Value::String(s)) => s,
                Some(other) => other.to_string(),
            };
            Ok(ClientMessage::ClientEvent(ClientEvent { event, channel, data }))
        }
    }
}

fn data_object(
    obj: &serde_json::Map<String, Value>,
) -> Result<&serde_json::Map<String, Value>, MessageError> {
    match obj.get("data") {
        Some(Value::Object(d)) => Ok(d),
        // pusher-js always sends an object; tolerate clients that double-encode it.
        Some(Value::String(_)) | None | Some(Value::Null) => Err(MessageError::new("Empty channel")),
        Some(_) => Err(MessageError::new("Invalid data: must be an object")),
    }
}

fn required_channel(obj: &serde_json::Map<String, Value>) -> Result<String, MessageError> {
    match obj.get("channel") {
        None | Some(Value::Null) => Err(MessageError::new("Empty channel")),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(MessageError::new("Invalid channel: must be a string")),
    }
}

fn optional_string(obj: &serde_json::Map<String, Value>, key: &str) -> Result<Option<String>, MessageError> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(MessageError::new(format!("Invalid {key}: must be a string"))),
    }
}

/// Appends `s` as a JSON string literal (serde_json's escaping: `/` and non-ASCII stay raw,
/// as PHP's `JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE`).
pub fn push_json_str(out: &mut String, s: &str) {
    // Serialising a &str into a String cannot fail.
    let escaped = serde_json::to_string(s).unwrap_or_else(|_| String::from("\"\""));
    out.push_str(&escaped);
}

/// `{"event":E,"data":D,"channel":C[,"user_id":U]}` where D is the data string, JSON-quoted.
pub fn event_frame(event: &str, channel: &str, data: &str, user_id: Option<&str>) -> String {
    let mut out = String::with_capacity(event.len() + channel.len() + data.len() + 48);
    out.push_str("{\"event\":");
    push_json_str(&mut out, event);
    out.push_str(",\"data\":");
    push_json_str(&mut out, data);
    out.push_str(",\"channel\":");
    push_json_str(&mut out, channel);
    if let Some(u) = user_id {
        out.push_str(",\"user_id\":");
        push_json_str(&mut out, u);
    }
    out.push('}');
    out
}

/// The first frame of every accepted connection.
pub fn connection_established_frame(socket_id: &str, activity_timeout: u64) -> String {
    let inner = format!("{{\"socket_id\":\"{socket_id}\",\"activity_timeout\":{activity_timeout}}}");
    let mut out = String::from("{\"event\":\"pusher:connection_established\",\"data\":");
    push_json_str(&mut out, &inner);
    out.push('}');
    out
}

pub const PONG_FRAME: &str = r#"{"event":"pusher:pong","data":"{}"}"#;
pub const PING_FRAME: &str = r#"{"event":"pusher:ping","data":"{}"}"#;

/// `pusher:error` with an object `data`; `code` is null for errors Pusher gives no code.
pub fn error_frame(code: Option<u16>, message: &str) -> String {
    let mut out = String::from("{\"event\":\"pusher:error\",\"data\":{\"code\":");
    match code {
        Some(c) => out.push_str(&c.to_string()),
        None => out.push_str("null"),
    }
    out.push_str(",\"message\":");
    push_json_str(&mut out, message);
    out.push_str("}}");
    out
}

/// `pusher:signin_success`; like `pusher:error`, its `data` is an object (the protocol documents it so).
pub fn signin_success_frame(user_data: &str) -> String {
    let mut out = String::from("{\"event\":\"pusher:signin_success\",\"data\":{\"user_data\":");
    push_json_str(&mut out, user_data);
    out.push_str("}}");
    out
}

/// `pusher_internal:watchlist_events` in the shape pusher-js consumes:
/// `{"events":[{"name":"online","user_ids":[…]},{"name":"offline","user_ids":[…]}]}`.
pub fn watchlist_frame(online: &[&str], offline: &[&str]) -> String {
    let mut events = Vec::new();
    for (name, ids) in [("online", online), ("offline", offline)] {
        if !ids.is_empty() {
            events.push(serde_json::json!({ "name": name, "user_ids": ids }));
        }
    }
    let data = serde_json::json!({ "events": events }).to_string();
    let mut out = String::from("{\"event\":\"pusher_internal:watchlist_events\",\"data\":");
    push_json_str(&mut out, &data);
    out.push('}');
    out
}

pub fn cache_miss_frame(channel: &str) -> String {
    event_frame("pusher:cache_miss", channel, "{}", None)
}

pub fn subscription_count_frame(channel: &str, count: usize) -> String {
    let data = format!("{{\"subscription_count\":{count}}}");
    event_frame("pusher_internal:subscription_count", channel, &data, None)
}

pub fn subscription_succeeded_frame(channel: &str, data: &str) -> String {
    event_frame("pusher_internal:subscription_succeeded", channel, data, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ping_is_recognised_whatever_its_data() {
        assert_eq!(
            parse_client_message(r#"{"event":"pusher:ping","data":{}}"#),
            Ok(ClientMessage::Ping)
        );
        assert_eq!(
            parse_client_message(r#"{"event":"pusher:ping"}"#),
            Ok(ClientMessage::Ping)
        );
    }

    #[test]
    fn subscribe_keeps_channel_data_verbatim() {
        let m = parse_client_message(
            r#"{"event":"pusher:subscribe","data":{"channel":"presence-a","auth":"k:s","channel_data":"{\"user_id\": 1}"}}"#,
        )
        .unwrap();
        assert_eq!(
            m,
            ClientMessage::Subscribe(SubscribeRequest {
                channel: "presence-a".into(),
                auth: Some("k:s".into()),
                channel_data: Some("{\"user_id\": 1}".into()),
            })
        );
    }

    #[test]
    fn malformed_messages_get_clear_errors() {
        let err = |t: &str| parse_client_message(t).unwrap_err().0;
        assert!(err("not json").starts_with("Invalid JSON"));
        assert_eq!(err("5"), "Invalid message: expected a JSON object");
        assert_eq!(err("{}"), "Empty event");
        assert_eq!(err(r#"{"event":["x"]}"#), "Invalid event: must be a string");
        assert_eq!(err(r#"{"event":"pusher:subscribe","data":{}}"#), "Empty channel");
        assert_eq!(err(r#"{"event":"pusher:subscribe"}"#), "Empty channel");
        assert_eq!(
            err(r#"{"event":"pusher:subscribe","data":{"channel":["a"]}}"#),
            "Invalid channel: must be a string"
        );
        assert_eq!(
            err(r#"{"event":"pusher:subscribe","data":{"channel":"a","auth":5}}"#),
            "Invalid auth: must be a string"
        );
        assert_eq!(err(r#"{"event":"pusher:bogus"}"#), "Unknown event");
        assert_eq!(err(r#"{"event":"client-x"}"#), "Empty channel");
    }

    #[test]
    fn client_event_data_is_relayed_as_a_string() {
        let m = parse_client_message(r#"{"event":"client-a","channel":"private-x","data":{"b":[1,"/é"]}}"#)
            .unwrap();
        assert_eq!(
            m,
            ClientMessage::ClientEvent(ClientEvent {
                event: "client-a".into(),
                channel: "private-x".into(),
                data: r#"{"b":[1,"/é"]}"#.into()
            })
        );
        let m = parse_client_message(r#"{"event":"client-a","channel":"private-x","data":"raw"}"#).unwrap();
        assert!(matches!(m, ClientMessage::ClientEvent(ClientEvent { data, .. }) if data == "raw"));
    }

    #[test]
    fn event_frames_keep_webman_key_order_and_string_data() {
        assert_eq!(
            event_frame("message", "user-1", "{\"a\":\"/é\"}", None),
            r#"{"event":"message","data":"{\"a\":\"/é\"}","channel":"user-1"}"#
        );
        assert_eq!(
            event_frame("client-t", "presence-r", "{}", Some("7")),
            r#"{"event":"client-t","data":"{}","channel":"presence-r","user_id":"7"}"#
        );
    }

    #[test]
    fn watchlist_events_use_the_pusher_js_shape() {
        assert_eq!(
            watchlist_frame(&["1"], &["2", "3"]),
            r#"{"event":"pusher_internal:watchlist_events","data":"{\"events\":[{\"name\":\"online\",\"user_ids\":[\"1\"]},{\"name\":\"offline\",\"user_ids\":[\"2\",\"3\"]}]}"}"#
        );
    }

    #[test]
    fn signin_success_carries_user_data_in_an_object() {
        assert_eq!(
            signin_success_frame(r#"{"id":"1"}"#),
            r#"{"event":"pusher:signin_success","data":{"user_data":"{\"id\":\"1\"}"}}"#
        );
    }

    #[test]
    fn connection_established_double_encodes_its_data() {
        assert_eq!(
            connection_established_frame("1.5", 55),
            r#"{"event":"pusher:connection_established","data":"{\"socket_id\":\"1.5\",\"activity_timeout\":55}"}"#
        );
    }

    #[test]
    fn errors_carry_an_object_with_code_and_message() {
        assert_eq!(
            error_frame(Some(4001), "App key x not in this server"),
            r#"{"event":"pusher:error","data":{"code":4001,"message":"App key x not in this server"}}"#
        );
        assert_eq!(
            error_frame(None, "Empty event"),
            r#"{"event":"pusher:error","data":{"code":null,"message":"Empty event"}}"#
        );
    }
}
