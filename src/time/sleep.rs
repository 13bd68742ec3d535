//! `sleep` and `sleep_until`: the Rust-flavoured timer futures (the
//! `timeout` built on them is in `timeout.rs`).
//!
//! Their deadlines round *up* to the wheel's 1 ms tick, so they never
//! complete early; they share the wheel with `set_timeout`, so a sleep and a
//! timer due in the same tick fire in creation order. A `Sleep` registers
//! when first polled and dropping it removes its wheel entry.
//!
//! A deadline that saturates to the end of time ([`NEVER`]) is not
//! registered at all: it cannot fire, so it must neither hold a wheel entry
//! (virtual time would jump to it) nor keep the loop alive, nor keep the
//! waker (which would let `block_on` wait forever for a wake that cannot
//! come).

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use super::Instant;
use super::clock::NEVER;
use super::wheel::TimerKey;
use crate::context;
use crate::event_loop::Core;

/// Waits until `duration` has passed.
///
/// A zero duration still waits for the next timers phase. The sleep keeps
/// the loop alive while it waits, as a pending `setTimeout` does.
///
/// # Never
///
/// `Duration::MAX`, or any duration that reaches past the end of the loop's
/// clock (about 584 million years after the runtime started), never
/// completes, on the real clock and under
/// [virtual time](crate::Builder::virtual_time) alike: virtual time never
/// jumps to it. Such a sleep is a JS promise that nothing will settle, and
/// like one it does *not* keep the loop alive: if nothing else can wake the
/// task, [`run`](crate::run) returns (for a spawned task) or panics with
/// "nothing can wake it" (for the main future), and
/// [`block_on`](crate::block_on) panics the same way, instead of hanging.
/// (tokio's `sleep(Duration::MAX)` parks a runtime forever; here a socket, a
/// timer or a [`keep_alive`](crate::keep_alive) guard has to be what keeps
/// the loop waiting.) It still races other futures, in a `timeout` or a
/// `select`, and [`Sleep::reset`] can give it a real deadline.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::block_on(async {
///     jsloop::time::sleep(Duration::from_millis(10)).await;
///     println!("10 ms later");
/// });
/// ```
///
/// A sleep that can never end lets `run` return once nothing else is left:
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use jsloop::time::{sleep, Instant};
///
/// let woke = Rc::new(Cell::new(false));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// let start = rt.block_on(async { Instant::now() });
/// rt.run({
///     let woke = woke.clone();
///     async move {
///         jsloop::spawn(async move {
///             sleep(Duration::MAX).await;
///             woke.set(true);
///         });
///     }
/// });
/// assert!(!woke.get());
/// // Virtual time did not jump to the end of time either.
/// assert!(rt.block_on(async move { start.elapsed() }) < Duration::from_secs(1));
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    context::with_current(|core| Sleep::from_now(core, duration))
}

/// Waits until `deadline`.
///
/// A deadline at or before now waits for the next timers phase; one past
/// the end of the loop's clock never comes, and does not keep the loop
/// alive (see [`sleep`'s "Never"](sleep#never)).
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{sleep_until, Instant};
///
/// jsloop::block_on(async {
///     sleep_until(Instant::now() + Duration::from_millis(5)).await;
/// });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    context::with_current(|core| Sleep::new(core, deadline.into_std(), Duration::ZERO))
}

/// Future returned by [`sleep`] and [`sleep_until`].
///
/// It keeps the loop alive while registered (from its first poll until it
/// completes or is dropped), unless its deadline is past the end of time,
/// when it never registers (see [`sleep`'s "Never"](sleep#never)). It
/// belongs to the runtime that created it. Polled after that runtime was
/// dropped, it moves to the runtime running on the thread, as a socket
/// moves to the loop that polls it, and waits out its deadline there;
/// polled outside any runtime then, nothing could ever fire it, and it
/// panics with a message that says so.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use jsloop::time::{sleep, Sleep};
///
/// let woke = Rc::new(Cell::new(false));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let woke = woke.clone();
///     async move {
///         // A detached task's pending `Sleep` keeps `run` going.
///         jsloop::spawn(async move {
///             let nap: Sleep = sleep(Duration::from_secs(60));
///             nap.await;
///             woke.set(true);
///         });
///     }
/// });
/// assert!(woke.get());
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Sleep {
    core: Weak<Core>,
    /// The deadline is `start + duration`, kept apart so that creating a
    /// sleep needs no `Instant` addition (only `deadline()` does one).
    start: std::time::Instant,
    duration: Duration,
    /// The wheel tick of the deadline, rounded up; [`NEVER`] is never
    /// registered.
    deadline_tick: u64,
    state: SleepState,
}

#[derive(Clone, Copy)]
enum SleepState {
    /// Not polled yet (or reset since).
    Unregistered,
    /// The deadline is the end of time: nothing is registered, ever.
    Never,
    Registered(TimerKey),
    Elapsed,
}

impl Sleep {
    pub(super) fn new(core: &Core, start: std::time::Instant, duration: Duration) -> Sleep {
        Sleep::with_tick(core, start, duration, core.clock.ceil_ticks_after(start, duration))
    }

    /// A sleep of `duration` from now: one clock read for its start and its
    /// tick.
    #[inline]
    pub(super) fn from_now(core: &Core, duration: Duration) -> Sleep {
        let (start, deadline_tick) = core.clock.sleep_from_now(duration);
        Sleep::with_tick(core, start, duration, deadline_tick)
    }

