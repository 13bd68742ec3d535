//! The end of time: a deadline that saturates to the last tick of the
//! loop's clock (`Duration::MAX`, or anything past about 584 million years)
//! means "never", on the real clock and under virtual time alike. It never
//! fires, virtual time never jumps to it, and, like a JS promise nothing will
//! settle, it does not keep the loop alive.

mod common;
use common::panic_message;

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::mpsc;
use std::time::Duration;

use jsloop::time::{self, Instant, MissedTickBehavior};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn virtual_runtime() -> jsloop::Runtime {
    jsloop::Runtime::builder().virtual_time(true).build().unwrap()
}

/// Runs `f` on a thread of its own and gives its result back, failing the
/// test (instead of hanging it) if it has not finished in a minute: the
/// real-clock cases below used to wait forever.
fn within_a_minute<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(catch_unwind(AssertUnwindSafe(f)));
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(Ok(value)) => value,
        Ok(Err(payload)) => std::panic::resume_unwind(payload),
        Err(_) => panic!("still running after a minute: the loop hangs"),
    }
}

/// Checks that the virtual clock of `rt` is not at the end of time: two
/// timers created now fire in deadline order, at their deadlines.
fn assert_clock_still_runs(rt: &jsloop::Runtime) {
    let log = Rc::new(RefCell::new(Vec::new()));
    rt.run({
        let log = log.clone();
        async move {
            let start = Instant::now();
            for delay in [20, 10] {
                let log = log.clone();
                jsloop::set_timeout(ms(delay), move || {
                    log.borrow_mut().push((delay, start.elapsed()))
                });
            }
        }
    });
    assert_eq!(*log.borrow(), [(10, ms(10)), (20, ms(20))]);
}

#[test]
fn sleep_duration_max_never_completes_under_virtual_time() {
    let rt = virtual_runtime();
    let woke = Rc::new(Cell::new(false));
    rt.run({
        let woke = woke.clone();
        async move {
            jsloop::spawn(async move {
                time::sleep(Duration::MAX).await;
                woke.set(true);
            });
        }
    });
    assert!(!woke.get(), "a sleep of Duration::MAX completed");
    assert_clock_still_runs(&rt);
}

#[test]
fn timeout_duration_max_never_elapses_under_virtual_time() {
    let rt = virtual_runtime();
    let outcome = Rc::new(Cell::new(None));
    rt.run({
        let outcome = outcome.clone();
        async move {
            jsloop::spawn(async move {
                let result = time::timeout(Duration::MAX, std::future::pending::<()>()).await;
                outcome.set(Some(result));
            });
        }
    });
    assert_eq!(outcome.get(), None, "a timeout of Duration::MAX elapsed");
    assert_clock_still_runs(&rt);
}

#[test]
fn sleep_until_past_the_end_of_time_never_completes_under_virtual_time() {
    let rt = virtual_runtime();
    let woke = Rc::new(Cell::new(false));
    rt.run({
        let woke = woke.clone();
        async move {
            // Representable as an `Instant` (on Linux), but past the clock's
            // last tick: it saturates to the end of time.
            let Some(past_the_end) =
                Instant::now().checked_add(Duration::from_secs(u64::MAX / 500))
            else {
                return;
            };
            jsloop::spawn(async move {
                time::sleep_until(past_the_end).await;
                woke.set(true);
            });
        }
    });
    assert!(!woke.get(), "a sleep past the end of time completed");
    assert_clock_still_runs(&rt);
}

#[test]
fn run_panics_when_main_waits_only_on_a_never_firing_sleep() {
    for virtual_time in [true, false] {
        let message = within_a_minute(move || {
            let rt = jsloop::Runtime::builder().virtual_time(virtual_time).build().unwrap();
            let payload = catch_unwind(AssertUnwindSafe(|| {
                rt.run(async { time::sleep(Duration::MAX).await })
            }))
            .unwrap_err();
            panic_message(payload)
        });
        assert!(message.contains("nothing can wake it"), "virtual {virtual_time}: {message}");
    }
}

#[test]
fn block_on_panics_when_main_waits_only_on_a_never_firing_timeout() {
    for virtual_time in [true, false] {
        let message = within_a_minute(move || {
            let rt = jsloop::Runtime::builder().virtual_time(virtual_time).build().unwrap();
            let never = async { time::timeout(Duration::MAX, std::future::pending::<()>()).await };
            let payload = catch_unwind(AssertUnwindSafe(|| rt.block_on(never))).unwrap_err();
            panic_message(payload)
        });
        assert!(message.contains("nothing can wake it"), "virtual {virtual_time}: {message}");
    }
}

