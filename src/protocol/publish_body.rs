//! The bodies of the HTTP API's publish requests (`events`, `batch_events`) as typed values that
//! borrow from the request body: a well-formed publish is read in one pass, with no map built
//! and no string copied unless it holds JSON escapes.
//!
//! These types accept only the shapes a well-behaved SDK sends: strings where strings belong.
//! Anything else (`data` given as an object, a wrong type, a body that is not an object) fails to
//! parse here, and the caller then reads the body the general way, which knows every other shape
//! and every error message. Keys repeat the way JSON objects do in `serde_json::Value`: the last
//! one wins. An unknown key's value is read into a `Value`, so it is checked exactly as before
//! (numbers in range, nesting depth). Both types also serialize, so a client can build the
//! bodies it sends from them.

use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::fmt;

/// A field that may be absent, `null`, or a value: `channel: null` is an error where a missing
/// `channel` is not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Field<T> {
    #[default]
    Absent,
    Null,
    Value(T),
}

impl<T> Field<T> {
    pub fn is_absent(&self) -> bool {
        matches!(self, Field::Absent)
    }

    /// The value, treating `null` as absent.
    pub fn value(&self) -> Option<&T> {
        match self {
            Field::Value(v) => Some(v),
            _ => None,
        }
    }
}

impl<T: Serialize> Serialize for Field<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Field::Value(v) => v.serialize(serializer),
            _ => serializer.serialize_none(),
        }
    }
}

/// One event: what `POST /apps/{id}/events` takes, and each item of a batch.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct EventBody<'a> {
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub name: Field<Cow<'a, str>>,
    /// The payload exactly as the client's string holds it (usually JSON text itself).
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub data: Field<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub channels: Field<Vec<Cow<'a, str>>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub channel: Field<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub socket_id: Field<Cow<'a, str>>,
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub info: Field<Cow<'a, str>>,
}

/// What `POST /apps/{id}/batch_events` takes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BatchBody<'a> {
    #[serde(skip_serializing_if = "Field::is_absent")]
    pub batch: Field<Vec<EventBody<'a>>>,
}

impl<'a> EventBody<'a> {
    /// Reads a body in one pass; `None` when it is not an object of string fields.
    pub fn parse(body: &'a [u8]) -> Option<EventBody<'a>> {
        serde_json::from_slice(body).ok()
    }
}

impl<'a> BatchBody<'a> {
    /// Reads a body in one pass; `None` when it or any of its events is not of the typed shape.
    pub fn parse(body: &'a [u8]) -> Option<BatchBody<'a>> {
        serde_json::from_slice(body).ok()
    }
}

/// The keys an event or a batch has; any other is skipped.
enum Key {
    Name,
    Data,
    Channels,
    Channel,
    SocketId,
    Info,
    Batch,
    Other,
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Key, D::Error> {
        struct KeyVisitor;
        impl Visitor<'_> for KeyVisitor {
            type Value = Key;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a key")
            }
            // Also called for keys with escapes, decoded: they match as in a `Value`.
            fn visit_str<E: de::Error>(self, key: &str) -> Result<Key, E> {
                Ok(match key {
                    "name" => Key::Name,
                    "data" => Key::Data,
                    "channels" => Key::Channels,
                    "channel" => Key::Channel,
                    "socket_id" => Key::SocketId,
                    "info" => Key::Info,
                    "batch" => Key::Batch,
                    _ => Key::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// A string that borrows from the body unless it had escapes (`Cow`'s own `Deserialize` always
/// copies).
struct Text;

impl<'de> Visitor<'de> for Text {
    type Value = Cow<'de, str>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }
    fn visit_str<E: de::Error>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_owned()))
    }
    fn visit_string<E: de::Error>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

impl<'de> DeserializeSeed<'de> for Text {
    type Value = Cow<'de, str>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

/// An array of [`Text`].
struct Texts;

impl<'de> Visitor<'de> for Texts {
    type Value = Vec<Cow<'de, str>>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of strings")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(1).min(64));
        while let Some(text) = seq.next_element_seed(Text)? {
            out.push(text);
        }
        Ok(out)
    }
}

impl<'de> DeserializeSeed<'de> for Texts {
    type Value = Vec<Cow<'de, str>>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_seq(self)
    }
}

/// `null` or what `T` reads, as a [`Field`].
struct Nullable<T>(T);

impl<'de, T: DeserializeSeed<'de>> Visitor<'de> for Nullable<T> {
    type Value = Field<T::Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("null or a value")
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(Field::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        self.0.deserialize(deserializer).map(Field::Value)
    }
}

impl<'de, T: DeserializeSeed<'de>> DeserializeSeed<'de> for Nullable<T> {
    type Value = Field<T::Value>;
    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

/// Reads an event's strings, borrowed: `null` is [`Field::Null`], a repeated key replaces the
/// earlier value.
fn text<'de, A: MapAccess<'de>>(map: &mut A) -> Result<Field<Cow<'de, str>>, A::Error> {
    map.next_value_seed(Nullable(Text))
}

/// Skips an unknown key's value the way `serde_json::Value` reads it, so the same bodies fail.
fn skip<'de, A: MapAccess<'de>>(map: &mut A) -> Result<(), A::Error> {
    map.next_value::<serde_json::Value>().map(drop)
}

impl<'de> Deserialize<'de> for EventBody<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct EventVisitor;
        impl<'de> Visitor<'de> for EventVisitor {
            type Value = EventBody<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an event object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EventBody<'de>, A::Error> {
                let mut event = EventBody::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Name => event.name = text(&mut map)?,
                        Key::Data => event.data = text(&mut map)?,
                        Key::Channels => event.channels = map.next_value_seed(Nullable(Texts))?,
                        Key::Channel => event.channel = text(&mut map)?,
                        Key::SocketId => event.socket_id = text(&mut map)?,
                        Key::Info => event.info = text(&mut map)?,
                        Key::Batch | Key::Other => skip(&mut map)?,
                    }
                }
                Ok(event)
            }
        }
        // A map only: serde's derived structs would also take a JSON array.
        deserializer.deserialize_map(EventVisitor)
    }
}

