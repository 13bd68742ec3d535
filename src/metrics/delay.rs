//! Event-loop delay: Node's `perf_hooks.monitorEventLoopDelay`, sampled in
//! the timers phase.
//!
//! The monitor is an unref'd [`set_interval`] at the chosen resolution. On
//! every fire it reads the real clock and records the time since its
//! previous fire, which is what Node 20 records (`IntervalHistogram` in
//! `src/histogram.cc` calls `Histogram::RecordDelta`, `uv_hrtime() - prev_`):
//! about the resolution when the loop is idle, and the whole stretch when a
//! callback held the loop past a fire. The first fire after creation or
//! [`EventLoopDelay::reset`] only notes the time.
//!
//! Samples go into an HDR histogram with Node's settings; `readings.rs`
//! reads it the way Node's C `hdr_histogram` does, so the numbers are
//! Node's for the same samples.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::io;
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::{Handle, Timer, set_interval};

mod readings;

/// Node's `TIMEOUT_MAX` (2^31 - 1 ms): `set_interval` turns a longer period
/// into 1 ms, which would make a huge resolution sample every millisecond.
const MAX_RESOLUTION_MS: u128 = (1 << 31) - 1;

/// Starts an event-loop delay monitor that samples every `resolution`:
/// `perf_hooks.monitorEventLoopDelay({ resolution })`.
///
/// The monitor is off until [`EventLoopDelay::enable`], as in Node. While
/// on, it is an unref'd interval: it never keeps the loop alive, so
/// [`run`](crate::run) returns when only the monitor is left. What each
/// sample is (the time between two fires) is explained on
/// [`EventLoopDelay`].
///
/// # Errors
///
/// The resolution is whole milliseconds from 1 to 2^31 - 1, as Node
/// requires an integer `resolution >= 1` (`ERR_OUT_OF_RANGE` otherwise).
/// Anything else is an [`io::ErrorKind::InvalidInput`] error naming the
/// problem: zero or under 1 ms, a fraction of a millisecond
/// (`Duration::from_micros(1_500)`), or over 2^31 - 1 ms (Node accepts more
/// but keeps the interval in a 32-bit integer; [`set_interval`] would turn it
/// into 1 ms).
///
/// # Panics
///
/// Panics outside a runtime, as [`set_timeout`](crate::set_timeout) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::metrics::monitor_event_loop_delay;
///
/// let delay = jsloop::run(async {
///     let delay = monitor_event_loop_delay(Duration::from_millis(10))?;
///     delay.enable();
///     // The first fire only notes the time; the second records a sample.
///     while delay.count() == 0 {
///         jsloop::time::sleep(Duration::from_millis(5)).await;
///     }
///     Ok::<_, std::io::Error>(delay)
/// })?;
/// // Idle: a sample is about the 10 ms resolution.
/// println!("p99 {} ns, max {} ns", delay.percentile(99.0), delay.max());
///
/// let zero = jsloop::run(async { monitor_event_loop_delay(Duration::ZERO) });
/// assert_eq!(zero.unwrap_err().kind(), std::io::ErrorKind::InvalidInput);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn monitor_event_loop_delay(resolution: Duration) -> io::Result<EventLoopDelay> {
    // Node ties the timer handle to the loop when the monitor is made
    // (`uv_timer_init`) and starts it on `enable`; jsloop has no timer that
    // exists unstarted, so only the runtime is required here (with the same
    // panic as `set_interval`) and `enable` makes the interval.
    let _ = Handle::current();
    check_resolution(resolution)?;
    let samples = Samples {
        histogram: RefCell::new(readings::node_eld_histogram()),
        prev_fire: Cell::new(None),
        exceeds: Cell::new(0),
    };
    Ok(EventLoopDelay { resolution, samples: Rc::new(samples), timer: RefCell::new(None) })
}

