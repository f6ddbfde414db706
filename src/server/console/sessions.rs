//! Who may use the console: credentials checked at login, then a session cookie.
//!
//! An app's key and secret log in to that app; `console_token` logs in to every app. Secrets are
//! compared as SHA-256 digests, so the time taken says nothing about how close a guess was, and
//! login attempts share one rate limit, so guessing is slow. A session id is 128 bits from the
//! operating system's random source (ring's `SystemRandom`: unlike `server/random.rs`, which
//! only needs ids that differ, this one must not be guessable). Sessions expire and are few:
//! at most [`MAX_SESSIONS`], the oldest forgotten first, so logging in cannot grow memory.

use crate::hub::Hub;
use parking_lot::Mutex;
use ring::rand::{SecureRandom, SystemRandom};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::time::{Duration, Instant};

pub(super) const MAX_SESSIONS: usize = 64;
pub(super) const SESSION_LIFETIME: Duration = Duration::from_secs(3600);
/// The cookie that carries the session id.
pub(super) const COOKIE: &str = "webman_push_console";

/// What a session may see: one app (by key), or every app (logged in with the token).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Access {
    App(String),
    AllApps,
}

struct Login {
    access: Access,
    expires: Instant,
}

pub(super) struct Sessions {
    /// SHA-256 of `console_token`, when set.
    token: Option<[u8; 32]>,
    logins: Mutex<HashMap<String, Login>>,
    random: SystemRandom,
}

impl Sessions {
    pub fn new(token: &str) -> Sessions {
        Sessions {
            token: (!token.is_empty()).then(|| digest(token)),
            logins: Mutex::new(HashMap::new()),
            random: SystemRandom::new(),
        }
    }

    /// What `key` + `secret`, or `token`, give access to; None when they are wrong.
    pub fn check(&self, hub: &Hub, key: &str, secret: &str, token: &str) -> Option<Access> {
        if !token.is_empty() {
            let expected = self.token?;
            return same(&digest(token), &expected).then_some(Access::AllApps);
        }
        let app = hub.app_by_key(key)?;
        let right = same(&digest(secret), &digest(&app.config.secret));
        right.then(|| Access::App(app.config.key.clone()))
    }

    /// 128 random bits in hex; None if the operating system gave none.
    pub fn random_hex(&self) -> Option<String> {
        let mut bytes = [0u8; 16];
        self.random.fill(&mut bytes).ok()?;
        Some(hex::encode(bytes))
    }

    /// A new session for `access`: its id, for the cookie. None if no random bytes were to be had.
    pub fn open(&self, access: Access, now: Instant) -> Option<String> {
        let id = self.random_hex()?;
        let mut logins = self.logins.lock();
        logins.retain(|_, l| l.expires > now);
        if logins.len() >= MAX_SESSIONS {
            let oldest = logins
                .iter()
                .min_by_key(|(_, l)| l.expires)
                .map(|(id, _)| id.clone());
            if let Some(oldest) = oldest {
                logins.remove(&oldest);
            }
        }
        let expires = now + SESSION_LIFETIME;
        logins.insert(id.clone(), Login { access, expires });
        Some(id)
    }

    /// The access of the session `id`, while it has not expired.
    pub fn access(&self, id: &str, now: Instant) -> Option<Access> {
        let logins = self.logins.lock();
        logins
            .get(id)
            .filter(|l| l.expires > now)
            .map(|l| l.access.clone())
    }

    pub fn close(&self, id: &str) {
        self.logins.lock().remove(id);
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Equal, compared in time that does not depend on where they differ.
fn same(a: &[u8; 32], b: &[u8; 32]) -> bool {
    a.iter().zip(b).fold(0u8, |d, (x, y)| d | (x ^ y)) == 0
}

/// The session id in a `Cookie` header, if any.
pub(super) fn session_cookie(header: &str) -> Option<&str> {
    header
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sessions_are_bounded_and_the_oldest_goes_first() {
        let sessions = Sessions::new("");
        let now = Instant::now();
        let first = sessions.open(Access::AllApps, now).unwrap();
        for i in 1..=MAX_SESSIONS {
            sessions.open(Access::AllApps, now + Duration::from_millis(i as u64));
        }
        assert_eq!(sessions.logins.lock().len(), MAX_SESSIONS);
        assert_eq!(sessions.access(&first, now), None);
    }

    #[test]
    fn a_session_expires_after_its_lifetime() {
        let sessions = Sessions::new("");
        let now = Instant::now();
        let id = sessions.open(Access::AllApps, now).unwrap();
        assert_eq!(sessions.access(&id, now), Some(Access::AllApps));
        assert_eq!(sessions.access(&id, now + SESSION_LIFETIME), None);
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let header = format!("a=1; {COOKIE}=abc; b=2");
        assert_eq!(session_cookie(&header), Some("abc"));
        assert_eq!(session_cookie("a=1"), None);
    }
}