impl<'de> Deserialize<'de> for BatchBody<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct BatchVisitor;
        impl<'de> Visitor<'de> for BatchVisitor {
            type Value = BatchBody<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a batch object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<BatchBody<'de>, A::Error> {
                let mut body = BatchBody::default();
                while let Some(key) = map.next_key::<Key>()? {
                    match key {
                        Key::Batch => {
                            body.batch = match map.next_value::<Option<Vec<EventBody<'de>>>>()? {
                                Some(events) => Field::Value(events),
                                None => Field::Null,
                            }
                        }
                        _ => skip(&mut map)?,
                    }
                }
                Ok(body)
            }
        }
        deserializer.deserialize_map(BatchVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sdk_event_is_read_without_copying_its_strings() {
        let body = br#"{"name":"e","data":"{\"a\":1}","channels":["c1","c2"],"socket_id":"1.2"}"#;
        let event = EventBody::parse(body).expect("typed");
        assert!(matches!(event.name, Field::Value(Cow::Borrowed("e"))));
        assert_eq!(event.data.value().map(|d| d.as_ref()), Some(r#"{"a":1}"#));
        assert_eq!(event.channels.value().map(Vec::len), Some(2));
        assert!(event.channel.is_absent());
    }

    #[test]
    fn null_and_absent_fields_are_told_apart() {
        let event = EventBody::parse(br#"{"name":"e","channel":null}"#).expect("typed");
        assert_eq!(event.channel, Field::Null);
        assert_eq!(event.data, Field::Absent);
    }

    #[test]
    fn the_last_of_repeated_keys_wins_as_in_a_json_value() {
        let event = EventBody::parse(br#"{"name":"a","name":"b"}"#).expect("typed");
        assert_eq!(event.name, Field::Value("b".into()));
    }

    #[test]
    fn other_shapes_are_left_to_the_general_reader() {
        for body in [
            &br#"["e","d"]"#[..],
            br#"{"name":"e","data":{"a":1}}"#,
            br#"{"name":1}"#,
            br#"{"name":"e","channels":["c",2]}"#,
            br#"{"name":"e","other":1e999}"#,
            br#"{"name":"e""#,
        ] {
            assert_eq!(EventBody::parse(body), None, "{}", String::from_utf8_lossy(body));
        }
        assert_eq!(BatchBody::parse(br#"{"batch":[{"name":"e"},[1]]}"#), None);
    }

    #[test]
    fn a_body_serializes_to_what_parses_back() {
        let event = EventBody {
            name: Field::Value("e".into()),
            data: Field::Value("x\"y".into()),
            channels: Field::Value(vec!["c".into()]),
            ..EventBody::default()
        };
        let batch = BatchBody {
            batch: Field::Value(vec![event.clone()]),
        };
        let text = serde_json::to_vec(&batch).expect("serializes");
        assert_eq!(
            String::from_utf8_lossy(&text),
            r#"{"batch":[{"name":"e","data":"x\"y","channels":["c"]}]}"#
        );
        assert_eq!(BatchBody::parse(&text), Some(batch));
    }
}
