//! `metrics::monitor_event_loop_delay`: Node's `perf_hooks.monitorEventLoopDelay`.
//!
//! Timing here has lower bounds only: a loaded machine makes the loop later,
//! never earlier, so each bound holds however slow the run. Where a test
//! needs the monitor to have fired, it waits for that (up to a generous
//! limit) instead of sleeping a fixed time.

use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use jsloop::metrics::{EventLoopDelay, monitor_event_loop_delay};
use jsloop::time::sleep;

const MS: u64 = 1_000_000;

/// How long a test waits for the monitor to do something before it fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// Sleeps in 5 ms steps until `done` holds; panics after [`PATIENCE`].
async fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < PATIENCE, "gave up waiting until {what}");
        sleep(Duration::from_millis(5)).await;
    }
}

/// Holds the loop: a synchronous busy wait, as a slow callback would.
fn block_loop_for(duration: Duration) {
    let start = Instant::now();
    while start.elapsed() < duration {}
}

fn monitor(ms: u64) -> EventLoopDelay {
    monitor_event_loop_delay(Duration::from_millis(ms)).expect("a valid resolution")
}

#[test]
fn zero_resolution_is_invalid_input() {
    let err = jsloop::run(async { monitor_event_loop_delay(Duration::ZERO) }).unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("resolution must be at least 1 ms"), "{err}");
}

#[test]
fn resolution_is_whole_milliseconds_from_1_to_timeout_max() {
    let results = jsloop::run(async {
        [
            Duration::from_micros(500),
            Duration::from_micros(1_500),
            Duration::from_millis((1 << 31) - 1) + Duration::from_millis(1),
            Duration::MAX,
            Duration::from_millis(1),
            Duration::from_millis((1 << 31) - 1),
        ]
        .map(|resolution| monitor_event_loop_delay(resolution).map(drop).map_err(|e| e.to_string()))
    });
    let [under_1ms, fraction, over_max, max_duration, one_ms, timeout_max] = results;
    assert!(under_1ms.unwrap_err().contains("at least 1 ms"));
    assert!(fraction.unwrap_err().contains("whole number of milliseconds"));
    assert!(over_max.unwrap_err().contains("at most 2147483647 ms"));
    assert!(max_duration.is_err());
    assert!(one_ms.is_ok() && timeout_max.is_ok());
}

#[test]
#[should_panic(expected = "no jsloop runtime is running on this thread")]
fn outside_a_runtime_panics_like_set_timeout() {
    let _ = monitor_event_loop_delay(Duration::from_millis(10));
}

#[test]
fn enable_and_disable_report_whether_the_state_changed() {
    jsloop::run(async {
        let delay = monitor(10);
        assert!(!delay.disable(), "off until enabled");
        assert!(delay.enable());
        assert!(!delay.enable());
        assert!(delay.disable());
        assert!(!delay.disable());
        assert!(delay.enable(), "can be enabled again");
    });
}

#[test]
fn monitor_is_off_until_enabled_and_a_disabled_one_records_nothing() {
    let delay = jsloop::run(async {
        let delay = monitor(1);
        // Not enabled: 40 resolutions pass, one of them blocked.
        jsloop::set_timeout(Duration::from_millis(5), || block_loop_for(Duration::from_millis(20)));
        sleep(Duration::from_millis(40)).await;
        assert_eq!(delay.count(), 0);

        delay.enable();
        wait_until("a sample", || delay.count() >= 1).await;
        delay.disable();
        let count = delay.count();
        sleep(Duration::from_millis(40)).await;
        assert_eq!(delay.count(), count, "samples taken while disabled");
        delay.reset();
        delay
    });
    assert_eq!(delay.count(), 0);
}

#[test]
fn readings_before_any_sample_are_zero_and_nan() {
    let delay = jsloop::run(async { monitor(10) });
    assert_eq!((delay.count(), delay.min(), delay.max(), delay.exceeds()), (0, 0, 0, 0));
    assert!(delay.mean().is_nan() && delay.stddev().is_nan());
    assert_eq!(delay.percentile(50.0), 0);
    assert_eq!(delay.percentile(100.0), 0);
    assert!(delay.percentiles().is_empty());
}

#[test]
fn enabled_monitor_records_a_blocked_loop_as_one_long_sample() {
    let delay = jsloop::run(async {
        let delay = monitor(10);
        delay.enable();
        // After the monitor's first fire (10 ms, which only notes the time):
        // the fire before the block and the first one after it are 60 ms
        // or more apart.
        jsloop::set_timeout(Duration::from_millis(30), || {
            block_loop_for(Duration::from_millis(60))
        });
        wait_until("the blocked stretch is recorded", || delay.max() >= 50 * MS).await;
        delay
    });
    assert!(delay.max() >= 50 * MS, "max {} ns", delay.max());
    assert!(delay.count() >= 1);
    assert_eq!(delay.percentile(100.0), delay.max());
    assert!(delay.min() <= delay.percentile(50.0) && delay.percentile(50.0) <= delay.max());
    assert!(delay.mean() >= delay.min() as f64 && delay.mean() <= delay.max() as f64);
    assert!(delay.stddev() >= 0.0);
    let percentiles = delay.percentiles();
    assert_eq!(percentiles.first(), Some(&(0.0, delay.min())));
    let &(last, at_last) = percentiles.last().unwrap();
    assert_eq!(last, 100.0);
    assert!(at_last >= 50 * MS, "the max's bucket starts at {at_last} ns");
    assert!(percentiles.windows(2).all(|w| w[0].0 < w[1].0 && w[0].1 <= w[1].1));
    assert_eq!(delay.exceeds(), 0);
}