/// Whole milliseconds in `1..=2^31 - 1`, or why not.
fn check_resolution(resolution: Duration) -> io::Result<()> {
    let invalid = |why: &str| {
        let message = format!("monitor_event_loop_delay: resolution {why}, got {resolution:?}");
        Err(io::Error::new(io::ErrorKind::InvalidInput, message))
    };
    if resolution < Duration::from_millis(1) {
        return invalid("must be at least 1 ms");
    }
    if resolution.subsec_nanos() % 1_000_000 != 0 {
        return invalid("must be a whole number of milliseconds");
    }
    if resolution.as_millis() > MAX_RESOLUTION_MS {
        return invalid("must be at most 2147483647 ms");
    }
    Ok(())
}

/// An event-loop delay monitor: Node's `IntervalHistogram` (the object
/// `perf_hooks.monitorEventLoopDelay()` returns).
///
/// # What a sample is
///
/// Exactly what Node 20 records: on each fire of its interval, the monitor
/// reads the real clock ([`std::time::Instant`], as Node reads
/// `uv_hrtime`) and records the time since its previous fire, in
/// nanoseconds. It is the full interval between two fires, not the lateness
/// beyond the resolution: an idle loop with a 20 ms resolution records
/// about 20 ms each time, and a callback that holds the loop for 200 ms
/// shows up as one sample of 200-odd ms. On this machine, `node` 20 with
/// `resolution: 20` recorded 20.1 to 20.2 ms samples while idle, and a
/// 100 ms busy wait in a `setTimeout` callback as one 117.6 ms sample.
///
/// Consequences, all as in Node:
/// - the first fire after creation or [`reset`](EventLoopDelay::reset)
///   records nothing (there is no previous fire), so the first sample lands
///   two resolutions after `enable`;
/// - [`disable`](EventLoopDelay::disable) then
///   [`enable`](EventLoopDelay::enable) keeps the previous fire, so the
///   first sample after re-enabling spans the time the monitor was off;
///   call `reset` before `enable` to leave that time out;
/// - with [virtual time](crate::Builder::virtual_time) the interval fires on
///   the virtual clock but the samples are real time, so they show how long
///   the loop really took between fires.
///
/// # Readings before any sample
///
/// Node reports `min` 9223372036854776000 (`INT64_MAX`), `max` 0, `mean`
/// and `stddev` NaN, and `percentiles` `[[100, 0]]`. Here the integer
/// readings are 0 (no sentinel that a `min()` of two monitors would have to
/// know about), [`mean`](EventLoopDelay::mean) and
/// [`stddev`](EventLoopDelay::stddev) are NaN as in Node (a mean of no
/// samples is not 0 ns), and [`percentiles`](EventLoopDelay::percentiles)
/// is empty. [`count`](EventLoopDelay::count) `== 0` is the test for "no
/// samples yet".
///
/// The monitor lives on the loop's thread (`!Send`). Dropping it clears its
/// interval.
///
/// # Examples
///
/// ```
/// use std::time::{Duration, Instant};
/// use jsloop::time::sleep;
///
/// let delay = jsloop::run(async {
///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(10))?;
///     assert!(delay.enable());
///     // The first fire only notes the time; the second records a sample.
///     while delay.count() == 0 {
///         sleep(Duration::from_millis(5)).await;
///     }
///     // A synchronous 60 ms: the loop can't fire the monitor meanwhile ...
///     let start = Instant::now();
///     while start.elapsed() < Duration::from_millis(60) {}
///     // ... so its next fire records the whole stretch since the last one.
///     let count = delay.count();
///     while delay.count() == count {
///         sleep(Duration::from_millis(5)).await;
///     }
///     Ok::<_, std::io::Error>(delay)
/// })?;
/// assert!(delay.max() >= 60_000_000);
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct EventLoopDelay {
    resolution: Duration,
    /// Shared with the interval's callback while enabled.
    samples: Rc<Samples>,
    /// The unref'd interval; `Some` exactly while enabled.
    timer: RefCell<Option<Timer>>,
}

