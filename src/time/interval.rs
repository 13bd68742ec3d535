//! `interval`: a stream of evenly spaced ticks on the timer wheel.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use super::{Instant, Sleep, sleep_until};

/// How an [`Interval`] catches up after ticks were missed (the loop was
/// busy past one or more deadlines).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{interval, sleep, Instant, MissedTickBehavior};
///
/// let ms = Duration::from_millis;
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let mut ticks = interval(ms(10));
///     ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
///     assert_eq!(ticks.tick().await, start);
///     sleep(ms(35)).await; // not ticking while the ticks at 10, 20, 30 ms fall due
///     assert_eq!(ticks.tick().await, start + ms(10)); // the overdue tick comes first
///     assert_eq!(ticks.tick().await, start + ms(40)); // 20 and 30 skipped: back on schedule
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up.
    Burst,
    /// Start counting the period again from the late tick: Node's
    /// `setInterval` behaviour, and the default.
    #[default]
    Delay,
    /// Skip the missed ticks; the next tick lands on the original schedule.
    Skip,
}

impl MissedTickBehavior {
    /// The deadline after a tick due at `deadline` was seen late, at `now`,
    /// as an instant and a duration after it. They are left for the `Sleep`
    /// to add, which saturates to the end of time: `deadline + period`
    /// overflows an `Instant` for a period like `Duration::MAX`.
    fn next_deadline(
        self,
        deadline: Instant,
        now: Instant,
        period: Duration,
    ) -> (Instant, Duration) {
        match self {
            MissedTickBehavior::Burst => (deadline, period),
            MissedTickBehavior::Delay => (now, period),
            MissedTickBehavior::Skip => {
                let late = (now - deadline).as_nanos();
                // The first point of the original schedule after `now`. The
                // remainder is below `late`, itself a `Duration`, so the
                // conversion back is exact; `remaining` is then in
                // (0, period], whatever the period's size.
                let into_period = late % period.as_nanos();
                let into_period = Duration::new(
                    (into_period / 1_000_000_000) as u64,
                    (into_period % 1_000_000_000) as u32,
                );
                (now, period - into_period)
            }
        }
    }
}

/// A tick seen more than this late counts as missed, as in tokio.
const MISSED_AFTER: Duration = Duration::from_millis(5);

/// Ticks every `period`; the first tick is due at once (it completes in the
/// next timers phase, like a zero-duration [`sleep`](super::sleep())).
///
/// A period that reaches past the end of the loop's clock
/// (`Duration::MAX`) ticks once, at once, and never again; waiting for that
/// second tick does not keep the loop alive (see
/// [`sleep`'s "Never"](super::sleep#never)).
///
/// # Panics
///
/// Panics if `period` is zero, or outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::block_on(async {
///     let mut ticks = jsloop::time::interval(Duration::from_millis(2));
///     for _ in 0..3 {
///         ticks.tick().await;
///     }
/// });
/// ```
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
///
/// Panics if `period` is zero, or outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{interval_at, Instant};
///
/// let ms = Duration::from_millis;
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now() + ms(100);
///     let mut ticks = interval_at(start, ms(10));
///     assert_eq!(ticks.tick().await, start);
///     assert_eq!(ticks.tick().await, start + ms(10));
///     assert_eq!(Instant::now(), start + ms(10));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(!period.is_zero(), "jsloop: `interval` period must be non-zero");
    Interval {
        sleep: sleep_until(start),
        period,
        missed_tick_behavior: MissedTickBehavior::default(),
    }
}

/// Stream returned by [`interval`]; also a `futures_core::Stream` of the
/// tick instants.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// use jsloop::time::{interval, Instant};
///
/// let ms = Duration::from_millis;
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let start = Instant::now();
///     let ticks: Vec<Instant> = interval(ms(5)).take(3).collect().await;
///     assert_eq!(ticks, [start, start + ms(5), start + ms(10)]);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Debug)]
pub struct Interval {
    sleep: Sleep,
    period: Duration,
    missed_tick_behavior: MissedTickBehavior,
}

