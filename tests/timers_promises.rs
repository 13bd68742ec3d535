//! `jsloop::time::promises` (Node's `timers/promises`) through the public
//! API: values, phases, `{ signal, ref }` and the interval stream.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use jsloop::time::promises::{self, TimerOptions, scheduler};
use jsloop::{AbortController, AbortSignal, Runtime};

fn virtual_runtime() -> Runtime {
    Runtime::builder().virtual_time(true).build().unwrap()
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[test]
fn a_promise_timer_settles_in_the_timers_phase_in_fifo_order_with_callback_timers() {
    let log = Rc::new(RefCell::new(Vec::new()));
    virtual_runtime().run({
        let log = log.clone();
        async move {
            let l = log.clone();
            promises::set_timeout(ms(5), "promise").then(move |v| l.borrow_mut().push(v));
            let l = log.clone();
            jsloop::set_timeout(ms(5), move || l.borrow_mut().push("callback"));
            let l = log.clone();
            jsloop::set_immediate(move || l.borrow_mut().push("immediate"));
            let l = log.clone();
            promises::set_immediate("immediate promise").then(move |v| l.borrow_mut().push(v));
        }
    });
    assert_eq!(*log.borrow(), ["immediate", "immediate promise", "promise", "callback"]);
}

#[test]
fn aborted_before_during_and_after_the_wait() {
    virtual_runtime().run(async {
        let before = AbortSignal::abort("before");
        let err = promises::set_timeout_with(ms(5), (), TimerOptions::new().signal(&before));
        assert_eq!(err.await.unwrap_err().to_string(), "before");

        let during = AbortController::new();
        let waiting = promises::set_timeout_with(
            Duration::from_secs(3600),
            (),
            TimerOptions::new().signal(&during.signal()),
        );
        jsloop::set_timeout(ms(1), move || during.abort("during"));
        assert_eq!(waiting.await.unwrap_err().to_string(), "during");

        let after = AbortController::new();
        let v = promises::set_timeout_with(ms(1), 3, TimerOptions::new().signal(&after.signal()));
        assert_eq!(v.clone().await.ok(), Some(3));
        after.abort("after");
        assert_eq!(v.await.ok(), Some(3), "a settled promise stays fulfilled");
    });
}

#[test]
fn an_aborted_timer_is_cleared_and_no_longer_keeps_the_loop_alive() {
    // The hour-long timer would keep `run` going (under real time, for an
    // hour) if the abort had not cleared it.
    let rt = Runtime::new().unwrap();
    let start = std::time::Instant::now();
    rt.run(async {
        let controller = AbortController::new();
        let p = promises::set_timeout_with(
            Duration::from_secs(3600),
            (),
            TimerOptions::new().signal(&controller.signal()),
        );
        controller.abort("no");
        let _ = p.await;
    });
    assert!(start.elapsed() < Duration::from_secs(600));
}

#[test]
fn unrefd_promise_timers_never_settle_and_do_not_hold_run() {
    let p = Rc::new(RefCell::new(None));
    let rt = Runtime::new().unwrap();
    rt.run({
        let p = p.clone();
        async move {
            let options = TimerOptions::new().ref_(false);
            *p.borrow_mut() = Some((
                promises::set_timeout_with(Duration::from_secs(3600), 1, options.clone()),
                promises::set_immediate_with(2, options),
            ));
        }
    });
    let (timer, immediate) = p.borrow_mut().take().unwrap();
    assert!(timer.is_pending());
    assert!(immediate.is_pending(), "nothing kept the loop alive until the check phase");
}

#[test]
fn interval_ticks_not_taken_yet_are_handed_out_at_once() {
    virtual_runtime().run(async {
        let mut ticks = promises::set_interval(ms(2), 'x');
        assert_eq!(ticks.next().await.map(Result::ok), Some(Some('x')));
        // Three ticks pass while the consumer sleeps: it gets all three.
        jsloop::time::sleep(ms(7)).await;
        for _ in 0..3 {
            let tick = futures::poll!(ticks.next()).map(|t| t.map(Result::ok));
            assert_eq!(tick, std::task::Poll::Ready(Some(Some('x'))));
        }
        assert!(futures::poll!(ticks.next()).is_pending());
    });
}

#[test]
fn an_interval_stream_dropped_mid_wait_clears_its_interval() {
    // Under real time: a leaked interval would keep `run` going forever.
    let rt = Runtime::new().unwrap();
    rt.run(async {
        let mut ticks = promises::set_interval(ms(1), ());
        let _ = ticks.next().await;
        let next = ticks.next();
        drop(next);
        drop(ticks);
    });
}

#[test]
fn an_abort_ends_the_interval_stream_with_the_reason_then_none() {
    virtual_runtime().run(async {
        let before = AbortSignal::abort("already");
        let mut ended = promises::set_interval_with(ms(1), (), TimerOptions::new().signal(&before));
        assert_eq!(ended.next().await.unwrap().unwrap_err().to_string(), "already");
        assert!(ended.next().await.is_none());

        let controller = AbortController::new();
        let mut ticks =
            promises::set_interval_with(ms(3), 1, TimerOptions::new().signal(&controller.signal()));
        let waiter = jsloop::spawn(async move {
            let first = ticks.next().await;
            let second = ticks.next().await;
            (first, second.map(|r| r.unwrap_err().to_string()), ticks.next().await)
        });
        jsloop::set_timeout(ms(4), move || controller.abort("stop"));
        let (first, second, third) = waiter.await.unwrap();
        assert_eq!(first.map(Result::ok), Some(Some(1)));
        assert_eq!(second.as_deref(), Some("stop"));
        assert!(third.is_none());
    });
}

#[test]
fn scheduler_wait_is_a_delay_and_yield_now_an_immediate() {
    let log = Rc::new(RefCell::new(Vec::new()));
    virtual_runtime().run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::set_timeout(Duration::ZERO, move || l.borrow_mut().push("0 ms timer"));
            scheduler::yield_now().await.unwrap();
            log.borrow_mut().push("yielded");
            scheduler::wait(ms(3)).await.unwrap();
            log.borrow_mut().push("waited");
        }
    });
    // Virtual time starts at 0: the first check phase comes before the
    // 1 ms timer is due.
    assert_eq!(*log.borrow(), ["yielded", "0 ms timer", "waited"]);
}

#[test]
#[should_panic(expected = "no jsloop runtime")]
fn promise_timers_outside_a_runtime_panic_clearly() {
    let _ = promises::set_timeout(ms(1), ());
}