/// What the interval records into and the readings read from.
struct Samples {
    histogram: RefCell<Histogram<u64>>,
    /// Real time of the previous fire: `None` before the first fire and
    /// after `reset` (Node's `prev_ = 0`). Not cleared by `enable`.
    prev_fire: Cell<Option<Instant>>,
    /// Samples too large for the histogram (over `i64::MAX` ns).
    exceeds: Cell<u64>,
}

impl Samples {
    /// One fire of the interval: Node's `Histogram::RecordDelta`.
    fn record_fire(&self) {
        let now = Instant::now();
        let Some(prev) = self.prev_fire.replace(Some(now)) else { return };
        let delay = now.saturating_duration_since(prev);
        let nanos = u64::try_from(delay.as_nanos()).unwrap_or(u64::MAX);
        if self.histogram.borrow_mut().record(nanos).is_err() {
            self.exceeds.set(self.exceeds.get() + 1);
        }
    }
}

impl EventLoopDelay {
    /// Starts sampling: `histogram.enable()`. Returns `false` (and does
    /// nothing) if the monitor was already on.
    ///
    /// The first fire is one resolution from now. It records a sample only
    /// if the monitor fired before (it was enabled and then disabled without
    /// a [`reset`](EventLoopDelay::reset)), and that sample spans the time
    /// it was off, as in Node.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime (the interval is made on the running loop).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(20))?;
    ///     assert!(delay.enable());
    ///     assert!(!delay.enable()); // already on
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn enable(&self) -> bool {
        let mut timer = self.timer.borrow_mut();
        if timer.is_some() {
            return false;
        }
        let samples = Rc::clone(&self.samples);
        let interval = set_interval(self.resolution, move || samples.record_fire());
        // Node `uv_unref`s the monitor's timer: watching the loop must not
        // be a reason for it to stay alive.
        interval.unref();
        *timer = Some(interval);
        true
    }

    /// Stops sampling: `histogram.disable()`. Returns `false` if the monitor
    /// was already off. The samples stay until [`reset`](EventLoopDelay::reset).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(20))?;
    ///     assert!(!delay.disable()); // off until enabled
    ///     delay.enable();
    ///     assert!(delay.disable());
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn disable(&self) -> bool {
        match self.timer.borrow_mut().take() {
            Some(interval) => {
                interval.clear();
                true
            }
            None => false,
        }
    }

