//! The bytes nodes exchange through Redis: the messages on the bus and the entries of the
//! leader's reported sets.
//!
//! The field names on the wire are one letter, and stay so: nodes of an older and a newer
//! version share one Redis during a rolling upgrade, so the wire format is a contract. The Rust
//! names say what each field is; `serde(rename)` keeps the letters. Anything that does not decode
//! (garbage, another program on the channel, a message kind from a future version) is ignored.

use crate::hub::NodeSnapshot;
use crate::protocol::ChannelName;
use serde::{Deserialize, Serialize};

/// A message on the bus, tagged by its kind in `t`.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "t")]
pub(super) enum Message {
    /// An event published on the sending node, for every other node to deliver to its subscribers.
    #[serde(rename = "p")]
    Publish {
        #[serde(rename = "n")]
        node: String,
        #[serde(rename = "a")]
        app_key: String,
        #[serde(rename = "c")]
        channel: String,
        #[serde(rename = "e")]
        event: String,
        /// The event's `data`, already a JSON string.
        #[serde(rename = "d")]
        data: String,
        /// The socket that must not receive it.
        #[serde(rename = "x", default, skip_serializing_if = "Option::is_none")]
        except: Option<String>,
        /// The signed-in user who sent it (client events).
        #[serde(rename = "u", default, skip_serializing_if = "Option::is_none")]
        user_id: Option<String>,
        #[serde(rename = "f", default)]
        from_client: bool,
    },
    /// The sender's whole state of one app: on every change and as the heartbeat.
    #[serde(rename = "s")]
    Snapshot {
        #[serde(rename = "n")]
        node: String,
        #[serde(rename = "a")]
        app_key: String,
        #[serde(rename = "s")]
        snapshot: NodeSnapshot,
    },
    /// Close a user's connections on every node.
    #[serde(rename = "x")]
    Terminate {
        #[serde(rename = "n")]
        node: String,
        #[serde(rename = "a")]
        app_key: String,
        #[serde(rename = "u")]
        user_id: String,
    },
    /// The sender stops: its clients leave the cluster now rather than at the liveness timeout.
    #[serde(rename = "b")]
    Goodbye {
        #[serde(rename = "n")]
        node: String,
    },
}

impl Message {
    /// The node that sent it (every node also hears its own messages).
    pub fn sender(&self) -> &str {
        match self {
            Message::Publish { node, .. }
            | Message::Snapshot { node, .. }
            | Message::Terminate { node, .. }
            | Message::Goodbye { node } => node,
        }
    }

    pub fn encode(&self) -> Option<String> {
        serde_json::to_string(self).ok()
    }

    pub fn decode(payload: &[u8]) -> Option<Message> {
        serde_json::from_slice(payload).ok()
    }
}

/// A reported presence member as an entry of the leader's members set: `["channel","user_id"]`.
pub(super) fn member_entry(channel: &str, user_id: &str) -> String {
    serde_json::json!([channel, user_id]).to_string()
}

pub(super) fn parse_member_entry(entry: &str) -> Option<(ChannelName, String)> {
    let (channel, user_id): (String, String) = serde_json::from_str(entry).ok()?;
    Some((ChannelName::parse(&channel, usize::MAX).ok()?, user_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publish() -> Message {
        Message::Publish {
            node: "n1".into(),
            app_key: "key".into(),
            channel: "news".into(),
            event: "e".into(),
            data: "\"hi\"".into(),
            except: Some("1.2".into()),
            user_id: Some("alice".into()),
            from_client: true,
        }
    }

    fn snapshot() -> Message {
        let mut s = NodeSnapshot::default();
        s.channels.insert("presence-room".into(), 2);
        s.presence
            .insert("presence-room".into(), vec![("alice".into(), Some("{}".into()))]);
        s.users.push("alice".into());
        Message::Snapshot {
            node: "n1".into(),
            app_key: "key".into(),
            snapshot: s,
        }
    }

    fn terminate() -> Message {
        Message::Terminate {
            node: "n1".into(),
            app_key: "key".into(),
            user_id: "alice".into(),
        }
    }

    fn goodbye() -> Message {
        Message::Goodbye { node: "n1".into() }
    }

    #[test]
    fn every_message_kind_survives_a_round_trip() {
        for m in [publish(), snapshot(), terminate(), goodbye()] {
            let text = m.encode().unwrap();
            assert_eq!(Message::decode(text.as_bytes()), Some(m), "{text}");
        }
    }

    #[test]
    fn a_publish_is_pinned_on_the_wire() {
        assert_eq!(
            publish().encode().unwrap(),
            r#"{"t":"p","n":"n1","a":"key","c":"news","e":"e","d":"\"hi\"","x":"1.2","u":"alice","f":true}"#
        );
    }

    #[test]
    fn a_publish_leaves_out_absent_options_and_reads_without_them() {
        let plain = Message::Publish {
            node: "n1".into(),
            app_key: "key".into(),
            channel: "news".into(),
            event: "e".into(),
            data: "1".into(),
            except: None,
            user_id: None,
            from_client: false,
        };
        let text = r#"{"t":"p","n":"n1","a":"key","c":"news","e":"e","d":"1","f":false}"#;
        assert_eq!(plain.encode().unwrap(), text);
        let without_flag = r#"{"t":"p","n":"n1","a":"key","c":"news","e":"e","d":"1"}"#;
        assert_eq!(Message::decode(without_flag.as_bytes()), Some(plain));
    }

    #[test]
    fn a_snapshot_is_pinned_on_the_wire() {
        assert_eq!(
            snapshot().encode().unwrap(),
            r#"{"t":"s","n":"n1","a":"key","s":{"channels":{"presence-room":2},"presence":{"presence-room":[["alice","{}"]]},"users":["alice"]}}"#
        );
    }

    #[test]
    fn a_terminate_is_pinned_on_the_wire() {
        assert_eq!(
            terminate().encode().unwrap(),
            r#"{"t":"x","n":"n1","a":"key","u":"alice"}"#
        );
    }

    #[test]
    fn a_goodbye_is_pinned_on_the_wire() {
        assert_eq!(goodbye().encode().unwrap(), r#"{"t":"b","n":"n1"}"#);
    }

    #[test]
    fn garbage_and_unknown_messages_are_rejected_without_panic() {
        let rejected: [&[u8]; 9] = [
            b"",
            b"\xff\xfe\x00",
            b"not json",
            b"[]",
            b"{}",
            br#"{"t":"z","n":"n1"}"#,
            br#"{"t":"p","n":"n1"}"#,
            br#"{"t":"x","n":"n1","a":"key","u":7}"#,
            br#"{"t":"s","n":"n1","a":"key","s":{"channels":{"c":-1}}}"#,
        ];
        for payload in rejected {
            assert_eq!(
                Message::decode(payload),
                None,
                "{:?}",
                String::from_utf8_lossy(payload)
            );
        }
    }

    #[test]
    fn a_member_entry_is_a_json_pair_and_reads_back() {
        let entry = member_entry("presence-room", "alice");
        assert_eq!(entry, r#"["presence-room","alice"]"#);
        let (channel, user_id) = parse_member_entry(&entry).unwrap();
        assert_eq!((channel.as_str(), user_id.as_str()), ("presence-room", "alice"));
    }

    #[test]
    fn a_malformed_member_entry_is_skipped() {
        for entry in [
            "",
            "alice",
            r#"["presence-room"]"#,
            r#"["", "alice"]"#,
            r#"[1,2]"#,
        ] {
            assert!(parse_member_entry(entry).is_none(), "{entry}");
        }
    }
}
