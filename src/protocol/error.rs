//! Pusher error and close codes (protocol §"Error codes").
//!
//! 4000–4099: do not reconnect unchanged; 4100–4199: back off; 4200–4299: reconnect now;
//! 4300–4399: errors that leave the connection open. pusher-js picks its reconnect policy from them.

/// A Pusher error code, sent in `pusher:error` and/or as the WebSocket close code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 4001: no app has the key in the connect path.
    AppNotFound,
    /// 4003: the app exists but is disabled.
    AppDisabled,
    /// 4004: the app already has its maximum number of connections.
    OverConnectionQuota,
    /// 4005: the path is not `/app/{key}`.
    PathNotFound,
    /// 4009: the connection is not authorised (timeout, terminated by the app).
    Unauthorized,
    /// 4100: the server cannot keep up with this client (its send queue overflowed).
    OverCapacity,
    /// 4200: generic "reconnect now", used when the server shuts down.
    ReconnectNow,
    /// 4201: the client did not answer our ping in time.
    PongNotReceived,
    /// 4301: client events sent faster than the per-connection rate limit.
    ClientEventRateLimit,
    /// 4302: more than 100 ids in a watchlist.
    WatchlistLimit,
    /// 4301 too: subscribes and unsubscribes sent faster than the per-connection rate limit.
    SubscriptionRateLimit,
    /// 4303 (this server's own): a subscribe beyond the connection's channel limit; the
    /// connection and its other subscriptions stay.
    TooManyChannels,
}

impl ErrorCode {
    pub fn code(self) -> u16 {
        match self {
            ErrorCode::AppNotFound => 4001,
            ErrorCode::AppDisabled => 4003,
            ErrorCode::OverConnectionQuota => 4004,
            ErrorCode::PathNotFound => 4005,
            ErrorCode::Unauthorized => 4009,
            ErrorCode::OverCapacity => 4100,
            ErrorCode::ReconnectNow => 4200,
            ErrorCode::PongNotReceived => 4201,
            ErrorCode::ClientEventRateLimit => 4301,
            ErrorCode::WatchlistLimit => 4302,
            ErrorCode::SubscriptionRateLimit => 4301,
            ErrorCode::TooManyChannels => 4303,
        }
    }
}

/// WebSocket close code for a message larger than the server accepts (RFC 6455).
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;

/// WebSocket close code for a frame that breaks RFC 6455 (reserved bits or opcodes, an unmasked or
/// oversized control frame, a stray continuation, a malformed close frame).
pub const CLOSE_PROTOCOL_ERROR: u16 = 1002;

/// WebSocket close code for a text message or close reason that is not valid UTF-8 (RFC 6455).
pub const CLOSE_INVALID_PAYLOAD: u16 = 1007;