    /// Drops every sample and forgets the previous fire: `histogram.reset()`.
    /// An enabled monitor stays enabled; its next fire only notes the time,
    /// and the one after records again.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// delay.reset();
    /// assert_eq!((delay.count(), delay.max()), (0, 0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reset(&self) {
        self.samples.histogram.borrow_mut().reset();
        self.samples.prev_fire.set(None);
        self.samples.exceeds.set(0);
    }

    /// The number of samples: `histogram.count`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(10))?;
    ///     assert_eq!(delay.count(), 0);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn count(&self) -> u64 {
        self.samples.histogram.borrow().len()
    }

    /// The smallest sample in nanoseconds, rounded down to the histogram's
    /// precision: `histogram.min`. 0 before any sample (Node: `INT64_MAX`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     assert_eq!(delay.min(), 0);
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// assert!(delay.min() > 0 && delay.min() <= delay.max());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn min(&self) -> u64 {
        readings::min(&self.samples.histogram.borrow())
    }

    /// The largest sample in nanoseconds, rounded up to the histogram's
    /// precision: `histogram.max`. 0 before any sample, as in Node.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     assert_eq!(delay.max(), 0);
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// assert_eq!(delay.max(), delay.percentile(100.0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn max(&self) -> u64 {
        readings::max(&self.samples.histogram.borrow())
    }

    /// The mean sample in nanoseconds: `histogram.mean`. NaN before any
    /// sample, as in Node.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     assert!(delay.mean().is_nan());
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// assert!(delay.mean() >= delay.min() as f64);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn mean(&self) -> f64 {
        readings::mean(&self.samples.histogram.borrow())
    }

    /// The standard deviation of the samples in nanoseconds:
    /// `histogram.stddev`. NaN before any sample, as in Node.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     assert!(delay.stddev().is_nan());
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// assert!(delay.stddev() >= 0.0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stddev(&self) -> f64 {
        readings::stddev(&self.samples.histogram.borrow())
    }

    /// The sample at `percentile` (in `(0, 100]`) in nanoseconds, rounded up
    /// to the histogram's precision: `histogram.percentile(p)`. 0 before any
    /// sample (Node returns 511, an artefact of the empty C histogram).
    ///
    /// The rank is C `hdr_histogram`'s, `p / 100 * count` rounded to the
    /// nearest sample, so the value is Node's for the same samples.
    ///
    /// # Panics
    ///
    /// Panics with "percentile must be > 0 && <= 100" if `percentile` is 0
    /// or less, over 100, or NaN, where Node throws `ERR_OUT_OF_RANGE`. A
    /// percentile is almost always a constant in the program, so a wrong one
    /// is a bug to fix, not an error to handle.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// assert!(delay.percentile(50.0) <= delay.percentile(99.0));
    /// assert_eq!(delay.percentile(100.0), delay.max());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn percentile(&self, percentile: f64) -> u64 {
        assert!(
            percentile > 0.0 && percentile <= 100.0,
            "percentile must be > 0 && <= 100, got {percentile}"
        );
        readings::percentile(&self.samples.histogram.borrow(), percentile)
    }

    /// The percentile distribution, as `(percentile, nanoseconds)` pairs
    /// from `(0.0, min)` to `(100.0, _)`: the entries of Node's
    /// `histogram.percentiles` map, in its order. Empty before any sample
    /// (Node: `[[100, 0]]`).
    ///
    /// The ticks are C `hdr_histogram`'s percentile iteration with one tick
    /// per half distance (0, 50, 75, 87.5, ... towards 100), and each value
    /// is the lowest of its histogram bucket, as Node reports it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let delay = jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(5))?;
    ///     assert!(delay.percentiles().is_empty());
    ///     delay.enable();
    ///     // The first fire only notes the time; the second records a sample.
    ///     while delay.count() == 0 {
    ///         jsloop::time::sleep(Duration::from_millis(5)).await;
    ///     }
    ///     Ok::<_, std::io::Error>(delay)
    /// })?;
    /// let percentiles = delay.percentiles();
    /// assert_eq!(percentiles.first(), Some(&(0.0, delay.min())));
    /// assert_eq!(percentiles.last().map(|&(p, _)| p), Some(100.0));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn percentiles(&self) -> Vec<(f64, u64)> {
        readings::percentiles(&self.samples.histogram.borrow())
    }

    /// Samples too large for the histogram: `histogram.exceeds`.
    ///
    /// Node's ELD histogram tracks up to `INT64_MAX` ns (about 292 years),
    /// so in practice this stays 0; it is here for ports that read it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     let delay = jsloop::metrics::monitor_event_loop_delay(Duration::from_millis(10))?;
    ///     assert_eq!(delay.exceeds(), 0);
    ///     Ok::<_, std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn exceeds(&self) -> u64 {
        self.samples.exceeds.get()
    }
}

impl Drop for EventLoopDelay {
    fn drop(&mut self) {
        // The interval holds the samples; clearing it frees both.
        self.disable();
    }
}

impl fmt::Debug for EventLoopDelay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventLoopDelay")
            .field("resolution", &self.resolution)
            .field("enabled", &self.timer.borrow().is_some())
            .field("count", &self.count())
            .field("min", &self.min())
            .field("max", &self.max())
            .field("mean", &self.mean())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_the_monitor_clears_its_interval() {
        crate::run(async {
            let delay = monitor_event_loop_delay(Duration::from_millis(1)).unwrap();
            delay.enable();
            let weak = Rc::downgrade(&delay.samples);
            drop(delay);
            // Checked while the loop runs (shutdown drops every timer): only
            // the interval's callback could still hold the samples.
            assert!(weak.upgrade().is_none());
        });
    }
}
