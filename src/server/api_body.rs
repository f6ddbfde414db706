//! The bounds on HTTP API request bodies that arrive slower than their head.
//!
//! A body is read before its signature can be checked, so whatever a body holds is held for
//! anyone. A body that came with its head (every SDK's publish) costs nothing extra here. One
//! that is still arriving is *parked*: from then on it has a deadline ([`BodyTimedOut`]), and the
//! bytes it may grow to (its Content-Length, or what it sent so far when chunked) are reserved
//! against a cap per client address and one for the whole server ([`PendingBodies`]); a body
//! that does not fit is refused before more of it is read ([`TooManyPending`]). A reservation
//! is a guard: it is released when the body completes, fails, or its connection is dropped.

use hyper::body::{Body, Bytes, Frame, Incoming, SizeHint};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

/// Shards of the per-address counters: parked bodies from different addresses rarely contend.
const SHARDS: usize = 16;

/// Bytes reserved by parked bodies, per client address and in total.
pub(crate) struct PendingBodies {
    per_ip_cap: usize,
    total_cap: usize,
    total: AtomicUsize,
    per_ip: [Mutex<HashMap<IpAddr, usize>>; SHARDS],
}

/// Which cap a parked body did not fit under.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TooManyPending {
    /// This client address already has that many bytes of unfinished bodies.
    FromAddress,
    /// The whole server has.
    Overall,
}

impl std::fmt::Display for TooManyPending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TooManyPending::FromAddress => {
                write!(
                    f,
                    "Too many unfinished request bodies from this address, retry later"
                )
            }
            TooManyPending::Overall => write!(f, "Too many unfinished request bodies, retry later"),
        }
    }
}

impl std::error::Error for TooManyPending {}

/// A parked body did not complete within `api_body_timeout`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct BodyTimedOut(pub Duration);

impl std::fmt::Display for BodyTimedOut {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Request body not received within {:?}", self.0)
    }
}

impl std::error::Error for BodyTimedOut {}

impl PendingBodies {
    pub fn new(per_ip_cap: usize, total_cap: usize) -> PendingBodies {
        PendingBodies {
            per_ip_cap,
            total_cap,
            total: AtomicUsize::new(0),
            per_ip: std::array::from_fn(|_| Mutex::new(HashMap::new())),
        }
    }

    fn shard(&self, ip: IpAddr) -> &Mutex<HashMap<IpAddr, usize>> {
        let folded = match ip {
            IpAddr::V4(v4) => u32::from(v4) as u64,
            IpAddr::V6(v6) => {
                let bits = u128::from(v6);
                (bits as u64) ^ ((bits >> 64) as u64)
            }
        };
        &self.per_ip[(folded.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 60) as usize % SHARDS]
    }

    /// Reserves `bytes` more for `ip`, or refuses without changing anything.
    fn reserve(&self, ip: IpAddr, bytes: usize) -> Result<(), TooManyPending> {
        let mut shard = self.shard(ip).lock();
        let held = shard.get(&ip).copied().unwrap_or(0);
        if held.saturating_add(bytes) > self.per_ip_cap {
            return Err(TooManyPending::FromAddress);
        }
        let before = self.total.fetch_add(bytes, Ordering::AcqRel);
        if before.saturating_add(bytes) > self.total_cap {
            self.total.fetch_sub(bytes, Ordering::AcqRel);
            return Err(TooManyPending::Overall);
        }
        shard.insert(ip, held + bytes);
        Ok(())
    }

    fn release(&self, ip: IpAddr, bytes: usize) {
        if bytes == 0 {
            return;
        }
        let mut shard = self.shard(ip).lock();
        if let Some(held) = shard.get_mut(&ip) {
            *held = held.saturating_sub(bytes);
            if *held == 0 {
                shard.remove(&ip);
            }
        }
        self.total.fetch_sub(bytes, Ordering::AcqRel);
    }

    /// Bytes reserved now by every parked body.
    #[cfg(test)]
    pub fn total(&self) -> usize {
        self.total.load(Ordering::Acquire)
    }
}

/// What a parked body holds: its reservation and its deadline.
struct Parked {
    pending: Arc<PendingBodies>,
    ip: IpAddr,
    reserved: usize,
    deadline: Pin<Box<tokio::time::Sleep>>,
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.pending.release(self.ip, self.reserved);
    }
}

/// A request body that is parked (and bounded) once it has to be waited for.
pub(crate) struct BoundedBody {
    inner: Incoming,
    ip: IpAddr,
    pending: Arc<PendingBodies>,
    timeout: Duration,
    received: usize,
    parked: Option<Parked>,
}

impl BoundedBody {
    pub fn new(inner: Incoming, ip: IpAddr, pending: Arc<PendingBodies>, timeout: Duration) -> Self {
        BoundedBody {
            inner,
            ip,
            pending,
            timeout,
            received: 0,
            parked: None,
        }
    }

    /// Makes sure `bytes` are reserved; the first call parks the body and starts its deadline.
    fn reserve_up_to(&mut self, bytes: usize) -> Result<&mut Parked, TooManyPending> {
        let parked = self.parked.get_or_insert_with(|| Parked {
            pending: self.pending.clone(),
            ip: self.ip,
            reserved: 0,
            deadline: Box::pin(tokio::time::sleep(self.timeout)),
        });
        if bytes > parked.reserved {
            parked.pending.reserve(parked.ip, bytes - parked.reserved)?;
            parked.reserved = bytes;
        }
        Ok(parked)
    }
}

type BoxError = Box<dyn std::error::Error + Send + Sync>;

impl Body for BoundedBody {
    type Data = Bytes;
    type Error = BoxError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BoxError>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(Some(Ok(frame))) => {
                if let Some(data) = frame.data_ref() {
                    this.received += data.len();
                    if this.parked.is_some() {
                        if let Err(e) = this.reserve_up_to(this.received) {
                            return Poll::Ready(Some(Err(e.into())));
                        }
                    }
                }
                Poll::Ready(Some(Ok(frame)))
            }
            Poll::Ready(other) => Poll::Ready(other.map(|r| r.map_err(BoxError::from))),
            Poll::Pending => {
                // The rest has to be waited for: reserve all it declared it will be.
                let expected = this
                    .received
                    .saturating_add(usize::try_from(this.inner.size_hint().lower()).unwrap_or(usize::MAX));
                let timeout = this.timeout;
                match this.reserve_up_to(expected) {
                    Err(e) => Poll::Ready(Some(Err(e.into()))),
                    Ok(parked) => match parked.deadline.as_mut().poll(cx) {
                        Poll::Ready(()) => Poll::Ready(Some(Err(BodyTimedOut(timeout).into()))),
                        Poll::Pending => Poll::Pending,
                    },
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reservation_over_either_cap_is_refused_and_changes_nothing() {
        let pending = PendingBodies::new(100, 150);
        let (a, b) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
        pending.reserve(a, 80).unwrap();
        assert_eq!(pending.reserve(a, 21), Err(TooManyPending::FromAddress));
        assert_eq!(pending.reserve(b, 71), Err(TooManyPending::Overall));
        pending.reserve(b, 70).unwrap();
        assert_eq!(pending.total(), 150);
        pending.release(a, 80);
        pending.release(b, 70);
        assert_eq!(pending.total(), 0);
        assert!(pending.per_ip.iter().all(|s| s.lock().is_empty()));
    }
}