#[test]
fn a_task_waiting_on_a_never_firing_sleep_does_not_keep_the_loop_alive() {
    within_a_minute(|| {
        jsloop::run(async {
            jsloop::spawn(time::sleep(Duration::MAX));
        });
    });
}

#[test]
fn a_never_firing_sleep_still_races_other_futures() {
    virtual_runtime().block_on(async {
        let start = Instant::now();
        assert_eq!(time::timeout(Duration::MAX, time::sleep(ms(15))).await, Ok(()));
        assert_eq!(start.elapsed(), ms(15));
        assert!(time::timeout(ms(5), time::sleep(Duration::MAX)).await.is_err());
        assert_eq!(start.elapsed(), ms(20));
    });
}

#[test]
fn a_never_firing_sleep_reset_to_a_real_deadline_completes_there() {
    virtual_runtime().block_on(async {
        let start = Instant::now();
        let mut nap = Box::pin(time::sleep(Duration::MAX));
        assert!(time::timeout(ms(5), nap.as_mut()).await.is_err());
        nap.as_mut().reset(start + ms(30));
        nap.as_mut().await;
        assert_eq!(start.elapsed(), ms(30));
        assert!(nap.is_elapsed());
    });
}

#[test]
fn interval_duration_max_ticks_at_once_then_never() {
    let rt = virtual_runtime();
    for behavior in [MissedTickBehavior::Delay, MissedTickBehavior::Burst, MissedTickBehavior::Skip]
    {
        rt.block_on(async {
            let start = Instant::now();
            let mut ticks = time::interval(Duration::MAX);
            ticks.set_missed_tick_behavior(behavior);
            assert_eq!(ticks.tick().await, start, "{behavior:?}");
            assert!(time::timeout(ms(50), ticks.tick()).await.is_err(), "{behavior:?}");
            ticks.reset();
            assert!(time::timeout(ms(50), ticks.tick()).await.is_err(), "{behavior:?}");
            assert_eq!(start.elapsed(), ms(100));
        });
    }
}

#[test]
fn interval_duration_max_seen_late_never_ticks_again() {
    // A first tick seen late takes the missed-tick path of each behaviour.
    let rt = virtual_runtime();
    for behavior in [MissedTickBehavior::Delay, MissedTickBehavior::Burst, MissedTickBehavior::Skip]
    {
        rt.block_on(async {
            let start = Instant::now();
            let mut ticks = time::interval(Duration::MAX);
            ticks.set_missed_tick_behavior(behavior);
            time::sleep(ms(35)).await;
            assert_eq!(ticks.tick().await, start, "{behavior:?}");
            assert!(time::timeout(ms(50), ticks.tick()).await.is_err(), "{behavior:?}");
        });
    }
    assert_clock_still_runs(&rt);
}

#[test]
fn interval_with_a_huge_period_skips_to_its_real_schedule() {
    // Longer than `u64::MAX` nanoseconds (about 584 years), but short of
    // the end of time: Skip must neither truncate nor overflow it.
    let period = Duration::from_secs(1 << 40);
    virtual_runtime().block_on(async {
        let start = Instant::now();
        let mut ticks = time::interval(period);
        ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
        time::sleep(ms(35)).await;
        assert_eq!(ticks.tick().await, start);
        assert_eq!(ticks.tick().await, start + period);
    });
}

#[test]
fn set_timeout_that_saturates_to_the_end_of_time_never_fires() {
    // Only a virtual clock can get within `TIMEOUT_MAX` of the end of time,
    // and only by a sleep with a deadline that far out.
    let rt = virtual_runtime();
    rt.block_on(async { time::sleep(Duration::from_millis(u64::MAX - 5)).await });
    let fired = Rc::new(RefCell::new(Vec::new()));
    rt.run({
        let fired = fired.clone();
        async move {
            for delay in [10, 2] {
                let fired = fired.clone();
                jsloop::set_timeout(ms(delay), move || fired.borrow_mut().push(delay));
            }
        }
    });
    // 2 ms still fits before the end; 10 ms would be past it.
    assert_eq!(*fired.borrow(), [2]);
}
