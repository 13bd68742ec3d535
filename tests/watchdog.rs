//! `Builder::stall_watchdog`: reports while the loop is stuck, never while
//! it is idle or not running, and never holds the loop up. Times are only
//! bounded from below (a loaded machine makes them longer).

use std::panic::Location;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jsloop::metrics::{Phase, Stall, StallState, Work};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn block(duration: Duration) {
    std::thread::sleep(duration);
}

type Stalls = Arc<Mutex<Vec<Stall>>>;

/// A runtime whose watchdog collects its reports.
fn watched(threshold: Duration) -> (jsloop::Runtime, Stalls) {
    let stalls: Stalls = Arc::default();
    let rt = jsloop::Runtime::builder()
        .stall_watchdog_with(threshold, {
            let stalls = stalls.clone();
            move |stall| stalls.lock().unwrap().push(*stall)
        })
        .build()
        .unwrap();
    (rt, stalls)
}

/// Waits (generously) until `done` holds; false if it never did.
fn eventually(done: impl Fn() -> bool) -> bool {
    let deadline = Instant::now() + Duration::from_secs(10);
    while !done() {
        if Instant::now() > deadline {
            return false;
        }
        block(ms(1));
    }
    true
}

/// Drops the runtime and waits until its watchdog thread has stopped (it
/// drops its handler, the last other owner of `stalls`): every report it
/// owed is in.
fn stop(rt: jsloop::Runtime, stalls: &Stalls) -> Vec<Stall> {
    drop(rt);
    assert!(eventually(|| Arc::strong_count(stalls) == 1), "the watchdog thread stopped");
    stalls.lock().unwrap().clone()
}

/// The reports about the work `is` picks. (On a loaded machine the loop
/// thread may also lose its core for a threshold elsewhere, which is a
/// stall too.)
fn about(stalls: &[Stall], is: impl Fn(&Work) -> bool) -> Vec<Stall> {
    stalls.iter().filter(|s| s.work.as_ref().is_some_and(&is)).copied().collect()
}

#[test]
fn a_blocking_callback_is_reported_while_it_runs_and_when_it_returns() {
    let (rt, stalls) = watched(ms(50));
    let (line, seen_while_blocked) = rt.run({
        let stalls = stalls.clone();
        async move {
            let seen = Arc::new(Mutex::new(Vec::new()));
            let line = Location::caller().line() + 1;
            jsloop::set_timeout(ms(1), {
                let seen = seen.clone();
                move || {
                    block(ms(300));
                    // Still inside the stuck callback: the watchdog has
                    // spoken already.
                    *seen.lock().unwrap() = stalls.lock().unwrap().clone();
                }
            });
            jsloop::time::sleep(ms(20)).await;
            let seen = seen.lock().unwrap().clone();
            (line, seen)
        }
    });
    let timeout = |work: &Work| matches!(work, Work::Timeout(_));
    let seen_while_blocked = about(&seen_while_blocked, timeout);
    assert_eq!(seen_while_blocked.len(), 1, "{seen_while_blocked:?}");
    let stalls = about(&stop(rt, &stalls), timeout);
    assert_eq!(stalls.len(), 2, "{stalls:?}");
    let (stuck, returned) = (stalls[0], stalls[1]);
    assert_eq!(stuck, seen_while_blocked[0]);
    for stall in [stuck, returned] {
        let Some(Work::Timeout(at)) = stall.work else { unreachable!() };
        assert_eq!((at.file(), at.line()), (file!(), line), "{stall}");
        assert_eq!(stall.phase, Phase::Timers);
    }
    assert_eq!(stuck.state, StallState::Stuck);
    assert!(stuck.stuck_for >= ms(50), "{stuck}");
    assert!(stuck.to_string().starts_with("the loop has been stuck for "), "{stuck}");
    assert!(stuck.to_string().ends_with("(timers phase)"), "{stuck}");
    assert_eq!(returned.state, StallState::Returned);
    assert!(returned.stuck_for >= ms(300), "{returned}");
    assert!(returned.to_string().starts_with("the loop returned after being stuck for "));
}

#[test]
fn a_blocking_task_poll_is_named_by_its_id_and_spawn_location() {
    let (rt, stalls) = watched(ms(50));
    let (id, line) = rt.block_on(async {
        let task = jsloop::spawn(async { block(ms(300)) });
        let line = Location::caller().line() - 1;
        let id = task.id();
        task.await.unwrap();
        (id, line)
    });
    let stalls = about(&stop(rt, &stalls), |work| matches!(work, Work::Task { .. }));
    let states: Vec<StallState> = stalls.iter().map(|s| s.state).collect();
    assert_eq!(states, [StallState::Stuck, StallState::Returned], "{stalls:?}");
    for stall in &stalls {
        let Some(Work::Task { id: stuck, location }) = stall.work else { panic!("{stall}") };
        assert_eq!(stuck, id);
        assert_eq!((location.file(), location.line()), (file!(), line));
        // A spawned task's first poll runs in the script's checkpoint.
        assert_eq!(stall.phase, Phase::Script);
        assert!(stall.to_string().contains(&format!("task {id} spawned at ")), "{stall}");
    }
    assert!(stalls[1].stuck_for >= ms(300));
}

#[test]
fn a_loop_idle_in_the_poller_is_never_reported() {
    let (rt, stalls) = watched(ms(100));
    rt.run(async {
        jsloop::time::sleep(ms(500)).await;
        // Quick work between long waits is not a stall either.
        for _ in 0..3 {
            jsloop::set_immediate(|| {});
            jsloop::time::sleep(ms(200)).await;
        }
    });
    assert_eq!(stop(rt, &stalls), []);
}

