//! `AbortController` / `AbortSignal` / `abortable` through the public API.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use jsloop::abort::AbortReason;
use jsloop::time::sleep;
use jsloop::{AbortController, AbortSignal, abortable};

#[test]
fn listeners_run_synchronously_in_order_and_see_the_reason() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let controller = AbortController::new();
    let signal = controller.signal();
    for name in ["one", "two"] {
        let (log, signal) = (log.clone(), signal.clone());
        signal.clone().add_listener(move |reason| {
            let seen = signal.reason().unwrap().to_string();
            log.borrow_mut().push(format!("{name}: {reason} {seen} {}", signal.is_aborted()));
        });
    }
    assert!(!signal.is_aborted());
    assert!(signal.reason().is_none());
    controller.abort("stop");
    log.borrow_mut().push("after abort".into());
    controller.abort("again");
    let late = log.clone();
    signal.add_listener(move |_| late.borrow_mut().push("late".into()));
    assert_eq!(*log.borrow(), ["one: stop stop true", "two: stop stop true", "after abort"]);
    assert_eq!(signal.reason().unwrap().to_string(), "stop");
}

#[test]
fn a_listener_removed_during_dispatch_does_not_run() {
    let ran = Rc::new(Cell::new(false));
    let controller = AbortController::new();
    let signal = controller.signal();
    let second = Rc::new(Cell::new(None));
    signal.add_listener({
        let (signal, second) = (signal.clone(), second.clone());
        move |_| assert!(signal.remove_listener(second.get().unwrap()))
    });
    let r = ran.clone();
    second.set(Some(signal.add_listener(move |_| r.set(true))));
    controller.abort(AbortReason::default());
    assert!(!ran.get());
}

#[test]
fn a_panicking_listener_does_not_stop_the_others_and_panics_out_of_abort() {
    let ran = Rc::new(Cell::new(0));
    let controller = AbortController::new();
    let signal = controller.signal();
    signal.add_listener(|_| panic!("listener exploded"));
    let r = ran.clone();
    signal.add_listener(move |_| r.set(r.get() + 1));
    let panic = catch_unwind(AssertUnwindSafe(|| controller.abort("x"))).unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"listener exploded"));
    assert_eq!(ran.get(), 1);
    assert!(signal.is_aborted());
}

#[test]
fn abortable_cancels_a_sleep_and_its_timer_stops_keeping_the_loop_alive() {
    let start = Instant::now();
    let outcome = jsloop::run(async {
        let controller = AbortController::new();
        let signal = controller.signal();
        jsloop::set_timeout(Duration::from_millis(2), move || controller.abort("stop"));
        let slept = abortable(sleep(Duration::from_secs(3600)), &signal).await;
        slept.unwrap_err().to_string()
    });
    assert_eq!(outcome, "stop");
    assert!(start.elapsed() < Duration::from_secs(60), "the hour-long sleep was dropped");
}

#[test]
fn abortable_with_an_aborted_signal_fails_without_polling_the_future() {
    let polled = Rc::new(Cell::new(false));
    let controller = AbortController::new();
    controller.abort(AbortReason::default());
    let result = jsloop::block_on({
        let polled = polled.clone();
        abortable(
            std::future::poll_fn(move |_| {
                polled.set(true);
                Poll::Ready(())
            }),
            &controller.signal(),
        )
    });
    assert_eq!(result.unwrap_err().to_string(), "This operation was aborted");
    assert!(!polled.get());
}

#[test]
fn abortable_passes_the_output_through_when_the_future_wins() {
    jsloop::block_on(async {
        let signal = AbortController::new().signal();
        assert_eq!(abortable(async { 5 }, &signal).await.unwrap(), 5);
    });
}

#[test]
fn abortable_spawned_task_stops_when_the_signal_fires() {
    let log = Rc::new(RefCell::new(Vec::new()));
    // Virtual time: the ticks come before the abort however slow the machine.
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    rt.run({
        let log = log.clone();
        async move {
            let controller = AbortController::new();
            let signal = controller.signal();
            let task = jsloop::spawn(abortable(
                {
                    let log = log.clone();
                    async move {
                        loop {
                            sleep(Duration::from_millis(1)).await;
                            log.borrow_mut().push("tick");
                        }
                    }
                },
                &signal,
            ));
            sleep(Duration::from_millis(5)).await;
            controller.abort("enough");
            let outcome: Result<(), AbortReason> = task.await.unwrap();
            assert_eq!(outcome.unwrap_err().to_string(), "enough");
        }
    });
    assert_eq!(log.borrow().len(), 4, "ticks at 1, 2, 3 and 4 ms; the abort at 5 ms");
}

