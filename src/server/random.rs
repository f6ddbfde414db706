//! Random ids for this process: the socket-id prefix and the cluster node id.
//!
//! Both only need to differ between processes and restarts, not to be secret, so std's randomly
//! keyed hasher (seeded from the OS once per process) over the time and pid is enough, without a
//! `rand` dependency.

use std::hash::{BuildHasher, Hasher};

/// A number no other process or restart is likely to draw.
pub(super) fn random_u64() -> u64 {
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    h.finish()
}
