//! Test-time control (`time::pause`, `resume`, `advance`) and the paused
//! clock's rule: it jumps to the next timer only when nothing real is in
//! flight.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use jsloop::Runtime;
use jsloop::time::{self, Instant};

fn virtual_runtime() -> Runtime {
    Runtime::builder().virtual_time(true).build().unwrap()
}

#[test]
fn a_timeout_around_a_pool_job_does_not_fire_early_under_virtual_time() {
    virtual_runtime().block_on(async {
        let start = Instant::now();
        let real = std::time::Instant::now();
        let job = jsloop::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)));
        let outcome = time::timeout(Duration::from_secs(3600), job).await;
        assert!(outcome.is_ok(), "the job finished long before the hour");
        let waited = start.elapsed();
        // The clock moved by the time the loop spent blocked waiting for the
        // job, not by the hour. That is at most the real time that passed;
        // it can be less than the job's 50 ms, by however long a loaded
        // machine kept the loop from reaching its wait after the job began.
        assert!(waited > Duration::ZERO, "the loop waited for the job");
        assert!(waited <= real.elapsed(), "{waited:?} is ahead of real time");
    });
}

#[test]
fn a_timeout_around_a_socket_that_never_gets_ready_fires_in_real_time_instead_of_hanging() {
    virtual_runtime().block_on(async {
        let listener = jsloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let real = std::time::Instant::now();
        let accepted = time::timeout(Duration::from_millis(30), listener.accept()).await;
        assert!(accepted.is_err(), "nobody connects");
        assert!(real.elapsed() >= Duration::from_millis(30), "it waited for real");
    });
}

#[test]
fn with_nothing_real_in_flight_the_paused_clock_still_jumps() {
    virtual_runtime().block_on(async {
        let real = std::time::Instant::now();
        time::sleep(Duration::from_secs(86_400)).await;
        assert!(real.elapsed() < Duration::from_secs(60));
    });
}

#[test]
fn advance_fires_the_timers_due_by_then_in_order_and_no_others() {
    let log = Rc::new(RefCell::new(Vec::new()));
    virtual_runtime().block_on({
        let log = log.clone();
        async move {
            for (delay, name) in [(30, "30 ms"), (10, "10 ms"), (20, "20 ms"), (40, "40 ms")] {
                let log = log.clone();
                jsloop::set_timeout(Duration::from_millis(delay), move || {
                    log.borrow_mut().push(name)
                });
            }
            let start = Instant::now();
            time::advance(Duration::from_millis(25)).await;
            assert_eq!(*log.borrow(), ["10 ms", "20 ms"]);
            assert!(start.elapsed() >= Duration::from_millis(25));
            time::advance(Duration::from_millis(10)).await;
            assert_eq!(*log.borrow(), ["10 ms", "20 ms", "30 ms"]);
        }
    });
    // `block_on` returned with the 40 ms timer still pending.
    assert_eq!(log.borrow().len(), 3);
}

#[test]
fn advance_by_duration_max_fires_everything_and_stops_short_of_the_end_of_time() {
    let log = Rc::new(RefCell::new(Vec::new()));
    virtual_runtime().block_on({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::set_timeout(Duration::from_secs(3600), move || l.borrow_mut().push("an hour"));
            let l = log.clone();
            jsloop::spawn(async move {
                time::sleep(Duration::from_secs(86_400 * 365)).await;
                l.borrow_mut().push("a year");
            });
            jsloop::yield_now().await; // the sleep is armed
            time::advance(Duration::MAX).await;
            time::advance(Duration::MAX).await; // already at the last tick
            jsloop::yield_to_loop().await;
            assert_eq!(*log.borrow(), ["an hour", "a year"]);
        }
    });
}

#[test]
fn resume_follows_real_time_and_pause_stops_it_again() {
    virtual_runtime().block_on(async {
        time::resume();
        let start = Instant::now();
        std::thread::sleep(Duration::from_millis(10));
        let ran = start.elapsed();
        assert!(ran >= Duration::from_millis(10), "{ran:?}");
        time::pause();
        let paused_at = Instant::now();
        std::thread::sleep(Duration::from_millis(10));
        assert_eq!(Instant::now(), paused_at);
        // Resumed, a sleep is a real one: the clock does not jump.
        time::resume();
        let real = std::time::Instant::now();
        time::sleep(Duration::from_millis(20)).await;
        assert!(real.elapsed() >= Duration::from_millis(20));
    });
}

#[test]
fn controlling_real_time_panics_with_a_clear_message() {
    let rt = Runtime::new().unwrap();
    for (name, call) in [
        ("pause", Box::new(time::pause) as Box<dyn Fn()>),
        ("resume", Box::new(time::resume)),
        ("advance", Box::new(|| drop(time::advance(Duration::from_secs(1))))),
    ] {
        let panic = catch_unwind(AssertUnwindSafe(|| rt.block_on(async { call() }))).unwrap_err();
        let message = panic.downcast_ref::<String>().unwrap();
        assert!(message.contains(&format!("jsloop::time::{name}")), "{message}");
        assert!(message.contains("virtual_time(true)"), "{message}");
    }
}