    /// A sleep from `start` whose deadline tick is already known.
    fn with_tick(
        core: &Core,
        start: std::time::Instant,
        duration: Duration,
        deadline_tick: u64,
    ) -> Sleep {
        Sleep {
            core: core.weak(),
            start,
            duration,
            deadline_tick,
            state: SleepState::waiting_for(deadline_tick),
        }
    }

    /// The instant this sleep completes at (for a deadline too far to
    /// represent, an instant about 30 years from now).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let nap = sleep(Duration::from_millis(20));
    ///     assert_eq!(nap.deadline(), Instant::now() + Duration::from_millis(20));
    ///     // One that can never complete reports a far-future deadline.
    ///     assert!(sleep(Duration::MAX).deadline() > Instant::now() + Duration::from_secs(86_400));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn deadline(&self) -> Instant {
        deadline_after(self.start, self.duration)
    }

    /// `true` once the sleep has completed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::sleep;
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let mut nap = sleep(Duration::from_millis(30));
    ///     assert!(!nap.is_elapsed());
    ///     (&mut nap).await;
    ///     assert!(nap.is_elapsed());
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_elapsed(&self) -> bool {
        matches!(self.state, SleepState::Elapsed)
    }

    /// Moves the deadline; the sleep is pending again until then. It takes
    /// effect when the sleep is next polled (a task that resets a sleep it
    /// is not about to poll again will not be woken). A deadline past the
    /// end of time never comes.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// jsloop::block_on(async {
    ///     let mut nap = sleep(Duration::from_secs(3600));
    ///     nap.reset(Instant::now() + Duration::from_millis(1));
    ///     (&mut nap).await;
    /// });
    /// ```
    pub fn reset(&mut self, deadline: Instant) {
        self.reset_after(deadline.into_std(), Duration::ZERO);
    }

    /// Moves the deadline to `start + duration`, saturating to the end of
    /// time where `Sleep::reset` would need an `Instant` addition that
    /// overflows (an `interval` of `Duration::MAX`).
    pub(crate) fn reset_after(&mut self, start: std::time::Instant, duration: Duration) {
        self.deregister();
        self.start = start;
        self.duration = duration;
        // A sleep whose runtime is gone never fires, whatever its tick.
        let core = self.core.upgrade();
        self.deadline_tick =
            core.map_or(NEVER, |core| core.clock.ceil_ticks_after(start, duration));
        self.state = SleepState::waiting_for(self.deadline_tick);
    }

    fn deregister(&mut self) {
        if let SleepState::Registered(key) = self.state {
            if let Some(core) = self.core.upgrade() {
                core.timers.remove(key);
            }
            self.state = SleepState::Unregistered;
        }
    }
}

impl Sleep {
    /// The runtime this sleep was made on is gone: the one running on this
    /// thread takes it over (its timer went with the old wheel).
    #[cold]
    #[inline(never)]
    fn move_to_current_loop(&mut self) -> Rc<Core> {
        let Some(core) = context::try_with_current(Core::weak).and_then(|weak| weak.upgrade())
        else {
            panic!(
                "jsloop: a `Sleep` was polled after its runtime was dropped, outside any \
                 runtime: nothing could ever fire it"
            );
        };
        self.core = Rc::downgrade(&core);
        if !matches!(self.state, SleepState::Elapsed) {
            self.deadline_tick = core.clock.ceil_ticks_after(self.start, self.duration);
            self.state = SleepState::waiting_for(self.deadline_tick);
        }
        core
    }
}

impl SleepState {
    /// The state of a sleep not registered yet: the end of time is decided
    /// here, once, rather than on every first poll.
    fn waiting_for(deadline_tick: u64) -> SleepState {
        if deadline_tick == NEVER { SleepState::Never } else { SleepState::Unregistered }
    }
}

/// `start + duration`, or for a deadline too far to represent an instant
/// about 30 years from now.
pub(super) fn deadline_after(start: std::time::Instant, duration: Duration) -> Instant {
    match start.checked_add(duration) {
        Some(deadline) => Instant::from_std(deadline),
        None => far_future(),
    }
}

/// An instant roughly 30 years from now, standing in for "never".
fn far_future() -> Instant {
    Instant::now() + Duration::from_secs(86_400 * 365 * 30)
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let core = match self.core.upgrade() {
            Some(core) if !core.is_shut_down() => core,
            _ => self.move_to_current_loop(),
        };
        match self.state {
            SleepState::Elapsed => Poll::Ready(()),
            SleepState::Registered(key) => {
                let task = core.current_task_woken_by(cx.waker());
                if core.timers.update_waker(key, cx.waker(), task) {
                    Poll::Pending
                } else {
                    self.state = SleepState::Elapsed;
                    Poll::Ready(())
                }
            }
            // Nothing can wake it, so nothing is registered (module doc).
            SleepState::Never => Poll::Pending,
            SleepState::Unregistered => {
                let task = core.current_task_woken_by(cx.waker());
                let entry = super::timers::TimerEntry::waking(cx.waker(), task);
                self.state = SleepState::Registered(core.timers.insert(self.deadline_tick, entry));
                Poll::Pending
            }
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        self.deregister();
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_sleep(f, self.deadline(), self.is_elapsed())
    }
}

/// A `Sleep`'s `Debug`, shared with a `Timeout` that has not made its sleep
/// yet, so both print the same.
pub(super) fn fmt_sleep(
    f: &mut fmt::Formatter<'_>,
    deadline: Instant,
    elapsed: bool,
) -> fmt::Result {
    f.debug_struct("Sleep").field("deadline", &deadline).field("elapsed", &elapsed).finish()
}
