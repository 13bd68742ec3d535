//! The loop's clock: the timers phase's `now`, in 1 ms ticks.
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
//! Real time is read as integer nanoseconds of `CLOCK_MONOTONIC` (the
//! clock `std::time::Instant` reads on Linux; elsewhere `Instant`'s own
//! nanoseconds, see [`monotonic_nanos`]) counted from a reading taken
//! just *after* the origin `Instant`: the timer paths then need no `Instant`
//! subtraction (the most expensive step of a sleep's register + cancel), and
//! a moment's raw tick is never ahead of its `Instant` tick, so a deadline
//! converted from an `Instant` still never fires early. A reading taken just
//! *before* the origin maps raw readings back to `Instant`s that are never
//! before the moment read, so a `sleep` reads the clock once, not twice (a
//! read costs 20–30 ns on a VM: a third of a register + cancel). To save
//! reads too, the timers phase's `now` and the poll phase's wait until the
//! next timer take the loop's last reading (the phase times',
//! `src/metrics/`) when no macrotask has run since it: an older reading is
//! never ahead of the truth, so no timer fires early, and the loop's own
//! work since it (empty phases, the liveness check) is microseconds.
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
    /// [`monotonic_nanos`] read right after `origin`: real ticks count
    /// from here.
    origin_raw: u64,
    /// [`monotonic_nanos`] read right before `origin`: a raw reading minus this,
    /// added to `origin`, is an `Instant` at or after the moment it was read.
    origin_raw_before: u64,
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
        let (origin_raw_before, origin, origin_raw) = read_origin();
        Clock {
            origin,
            origin_raw,
            origin_raw_before,
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

    /// The timers phase's `now` (rounded down): at `reading`, a
    /// [`monotonic_nanos`] the loop took with nothing run since, or else
    /// read fresh. Virtual time ignores the reading.
    pub(crate) fn now_ticks_at(&self, reading: Option<u64>) -> u64 {
        match &self.virtual_elapsed {
            Some(_) => self.now_ticks(),
            None => self.raw_elapsed(reading) / NANOS_PER_TICK,
        }
    }

    /// The current tick, read fresh (rounded down).
    pub(crate) fn now_ticks(&self) -> u64 {
        match &self.virtual_elapsed {
            Some(elapsed) => ticks(self.virtual_now(elapsed)).0,
            None => self.raw_elapsed(None) / NANOS_PER_TICK,
        }
    }

    /// Real nanoseconds since `origin_raw` at `reading`, or read fresh.
    #[inline]
    fn raw_elapsed(&self, reading: Option<u64>) -> u64 {
        reading.unwrap_or_else(monotonic_nanos).saturating_sub(self.origin_raw)
    }

    /// A sleep of `duration` from now: the current instant (its start) and
    /// the first tick at or after `start + duration` ([`NEVER`] if that is
    /// at or past the end of time), from one clock read. On the real clock
    /// `start` is the raw reading mapped through `origin_raw_before`: never
    /// before the moment of the call, so a deadline is never earlier than an
    /// `Instant::now() + duration` read before it. The tick counts that same
    /// span from `origin`, as [`ceil_ticks_after`](Self::ceil_ticks_after)
    /// would for `start`: it fires no earlier than the deadline reported.
    // Always: `sleep`'s hottest step, and LLVM's choice to inline it moves
    // with unrelated code (callgrind: register + cancel +6.8 % when not).
    #[inline(always)]
    pub(crate) fn sleep_from_now(&self, duration: Duration) -> (Instant, u64) {
        let since = match &self.virtual_elapsed {
            Some(elapsed) => self.virtual_now(elapsed),
            None => Duration::from_nanos(monotonic_nanos().saturating_sub(self.origin_raw_before)),
        };
        (self.origin + since, ceil_ticks(since.checked_add(duration)))
    }

    /// The first tick at or after `instant + duration`, without building
    /// that `Instant` ([`NEVER`] if it is at or past the end of time).
    pub(crate) fn ceil_ticks_after(&self, instant: Instant, duration: Duration) -> u64 {
        ceil_ticks(instant.saturating_duration_since(self.origin).checked_add(duration))
    }

    /// How long from now until tick `deadline`; `None` if it is too far to
    /// express (the loop then waits without a timeout). `reading`, as in
    /// [`now_ticks_at`](Self::now_ticks_at), stands for now on the real
    /// clock: being a little old, it gives a wait a little longer, never
    /// one that wakes short of the tick.
    pub(crate) fn until(&self, deadline: u64, reading: Option<u64>) -> Option<Duration> {
        match &self.virtual_elapsed {
            Some(_) => {
                let at = self.origin.checked_add(Duration::from_millis(deadline))?;
                Some(at.saturating_duration_since(self.now()))
            }
            // Real ticks start at `origin_raw`, so the wait is measured on
            // the raw clock too (else the loop would wake just short of it).
            None => {
                let at = deadline.checked_mul(NANOS_PER_TICK)?;
                Some(Duration::from_nanos(at.saturating_sub(self.raw_elapsed(reading))))
            }
        }
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

/// Nanoseconds in a tick.
const NANOS_PER_TICK: u64 = 1_000_000;

/// The origin `Instant` with raw readings just before and just after it.
/// The gap between them is how much later than the truth `sleep` may
/// report its start (and fire): a few tries keep a thread pre-empted
/// between the reads from stretching it.
fn read_origin() -> (u64, Instant, u64) {
    const CLOSE_ENOUGH: u64 = 10_000; // 10 µs, a hundredth of a tick
    let read = || {
        let before = monotonic_nanos();
        let origin = Instant::now();
        (before, origin, monotonic_nanos())
    };
    let gap = |(before, _, after): (u64, Instant, u64)| after.saturating_sub(before);
    let mut best = read();
    for _ in 1..4 {
        if gap(best) <= CLOSE_ENOUGH {
            break;
        }
        let next = read();
        if gap(next) < gap(best) {
            best = next;
        }
    }
    best
}

/// Monotonic nanoseconds from an arbitrary start, as integers: the
/// loop's raw readings (its ticks, a sleep's start, the phase times). One
/// integer subtraction per span, where `Instant`'s costs a `Timespec` one;
/// `u64` nanoseconds last 584 years of uptime. On Linux `CLOCK_MONOTONIC`
/// itself, the clock `Instant` reads.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn monotonic_nanos() -> u64 {
    // Through glibc, as `Instant::now` reads it (rustix's own vDSO lookup
    // crashes under valgrind, which the instruction benchmarks run in).
    let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `now` is a valid, writable `timespec` for the call's duration,
    // and `CLOCK_MONOTONIC` is always supported on Linux.
    let status = unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    debug_assert_eq!(status, 0, "clock_gettime(CLOCK_MONOTONIC) failed");
    (now.tv_sec as u64).wrapping_mul(1_000_000_000).wrapping_add(now.tv_nsec as u64)
}

/// Elsewhere `Instant` may read another clock (macOS: `CLOCK_UPTIME_RAW`),
/// so the reading is `Instant`'s own, from the first call in the process.
#[cfg(not(target_os = "linux"))]
pub(crate) fn monotonic_nanos() -> u64 {
    static START: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    u64::try_from(START.get_or_init(Instant::now).elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// The first tick at or after `since` from the origin ([`NEVER`] for
/// `None`, an overflowed deadline).
#[inline]
fn ceil_ticks(since: Option<Duration>) -> u64 {
    match since.map(ticks) {
        None => NEVER,
        Some((floor, true)) => floor,
        Some((floor, false)) => floor.saturating_add(1),
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Real clocks to check against: the runtime's, and one whose origin
    /// readings are 1 ms further apart (still true bounds of the origin,
    /// so every promise holds; a mix-up of the two readings would then be
    /// off by a whole millisecond, not by nanoseconds).
    fn real_clocks() -> [Clock; 2] {
        let mut widened = Clock::new(false);
        widened.origin_raw_before -= NANOS_PER_TICK;
        widened.origin_raw += NANOS_PER_TICK;
        [Clock::new(false), widened]
    }

    #[test]
    fn a_real_sleep_starts_at_its_call_and_its_tick_is_at_or_after_its_deadline() {
        for clock in real_clocks() {
            let gap = Duration::from_nanos(clock.origin_raw - clock.origin_raw_before);
            let sleeps = if cfg!(miri) { 100 } else { 10_000 };
            for i in 0..sleeps {
                let duration = Duration::from_nanos(i * 37_813);
                let before = Instant::now();
                let (start, tick) = clock.sleep_from_now(duration);
                let after = Instant::now();
                assert!(start >= before, "a sleep's start came before its call");
                assert!(start <= after + gap, "a sleep's start is later than the origin allows");
                assert!(clock.origin + Duration::from_millis(tick) >= start + duration);
            }
        }
    }

    #[test]
    fn a_real_sleep_is_due_no_earlier_than_the_deadline_it_reports() {
        for clock in real_clocks() {
            for i in 0..20u64 {
                let duration = Duration::from_micros(i * 97);
                let (start, tick) = clock.sleep_from_now(duration);
                // What the timers phase does: due once `now` reaches the tick.
                while clock.now_ticks() < tick {
                    std::hint::spin_loop();
                }
                assert!(Instant::now() >= start + duration, "due before its deadline");
                // An older reading (the loop's last) is never due sooner.
                let reading = Some(monotonic_nanos());
                assert!(clock.now_ticks_at(reading) <= clock.now_ticks());
                let wait = clock.until(tick + 1, reading).expect("near");
                assert!(Instant::now() + wait >= clock.origin + Duration::from_millis(tick + 1));
            }
        }
    }

    #[test]
    fn a_virtual_sleep_counts_from_the_paused_clock() {
        let clock = Clock::new(true);
        clock.advance(Duration::from_millis(5));
        let (start, tick) = clock.sleep_from_now(Duration::from_micros(1_500));
        assert_eq!(start, clock.origin + Duration::from_millis(5));
        assert_eq!(tick, 7, "6.5 ms rounds up");
        assert_eq!(clock.now_ticks_at(Some(u64::MAX)), 5, "virtual time ignores readings");
    }
}
