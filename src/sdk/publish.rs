//! What `Api::trigger`, `Api::triggerBatch` and `Api::sendToUser` send, and the name checks the
//! Api makes before it signs anything.
//!
//! The bodies are written in one pass into one buffer (`trigger` is the Api's hot path): no JSON
//! tree is built for a request that is a handful of strings. String escaping is `serde_json`'s,
//! the same parser the server reads the body with. The fields are `name`, `channels`, `data`,
//! then the caller's extra parameters (`socket_id`, `info`, ...) in their order; an extra that
//! names one of the first three replaces its value, as pusher-http-php's `array_merge` does.

use super::InvalidArgument;
use crate::protocol::channel::SERVER_TO_USER_PREFIX;
use crate::protocol::{ChannelName, SocketId};

/// Refuses a name the server would refuse, before anything is sent (webman/push's message).
pub fn check_channel(channel: &str) -> Result<(), InvalidArgument> {
    ChannelName::parse(channel, usize::MAX)
        .map(|_| ())
        .map_err(|_| InvalidArgument(format!("Invalid channel name {channel}")))
}

/// Refuses what is not a socket id (`digits.digits`), with webman/push's message.
pub fn check_socket_id(socket_id: &str) -> Result<(), InvalidArgument> {
    SocketId::parse(socket_id)
        .map(|_| ())
        .ok_or_else(|| InvalidArgument(format!("Invalid socket ID {socket_id}")))
}

/// The channel that reaches every connection signed in as `user_id`.
pub fn user_channel(user_id: &str) -> String {
    format!("{SERVER_TO_USER_PREFIX}{user_id}")
}

/// Whether the caller asked for channel attributes (`info`): then the answer is decoded and
/// returned instead of true.
pub fn wants_info(extra: &[(String, String)]) -> bool {
    extra.iter().any(|(k, _)| k == "info")
}

/// The `POST /events` body: `event` with `data` (already a JSON string, or an encryption
/// envelope) on `channels`, plus `extra`.
pub fn trigger_body(event: &str, channels: &[String], data: &str, extra: &[(String, String)]) -> Vec<u8> {
    let given = |name: &str| extra.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str());
    let len = 32
        + event.len()
        + data.len()
        + channels.iter().map(|c| c.len() + 3).sum::<usize>()
        + extra.iter().map(|(k, v)| k.len() + v.len() + 6).sum::<usize>();
    // Room for data's escapes too: it is JSON, full of quotes.
    let escapes = data.bytes().filter(|b| matches!(b, b'"' | b'\\')).count();
    let mut out = Vec::with_capacity(len + escapes);
    out.extend_from_slice(b"{\"name\":");
    push_str(&mut out, given("name").unwrap_or(event));
    out.extend_from_slice(b",\"channels\":");
    match given("channels") {
        Some(v) => push_str(&mut out, v),
        None => {
            out.push(b'[');
            for (i, channel) in channels.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_str(&mut out, channel);
            }
            out.push(b']');
        }
    }
    out.extend_from_slice(b",\"data\":");
    push_str(&mut out, given("data").unwrap_or(data));
    for (k, v) in extra {
        if !matches!(k.as_str(), "name" | "channels" | "data") {
            push_field(&mut out, k, v);
        }
    }
    out.push(b'}');
    out
}

/// The `POST /batch_events` body: each event's fields (`channel`, `name`, `data`, `socket_id`,
/// `info`) in the caller's order, `data` already encoded.
pub fn batch_body(events: &[Vec<(String, String)>]) -> Vec<u8> {
    let len: usize = events.iter().flatten().map(|(k, v)| k.len() + v.len() + 8).sum();
    let mut out = Vec::with_capacity(len + 12 + 3 * events.len());
    out.extend_from_slice(b"{\"batch\":[");
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        out.push(b'{');
        for (j, (k, v)) in event.iter().enumerate() {
            if j > 0 {
                out.push(b',');
            }
            push_str(&mut out, k);
            out.push(b':');
            push_str(&mut out, v);
        }
        out.push(b'}');
    }
    out.extend_from_slice(b"]}");
    out
}

fn push_field(out: &mut Vec<u8>, key: &str, value: &str) {
    out.push(b',');
    push_str(out, key);
    out.push(b':');
    push_str(out, value);
}

