//! Presence membership: users (not sockets) in a channel, in the order they joined.
//!
//! A user with several sockets in one channel counts once: `member_added` goes out on their first
//! socket and `member_removed` on their last, and the first `user_info` is kept meanwhile.

use super::error::ChannelDataError;
use indexmap::IndexMap;
use serde_json::Value;

/// A presence user id as the protocol carries it: always a string on the wire.
pub type UserId = String;

/// Pusher's limit on a user id's length.
pub const MAX_USER_ID_LEN: usize = 128;

/// One member as announced to the channel.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresenceMember {
    pub user_id: UserId,
    /// `user_info` as a JSON text, when the auth endpoint gave one.
    pub user_info: Option<String>,
}

impl PresenceMember {
    /// Reads the signed `channel_data`: `user_id` (string or number) is required, `user_info` optional.
    pub fn from_channel_data(
        channel_data: &str,
        max_info_size: usize,
    ) -> Result<PresenceMember, ChannelDataError> {
        let value: Value = serde_json::from_str(channel_data).map_err(|_| ChannelDataError::NotJson)?;
        let Value::Object(obj) = value else {
            return Err(ChannelDataError::NotAnObject);
        };
        let user_id = match obj.get("user_id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(ChannelDataError::NoUserId),
        };
        if user_id.chars().count() > MAX_USER_ID_LEN {
            return Err(ChannelDataError::UserIdTooLong { max: MAX_USER_ID_LEN });
        }
        let user_info = match obj.get("user_info") {
            None | Some(Value::Null) => None,
            Some(info) => Some(info.to_string()),
        };
        if let Some(info) = &user_info {
            if info.len() > max_info_size {
                return Err(ChannelDataError::UserInfoTooLarge {
                    size: info.len(),
                    max: max_info_size,
                });
            }
        }
        Ok(PresenceMember { user_id, user_info })
    }

    /// The `data` of `pusher_internal:member_added`.
    pub fn added_data(&self) -> String {
        let mut out = String::from("{\"user_id\":");
        crate::protocol::message::push_json_str(&mut out, &self.user_id);
        if let Some(info) = &self.user_info {
            out.push_str(",\"user_info\":");
            out.push_str(info);
        }
        out.push('}');
        out
    }

    /// The `data` of `pusher_internal:member_removed`.
    pub fn removed_data(user_id: &str) -> String {
        let mut out = String::from("{\"user_id\":");
        crate::protocol::message::push_json_str(&mut out, user_id);
        out.push('}');
        out
    }
}

struct Member {
    user_info: Option<String>,
    sockets: usize,
}

#[derive(Default)]
pub(crate) struct Presence {
    members: IndexMap<UserId, Member>,
}

impl Presence {
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn contains(&self, user_id: &str) -> bool {
        self.members.contains_key(user_id)
    }

    /// Whether `user_id` would be a new member of a channel that already has `max` in the
    /// cluster: this node's members and the `remote` ones not here.
    pub fn would_overfill(&self, user_id: &str, remote: &[PresenceMember], max: usize) -> bool {
        let present = self.contains(user_id) || remote.iter().any(|m| m.user_id == user_id);
        let total = self.len() + remote.iter().filter(|m| !self.contains(&m.user_id)).count();
        !present && total >= max
    }

    /// Adds one socket of `member`; true when it is the user's first (announce them).
    pub fn join(&mut self, member: &PresenceMember) -> bool {
        let entry = self.members.entry(member.user_id.clone()).or_insert(Member {
            user_info: member.user_info.clone(),
            sockets: 0,
        });
        entry.sockets += 1;
        entry.sockets == 1
    }

    /// Removes one socket of `user_id`; true when it was the user's last (announce removal).
    pub fn leave(&mut self, user_id: &str) -> bool {
        let Some(member) = self.members.get_mut(user_id) else {
            return false;
        };
        member.sockets -= 1;
        if member.sockets == 0 {
            self.members.shift_remove(user_id);
            true
        } else {
            false
        }
    }

    pub fn members(&self) -> Vec<PresenceMember> {
        self.members
            .iter()
            .map(|(id, m)| PresenceMember {
                user_id: id.clone(),
                user_info: m.user_info.clone(),
            })
            .collect()
    }

    /// The `data` of a presence `subscription_succeeded`: `{"presence":{"ids","hash","count"}}`,
    /// over this node's members and `remote` ones (other nodes' members not here).
    pub fn subscription_data(&self, remote: &[PresenceMember]) -> String {
        use crate::protocol::message::push_json_str;
        let local = self
            .members
            .iter()
            .map(|(id, m)| (id.as_str(), m.user_info.as_deref()));
        let others = remote
            .iter()
            .filter(|m| !self.members.contains_key(&m.user_id))
            .map(|m| (m.user_id.as_str(), m.user_info.as_deref()));
        let (mut ids, mut hash, mut count) = (String::from("["), String::from("{"), 0);
        for (id, info) in local.chain(others) {
            if count > 0 {
                ids.push(',');
                hash.push(',');
            }
            push_json_str(&mut ids, id);
            push_json_str(&mut hash, id);
            hash.push(':');
            hash.push_str(info.unwrap_or("null"));
            count += 1;
        }
        ids.push(']');
        hash.push('}');
        format!("{{\"presence\":{{\"ids\":{ids},\"hash\":{hash},\"count\":{count}}}}}")
    }

    /// This node's members as a snapshot shares them.
    pub fn snapshot(&self) -> Vec<(String, Option<String>)> {
        self.members
            .iter()
            .map(|(id, m)| (id.clone(), m.user_info.clone()))
            .collect()
    }
}
