//! Timers: Node's rules for set_timeout / set_interval, and the time futures.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::StreamExt;
use jsloop::time::{self, Instant, MissedTickBehavior};

type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn virtual_runtime() -> jsloop::Runtime {
    jsloop::Runtime::builder().virtual_time(true).build().unwrap()
}

#[test]
fn equal_deadlines_fire_in_creation_order() {
    let log: Log = Rc::default();
    virtual_runtime().run({
        let log = log.clone();
        async move {
            for (name, delay) in [("a1", 1), ("b0", 0), ("c1", 1), ("d0", 0)] {
                let l = log.clone();
                jsloop::set_timeout(ms(delay), move || push(&l, name));
            }
        }
    });
    assert_eq!(*log.borrow(), ["a1", "b0", "c1", "d0"]);
}

#[test]
fn shorter_delay_created_later_fires_first() {
    let log: Log = Rc::default();
    virtual_runtime().run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::set_timeout(ms(300), move || push(&l, "300"));
            let l = log.clone();
            jsloop::set_timeout(ms(5), move || push(&l, "5"));
        }
    });
    assert_eq!(*log.borrow(), ["5", "300"]);
}

#[test]
fn timer_created_in_timer_phase_waits_for_next_iteration() {
    let log: Log = Rc::default();
    virtual_runtime().run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::set_timeout(ms(2), move || {
                push(&l, "A");
                let l2 = l.clone();
                jsloop::set_timeout(Duration::ZERO, move || push(&l2, "C (0 ms, from A)"));
                let l2 = l.clone();
                jsloop::set_immediate(move || push(&l2, "immediate from A"));
            });
            let l = log.clone();
            jsloop::set_timeout(ms(2), move || push(&l, "B"));
        }
    });
    assert_eq!(*log.borrow(), ["A", "B", "immediate from A", "C (0 ms, from A)"]);
}

#[test]
fn microtasks_drain_after_each_timer_callback() {
    let log: Log = Rc::default();
    virtual_runtime().run({
        let log = log.clone();
        async move {
            for name in ["t1", "t2"] {
                let l = log.clone();
                jsloop::set_timeout(ms(1), move || {
                    push(&l, name);
                    let l2 = l.clone();
                    jsloop::queue_microtask(move || push(&l2, format!("{name} microtask")));
                });
            }
        }
    });
    assert_eq!(*log.borrow(), ["t1", "t1 microtask", "t2", "t2 microtask"]);
}

#[test]
fn over_timeout_max_and_zero_delays_become_one_ms_like_node() {
    let rt = virtual_runtime();
    let fired = rt.run(async {
        let start = Instant::now();
        let at: Rc<Cell<Option<Duration>>> = Rc::default();
        let a = at.clone();
        jsloop::set_timeout(ms((1 << 31) - 1 + 1), move || a.set(Some(start.elapsed())));
        let b: Rc<Cell<Option<Duration>>> = Rc::default();
        let b2 = b.clone();
        jsloop::set_timeout(Duration::from_micros(900), move || b2.set(Some(start.elapsed())));
        jsloop::time::sleep(ms(10)).await;
        (at.get(), b.get())
    });
    assert_eq!(fired, (Some(ms(1)), Some(ms(1))));
}

#[test]
fn a_duration_max_timer_never_fires_and_does_not_keep_the_loop_alive() {
    let rt = virtual_runtime();
    let fired = Rc::new(Cell::new(0));
    rt.run({
        let fired = fired.clone();
        async move {
            let (a, b) = (fired.clone(), fired.clone());
            let timeout = jsloop::set_timeout(Duration::MAX, move || a.set(a.get() + 1));
            let interval = jsloop::set_interval(Duration::MAX, move || b.set(b.get() + 1));
            // As `time::sleep(Duration::MAX)`: the end of time never comes,
            // and a refresh does not bring it nearer.
            timeout.refresh();
            assert!(!format!("{timeout:?}").contains("armed: true"), "{timeout:?}");
            assert!(!format!("{interval:?}").contains("armed: true"), "{interval:?}");
        }
    });
    assert_eq!(fired.get(), 0);
}

