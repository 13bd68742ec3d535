//! Signals as values to await: the [`Signal`] stream and [`ctrl_c`].

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_core::Stream;

use super::SignalKind;
use super::driver::{Driver, Subscriber};
use crate::context;
use crate::listeners::ListenerKey;

/// The message of a signal stream whose runtime is gone.
const RUNTIME_GONE: &str = "the jsloop runtime this signal stream belongs to is gone";

/// Listens for `kind` on the current loop: a [`Stream`] that yields `()`
/// once per delivery, in the poll phase (tokio's `signal(kind)`).
///
/// Listening starts now: a signal that comes before the first poll is kept
/// for it. Several signals of a kind that come before the loop looks are
/// one delivery (tokio coalesces them the same way). A signal that comes
/// while the loop is busy (a long callback) is delivered after it, in the
/// next poll phase. A task waiting on the stream keeps the loop alive.
/// Each loop (thread) that listens for a signal gets every delivery of it.
///
/// Once a signal has been listened for, its default action (for `SIGINT`
/// and `SIGTERM`: ending the process) stays off for the life of the
/// process, even after the last listener is gone, as with tokio: the
/// handler installed for it cannot be taken back safely.
///
/// # Errors
///
/// `InvalidInput` for `SIGKILL`, `SIGSTOP`, `SIGILL`, `SIGFPE` and
/// `SIGSEGV`, which cannot be listened for (the message names the signal);
/// the OS's error for a number that is no signal.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use jsloop::process::{signal, SignalKind};
/// use rustix::process::{getpid, kill_process, Signal};
///
/// jsloop::block_on(async {
///     let mut hangups = signal(SignalKind::hangup())?;
///     kill_process(getpid(), Signal::HUP)?; // as a terminal closing would
///     assert_eq!(hangups.next().await, Some(()));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn signal(kind: SignalKind) -> io::Result<Signal> {
    context::with_current(|core| {
        let driver = core.signals.driver(core)?;
        let (key, subscriber) = driver.subscribe(kind)?;
        Ok(Signal { driver, kind, key, subscriber })
    })
}

/// Waits for `SIGINT` (Ctrl-C in a terminal): [`signal`] for
/// [`SignalKind::interrupt`], once.
///
/// Listening starts when `ctrl_c()` is called, not when it is first
/// polled. While awaited it keeps the loop alive. As with [`signal`], the
/// process no longer ends on `SIGINT` once it has been listened for.
///
/// # Errors
///
/// The future yields the error listening failed with, if it did.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use rustix::process::{getpid, kill_process, Signal};
///
/// jsloop::block_on(async {
///     let ctrl_c = jsloop::process::ctrl_c();
///     kill_process(getpid(), Signal::INT)?; // as Ctrl-C would
///     ctrl_c.await?;
///     println!("shutting down");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn ctrl_c() -> CtrlC {
    CtrlC { signal: signal(SignalKind::interrupt()).map_err(Some) }
}

/// Deliveries of one signal on one loop: see [`signal`].
///
/// A task waiting on it (a pending [`recv`](Signal::recv), or a poll of
/// the [`Stream`] that returned `Pending`) keeps the loop alive. A stream
/// polled and then left (a `select` that took another branch) keeps its
/// task's waker, and the loop alive, until the next delivery or until it
/// is dropped; a dropped [`recv`](Signal::recv) future lets go at once.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use jsloop::process::{signal, SignalKind};
/// use rustix::process::{getpid, kill_process, Signal};
///
/// jsloop::block_on(async {
///     let terms = signal(SignalKind::terminate())?;
///     kill_process(getpid(), Signal::TERM)?;
///     // The first delivery, as a stream combinator sees it.
///     let first: Vec<()> = terms.take(1).collect().await;
///     assert_eq!(first, [()]);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Signal {
    driver: Rc<Driver>,
    kind: SignalKind,
    key: ListenerKey,
    subscriber: Rc<Subscriber>,
}

impl Signal {
    /// Waits for the next delivery: `Some(())`, or `None` once the runtime
    /// the stream belongs to is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::{signal, SignalKind};
    /// use rustix::process::{getpid, kill_process, Signal};
    ///
    /// jsloop::block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2())?;
    ///     kill_process(getpid(), Signal::USR2)?;
    ///     assert_eq!(usr2.recv().await, Some(()));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn recv(&mut self) -> NextSignal<'_> {
        NextSignal { signal: self }
    }

    /// The signal this stream listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::{signal, SignalKind};
    ///
    /// jsloop::block_on(async {
    ///     let usr1 = signal(SignalKind::user_defined1())?;
    ///     assert_eq!(usr1.kind(), SignalKind::user_defined1());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }

    /// `Ready(Some(()))` once per delivery; `Ready(None)` once the runtime
    /// is gone.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<()>> {
        if !self.driver.runtime_alive() {
            return Poll::Ready(None);
        }
        self.subscriber.poll(&self.driver, cx).map(Some)
    }

    /// Whether waiting keeps the loop alive (the watch of a child whose
    /// `Child` was dropped does not).
    pub(crate) fn set_refd(&self, refd: bool) {
        self.subscriber.set_refd(&self.driver, refd);
    }

    /// The error of an operation that needs the stream's runtime.
    pub(crate) fn runtime_gone() -> io::Error {
        io::Error::other(RUNTIME_GONE)
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.get_mut().poll_recv(cx)
    }
}

impl Drop for Signal {
    fn drop(&mut self) {
        self.driver.unsubscribe(self.kind, self.key, &self.subscriber);
    }
}

impl fmt::Debug for Signal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signal").field("kind", &self.kind).finish_non_exhaustive()
    }
}

/// The future of [`Signal::recv`]; dropping it stops the wait (the loop is
/// no longer kept alive for it).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::process::{signal, SignalKind};
///
/// jsloop::run(async {
///     let mut hangups = signal(SignalKind::hangup()).unwrap();
///     // Nobody sends SIGHUP: give up after a while; `run` can then end.
///     let waited = jsloop::time::timeout(Duration::from_millis(10), hangups.recv()).await;
///     assert!(waited.is_err());
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct NextSignal<'a> {
    signal: &'a mut Signal,
}

impl Future for NextSignal<'_> {
    type Output = Option<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        self.signal.poll_recv(cx)
    }
}

impl Drop for NextSignal<'_> {
    fn drop(&mut self) {
        self.signal.subscriber.clear_waker(&self.signal.driver);
    }
}

impl fmt::Debug for NextSignal<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("NextSignal").field(&self.signal.kind).finish()
    }
}

/// The future of [`ctrl_c`]: `Ok(())` at the first `SIGINT` after
/// `ctrl_c()` was called.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::block_on(async {
///     // Wait for Ctrl-C, or stop waiting after a while.
///     let pressed = jsloop::time::timeout(Duration::from_millis(10), jsloop::process::ctrl_c()).await;
///     assert!(pressed.is_err(), "nobody pressed Ctrl-C");
/// });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct CtrlC {
    /// The stream, or the error listening failed with (taken when yielded).
    signal: Result<Signal, Option<io::Error>>,
}

impl Future for CtrlC {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &mut self.signal {
            Ok(signal) => signal.poll_recv(cx).map(|came| came.ok_or_else(Signal::runtime_gone)),
            Err(error) => Poll::Ready(Err(error.take().expect("`CtrlC` polled after completion"))),
        }
    }
}

impl fmt::Debug for CtrlC {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CtrlC")
    }
}
