//! Panics: tasks report them, callbacks propagate them unless handled.

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

mod common;

#[test]
fn panicking_task_reports_join_error_and_loop_continues() {
    let after = Rc::new(Cell::new(false));
    jsloop::run({
        let after = after.clone();
        async move {
            let error = jsloop::spawn(async { panic!("task failed") }).await.unwrap_err();
            assert!(error.is_panic());
            assert_eq!(error.to_string(), "task panicked with message \"task failed\"");
            let payload = error.into_panic();
            assert_eq!(payload.downcast_ref::<&str>(), Some(&"task failed"));
            jsloop::set_timeout(Duration::from_millis(1), move || after.set(true));
        }
    });
    assert!(after.get());
}

#[test]
fn detached_panicking_task_does_not_stop_the_loop() {
    let after = Rc::new(Cell::new(false));
    jsloop::run({
        let after = after.clone();
        async move {
            jsloop::spawn(async { panic!("nobody is listening") });
            jsloop::yield_to_loop().await;
            after.set(true);
        }
    });
    assert!(after.get());
}

#[test]
fn panicking_callback_propagates_out_of_run() {
    let result = catch_unwind(|| {
        jsloop::run(async {
            jsloop::set_timeout(Duration::ZERO, || panic!("uncaught in a timer"));
        })
    });
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"uncaught in a timer"));
}

#[test]
fn panicking_microtask_propagates_out_of_block_on() {
    let result = catch_unwind(|| {
        jsloop::block_on(async {
            jsloop::queue_microtask(|| panic!("uncaught in a microtask"));
            jsloop::yield_now().await;
        })
    });
    assert!(result.is_err());
}

#[test]
fn the_runtime_is_usable_after_a_callback_panic_propagated() {
    let rt = jsloop::Runtime::new().unwrap();
    let result = catch_unwind(AssertUnwindSafe(|| {
        rt.run(async { jsloop::set_immediate(|| panic!("boom")) });
    }));
    assert!(result.is_err());
    assert_eq!(rt.block_on(async { jsloop::spawn(async { 2 }).await.unwrap() }), 2);
}

#[test]
fn panic_handler_takes_callback_panics_and_the_loop_continues() {
    let caught: Rc<RefCell<Vec<String>>> = Rc::default();
    let sink = caught.clone();
    // Virtual time: the interval cannot become due before the immediate ran.
    let rt = jsloop::Runtime::builder()
        .virtual_time(true)
        .on_uncaught_panic(move |payload| {
            sink.borrow_mut().push(payload.downcast_ref::<&str>().unwrap().to_string());
        })
        .build()
        .unwrap();
    let ticks = Rc::new(Cell::new(0));
    rt.run({
        let ticks = ticks.clone();
        async move {
            jsloop::next_tick(|| panic!("tick"));
            jsloop::queue_microtask(|| panic!("microtask"));
            jsloop::set_immediate(|| panic!("immediate"));
            // An interval whose callback panics is rescheduled anyway.
            let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
            let inner = slot.clone();
            let timer = jsloop::set_interval(Duration::from_millis(1), move || {
                ticks.set(ticks.get() + 1);
                if ticks.get() == 3 {
                    inner.take().unwrap().clear();
                }
                panic!("interval");
            });
            slot.set(Some(timer));
        }
    });
    assert_eq!(ticks.get(), 3);
    assert_eq!(
        *caught.borrow(),
        ["tick", "microtask", "immediate", "interval", "interval", "interval"]
    );
}

#[test]
fn panicking_main_future_propagates() {
    let result = catch_unwind(|| jsloop::block_on(async { panic!("main") }));
    assert!(result.is_err());
}

#[test]
fn panicking_drop_of_an_aborted_future_is_reported_as_a_panic() {
    struct Bomb;
    impl Drop for Bomb {
        fn drop(&mut self) {
            panic!("drop bomb");
        }
    }
    jsloop::block_on(async {
        let handle = jsloop::spawn(async {
            let _bomb = Bomb;
            std::future::pending::<()>().await;
        });
        jsloop::yield_now().await;
        handle.abort();
        assert!(handle.await.unwrap_err().is_panic());
    });
}

/// A runtime whose uncaught panics are collected as strings.
fn catching() -> (jsloop::Runtime, Rc<RefCell<Vec<String>>>) {
    let caught: Rc<RefCell<Vec<String>>> = Rc::default();
    let rt = jsloop::Runtime::builder()
        .on_uncaught_panic({
            let caught = caught.clone();
            move |payload| caught.borrow_mut().push(common::panic_message(payload))
        })
        .build()
        .unwrap();
    (rt, caught)
}

#[test]
fn a_detached_task_s_panic_goes_to_the_uncaught_handler() {
    let (rt, caught) = catching();
    let after = Rc::new(Cell::new(false));
    rt.run({
        let after = after.clone();
        async move {
            jsloop::spawn(async { panic!("nobody awaits me") });
            jsloop::yield_to_loop().await;
            after.set(true);
        }
    });
    assert!(after.get(), "the loop went on");
    assert_eq!(*caught.borrow(), ["nobody awaits me"]);
}

#[test]
fn a_handle_dropped_unread_after_its_task_panicked_reports_the_panic() {
    let (rt, caught) = catching();
    rt.block_on(async {
        let handle = jsloop::spawn(async { panic!("dropped unread") });
        jsloop::yield_now().await; // the task ran and panicked
        assert!(handle.is_finished());
        drop(handle);
    });
    assert_eq!(*caught.borrow(), ["dropped unread"]);
}

#[test]
fn an_awaited_panic_and_an_ok_detached_task_are_not_uncaught() {
    let (rt, caught) = catching();
    rt.block_on(async {
        let error = jsloop::spawn(async { panic!("awaited") }).await.unwrap_err();
        assert!(error.is_panic());
        jsloop::spawn(async {});
        drop(jsloop::spawn(async { 5 }));
        jsloop::yield_to_loop().await;
    });
    assert!(caught.borrow().is_empty(), "{:?}", caught.borrow());
}

#[test]
fn tasks_dropped_at_shutdown_do_not_report() {
    let (rt, caught) = catching();
    struct PanicOnDrop;
    impl Drop for PanicOnDrop {
        fn drop(&mut self) {
            panic!("in a destructor at shutdown");
        }
    }
    rt.block_on(async {
        jsloop::spawn(async {
            let _guard = PanicOnDrop;
            std::future::pending::<()>().await;
        });
        jsloop::yield_now().await;
    });
    drop(rt);
    assert!(caught.borrow().is_empty(), "{:?}", caught.borrow());
}