#[test]
fn set_interval_with_zero_period_runs_every_ms_until_cleared() {
    let count = Rc::new(Cell::new(0));
    let elapsed = virtual_runtime().run({
        let count = count.clone();
        async move {
            let start = Instant::now();
            let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
            let inner = slot.clone();
            let timer = jsloop::set_interval(Duration::ZERO, move || {
                count.set(count.get() + 1);
                if count.get() == 5 {
                    jsloop::clear_interval(&inner.take().unwrap());
                }
            });
            slot.set(Some(timer));
            jsloop::time::sleep(ms(50)).await;
            start.elapsed()
        }
    });
    assert_eq!(count.get(), 5);
    assert_eq!(elapsed, ms(50));
}

#[test]
fn interval_does_not_catch_up_after_a_slow_callback() {
    let times: Rc<RefCell<Vec<Duration>>> = Rc::default();
    let rt = jsloop::Runtime::new().unwrap();
    rt.run({
        let times = times.clone();
        async move {
            let start = Instant::now();
            let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
            let inner = slot.clone();
            let timer = jsloop::set_interval(ms(5), move || {
                times.borrow_mut().push(start.elapsed());
                if times.borrow().len() == 1 {
                    std::thread::sleep(ms(30)); // far past the next deadline
                }
                if times.borrow().len() == 3 {
                    inner.take().unwrap().clear();
                }
            });
            slot.set(Some(timer));
        }
    });
    let times = times.borrow();
    // The slow first callback pushed the second tick past 30 ms. The third
    // is scheduled from the loop time before the second callback (itself
    // after the 30 ms), plus the period: at least 35 ms after the first, up
    // to the 1 ms truncation of the loop clock. A scheduler that caught up
    // (deadlines 10, 15, ...) would fire it right after the second, ~30 ms.
    // Load can only make the gaps larger.
    assert!(times[1] >= times[0] + ms(30), "{times:?}");
    assert!(times[2] + ms(1) >= times[0] + ms(35), "{times:?}");
}

#[test]
fn clearing_a_fired_or_cleared_timer_is_a_no_op() {
    let count = Rc::new(Cell::new(0));
    virtual_runtime().run({
        let count = count.clone();
        async move {
            let c = count.clone();
            let timer = jsloop::set_timeout(ms(1), move || c.set(c.get() + 1));
            jsloop::time::sleep(ms(5)).await;
            timer.clear();
            jsloop::clear_timeout(&timer);
            timer.refresh(); // cleared: nothing to re-arm
        }
    });
    assert_eq!(count.get(), 1);
}

#[test]
fn clear_timeout_cancels_a_timer_due_later_in_the_same_phase() {
    let log: Log = Rc::default();
    virtual_runtime().run({
        let log = log.clone();
        async move {
            let victim: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
            let v = victim.clone();
            let l = log.clone();
            jsloop::set_timeout(ms(5), move || {
                push(&l, "A clears B");
                v.take().unwrap().clear();
            });
            let l = log.clone();
            victim.set(Some(jsloop::set_timeout(ms(5), move || push(&l, "B must not run"))));
            let l = log.clone();
            jsloop::set_timeout(ms(5), move || push(&l, "C"));
        }
    });
    assert_eq!(*log.borrow(), ["A clears B", "C"]);
}

#[test]
fn unref_timer_lets_the_loop_end_and_ref_is_idempotent() {
    let rt = jsloop::Runtime::new().unwrap();
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    let start = std::time::Instant::now();
    rt.run(async move {
        let timer = jsloop::set_timeout(Duration::from_secs(3600), move || f.set(true));
        timer.ref_().ref_();
        timer.unref().unref();
        assert!(!timer.has_ref());
    });
    assert!(!fired.get());
    assert!(start.elapsed() < Duration::from_secs(60));
    // ref again and clear: still balanced (the loop ends at once).
    rt.run(async {
        let timer = jsloop::set_timeout(Duration::from_secs(3600), || {});
        timer.unref();
        timer.ref_();
        timer.clear();
    });
}

