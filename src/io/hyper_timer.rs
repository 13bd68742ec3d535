//! hyper 1.x's `rt::Timer` on jsloop (feature `hyper`): the sleeps behind
//! `header_read_timeout`, keep-alive and pool-idle timeouts, fired in the
//! timers phase.
//!
//! hyper wants its sleeps `Send + Sync`; jsloop's timers belong to the loop
//! thread. So a sleep is two halves: the future hyper holds is only an
//! `Arc` of shared state, and a small detached task on the loop owns the
//! loop's timer and settles that state when the deadline comes, or clears
//! the timer when the future is dropped, from whichever thread. The timer
//! is unref'd, as Node's own socket and HTTP timeouts are (`unrefActive`):
//! a timeout never keeps the loop alive by itself; the socket it guards
//! does.

use std::cell::Cell;
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex, PoisonError};
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::time::Instant;
use crate::time::timers::TIMEOUT_MAX;

/// hyper's `rt::Timer` for jsloop: pass it to the connection builders'
/// `timer(..)` (or hyper-util's `pool_timer(..)`), and hyper's timeouts
/// work: `header_read_timeout`, keep-alive, a pooled client's idle
/// connections. Its sleeps fire in the loop's timers phase, never before
/// their deadline, and are `Send + Sync` as hyper requires; dropping one
/// (from any thread) clears its timer.
///
/// The sleeps must be made on a thread running a jsloop runtime (hyper
/// makes them from the connection's future, which runs on the loop), and
/// they do not keep the loop alive by themselves, like Node's socket
/// timeouts.
///
/// # Panics
///
/// `sleep` / `sleep_until` outside a runtime: "no jsloop runtime is running
/// on this thread".
///
/// # Examples
///
/// A server that drops a client sending no request within 50 ms:
///
/// ```
/// use std::time::Duration;
/// use http_body_util::Empty;
/// use hyper::{body::Bytes, server::conn::http1, service::service_fn, Response};
/// use jsloop::io::{HyperIo, HyperTimer};
/// use jsloop::net::{TcpListener, TcpStream};
///
/// jsloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = jsloop::spawn(async move {
///         let (stream, _) = listener.accept().await.unwrap();
///         let service = service_fn(|_| async {
///             Ok::<_, std::convert::Infallible>(Response::new(Empty::<Bytes>::new()))
///         });
///         http1::Builder::new()
///             .timer(HyperTimer)
///             .header_read_timeout(Duration::from_millis(50))
///             .serve_connection(HyperIo::new(stream), service)
///             .await
///     });
///     let _silent = TcpStream::connect(addr).await?; // sends nothing
///     assert!(server.await.unwrap().is_err(), "the header read timed out");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperTimer;

impl hyper::rt::Timer for HyperTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // Past what an `Instant` can hold: a deadline that never comes.
        Box::pin(HyperSleep::until(Instant::now().checked_add(duration)))
    }

    fn sleep_until(&self, deadline: std::time::Instant) -> Pin<Box<dyn hyper::rt::Sleep>> {
        // hyper's deadline is on the real clock; the wait is measured on
        // the loop's (virtual time included).
        self.sleep(deadline.saturating_duration_since(std::time::Instant::now()))
    }
}

/// One of [`HyperTimer`]'s sleeps: the `Send + Sync` half hyper holds.
struct HyperSleep {
    shared: Arc<Shared>,
}

#[derive(Default)]
struct Shared {
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    fired: bool,
    dropped: bool,
    /// hyper's task, waiting for `fired`.
    sleeper: Option<Waker>,
    /// The loop-side task, waiting for its timer or for `dropped`.
    driver: Option<Waker>,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // Nothing panics while holding it; stay usable regardless.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl HyperSleep {
    fn until(deadline: Option<Instant>) -> HyperSleep {
        let shared = Arc::new(Shared::default());
        drop(crate::spawn(drive(shared.clone(), deadline)));
        HyperSleep { shared }
    }
}

impl Future for HyperSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut state = self.shared.lock();
        if state.fired {
            return Poll::Ready(());
        }
        match &mut state.sleeper {
            Some(waker) => waker.clone_from(cx.waker()),
            slot => *slot = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

impl hyper::rt::Sleep for HyperSleep {}

impl Drop for HyperSleep {
    fn drop(&mut self) {
        let driver = {
            let mut state = self.shared.lock();
            state.dropped = true;
            state.driver.take()
        };
        // Woken outside the lock; from another thread this is a remote wake.
        if let Some(driver) = driver {
            driver.wake();
        }
    }
}

/// The loop-side half: waits on unref'd timers until `deadline` (a chain
/// of them past `TIMEOUT_MAX`, which a single timer would read as 1 ms;
/// for ever if `None`), then fires; ends early, clearing its timer, when
/// the sleep is dropped.
async fn drive(shared: Arc<Shared>, deadline: Option<Instant>) {
    loop {
        let now = Instant::now();
        let wait = match deadline {
            Some(deadline) if now >= deadline => break,
            // Whole milliseconds, rounded up: a timer never fires early.
            Some(deadline) => round_up_to_ms(deadline - now).min(TIMEOUT_MAX),
            None => TIMEOUT_MAX,
        };
        let rang = Rc::new(Cell::new(false));
        let ring: Rc<Cell<Option<Waker>>> = Rc::default();
        let timer = crate::set_timeout(wait, {
            let (rang, ring) = (rang.clone(), ring.clone());
            move || {
                rang.set(true);
                if let Some(waker) = ring.take() {
                    waker.wake();
                }
            }
        });
        timer.unref();
        let dropped = poll_fn(|cx| {
            let mut state = shared.lock();
            if state.dropped {
                return Poll::Ready(true);
            }
            if rang.get() {
                return Poll::Ready(false);
            }
            state.driver = Some(cx.waker().clone());
            drop(state);
            ring.set(Some(cx.waker().clone()));
            Poll::Pending
        })
        .await;
        if dropped {
            timer.clear();
            return;
        }
    }
    let sleeper = {
        let mut state = shared.lock();
        state.fired = true;
        state.sleeper.take()
    };
    if let Some(sleeper) = sleeper {
        sleeper.wake();
    }
}

fn round_up_to_ms(duration: Duration) -> Duration {
    let ms = duration.as_nanos().div_ceil(1_000_000);
    Duration::from_millis(u64::try_from(ms).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_round_up_to_whole_milliseconds() {
        assert_eq!(round_up_to_ms(Duration::ZERO), Duration::ZERO);
        assert_eq!(round_up_to_ms(Duration::from_nanos(1)), Duration::from_millis(1));
        assert_eq!(round_up_to_ms(Duration::from_micros(1_500)), Duration::from_millis(2));
        assert_eq!(round_up_to_ms(Duration::from_millis(7)), Duration::from_millis(7));
        assert_eq!(round_up_to_ms(Duration::MAX).min(TIMEOUT_MAX), TIMEOUT_MAX);
    }
}