#[test]
fn aborted_future_resolves_with_the_reason_and_deregisters_when_dropped() {
    jsloop::block_on(async {
        let controller = AbortController::new();
        let signal = controller.signal();
        // A dropped `aborted()` future leaves nothing behind to wake.
        let mut dropped = Box::pin(signal.aborted());
        std::future::poll_fn(|cx: &mut Context<'_>| {
            assert!(Pin::new(&mut dropped).poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
        drop(dropped);
        jsloop::queue_microtask(move || controller.abort("now"));
        assert_eq!(signal.aborted().await.to_string(), "now");
        assert_eq!(signal.aborted().await.to_string(), "now", "ready at once once aborted");
    });
}

#[test]
fn timeout_signals_abort_with_a_timeout_reason_and_do_not_keep_the_loop_alive() {
    let start = Instant::now();
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    rt.run(async {
        let quick = AbortSignal::timeout(Duration::from_millis(10));
        // The signal's own timer is unref'd (as in Node): some work must keep
        // the loop alive until it fires; here the hour-long sleep does.
        let reason = abortable(sleep(Duration::from_secs(3600)), &quick).await.unwrap_err();
        assert!(quick.aborted().await.is_timeout());
        assert!(reason.is_timeout());
        assert_eq!(reason.to_string(), "The operation was aborted due to timeout");
        // Never awaited: its timer is unref'd, so `run` does not wait an hour.
        let _idle = AbortSignal::timeout(Duration::from_secs(3600));
    });
    assert!(start.elapsed() < Duration::from_secs(60));
}

#[test]
fn timeout_outside_a_runtime_panics_with_a_clear_message() {
    let panic = catch_unwind(|| AbortSignal::timeout(Duration::from_millis(1))).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("no jsloop runtime is running on this thread")
    );
}

#[test]
fn any_follows_the_first_source_to_abort_and_then_lets_go_of_the_others() {
    let a = AbortController::new();
    let b = AbortController::new();
    let either = AbortSignal::any([a.signal(), b.signal()]);
    assert!(!either.is_aborted());
    b.abort("b first");
    a.abort("a later");
    assert_eq!(either.reason().unwrap().to_string(), "b first");

    let already = AbortController::new();
    already.abort("was aborted");
    let fresh = AbortController::new();
    let combined = AbortSignal::any(&[fresh.signal(), already.signal()]);
    assert_eq!(combined.reason().unwrap().to_string(), "was aborted");
    assert!(!AbortSignal::any(Vec::<AbortSignal>::new()).is_aborted());
}

#[test]
fn reasons_carry_errors() {
    let reason = AbortReason::new(std::io::Error::new(std::io::ErrorKind::TimedOut, "slow disk"));
    assert_eq!(reason.to_string(), "slow disk");
    assert_eq!(
        reason.downcast_ref::<std::io::Error>().unwrap().kind(),
        std::io::ErrorKind::TimedOut
    );
    assert!(!reason.is_timeout());
    assert!(AbortReason::from("x".to_string()).downcast_ref::<std::io::Error>().is_none());
    let boxed: Box<dyn std::error::Error> = Box::new(AbortReason::default());
    assert_eq!(boxed.to_string(), "This operation was aborted");
}

#[test]
fn a_source_runs_its_own_listeners_then_its_composites_in_creation_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let push = |line: &'static str| {
        let log = log.clone();
        move |_: &AbortReason| log.borrow_mut().push(line)
    };
    let source = AbortController::new();
    let first = AbortSignal::any([source.signal()]);
    let second = AbortSignal::any([&first]); // follows `source` itself
    first.add_listener(push("first composite"));
    second.add_listener(push("composite of the composite"));
    source.signal().add_listener(push("source, added last"));
    // Both composites have the reason before any listener runs.
    let (f, s) = (first.clone(), second.clone());
    source.signal().add_listener(move |_| assert!(f.is_aborted() && s.is_aborted()));
    source.abort("stop");
    assert_eq!(
        *log.borrow(),
        ["source, added last", "first composite", "composite of the composite"]
    );
    assert_eq!(second.reason().unwrap().to_string(), "stop");
}

#[test]
fn a_composite_keeps_a_timeout_source_alive_and_dropped_composites_are_let_go() {
    jsloop::run(async {
        // Only the composite holds the timeout signal.
        let composite = AbortSignal::any([AbortSignal::timeout(Duration::from_millis(2))]);
        let _keep_running = jsloop::set_timeout(Duration::from_millis(50), || {});
        assert!(composite.aborted().await.is_timeout());
    });
    let source = AbortController::new();
    for _ in 0..1000 {
        drop(AbortSignal::any([source.signal()]));
    }
    let kept = AbortSignal::any([source.signal()]);
    let ran = Rc::new(Cell::new(false));
    let r = ran.clone();
    kept.add_listener(move |_| r.set(true));
    source.abort("at last");
    assert!(ran.get());
}