#[test]
fn refresh_restarts_the_countdown() {
    let elapsed = virtual_runtime().run(async {
        let start = Instant::now();
        let at: Rc<Cell<Duration>> = Rc::default();
        let a = at.clone();
        let timer = jsloop::set_timeout(ms(10), move || a.set(start.elapsed()));
        time::sleep(ms(6)).await;
        timer.refresh();
        time::sleep(ms(20)).await;
        at.get()
    });
    assert_eq!(elapsed, ms(16));
}

#[test]
fn sleep_never_fires_early() {
    jsloop::block_on(async {
        for delay in [0, 1, 2, 7] {
            let start = std::time::Instant::now();
            time::sleep(ms(delay)).await;
            assert!(start.elapsed() >= ms(delay));
        }
        let deadline = Instant::now() + Duration::from_micros(1500);
        time::sleep_until(deadline).await;
        assert!(Instant::now() >= deadline);
    });
}

#[test]
fn sleep_duration_max_never_completes_and_dropping_it_cancels() {
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on(async {
        let result = time::timeout(ms(5), time::sleep(Duration::MAX)).await;
        assert!(result.is_err());
    });
    // The dropped sleep left no timer behind: `run` ends at once.
    rt.run(async {});
}

#[test]
fn dropping_a_registered_sleep_removes_its_timer() {
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on(async {
        let mut nap = Box::pin(time::sleep(Duration::from_secs(3600)));
        std::future::poll_fn(|cx| {
            assert!(nap.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    });
    let start = std::time::Instant::now();
    rt.run(async {});
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn timeout_reports_elapsed_and_passes_through_ready_output() {
    jsloop::block_on(async {
        let err = time::timeout(ms(2), std::future::pending::<()>()).await.unwrap_err();
        assert_eq!(err.to_string(), "deadline has elapsed");
        assert_eq!(time::timeout(ms(2), async { 1 }).await, Ok(1));
        let io: std::io::Error = err.into();
        assert_eq!(io.kind(), std::io::ErrorKind::TimedOut);
    });
}

#[test]
fn sleep_reset_moves_the_deadline() {
    let elapsed = virtual_runtime().block_on(async {
        let start = Instant::now();
        let mut nap = time::sleep(Duration::from_secs(100));
        nap.reset(start + ms(3));
        (&mut nap).await;
        assert!(nap.is_elapsed());
        start.elapsed()
    });
    assert_eq!(elapsed, ms(3));
}

#[test]
fn interval_first_tick_is_immediate_then_periodic() {
    let ticks = virtual_runtime().block_on(async {
        let start = Instant::now();
        let mut interval = time::interval(ms(10));
        let mut at = Vec::new();
        for _ in 0..3 {
            at.push(interval.tick().await - start);
        }
        at
    });
    assert_eq!(ticks, [ms(0), ms(10), ms(20)]);
}

fn missed_ticks(behavior: MissedTickBehavior) -> Vec<Duration> {
    virtual_runtime().block_on(async move {
        let start = Instant::now();
        let mut interval = time::interval(ms(10));
        interval.set_missed_tick_behavior(behavior);
        assert_eq!(interval.missed_tick_behavior(), behavior);
        interval.tick().await;
        // Miss ticks at 10, 20 and 30: be busy until 35.
        time::sleep(ms(35)).await;
        let mut seen = Vec::new();
        for _ in 0..3 {
            interval.tick().await;
            seen.push(Instant::now() - start);
        }
        seen
    })
}

#[test]
fn interval_missed_tick_behaviors() {
    assert_eq!(missed_ticks(MissedTickBehavior::Burst), [ms(35), ms(35), ms(35)]);
    assert_eq!(missed_ticks(MissedTickBehavior::Delay), [ms(35), ms(45), ms(55)]);
    assert_eq!(missed_ticks(MissedTickBehavior::Skip), [ms(35), ms(40), ms(50)]);
    assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Delay);
}

#[test]
#[should_panic(expected = "period must be non-zero")]
fn interval_with_zero_period_panics() {
    jsloop::block_on(async {
        let _ = time::interval(Duration::ZERO);
    });
}

#[test]
fn interval_is_a_stream() {
    let n = virtual_runtime().block_on(async { time::interval(ms(1)).take(4).count().await });
    assert_eq!(n, 4);
}

#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn a_million_timers_fire() {
    let fired = Rc::new(Cell::new(0u32));
    virtual_runtime().run({
        let fired = fired.clone();
        async move {
            for i in 0..1_000_000u64 {
                let f = fired.clone();
                jsloop::set_timeout(ms(i % 50), move || f.set(f.get() + 1));
            }
        }
    });
    assert_eq!(fired.get(), 1_000_000);
}

#[test]
fn virtual_time_jumps_over_long_sleeps() {
    let start = std::time::Instant::now();
    let virtual_elapsed = virtual_runtime().run(async {
        let begin = Instant::now();
        time::sleep(Duration::from_secs(86_400)).await;
        begin.elapsed()
    });
    assert!(virtual_elapsed >= Duration::from_secs(86_400));
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn sleep_waker_follows_the_task_that_polls_it() {
    // Poll a sleep from one context, then await it from another task.
    virtual_runtime().block_on(async {
        let mut nap = Box::pin(time::sleep(ms(2)));
        std::future::poll_fn(|cx: &mut Context<'_>| {
            let _ = nap.as_mut().poll(cx);
            Poll::Ready(())
        })
        .await;
        jsloop::spawn(nap).await.unwrap();
    });
}

#[test]
fn refreshing_a_plain_timeout_that_ran_panics_naming_refreshable() {
    let panic = std::panic::catch_unwind(|| {
        virtual_runtime().run(async {
            let timer = jsloop::set_timeout(ms(1), || {});
            jsloop::time::sleep(ms(5)).await;
            timer.refresh();
        })
    })
    .unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().map(str::to_owned);
    let message = message.or_else(|| panic.downcast_ref::<String>().cloned()).unwrap();
    assert!(message.contains("Timer::refresh"), "{message}");
    assert!(message.contains("Refreshable"), "{message}");
}

#[test]
fn a_refreshable_timeout_runs_again_after_it_fired_and_keeps_its_ref_state() {
    let runs = Rc::new(Cell::new(0));
    virtual_runtime().run({
        let runs = runs.clone();
        async move {
            let r = runs.clone();
            let timer =
                jsloop::set_timeout(ms(2), jsloop::time::Refreshable(move || r.set(r.get() + 1)));
            jsloop::time::sleep(ms(5)).await;
            assert_eq!(runs.get(), 1);
            timer.refresh();
            assert!(timer.has_ref());
            jsloop::time::sleep(ms(5)).await;
            assert_eq!(runs.get(), 2);
            // Unref'd and refreshed: it stays unref'd, and `run` does not
            // wait for it.
            timer.unref().refresh();
            assert!(!timer.has_ref());
        }
    });
    assert_eq!(runs.get(), 2);
}

#[test]
fn an_interval_refreshed_in_its_callback_keeps_its_period() {
    let times = Rc::new(RefCell::new(Vec::new()));
    virtual_runtime().run({
        let times = times.clone();
        async move {
            let start = jsloop::time::Instant::now();
            let slot: Rc<RefCell<Option<jsloop::Timer>>> = Rc::default();
            let me = slot.clone();
            let interval = jsloop::set_interval(ms(10), move || {
                times.borrow_mut().push(start.elapsed());
                let this = me.borrow();
                let this = this.as_ref().unwrap();
                if times.borrow().len() == 3 {
                    this.clear();
                } else {
                    this.refresh();
                }
            });
            *slot.borrow_mut() = Some(interval);
        }
    });
    assert_eq!(*times.borrow(), [ms(10), ms(20), ms(30)]);
}

#[test]
#[allow(clippy::async_yields_async)] // the futures are carried out of their runtime on purpose
fn a_sleep_outliving_its_runtime_waits_on_the_next_one() {
    // As a socket does: polled on another runtime, it moves there.
    let nap = jsloop::block_on(async { jsloop::time::sleep(Duration::from_millis(5)) });
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    rt.block_on(nap);
    // A timeout made on a dropped runtime still limits on the next one.
    let limited = jsloop::block_on(async {
        jsloop::time::timeout(Duration::from_millis(5), std::future::pending::<()>())
    });
    assert!(rt.block_on(limited).is_err());
}

#[test]
#[allow(clippy::async_yields_async)] // the sleep is carried out of its runtime on purpose
#[should_panic(expected = "polled after its runtime was dropped, outside any runtime")]
fn a_sleep_outliving_its_runtime_panics_off_any_runtime() {
    let nap = jsloop::block_on(async { jsloop::time::sleep(Duration::from_millis(5)) });
    futures::executor::block_on(nap);
}

#[test]
fn a_timeout_over_a_ready_future_arms_no_timer() {
    // async-io's `Timer` does nothing until it is pending; neither does
    // the time limit: no wheel entry for a future done at its first poll.
    let rt = jsloop::Runtime::new().unwrap();
    let armed = rt.stats().timers_armed;
    rt.block_on(async {
        for i in 0..3 {
            assert_eq!(time::timeout(Duration::from_secs(10), std::future::ready(i)).await, Ok(i));
        }
        assert_eq!(time::timeout(ms(5), async { 1 }).await, Ok(1));
        let deadline = Instant::now() + ms(5);
        assert_eq!(time::timeout_at(deadline, async { 2 }).await, Ok(2));
    });
    assert_eq!(rt.stats().timers_armed, armed);
    assert!(format!("{rt:?}").contains("pending_timers: 0"), "{rt:?}");
    // The counter does see a limit that had to wait.
    rt.block_on(async {
        assert!(time::timeout(ms(1), std::future::pending::<()>()).await.is_err());
    });
    assert_eq!(rt.stats().timers_armed, armed + 1);
}

#[test]
fn a_timeout_counts_its_limit_from_its_first_wait_not_from_the_call() {
    // Lazy, as smol's: no clock read for a future that is ready at once.
    virtual_runtime().block_on(async {
        let start = Instant::now();
        let limited = time::timeout(ms(50), time::sleep(ms(200)));
        time::advance(ms(40)).await; // built, not yet polled
        assert!(limited.await.is_err());
        assert_eq!(start.elapsed(), ms(90), "40 ms unpolled, then the 50 ms limit");
        // `timeout_at`'s deadline is absolute.
        let deadline = Instant::now() + ms(50);
        let limited = time::timeout_at(deadline, time::sleep(ms(200)));
        time::advance(ms(40)).await;
        assert!(limited.await.is_err());
        assert_eq!(Instant::now(), deadline);
    });
}

#[test]
fn a_timeout_prints_its_limit_before_it_arms_and_its_deadline_after() {
    virtual_runtime().block_on(async {
        let mut limited = std::pin::pin!(time::timeout(ms(10), std::future::pending::<()>()));
        let before = format!("{limited:?}");
        assert!(before.contains("duration_from_first_wait: 10ms"), "{before}");
        time::advance(ms(3)).await;
        // Armed at its first wait, 3 ms after the call.
        let deadline = Instant::now() + ms(10);
        std::future::poll_fn(|cx| {
            assert!(limited.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        let armed = format!("{limited:?}");
        assert!(armed.contains(&format!("deadline: {deadline:?}")), "{armed}");
        assert!(armed.contains("elapsed: false"), "{armed}");
        assert!(limited.as_mut().await.is_err());
        assert!(format!("{limited:?}").contains("elapsed: true"), "{limited:?}");
    });
}

#[test]
#[allow(clippy::async_yields_async)] // the timeout is carried out of its runtime on purpose
#[should_panic(expected = "first pending outside any runtime")]
fn a_timeout_first_pending_off_any_runtime_panics() {
    let limited = jsloop::block_on(async { time::timeout(ms(5), std::future::pending::<()>()) });
    let _ = futures::executor::block_on(limited);
}
