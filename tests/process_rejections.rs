//! Unhandled rejections through the public API: what is reported, when,
//! in which order, and what each `UnhandledRejections` mode does with it.

use std::cell::RefCell;
use std::collections::HashSet;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use jsloop::process::{
    UnhandledRejection, UnhandledRejections, on_rejection_handled, on_unhandled_rejection,
};
use jsloop::promise::{AnyPromise, Promise};
use jsloop::{Runtime, next_tick, queue_microtask, set_immediate, set_timeout};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::default()
}

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

fn listen(log: &Log) {
    let l = log.clone();
    on_unhandled_rejection(move |reason, _| push(&l, format!("unhandled: {reason}")));
    let l = log.clone();
    on_rejection_handled(move |p| push(&l, format!("handled late: {}", p.reason().unwrap())));
}

fn reject(message: &str) -> Promise<(), String> {
    Promise::reject(message.to_string())
}

#[test]
fn without_a_listener_or_handler_the_default_mode_panics_out_of_run_naming_the_reason() {
    let panic = catch_unwind(|| jsloop::run(async { drop(reject("boom")) })).unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert_eq!(message, "jsloop: unhandled promise rejection: boom");
}

#[test]
fn block_on_reports_at_the_end_of_the_checkpoint_too() {
    let seen = log();
    jsloop::block_on({
        let seen = seen.clone();
        async move {
            listen(&seen);
            reject("in block_on");
            push(&seen, "main done");
        }
    });
    assert_eq!(*seen.borrow(), ["main done", "unhandled: in block_on"]);
}

#[test]
fn a_handler_from_a_tick_or_a_microtask_is_in_time_one_from_a_timer_is_late() {
    let seen = log();
    jsloop::run({
        let seen = seen.clone();
        async move {
            listen(&seen);
            let (a, b, c) = (reject("a"), reject("b"), reject("c"));
            next_tick(move || drop(a.catch(|_| ())));
            queue_microtask(move || drop(b.catch(|_| ())));
            let s = seen.clone();
            set_timeout(Duration::from_millis(1), move || {
                push(&s, "timer");
                c.catch(|_| ());
            });
        }
    });
    assert_eq!(*seen.borrow(), ["unhandled: c", "timer", "handled late: c"]);
}

#[test]
fn awaiting_counts_as_handling_and_a_later_await_reports_it_handled() {
    let seen = log();
    jsloop::run({
        let seen = seen.clone();
        async move {
            listen(&seen);
            let now = reject("awaited at once");
            assert_eq!(now.await, Err("awaited at once".to_string()));
            let later = reject("awaited later");
            jsloop::yield_to_loop().await;
            assert_eq!(later.await, Err("awaited later".to_string()));
        }
    });
    assert_eq!(*seen.borrow(), ["unhandled: awaited later", "handled late: awaited later"]);
}

#[test]
fn reports_come_in_rejection_order_and_a_derived_promise_is_reported_not_its_source() {
    let reported: Rc<RefCell<Vec<(String, AnyPromise)>>> = Rc::default();
    let (first, derived, second) = jsloop::run({
        let reported = reported.clone();
        async move {
            on_unhandled_rejection(move |reason, promise| {
                reported.borrow_mut().push((reason.to_string(), promise.clone()));
            });
            let first = Promise::<(), String>::new(|_, reject| reject("first".into()));
            let (second, _resolve, reject_second) = Promise::<(), String>::with_resolvers();
            let source = reject("source");
            // `then` handles `source`; the promise it returns is rejected
            // with the same reason a microtask later.
            let derived = source.then(|()| "never");
            reject_second("second".into());
            (AnyPromise::from(&first), AnyPromise::from(&derived), AnyPromise::from(&second))
        }
    });
    let reported = reported.borrow();
    let reasons: Vec<&str> = reported.iter().map(|(reason, _)| reason.as_str()).collect();
    assert_eq!(reasons, ["first", "second", "source"]);
    let promises: Vec<&AnyPromise> = reported.iter().map(|(_, promise)| promise).collect();
    assert_eq!(promises, [&first, &second, &derived]);
}

#[test]
fn an_async_body_that_returns_err_unawaited_is_reported() {
    let seen = log();
    jsloop::run({
        let seen = seen.clone();
        async move {
            listen(&seen);
            Promise::<(), String>::spawn(async {
                jsloop::yield_now().await;
                Err("from the async body".into())
            });
        }
    });
    assert_eq!(*seen.borrow(), ["unhandled: from the async body"]);
}

#[test]
fn a_listener_that_rejects_again_is_told_in_the_same_checkpoint_after_its_ticks() {
    let seen = log();
    jsloop::run({
        let seen = seen.clone();
        async move {
            let s = seen.clone();
            on_unhandled_rejection(move |reason, _| {
                let text = reason.to_string();
                push(&s, format!("unhandled: {text}"));
                if text == "one" {
                    reject("two from the listener");
                }
                let t = s.clone();
                next_tick(move || push(&t, format!("tick after {text}")));
            });
            reject("one");
            let s = seen.clone();
            set_immediate(move || push(&s, "next macrotask"));
        }
    });
    assert_eq!(
        *seen.borrow(),
        [
            "unhandled: one",
            "tick after one",
            "unhandled: two from the listener",
            "tick after two from the listener",
            "next macrotask",
        ]
    );
}

#[test]
fn a_panicking_listener_goes_to_the_uncaught_handler_and_the_loop_goes_on() {
    let seen = log();
    let s = seen.clone();
    let rt = Runtime::builder()
        .on_uncaught_panic(move |payload| {
            push(&s, format!("uncaught: {}", payload.downcast_ref::<&str>().unwrap()))
        })
        .build()
        .unwrap();
    rt.run({
        let seen = seen.clone();
        async move {
            on_unhandled_rejection(|_, _| panic!("listener failed"));
            reject("x");
            let s = seen.clone();
            set_immediate(move || push(&s, "immediate"));
        }
    });
    assert_eq!(*seen.borrow(), ["uncaught: listener failed", "immediate"]);
}

