//! The loop's clock: the cached `now` of the timers phase, in 1 ms ticks.
//!
//! Ticks count whole milliseconds since the runtime's origin. Node-style
//! timers round *down* (libuv's `uv_now` is a truncated millisecond), the
//! Rust-flavoured `sleep` rounds its deadline *up* so it never fires early.
//! With virtual time the clock is *paused*: it moves only when the loop
//! would otherwise sleep until a timer and nothing real is in flight (then
//! it jumps straight to that timer's deadline), by the real time the loop
//! waited for something real, and by `time::advance`. `time::resume` makes
//! it follow real time until `time::pause`.
//!
//! The last tick, [`NEVER`], is the end of time: every deadline that
//! saturates (`Duration::MAX`, an `Instant` past `u64::MAX` ms from the
//! origin) lands on it, and nothing scheduled there ever fires. The timer
//! queue never holds it, so neither clock can be moved there.

use std::cell::Cell;
use std::time::{Duration, Instant};

/// The end of time: a deadline at this tick never comes. Real time cannot
/// get there (it is about 584 million years after the origin), and virtual
/// time only jumps to deadlines in the timer queue, which never holds it.
pub(crate) const NEVER: u64 = u64::MAX;

#[derive(Debug)]
pub(crate) struct Clock {
    origin: Instant,
    /// The loop's `now` in ticks, updated at the start of the timers phase.
    cached: Cell<u64>,
    /// `Some(elapsed)` when time is virtual.
    virtual_elapsed: Option<Cell<Duration>>,
    /// Virtual time resumed (`time::resume`): the real instant from which
    /// it runs on top of `virtual_elapsed`.
    running_since: Cell<Option<Instant>>,
}

/// Virtual time stops one tick short of [`NEVER`]: an `advance` that far
/// still fires every timer, and the end of time still never comes.
const LAST_VIRTUAL: Duration = Duration::from_millis(NEVER - 1);

impl Clock {
    pub(crate) fn new(virtual_time: bool) -> Self {
        Clock {
            origin: Instant::now(),
            cached: Cell::new(0),
            virtual_elapsed: virtual_time.then(|| Cell::new(Duration::ZERO)),
            running_since: Cell::new(None),
        }
    }

    /// The current instant (virtual or real), read fresh.
    pub(crate) fn now(&self) -> Instant {
        match &self.virtual_elapsed {
            Some(elapsed) => self.origin + self.virtual_now(elapsed),
            None => Instant::now(),
        }
    }

    fn virtual_now(&self, elapsed: &Cell<Duration>) -> Duration {
        match self.running_since.get() {
            Some(since) => elapsed.get().saturating_add(since.elapsed()).min(LAST_VIRTUAL),
            None => elapsed.get(),
        }
    }

    /// Reads the clock into the loop's cached `now`; returns it.
    pub(crate) fn update(&self) -> u64 {
        let now = self.floor_ticks(self.now());
        self.cached.set(now);
        now
    }

    /// Whole milliseconds from the origin to `instant`, rounded down.
    pub(crate) fn floor_ticks(&self, instant: Instant) -> u64 {
        ticks(instant.saturating_duration_since(self.origin)).0
    }

    /// The first tick at or after `instant + duration`, without building
    /// that `Instant` ([`NEVER`] if it is at or past the end of time).
    pub(crate) fn ceil_ticks_after(&self, instant: Instant, duration: Duration) -> u64 {
        let Some(since) = instant.saturating_duration_since(self.origin).checked_add(duration)
        else {
            return NEVER;
        };
        match ticks(since) {
            (floor, true) => floor,
            (floor, false) => floor.saturating_add(1),
        }
    }

    /// How long from now until tick `deadline`; `None` if it is too far to
    /// express as an `Instant` (the loop then waits without a timeout).
    pub(crate) fn until(&self, deadline: u64) -> Option<Duration> {
        let at = self.origin.checked_add(Duration::from_millis(deadline))?;
        Some(at.saturating_duration_since(self.now()))
    }

    pub(crate) fn is_virtual(&self) -> bool {
        self.virtual_elapsed.is_some()
    }

    /// Virtual and not resumed: the loop may jump to the next deadline.
    pub(crate) fn is_paused(&self) -> bool {
        self.is_virtual() && self.running_since.get().is_none()
    }

    /// Moves virtual time forward by `by`, to one tick before the end of
    /// time at most (no-op for real time).
    pub(crate) fn advance(&self, by: Duration) {
        if let Some(elapsed) = &self.virtual_elapsed {
            elapsed.set(elapsed.get().saturating_add(by).min(LAST_VIRTUAL));
        }
    }

    /// Stops virtual time where it is (`time::pause`); `false` for real
    /// time.
    pub(crate) fn pause(&self) -> bool {
        let Some(elapsed) = &self.virtual_elapsed else { return false };
        elapsed.set(self.virtual_now(elapsed));
        self.running_since.set(None);
        true
    }

    /// Lets virtual time run at real speed (`time::resume`); `false` for
    /// real time.
    pub(crate) fn resume(&self) -> bool {
        if !self.pause() {
            return false;
        }
        self.running_since.set(Some(Instant::now()));
        true
    }
}

/// (whole milliseconds in `since`, whether that is exact), in `u64`
/// arithmetic: `Duration::as_millis` divides a `u128`, which showed up in the
/// timer benchmarks.
fn ticks(since: Duration) -> (u64, bool) {
    let nanos = since.subsec_nanos();
    let millis = since.as_secs().saturating_mul(1000).saturating_add(u64::from(nanos / 1_000_000));
    (millis, nanos % 1_000_000 == 0)
}