fn push_str(out: &mut Vec<u8>, s: &str) {
    // Writing a string into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut *out, s);
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    fn parsed(body: &[u8]) -> Value {
        serde_json::from_slice(body).expect("the body is JSON")
    }

    #[test]
    fn trigger_body_is_name_channels_data_then_extras_in_order() {
        let body = trigger_body(
            "message",
            &["a".into(), "b".into()],
            r#"{"content":"hi \"you\""}"#,
            &pairs(&[("socket_id", "1.5"), ("info", "subscription_count")]),
        );
        assert_eq!(
            std::str::from_utf8(&body).unwrap(),
            r#"{"name":"message","channels":["a","b"],"data":"{\"content\":\"hi \\\"you\\\"\"}","socket_id":"1.5","info":"subscription_count"}"#
        );
    }

    #[test]
    fn an_extra_named_like_a_fixed_field_replaces_it_in_place() {
        let body = trigger_body(
            "e",
            &["a".into()],
            "1",
            &pairs(&[("info", "x"), ("name", "other")]),
        );
        let mut expected = json!({ "name": "e", "channels": ["a"] });
        expected["data"] = json!("1");
        expected["info"] = json!("x");
        expected["name"] = json!("other");
        assert_eq!(std::str::from_utf8(&body).unwrap(), expected.to_string());
    }

    #[test]
    fn trigger_body_escapes_control_and_unicode_characters_as_json() {
        let body = trigger_body("é\n\u{1}", &["c".into()], "\"\\/", &[]);
        let value = parsed(&body);
        assert_eq!(value["name"], "é\n\u{1}");
        assert_eq!(value["data"], "\"\\/");
    }

    #[test]
    fn batch_body_keeps_each_events_fields() {
        let body = batch_body(&[
            pairs(&[("channel", "a"), ("name", "e1"), ("data", "{}")]),
            pairs(&[
                ("channel", "b"),
                ("name", "e2"),
                ("data", "\"x\""),
                ("socket_id", "1.2"),
            ]),
        ]);
        assert_eq!(
            parsed(&body),
            json!({ "batch": [
                { "channel": "a", "name": "e1", "data": "{}" },
                { "channel": "b", "name": "e2", "data": "\"x\"", "socket_id": "1.2" },
            ] })
        );
        assert_eq!(batch_body(&[]), br#"{"batch":[]}"#);
    }

    #[test]
    fn info_is_wanted_only_when_asked_for() {
        assert!(wants_info(&pairs(&[("socket_id", "1.1"), ("info", "")])));
        assert!(!wants_info(&pairs(&[("socket_id", "1.1")])));
    }

    #[test]
    fn channel_and_socket_id_checks_use_webman_push_messages() {
        assert_eq!(check_channel("private-a_b=c@d,e.f;g-1"), Ok(()));
        assert_eq!(
            check_channel("bad channel"),
            Err(InvalidArgument("Invalid channel name bad channel".into()))
        );
        assert_eq!(check_socket_id("123.456"), Ok(()));
        assert_eq!(
            check_socket_id("1.5:evil"),
            Err(InvalidArgument("Invalid socket ID 1.5:evil".into()))
        );
    }

    #[test]
    fn a_user_channel_is_the_server_to_user_prefix_and_the_id() {
        assert_eq!(user_channel("42"), "#server-to-user-42");
    }

    /// The SDK writes what the server's typed reader takes: one shape, two directions.
    #[test]
    fn the_bodies_it_writes_are_what_the_http_api_reads_as_typed_bodies() {
        use crate::protocol::publish_body::{BatchBody, EventBody, Field};
        let body = trigger_body(
            "my-event",
            &["a".into(), "b".into()],
            "{\"x\":\"é\\n\"}",
            &pairs(&[("socket_id", "1.2"), ("info", "user_count")]),
        );
        let read = EventBody::parse(&body).expect("the server reads it as a typed event");
        assert_eq!(read.name, Field::Value("my-event".into()));
        assert_eq!(read.channels, Field::Value(vec!["a".into(), "b".into()]));
        assert_eq!(read.data, Field::Value("{\"x\":\"é\\n\"}".into()));
        assert_eq!(read.socket_id, Field::Value("1.2".into()));
        assert_eq!(read.info, Field::Value("user_count".into()));

        let batch = batch_body(&[pairs(&[("channel", "a"), ("name", "e1"), ("data", "{}")])]);
        let read = BatchBody::parse(&batch).expect("the server reads it as a typed batch");
        let Field::Value(events) = read.batch else {
            panic!("no batch in {read:?}")
        };
        assert_eq!(events[0].channel, Field::Value("a".into()));
        assert_eq!(events[0].data, Field::Value("{}".into()));
    }
}