/// A runtime in `mode` whose uncaught handler logs what it gets.
fn runtime(mode: UnhandledRejections, seen: &Log) -> Runtime {
    let s = seen.clone();
    Runtime::builder()
        .unhandled_rejections(mode)
        .on_uncaught_panic(move |payload| {
            let rejection = payload.downcast_ref::<UnhandledRejection>().unwrap();
            let reason = rejection.promise().unwrap().reason().unwrap();
            push(&s, format!("uncaught: {rejection} ({})", reason.downcast::<String>().unwrap()));
        })
        .build()
        .unwrap()
}

fn reject_with_and_without_listener(rt: &Runtime, seen: &Log) {
    rt.run({
        let seen = seen.clone();
        async move {
            reject("before the listener");
            let s = seen.clone();
            set_immediate(move || {
                let l = s.clone();
                on_unhandled_rejection(move |reason, _| push(&l, format!("listener: {reason}")));
                reject("after the listener");
            });
        }
    });
}

#[test]
fn throw_mode_raises_only_what_no_listener_takes() {
    let seen = log();
    reject_with_and_without_listener(&runtime(UnhandledRejections::Throw, &seen), &seen);
    assert_eq!(
        *seen.borrow(),
        [
            "uncaught: unhandled promise rejection: before the listener (before the listener)",
            "listener: after the listener",
        ]
    );
}

#[test]
fn strict_mode_raises_first_then_tells_the_listener() {
    let seen = log();
    reject_with_and_without_listener(&runtime(UnhandledRejections::Strict, &seen), &seen);
    assert_eq!(
        *seen.borrow(),
        [
            "uncaught: unhandled promise rejection: before the listener (before the listener)",
            "uncaught: unhandled promise rejection: after the listener (after the listener)",
            "listener: after the listener",
        ]
    );
}

#[test]
fn warn_and_none_modes_never_raise() {
    for mode in [UnhandledRejections::Warn, UnhandledRejections::None] {
        let seen = log();
        reject_with_and_without_listener(&runtime(mode, &seen), &seen);
        assert_eq!(*seen.borrow(), ["listener: after the listener"], "{mode:?}");
    }
}

#[test]
fn strict_mode_without_an_uncaught_handler_panics_out_of_run() {
    let rt = Runtime::builder().unhandled_rejections(UnhandledRejections::Strict).build().unwrap();
    let panic = catch_unwind(AssertUnwindSafe(|| {
        rt.run(async {
            on_unhandled_rejection(|_, _| unreachable!("the panic comes first"));
            reject("strict");
        })
    }))
    .unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().unwrap(),
        "jsloop: unhandled promise rejection: strict"
    );
}

#[test]
fn the_payload_reaches_its_promise_only_while_the_handler_runs() {
    let kept: Rc<RefCell<Option<UnhandledRejection>>> = Rc::default();
    let k = kept.clone();
    let rt = Runtime::builder()
        .on_uncaught_panic(move |payload| {
            let rejection = *payload.downcast::<UnhandledRejection>().unwrap();
            assert!(rejection.promise().is_some());
            assert_eq!(rejection.reason_type(), "u32");
            assert_eq!(rejection.message(), "a rejection reason of type `u32`");
            *k.borrow_mut() = Some(rejection);
        })
        .build()
        .unwrap();
    rt.run(async {
        Promise::<(), u32>::reject(7);
    });
    let rejection = kept.borrow_mut().take().unwrap();
    assert!(rejection.promise().is_none(), "the handler has returned");
    rt.run(async move { assert!(rejection.promise().is_none(), "nor on a later run") });
}

#[test]
fn a_rejection_off_any_loop_is_not_tracked_and_a_late_await_still_sees_it() {
    let (promise, _resolve, reject) = Promise::<(), String>::with_resolvers();
    std::thread::spawn(move || reject("from a plain thread".into())).join().unwrap();
    let outcome = jsloop::run(async move {
        jsloop::yield_to_loop().await;
        promise.await
    });
    assert_eq!(outcome, Err("from a plain thread".into()));
}

#[test]
fn handled_late_is_reported_once_even_with_many_late_handlers() {
    let seen = log();
    jsloop::run({
        let seen = seen.clone();
        async move {
            listen(&seen);
            let p = reject("p");
            set_immediate(move || {
                p.catch(|_| ());
                p.catch(|_| ());
                let again = p.clone();
                set_immediate(move || drop(again.catch(|_| ())));
            });
        }
    });
    assert_eq!(*seen.borrow(), ["unhandled: p", "handled late: p"]);
}

#[test]
fn any_promise_compares_and_hashes_by_identity() {
    let a = Promise::<i32, ()>::resolve(1);
    let b = Promise::<i32, ()>::resolve(1);
    let set: HashSet<AnyPromise> =
        [AnyPromise::from(&a), AnyPromise::from(a.clone()), AnyPromise::from(&b)].into();
    assert_eq!(set.len(), 2);
    assert!(
        AnyPromise::from(&a)
            .downcast::<i32, ()>()
            .is_some_and(|p| AnyPromise::from(p) == AnyPromise::from(&a))
    );
    assert!(AnyPromise::from(&a).downcast::<i32, String>().is_none());
    assert!(AnyPromise::from(&a).reason().is_none());
    assert_eq!(format!("{:?}", AnyPromise::from(&a)), "AnyPromise(<fulfilled>)");
}