impl Interval {
    /// Waits for the next tick; returns the instant it was scheduled for.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::interval;
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let mut ticks = interval(Duration::from_millis(100));
    ///     let first = ticks.tick().await; // due at once
    ///     let second = ticks.tick().await;
    ///     assert_eq!(second - first, Duration::from_millis(100));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn tick(&mut self) -> Instant {
        poll_fn(|cx| self.poll_tick(cx)).await
    }

    /// Polls for the next tick.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::future::poll_fn;
    /// use std::time::Duration;
    /// use jsloop::time::{interval, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticks = interval(Duration::from_millis(10));
    ///     // For hand-written futures and streams that own an `Interval`.
    ///     let first = poll_fn(|cx| ticks.poll_tick(cx)).await;
    ///     assert_eq!(first, start);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        if Pin::new(&mut self.sleep).poll(cx).is_pending() {
            return Poll::Pending;
        }
        // The sleep just completed, so its deadline is a real instant.
        let deadline = self.sleep.deadline();
        let now = Instant::now();
        let (base, after) = if now > deadline + MISSED_AFTER {
            self.missed_tick_behavior.next_deadline(deadline, now, self.period)
        } else {
            (deadline, self.period)
        };
        self.sleep.reset_after(base.into_std(), after);
        Poll::Ready(deadline)
    }

    /// Restarts the schedule: the next tick is one period from now (never,
    /// for a period past the end of time).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{interval, sleep, Instant};
    ///
    /// let ms = Duration::from_millis;
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticks = interval(ms(10));
    ///     ticks.tick().await;
    ///     sleep(ms(4)).await;
    ///     ticks.reset(); // the tick due at 10 ms moves to 4 + 10 ms
    ///     assert_eq!(ticks.tick().await, start + ms(14));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&mut self) {
        self.sleep.reset_after(Instant::now().into_std(), self.period);
    }

    /// The period between ticks.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::block_on(async {
    ///     let ticks = jsloop::time::interval(Duration::from_millis(250));
    ///     assert_eq!(ticks.period(), Duration::from_millis(250));
    /// });
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }

    /// The current missed-tick behaviour.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::MissedTickBehavior;
    ///
    /// jsloop::block_on(async {
    ///     let ticks = jsloop::time::interval(Duration::from_millis(10));
    ///     // Node's `setInterval` catch-up rule is the default.
    ///     assert_eq!(ticks.missed_tick_behavior(), MissedTickBehavior::Delay);
    /// });
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed_tick_behavior
    }

    /// Chooses how missed ticks are handled.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{interval, sleep, Instant, MissedTickBehavior};
    ///
    /// let ms = Duration::from_millis;
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     let mut ticks = interval(ms(10));
    ///     ticks.set_missed_tick_behavior(MissedTickBehavior::Burst);
    ///     ticks.tick().await;
    ///     sleep(ms(35)).await;
    ///     // The ticks due at 10, 20 and 30 ms fire back to back, then 40 on time.
    ///     for n in 1..=4 {
    ///         assert_eq!(ticks.tick().await, start + ms(10 * n));
    ///     }
    ///     assert_eq!(Instant::now(), start + ms(40));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed_tick_behavior = behavior;
    }
}

impl futures_core::Stream for Interval {
    type Item = Instant;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Instant>> {
        self.get_mut().poll_tick(cx).map(Some)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missed_tick_next_deadlines() {
        let start = Instant::from_std(std::time::Instant::now());
        let period = Duration::from_millis(10);
        let now = start + Duration::from_millis(35);
        let next = |behavior: MissedTickBehavior, period| {
            let (base, after) = behavior.next_deadline(start, now, period);
            base.checked_add(after)
        };
        assert_eq!(next(MissedTickBehavior::Burst, period), Some(start + period));
        assert_eq!(next(MissedTickBehavior::Delay, period), Some(now + period));
        assert_eq!(next(MissedTickBehavior::Skip, period), Some(start + Duration::from_millis(40)));
        // On the original schedule, even a late tick exactly on it.
        let exactly = MissedTickBehavior::Skip.next_deadline(start, start + period * 3, period);
        assert_eq!(exactly, (start + period * 3, period));
        // A period past the end of time is handed on whole, never truncated.
        let (base, after) = MissedTickBehavior::Skip.next_deadline(start, now, Duration::MAX);
        assert_eq!((base, after), (now, Duration::MAX - Duration::from_millis(35)));
    }
}