#[test]
fn a_runtime_kept_after_run_returns_is_never_reported() {
    let (rt, stalls) = watched(ms(100));
    rt.run(async {
        jsloop::set_immediate(|| {});
    });
    block(ms(500)); // the loop is not running at all
    rt.block_on(async {});
    block(ms(500));
    assert_eq!(stop(rt, &stalls), []);
}

#[test]
fn a_run_that_unwinds_ends_the_stall_and_is_not_reported_afterwards() {
    let (rt, stalls) = watched(ms(50));
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.run(async {
            jsloop::set_immediate(|| {
                block(ms(200));
                panic!("stuck, then failed");
            });
        })
    }));
    assert!(result.is_err());
    block(ms(300)); // kept, not running: nothing more to report
    let all = stop(rt, &stalls);
    let stalls = about(&all, |work| matches!(work, Work::Immediate(_)));
    assert_eq!(stalls.len(), 2, "{all:?}");
    assert_eq!(stalls[1].state, StallState::Returned);
    assert!(stalls[1].stuck_for >= ms(200));
    assert_eq!(all.last(), Some(&stalls[1]), "reported after the run unwound: {all:?}");
}

#[test]
fn a_long_task_handler_that_blocks_is_reported_as_its_item_without_deadlock() {
    let stalls: Stalls = Arc::default();
    let rt = jsloop::Runtime::builder()
        .on_long_task(ms(10), |_| block(ms(300)))
        .stall_watchdog_with(ms(50), {
            let stalls = stalls.clone();
            move |stall| stalls.lock().unwrap().push(*stall)
        })
        .build()
        .unwrap();
    rt.run(async {
        jsloop::set_immediate(|| block(ms(20)));
    });
    let all = stop(rt, &stalls);
    let stalls = about(&all, |work| matches!(work, Work::Immediate(_)));
    assert_eq!(stalls.len(), 2, "{all:?}");
    for stall in &stalls {
        assert_eq!(stall.phase, Phase::Check);
    }
    assert!(stalls[1].stuck_for >= ms(320), "the item and its handler: {}", stalls[1]);
}

#[test]
fn a_panicking_watchdog_handler_is_caught_and_the_watchdog_goes_on() {
    let calls = Arc::new(AtomicUsize::new(0));
    let rt = jsloop::Runtime::builder()
        .stall_watchdog_with(ms(50), {
            let calls = calls.clone();
            move |stall| {
                calls.fetch_add(1, Ordering::SeqCst);
                panic!("handler failed on: {stall}");
            }
        })
        .build()
        .unwrap();
    let after = rt.run(async {
        jsloop::set_immediate(|| block(ms(200)));
        jsloop::time::sleep(ms(20)).await;
        "the loop went on"
    });
    assert_eq!(after, "the loop went on");
    // The return was reported too: the first panic did not end the
    // watchdog.
    assert!(eventually(|| calls.load(Ordering::SeqCst) >= 2));
    drop(rt);
    assert!(eventually(|| Arc::strong_count(&calls) == 1));
}

#[test]
fn a_blocking_watchdog_handler_holds_up_neither_the_loop_nor_the_runtime_s_drop() {
    let (release, released) = mpsc::channel::<()>();
    let stalls: Stalls = Arc::default();
    let rt = jsloop::Runtime::builder()
        .stall_watchdog_with(ms(30), {
            let stalls = stalls.clone();
            move |stall| {
                stalls.lock().unwrap().push(*stall);
                if stall.state == StallState::Stuck {
                    // Blocks until the test says so. (A `Receiver` is not
                    // `Sync`: the handler only has to be `Send`.)
                    released.recv().unwrap();
                }
            }
        })
        .build()
        .unwrap();
    rt.run(async {
        jsloop::set_immediate(|| block(ms(150)));
        // More stalls while the handler is blocked in the first report.
        for _ in 0..3 {
            jsloop::time::sleep(ms(5)).await;
            jsloop::set_immediate(|| block(ms(100)));
        }
    });
    assert!(eventually(|| !stalls.lock().unwrap().is_empty()));
    // The handler is still blocked in the first report, and the loop ran
    // to the end regardless.
    assert_eq!(stalls.lock().unwrap().len(), 1);
    let dropped = Instant::now();
    drop(rt);
    assert!(dropped.elapsed() < ms(1000), "dropping the runtime waited for the handler");
    release.send(()).unwrap();
    assert!(eventually(|| Arc::strong_count(&stalls) == 1), "the watchdog thread stopped");
    let stalls = stalls.lock().unwrap();
    assert_eq!(stalls[0].state, StallState::Stuck);
    assert_eq!(stalls.last().unwrap().state, StallState::Returned, "{stalls:?}");
}

#[test]
fn dropping_the_runtime_stops_the_watchdog_thread() {
    let handler_state = Arc::new(());
    let rt = jsloop::Runtime::builder()
        .stall_watchdog_with(Duration::from_secs(3600), {
            let handler_state = handler_state.clone();
            move |_| {
                let _kept = &handler_state;
            }
        })
        .build()
        .unwrap();
    rt.block_on(async {});
    assert_eq!(Arc::strong_count(&handler_state), 2, "the watchdog holds its handler");
    let dropped = Instant::now();
    drop(rt);
    // It sleeps for a quarter hour between looks; the drop wakes it.
    assert!(eventually(|| Arc::strong_count(&handler_state) == 1));
    assert!(dropped.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_zero_threshold_is_an_invalid_input_error() {
    for builder in [
        jsloop::Runtime::builder().stall_watchdog(Duration::ZERO),
        jsloop::Runtime::builder().stall_watchdog_with(Duration::ZERO, |_| {}),
    ] {
        let error = builder.build().unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("stall watchdog's threshold"), "{error}");
    }
}