#[test]
fn idle_samples_are_the_full_interval_not_the_lateness() {
    // Node records the time between two fires (`uv_hrtime() - prev_`), so
    // an idle loop's samples are about the resolution; a lateness measure
    // would be about 0. The mean is the safe reading: the samples add up to
    // the time from the first fire to the last, at least 10 ms a sample
    // (the interval never fires early) less one millisecond tick and however
    // late the first fire's callback ran after the loop read its clock; a
    // single sample could be short after a preempted fire.
    let delay = jsloop::run(async {
        let delay = monitor(10);
        delay.enable();
        wait_until("ten samples", || delay.count() >= 10).await;
        delay
    });
    assert!(delay.mean() >= 5.0 * MS as f64, "mean {} ns", delay.mean());
}

#[test]
fn first_fire_after_enable_only_notes_the_time() {
    jsloop::run(async {
        let delay = monitor(10);
        delay.enable();
        // The first sample needs a second fire, 20 ms on (less a tick of
        // the wheel's rounding); the first fire comes at 10 ms.
        let enabled = Instant::now();
        wait_until("a sample", || delay.count() >= 1).await;
        assert!(enabled.elapsed() >= Duration::from_millis(15), "{:?}", enabled.elapsed());
    });
}

#[test]
fn reset_clears_samples_and_recording_goes_on() {
    let delay = jsloop::run(async {
        let delay = monitor(5);
        delay.enable();
        jsloop::set_timeout(Duration::from_millis(15), || {
            block_loop_for(Duration::from_millis(30))
        });
        wait_until("the block is recorded", || delay.max() >= 25 * MS).await;

        delay.reset();
        assert_eq!((delay.count(), delay.min(), delay.max(), delay.exceeds()), (0, 0, 0, 0));
        assert!(delay.mean().is_nan() && delay.percentiles().is_empty());

        // Still enabled: one fire to note the time, the next records.
        wait_until("a sample after reset", || delay.count() >= 1).await;
        delay
    });
    assert!(delay.count() >= 1);
}

#[test]
fn re_enabling_keeps_the_previous_fire_as_node_does() {
    // Node 20's `IntervalHistogram::OnStart` does not clear `prev_`: the
    // first sample after `enable()` spans the time the monitor was off.
    let delay = jsloop::run(async {
        let delay = monitor(5);
        delay.enable();
        wait_until("a sample", || delay.count() >= 1).await;
        delay.disable();
        sleep(Duration::from_millis(60)).await;
        let before = delay.count();
        delay.enable();
        wait_until("a sample after re-enabling", || delay.count() > before).await;
        delay
    });
    assert!(delay.max() >= 60 * MS, "max {} ns", delay.max());
}

#[test]
fn run_returns_with_only_the_monitor_left() {
    // The monitor's interval is unref'd. If it kept the loop alive, `run`
    // would never return: a watchdog turns that hang into a failure.
    let (done, finished) = mpsc::channel();
    thread::spawn(move || {
        let count = jsloop::run(async {
            let delay = monitor(1);
            delay.enable();
            // The main task's sleeps keep the loop alive until the monitor
            // has sampled; then only the (still enabled) monitor is left.
            wait_until("a sample", || delay.count() >= 1).await;
            delay
        })
        .count();
        done.send(count).unwrap();
    });
    let count = finished.recv_timeout(PATIENCE).expect("`run` returned with only the monitor left");
    assert!(count >= 1);
}

#[test]
fn bad_percentiles_panic_like_nodes_range_error() {
    let delay = jsloop::run(async { monitor(10) });
    for bad in [0.0, -1.0, 100.000_001, 101.0, f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
        let panic = catch_unwind(AssertUnwindSafe(|| delay.percentile(bad))).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.starts_with("percentile must be > 0 && <= 100"), "{bad}: {message}");
    }
    for good in [f64::MIN_POSITIVE, 0.001, 50.0, 100.0] {
        assert_eq!(delay.percentile(good), 0, "no samples yet");
    }
}

#[test]
fn debug_shows_resolution_and_state() {
    let delay = jsloop::run(async {
        let delay = monitor(10);
        delay.enable();
        delay
    });
    let debug = format!("{delay:?}");
    assert!(
        debug.starts_with("EventLoopDelay { resolution: 10ms, enabled: true, count: "),
        "{debug}"
    );
}
