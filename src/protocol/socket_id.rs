//! Socket ids: `<digits>.<digits>`, unique per connection, used to exclude the sender of a publish.

use std::fmt;

/// A validated socket id. Server SDKs check `^\d+\.\d+$` before sending one, and so do we.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SocketId(String);

impl SocketId {
    /// Builds the id of a new connection from a per-server prefix and a per-connection counter.
    pub fn new(prefix: u32, counter: u64) -> SocketId {
        SocketId(format!("{prefix}.{counter}"))
    }

    pub fn parse(s: &str) -> Option<SocketId> {
        let (a, b) = s.split_once('.')?;
        let digits = |p: &str| !p.is_empty() && p.len() <= 20 && p.bytes().all(|b| b.is_ascii_digit());
        (digits(a) && digits(b)).then(|| SocketId(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_ids_have_the_pusher_shape() {
        let id = SocketId::new(123, 456);
        assert_eq!(id.as_str(), "123.456");
        assert_eq!(SocketId::parse(id.as_str()), Some(id));
    }

    #[test]
    fn malformed_ids_are_rejected() {
        for bad in ["", "1", "1.", ".1", "1.2.3", "a.1", "1.1 ", "-1.2", "1.2x"] {
            assert_eq!(SocketId::parse(bad), None, "{bad:?}");
        }
    }
}
