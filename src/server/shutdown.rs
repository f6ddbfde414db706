//! Stopping the server: one signal every task listens for, and a way to wait until they are gone.
//!
//! Every long-lived task (listeners, connections, webhooks, the cluster link, timers) holds a
//! clone of [`Shutdown`]. Stopping cancels its token, so each task closes what it owns (a
//! connection sends its 4200 close frame, a listener stops accepting) and returns, dropping its
//! clone. [`Stopper::stop`] waits until the last clone is dropped, or the deadline passes: the
//! mini-redis pattern (a cancellation signal plus a channel whose senders are the live tasks),
//! with no polling of the runtime's task count. The HTTP listeners share how a connection ends:
//! [`Shutdown::serve_http1`].

use hyper::server::conn::http1;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

/// A running task's view of shutdown: whether it has begun, and (by being alive) that the task
/// has not finished yet.
#[derive(Clone)]
pub(crate) struct Shutdown {
    token: CancellationToken,
    /// Never sent on: held so that [`Stopper::stop`] sees when the last task has let go.
    _alive: mpsc::Sender<()>,
}

/// The server's side: starts the shutdown and waits for the tasks.
pub(crate) struct Stopper {
    token: CancellationToken,
    done: mpsc::Receiver<()>,
}

/// A signal for the tasks, and the handle that stops them.
pub(crate) fn channel() -> (Stopper, Shutdown) {
    let token = CancellationToken::new();
    let (alive, done) = mpsc::channel(1);
    let shutdown = Shutdown {
        token: token.clone(),
        _alive: alive,
    };
    (Stopper { token, done }, shutdown)
}

impl Shutdown {
    /// Completes once stopping has begun.
    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Serves one HTTP/1 connection (HTTP API, monitoring) to its end; once stopping begins, the
    /// request in progress is answered and then the connection closes.
    pub async fn serve_http1<I, S, B>(&self, conn: http1::Connection<I, S>)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin,
        S: hyper::service::HttpService<hyper::body::Incoming, ResBody = B>,
        S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
        B: hyper::body::Body + 'static,
        B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    {
        tokio::pin!(conn);
        tokio::select! {
            _ = conn.as_mut() => return,
            _ = self.cancelled() => {}
        }
        conn.as_mut().graceful_shutdown();
        let _ = conn.await;
    }
}

impl Stopper {
    /// Signals every task, without waiting (tests that stop parts on their own).
    #[cfg(test)]
    pub fn begin(&self) {
        self.token.cancel();
    }

    /// Signals every task, then waits until all of them have finished or `within` has passed;
    /// whether they all finished.
    pub async fn stop(mut self, within: Duration) -> bool {
        self.token.cancel();
        tokio::time::timeout(within, self.done.recv()).await.is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_waits_for_every_task_holding_a_shutdown() {
        let (stopper, shutdown) = channel();
        let (finished_tx, mut finished) = mpsc::unbounded_channel();
        for _ in 0..3 {
            let (shutdown, finished_tx) = (shutdown.clone(), finished_tx.clone());
            tokio::spawn(async move {
                shutdown.cancelled().await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = finished_tx.send(());
                drop(shutdown);
            });
        }
        drop((shutdown, finished_tx));
        assert!(stopper.stop(Duration::from_secs(5)).await);
        let mut count = 0;
        while finished.try_recv().is_ok() {
            count += 1;
        }
        assert_eq!(count, 3);
    }

    #[tokio::test]
    async fn stop_gives_up_at_the_deadline_on_a_task_that_ignores_it() {
        let (stopper, shutdown) = channel();
        let stuck = tokio::spawn(async move {
            let _held = shutdown;
            std::future::pending::<()>().await
        });
        let started = std::time::Instant::now();
        assert!(!stopper.stop(Duration::from_millis(50)).await);
        assert!(started.elapsed() < Duration::from_secs(2));
        stuck.abort();
    }
}
