//! An in-process imitation of the Redis a cluster shares, for unit tests.
//!
//! Several nodes' [`MemoryTransport`]s share one [`MemoryBus`]: one pub/sub channel (every
//! subscriber, the sender included, hears each message once, in publish order), sets and leases
//! with expiry. A test can take Redis away for everyone ([`MemoryBus::set_down`]) or cut one node
//! off ([`MemoryTransport::set_cut`]): subscriptions end and commands fail, as with a dead socket.

use super::transport::{Command, Error, Received, Transport};
use futures_util::future::BoxFuture;
use futures_util::stream::BoxStream;
use futures_util::StreamExt;
use parking_lot::Mutex;
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

#[derive(Default)]
pub(super) struct MemoryBus {
    state: Mutex<BusState>,
    down: AtomicBool,
    next_transport: AtomicU64,
}

#[derive(Default)]
struct BusState {
    /// Subscribers by the transport that made them.
    subscribers: Vec<(u64, mpsc::UnboundedSender<Received>)>,
    sets: HashMap<String, HashSet<String>>,
    /// Lease key to holder and expiry.
    leases: HashMap<String, (String, Instant)>,
}

impl MemoryBus {
    pub fn new() -> Arc<MemoryBus> {
        Arc::new(MemoryBus::default())
    }

    /// Takes Redis away from every node (their subscriptions end) or brings it back.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
        if down {
            self.state.lock().subscribers.clear();
        }
    }

    /// The members of a set, as Redis would hold them.
    pub fn set_members(&self, key: &str) -> HashSet<String> {
        self.state.lock().sets.get(key).cloned().unwrap_or_default()
    }
}

pub(super) struct MemoryTransport {
    bus: Arc<MemoryBus>,
    id: u64,
    cut: AtomicBool,
}

impl MemoryTransport {
    pub fn new(bus: &Arc<MemoryBus>) -> Arc<MemoryTransport> {
        Arc::new(MemoryTransport {
            bus: bus.clone(),
            id: bus.next_transport.fetch_add(1, Ordering::Relaxed),
            cut: AtomicBool::new(false),
        })
    }

    /// Cuts this node off from Redis (its subscription ends) or reconnects it.
    pub fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        if cut {
            self.bus.state.lock().subscribers.retain(|(id, _)| *id != self.id);
        }
    }

    fn reachable(&self) -> Result<(), Error> {
        match self.cut.load(Ordering::SeqCst) || self.bus.down.load(Ordering::SeqCst) {
            true => Err("connection refused (memory transport)".into()),
            false => Ok(()),
        }
    }
}

impl Transport for MemoryTransport {
    fn subscribe(&self) -> BoxFuture<'_, Result<BoxStream<'static, Received>, Error>> {
        Box::pin(async move {
            self.reachable()?;
            let (tx, mut rx) = mpsc::unbounded_channel();
            let mut state = self.bus.state.lock();
            state.subscribers.retain(|(_, s)| !s.is_closed());
            state.subscribers.push((self.id, tx));
            Ok(futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx)).boxed())
        })
    }

    fn execute<'a>(&'a self, commands: &'a [Command]) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.reachable()?;
            let mut state = self.bus.state.lock();
            for command in commands {
                match command {
                    Command::Publish(text) => {
                        let text = text.as_bytes();
                        for (_, subscriber) in &state.subscribers {
                            let _ = subscriber.send(Received::Bytes(text.to_vec()));
                        }
                    }
                    Command::SetAdd { key, member } => {
                        state.sets.entry(key.clone()).or_default().insert(member.clone());
                    }
                    Command::SetRemove { key, member } => {
                        if let Some(set) = state.sets.get_mut(key) {
                            set.remove(member);
                        }
                    }
                }
            }
            Ok(())
        })
    }

    fn set_members<'a>(&'a self, key: &'a str) -> BoxFuture<'a, Result<HashSet<String>, Error>> {
        Box::pin(async move {
            self.reachable()?;
            Ok(self.bus.set_members(key))
        })
    }

    fn hold_lease<'a>(
        &'a self,
        key: &'a str,
        holder: &'a str,
        ttl: Duration,
    ) -> BoxFuture<'a, Result<bool, Error>> {
        Box::pin(async move {
            self.reachable()?;
            let now = Instant::now();
            let mut state = self.bus.state.lock();
            let lease = state
                .leases
                .entry(key.to_owned())
                .or_insert((holder.to_owned(), now));
            let free = lease.1 <= now;
            if free || lease.0 == holder {
                *lease = (holder.to_owned(), now + ttl);
                return Ok(true);
            }
            Ok(false)
        })
    }

    fn connected(&self) -> bool {
        self.reachable().is_ok()
    }

    fn release_lease<'a>(&'a self, key: &'a str, holder: &'a str) -> BoxFuture<'a, Result<(), Error>> {
        Box::pin(async move {
            self.reachable()?;
            let mut state = self.bus.state.lock();
            if state.leases.get(key).is_some_and(|(h, _)| h == holder) {
                state.leases.remove(key);
            }
            Ok(())
        })
    }
}
