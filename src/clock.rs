//! The wall clock, read in one place.
//!
//! `protocol` stays pure by taking the time as an argument (`sign_api_request`'s `timestamp`,
//! `ApiRequest::verify`'s `now`); whoever calls it, the server or the PHP `Api`, reads the
//! clock here, so neither needs the other to know what time it is.

/// Unix time in seconds (0 if the clock is set before 1970).
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
