//! Signed-in users: who is online, who watches whom, and closing a user's connections.
//!
//! A connection signs in once (`pusher:signin`) as one user id. A user is online while at least
//! one of their connections is signed in; connections that listed them in their watchlist are
//! told when that changes (`pusher_internal:watchlist_events`).

use super::error::UserDataError;
use super::remote::{Origin, RemoteNodes, Subject};
use super::{Frame, Outbox, UserId};
use crate::protocol::message::{error_frame, watchlist_frame};
use crate::protocol::ErrorCode;
use parking_lot::{Mutex, RwLock};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Pusher watches at most this many ids per user; the rest are dropped with 4302.
pub const MAX_WATCHLIST: usize = 100;

/// What a connection signed in as, read from the signed `user_data`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedInUser {
    pub id: UserId,
    pub watchlist: Vec<UserId>,
    /// How many watchlist ids were beyond `MAX_WATCHLIST` and ignored.
    pub watchlist_dropped: usize,
}

impl SignedInUser {
    /// Parses `user_data`: `id` must be a non-empty string (a number is accepted as its digits).
    pub fn from_user_data(user_data: &str) -> Result<SignedInUser, UserDataError> {
        let Ok(Value::Object(obj)) = serde_json::from_str::<Value>(user_data) else {
            return Err(UserDataError::NotAnObject);
        };
        let id = match obj.get("id") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(Value::Number(n)) => n.to_string(),
            _ => return Err(UserDataError::NoId),
        };
        let mut watchlist: Vec<UserId> = match obj.get("watchlist") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(|v| match v {
                    Value::String(s) if !s.is_empty() => Some(s.clone()),
                    Value::Number(n) => Some(n.to_string()),
                    _ => None,
                })
                .collect(),
            Some(_) => return Err(UserDataError::WatchlistNotAnArray),
        };
        let watchlist_dropped = watchlist.len().saturating_sub(MAX_WATCHLIST);
        watchlist.truncate(MAX_WATCHLIST);
        Ok(SignedInUser {
            id,
            watchlist,
            watchlist_dropped,
        })
    }
}

#[derive(Clone)]
struct Conn {
    id: u64,
    outbox: Arc<dyn Outbox>,
}

#[derive(Default)]
struct Registry {
    online: HashMap<UserId, Vec<Conn>>,
    watchers: HashMap<UserId, Vec<Conn>>,
}

#[derive(Default)]
pub(crate) struct Users {
    registry: Mutex<Registry>,
}

impl Users {
    /// Registers connection `id` as `user` and tells it who of its watchlist is online.
    pub fn sign_in(
        &self,
        id: u64,
        outbox: &Arc<dyn Outbox>,
        user: &SignedInUser,
        remote: &RwLock<RemoteNodes>,
    ) {
        let conn = Conn {
            id,
            outbox: outbox.clone(),
        };
        let mut reg = self.registry.lock();
        let sockets = reg.online.entry(user.id.clone()).or_default();
        sockets.push(conn.clone());
        if sockets.len() == 1 && remote.read().is_news(Subject::User(&user.id), Origin::Here) {
            notify(&reg, &user.id, true);
        }
        for watched in &user.watchlist {
            reg.watchers
                .entry(watched.clone())
                .or_default()
                .push(conn.clone());
        }
        if !user.watchlist.is_empty() {
            let remote = remote.read();
            let (online, offline): (Vec<&str>, Vec<&str>) = user
                .watchlist
                .iter()
                .map(String::as_str)
                .partition(|w| reg.online.contains_key(*w) || remote.holds(Subject::User(w), None));
            outbox.send(Frame::from(watchlist_frame(&online, &offline)));
        }
    }

    /// Unregisters connection `id`; the user goes offline with their last connection.
    pub fn sign_out(&self, id: u64, user: &SignedInUser, remote: &RwLock<RemoteNodes>) {
        let mut reg = self.registry.lock();
        if let Some(sockets) = reg.online.get_mut(&user.id) {
            sockets.retain(|c| c.id != id);
            if sockets.is_empty() {
                reg.online.remove(&user.id);
                if remote.read().is_news(Subject::User(&user.id), Origin::Here) {
                    notify(&reg, &user.id, false);
                }
            }
        }
        for watched in &user.watchlist {
            if let Some(watchers) = reg.watchers.get_mut(watched) {
                watchers.retain(|c| c.id != id);
                if watchers.is_empty() {
                    reg.watchers.remove(watched);
                }
            }
        }
    }

    /// Closes every connection signed in as `user` with 4009; returns how many.
    pub fn terminate(&self, user: &str) -> usize {
        let reg = self.registry.lock();
        let Some(sockets) = reg.online.get(user) else {
            return 0;
        };
        let code = ErrorCode::Unauthorized.code();
        let message = "Connection terminated by the application";
        for c in sockets {
            c.outbox.send(Frame::from(error_frame(Some(code), message)));
            c.outbox.close(code, message);
        }
        sockets.len()
    }

    /// A user came online or went offline on `node`: tell local watchers, unless the user is
    /// signed in here or on another node too.
    pub fn remote_user_changed(&self, user: &str, online: bool, node: &str, remote: &RwLock<RemoteNodes>) {
        let reg = self.registry.lock();
        let origin = Origin::Node {
            node,
            held_here: reg.online.contains_key(user),
        };
        if remote.read().is_news(Subject::User(user), origin) {
            notify(&reg, user, online);
        }
    }

    /// Users signed in on this node.
    pub fn online_users(&self) -> Vec<UserId> {
        self.registry.lock().online.keys().cloned().collect()
    }
}

fn notify(reg: &Registry, user: &str, online: bool) {
    let Some(watchers) = reg.watchers.get(user) else {
        return;
    };
    let frame = Frame::from(if online {
        watchlist_frame(&[user], &[])
    } else {
        watchlist_frame(&[], &[user])
    });
    for w in watchers {
        w.outbox.send(frame.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_data_needs_an_id() {
        let refused = |data: &str| SignedInUser::from_user_data(data).err();
        assert_eq!(refused(r#"{"id":""}"#), Some(UserDataError::NoId));
        assert_eq!(refused(r#"{"name":"x"}"#), Some(UserDataError::NoId));
        assert_eq!(refused("nope"), Some(UserDataError::NotAnObject));
        assert_eq!(
            refused(r#"{"id":"a","watchlist":"b"}"#),
            Some(UserDataError::WatchlistNotAnArray)
        );
        assert_eq!(SignedInUser::from_user_data(r#"{"id":5}"#).unwrap().id, "5");
    }

    #[test]
    fn watchlists_beyond_a_hundred_ids_are_cut() {
        let ids: Vec<String> = (0..105).map(|i| format!("\"u{i}\"")).collect();
        let user = SignedInUser::from_user_data(&format!(r#"{{"id":"a","watchlist":[{}]}}"#, ids.join(",")))
            .unwrap();
        assert_eq!((user.watchlist.len(), user.watchlist_dropped), (100, 5));
    }
}
