//! Re-polling a task that wakes itself, without a trip through the scheduler.
//!
//! hyper wakes a connection's task from inside that task's own poll on every request with a body
//! (its body channel wakes the sender's waker when the handler takes the chunk, and both ends
//! live in the connection's task). tokio's work-stealing scheduler treats such a wake as a yield:
//! the task goes to the back of the queue and a parked sibling thread is woken to steal it, which
//! on the HTTP API cost ~15 % of the server's CPU per request (futex and eventfd wake-ups, a
//! context switch, the sibling finding nothing to do). [`InlineWake`] notices a wake that arrives
//! while the future is being polled and polls it again right away; a wake from anywhere else, or
//! after the poll, goes to the runtime as usual.

use futures_util::task::AtomicWaker;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// How many times one poll may re-poll a self-waking future before yielding to the runtime like
/// it asked (hyper yields on purpose after 16 pipelined requests; others must get a turn).
const MAX_INLINE_POLLS: usize = 4;

const POLLING: u8 = 1;
const WOKEN: u8 = 2;

pub(crate) struct InlineWake<F> {
    inner: Pin<Box<F>>,
    shared: Arc<Shared>,
    waker: Waker,
}

struct Shared {
    state: AtomicU8,
    outer: AtomicWaker,
}

impl Wake for Shared {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if self.state.fetch_or(WOKEN, Ordering::AcqRel) & POLLING == 0 {
            self.outer.wake();
        }
    }
}

impl<F: Future> InlineWake<F> {
    pub fn new(inner: F) -> InlineWake<F> {
        let shared = Arc::new(Shared {
            state: AtomicU8::new(0),
            outer: AtomicWaker::new(),
        });
        let waker = Waker::from(shared.clone());
        InlineWake {
            inner: Box::pin(inner),
            shared,
            waker,
        }
    }
}

impl<F: Future> Future for InlineWake<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = &mut *self;
        this.shared.outer.register(cx.waker());
        for _ in 0..MAX_INLINE_POLLS {
            this.shared.state.store(POLLING, Ordering::Release);
            let polled = this.inner.as_mut().poll(&mut Context::from_waker(&this.waker));
            // A wake that lands after this sees POLLING clear and goes to the runtime.
            let state = this.shared.state.swap(0, Ordering::AcqRel);
            if polled.is_ready() || state & WOKEN == 0 {
                return polled;
            }
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    struct Counter(AtomicUsize);
    impl Wake for Counter {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    /// Wakes itself on each of its first `n` polls, then finishes.
    struct SelfWaking(usize);
    impl Future for SelfWaking {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
            if self.0 == 0 {
                return Poll::Ready(());
            }
            self.0 -= 1;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }

    fn outer() -> (Arc<Counter>, Waker) {
        let c = Arc::new(Counter(AtomicUsize::new(0)));
        (c.clone(), Waker::from(c))
    }

    #[test]
    fn a_wake_during_the_poll_is_served_by_polling_again_at_once() {
        let (count, waker) = outer();
        let mut f = std::pin::pin!(InlineWake::new(SelfWaking(2)));
        assert!(f.as_mut().poll(&mut Context::from_waker(&waker)).is_ready());
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn endless_self_wakes_still_yield_to_the_runtime() {
        let (count, waker) = outer();
        let mut f = std::pin::pin!(InlineWake::new(SelfWaking(usize::MAX)));
        assert!(f.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn a_wake_after_the_poll_reaches_the_runtime() {
        let (count, waker) = outer();
        let (tx, rx) = std::sync::mpsc::channel::<Waker>();
        let inner = std::future::poll_fn(move |cx| {
            let _ = tx.send(cx.waker().clone());
            Poll::<()>::Pending
        });
        let mut f = std::pin::pin!(InlineWake::new(inner));
        assert!(f.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
        let inner_waker = rx.recv().unwrap();
        assert_eq!(count.0.load(Ordering::SeqCst), 0);
        inner_waker.wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
    }
}
