//! `timeout` and `timeout_at`: a time limit around a future.
//!
//! The limit is lazy, as smol's is (a timer raced with `or`, made only when
//! it is first polled): the clock is read, and the [`Sleep`] that enforces
//! the limit — its runtime handle, its rounded tick, its wheel entry — is
//! made, only the first time the wrapped future is pending. A future that
//! is done at its first poll, the common case of a time limit around a fast
//! call, costs no clock read and no timer. So `timeout`'s limit counts from
//! that first wait, not from the call (tokio reads `Instant::now()` at the
//! call); the two differ only for a `Timeout` built long before it is
//! awaited. `timeout_at`'s deadline is absolute either way.

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use pin_project_lite::pin_project;

use super::sleep::{deadline_after, fmt_sleep};
use super::{Instant, Sleep};
use crate::context;

/// Runs `future` with a time limit: `Err(Elapsed)` if it is not done within
/// `duration`, in which case the future is dropped.
///
/// The limit counts from the first poll at which `future` is pending (the
/// module doc): build the `Timeout` where it is awaited.
///
/// A `duration` past the end of time (`Duration::MAX`) is no limit: it
/// never elapses, on either clock, and the time limit itself does not keep
/// the loop alive; `future` alone decides (see
/// [`sleep`'s "Never"](super::sleep#never)).
///
/// # Panics
///
/// Panics if `future` is pending at a poll outside any runtime (nothing
/// could fire the limit). A future ready at once needs no runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::timeout;
///
/// jsloop::block_on(async {
///     let slow = std::future::pending::<()>();
///     assert!(timeout(Duration::from_millis(5), slow).await.is_err());
///     assert_eq!(timeout(Duration::from_secs(1), async { 7 }).await, Ok(7));
/// });
/// ```
pub fn timeout<F: IntoFuture>(duration: Duration, future: F) -> Timeout<F::IntoFuture> {
    // Nothing to read yet: the clock is read at the first wait.
    Timeout::new(future.into_future(), None, duration)
}

/// Like [`timeout`], with a deadline instead of a duration (one past the end
/// of time never comes).
///
/// # Panics
///
/// As [`timeout`]: if `future` is pending at a poll outside any runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{sleep, timeout_at, Instant};
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let deadline = Instant::now() + Duration::from_millis(50);
///     let slow = sleep(Duration::from_millis(80));
///     assert!(timeout_at(deadline, slow).await.is_err());
///     assert_eq!(Instant::now(), deadline); // gave up at the deadline
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn timeout_at<F: IntoFuture>(deadline: Instant, future: F) -> Timeout<F::IntoFuture> {
    Timeout::new(future.into_future(), Some(deadline.into_std()), Duration::ZERO)
}

pin_project! {
    /// Future returned by [`timeout`] and [`timeout_at`].
    ///
    /// Its time limit arms (takes a wheel entry and keeps the loop alive)
    /// the first time the wrapped future is pending, on the runtime polling
    /// it then; its deadline still counts from the `timeout` call. Polled
    /// pending after the runtime it was armed on was dropped, it moves to
    /// the runtime running on the thread, as a [`Sleep`] does; first pending
    /// outside any runtime, nothing could ever fire its limit, and it
    /// panics with a message that says so.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, timeout, Sleep, Timeout};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// let ms = Duration::from_millis;
    /// rt.block_on(async {
    ///     // Both due in the same tick: the future is polled first, and wins.
    ///     let race: Timeout<Sleep> = timeout(ms(10), sleep(ms(10)));
    ///     assert_eq!(race.await, Ok(()));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        future: F,
        // The deadline is `start + duration` (as in `Sleep`, no `Instant`
        // addition until someone asks for it); `timeout`'s start is read
        // when the future is first pending.
        start: Option<std::time::Instant>,
        duration: Duration,
        // `None` until the future is first pending (module doc).
        sleep: Option<Sleep>,
    }
}

impl<F> Timeout<F> {
    fn new(future: F, start: Option<std::time::Instant>, duration: Duration) -> Self {
        Timeout { future, start, duration, sleep: None }
    }
}

impl<F> Timeout<F> {
    /// The wrapped future.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, timeout, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let limited = timeout(Duration::from_millis(5), sleep(Duration::from_millis(20)));
    ///     limited.into_inner().await; // the time limit is gone
    ///     assert_eq!(start.elapsed(), Duration::from_millis(20));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_inner(self) -> F {
        self.future
    }
}

/// Makes a `Timeout`'s sleep, on the runtime running on this thread. Cold:
/// a future done at its first poll never gets here.
#[cold]
#[inline(never)]
fn arm(start: Option<std::time::Instant>, duration: Duration) -> Sleep {
    let sleep = |core: &crate::event_loop::Core| match start {
        Some(start) => Sleep::new(core, start, duration),
        None => Sleep::from_now(core, duration),
    };
    match context::try_with_current(sleep) {
        Some(sleep) => sleep,
        None => panic!(
            "jsloop: a `Timeout` was first pending outside any runtime: nothing could ever fire \
             its time limit"
        ),
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        // The future first: one that is ready at its deadline still wins.
        if let Poll::Ready(output) = this.future.poll(cx) {
            return Poll::Ready(Ok(output));
        }
        let (start, duration) = (*this.start, *this.duration);
        let sleep = this.sleep.get_or_insert_with(|| arm(start, duration));
        Pin::new(sleep).poll(cx).map(|()| Err(Elapsed(())))
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    /// Prints what a `Timeout` holding its `Sleep` from the call printed,
    /// whether or not the sleep exists yet.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let limit =
            Limit { start: self.start, duration: self.duration, sleep: self.sleep.as_ref() };
        f.debug_struct("Timeout").field("future", &self.future).field("sleep", &limit).finish()
    }
}

/// A `Timeout`'s limit as its `Debug` shows it: a `Sleep`, made or not.
struct Limit<'a> {
    start: Option<std::time::Instant>,
    duration: Duration,
    sleep: Option<&'a Sleep>,
}

impl fmt::Debug for Limit<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.sleep, self.start) {
            (Some(sleep), _) => sleep.fmt(f),
            (None, Some(start)) => fmt_sleep(f, deadline_after(start, self.duration), false),
            (None, None) => {
                f.debug_struct("Sleep").field("duration_from_first_wait", &self.duration).finish()
            }
        }
    }
}

/// The error of a [`timeout`] whose time ran out.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{timeout, Elapsed};
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let never = std::future::pending::<()>();
///     let error: Elapsed = timeout(Duration::from_millis(1), never).await.unwrap_err();
///     assert_eq!(error.to_string(), "deadline has elapsed");
///     assert_eq!(std::io::Error::from(error).kind(), std::io::ErrorKind::TimedOut);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> Self {
        std::io::ErrorKind::TimedOut.into()
    }
}
