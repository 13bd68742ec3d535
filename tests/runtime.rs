//! The runtime's lifecycle: liveness, entry points, keep-alive, remote wakes
//! and misuse.

mod common;
use common::panic_message;

use std::cell::Cell;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::mpsc;
use std::task::Waker;
use std::time::Duration;

const NO_RUNTIME: &str = "no jsloop runtime is running on this thread";

#[test]
fn free_functions_outside_a_runtime_panic_with_a_clear_message() {
    type Call = (&'static str, Box<dyn Fn()>);
    let calls: Vec<Call> = vec![
        ("spawn", Box::new(|| drop(jsloop::spawn(async {})))),
        ("spawn_now", Box::new(|| drop(jsloop::spawn_now(async {})))),
        ("queue_microtask", Box::new(|| jsloop::queue_microtask(|| {}))),
        ("next_tick", Box::new(|| jsloop::next_tick(|| {}))),
        ("set_timeout", Box::new(|| drop(jsloop::set_timeout(Duration::ZERO, || {})))),
        ("set_interval", Box::new(|| drop(jsloop::set_interval(Duration::ZERO, || {})))),
        ("set_immediate", Box::new(|| drop(jsloop::set_immediate(|| {})))),
        ("sleep", Box::new(|| drop(jsloop::time::sleep(Duration::ZERO)))),
        ("keep_alive", Box::new(|| drop(jsloop::keep_alive()))),
        ("Handle::current", Box::new(|| drop(jsloop::Handle::current()))),
    ];
    for (name, call) in calls {
        let payload = catch_unwind(AssertUnwindSafe(call)).expect_err(name);
        assert_eq!(panic_message(payload), NO_RUNTIME, "{name}");
    }
}

#[test]
fn nested_run_and_block_on_panic_with_a_clear_message() {
    for nested in [0, 1] {
        let payload = catch_unwind(|| {
            jsloop::block_on(async move {
                if nested == 0 {
                    jsloop::run(async {});
                } else {
                    jsloop::block_on(async {});
                }
            })
        })
        .unwrap_err();
        assert!(panic_message(payload).contains("nested `run` / `block_on`"));
    }
    // And the thread is usable afterwards.
    jsloop::block_on(async {});
}

#[test]
fn nested_run_on_another_runtime_panics_too() {
    let outer = jsloop::Runtime::new().unwrap();
    let inner = jsloop::Runtime::new().unwrap();
    let payload =
        catch_unwind(AssertUnwindSafe(|| outer.block_on(async { inner.block_on(async {}) })))
            .unwrap_err();
    assert!(panic_message(payload).contains("nested"));
}

#[test]
fn run_waits_for_the_loop_to_be_idle_but_block_on_does_not() {
    let rt = jsloop::Runtime::new().unwrap();
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    rt.block_on(async move {
        jsloop::set_timeout(Duration::from_millis(5), move || f.set(true));
    });
    assert!(!fired.get(), "block_on returned before the timer");
    rt.run(async {});
    assert!(fired.get(), "run waited for the timer");
}

#[test]
fn run_panics_when_the_loop_dies_with_main_pending() {
    let payload = catch_unwind(|| jsloop::run(std::future::pending::<()>())).unwrap_err();
    let message = panic_message(payload);
    assert!(message.contains("main future is still pending"), "{message}");
    assert!(message.contains("unsettled top-level await"), "{message}");
}

#[test]
fn block_on_panics_instead_of_hanging_when_nothing_can_wake_it() {
    let payload = catch_unwind(|| jsloop::block_on(std::future::pending::<()>())).unwrap_err();
    assert!(panic_message(payload).contains("nothing can wake it"));
}

#[test]
fn a_pending_task_alone_does_not_keep_the_loop_alive() {
    jsloop::run(async {
        jsloop::spawn(std::future::pending::<()>());
    });
}

#[test]
fn keep_alive_guard_keeps_run_waiting_for_a_remote_wake() {
    let value = jsloop::run(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        let guard = jsloop::keep_alive();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(11).unwrap();
            drop(guard);
        });
        rx.await.unwrap()
    });
    assert_eq!(value, 11);
}

#[test]
fn run_ends_when_the_last_keep_alive_is_dropped() {
    jsloop::run(async {
        let guard = jsloop::keep_alive();
        let second = guard.clone();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            drop(guard);
            drop(second);
        });
    });
}

#[test]
fn block_on_waits_for_a_wake_from_a_thread_holding_its_waker() {
    let value = jsloop::block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(3).unwrap();
        });
        rx.await.unwrap()
    });
    assert_eq!(value, 3);
}

#[test]
fn tasks_woken_from_other_threads_run_on_the_loop() {
    let total = jsloop::run(async {
        let guard = jsloop::keep_alive();
        let mut handles = Vec::new();
        let mut senders = Vec::new();
        for i in 0..100u32 {
            let (tx, rx) = futures::channel::oneshot::channel::<u32>();
            senders.push(tx);
            handles.push(jsloop::spawn(async move { rx.await.unwrap() + i }));
        }
        std::thread::spawn(move || {
            for (i, tx) in senders.into_iter().enumerate() {
                tx.send(i as u32).unwrap();
            }
            drop(guard);
        });
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, 2 * (0..100).sum::<u32>());
}

#[test]
fn a_wake_after_the_runtime_is_dropped_is_a_no_op() {
    let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
    let rt = jsloop::Runtime::new().unwrap();
    rt.spawn(std::future::poll_fn(move |cx| {
        waker_tx.send(cx.waker().clone()).unwrap();
        std::task::Poll::<()>::Pending
    }));
    rt.block_on(jsloop::yield_now());
    let waker = waker_rx.recv().unwrap();
    drop(rt);
    // From another thread, then from this one: both are no-ops.
    let remote = waker.clone();
    std::thread::spawn(move || {
        remote.wake_by_ref();
        remote.wake();
    })
    .join()
    .unwrap();
    waker.wake_by_ref();
    drop(waker);
}

#[test]
fn a_waker_dropped_last_on_another_thread_frees_the_task_after_the_loop_is_done_with_it() {
    // The thread wakes the task, the loop finishes it and drops its output
    // (nobody holds the handle), and only then does the thread drop its
    // waker: the cell's last reference, so it is freed on that thread. The
    // two threads meet only through the cell's reference count (a `Relaxed`
    // flag orders nothing), which is what ThreadSanitizer checks here.
    struct Output(mpsc::Sender<std::thread::ThreadId>);
    impl Drop for Output {
        fn drop(&mut self) {
            self.0.send(std::thread::current().id()).unwrap();
        }
    }
    let (waker_tx, waker_rx) = mpsc::channel::<(Waker, jsloop::KeepAlive)>();
    let (dropped_tx, dropped_rx) = mpsc::channel();
    let loop_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let remote = std::thread::spawn({
        let loop_done = loop_done.clone();
        move || {
            let (waker, guard) = waker_rx.recv().unwrap();
            waker.wake_by_ref();
            drop(guard);
            while !loop_done.load(std::sync::atomic::Ordering::Relaxed) {
                std::thread::yield_now();
            }
            drop(waker);
        }
    });
    jsloop::run(async move {
        let mut sent = false;
        let mut dropped_tx = Some(dropped_tx);
        drop(jsloop::spawn(std::future::poll_fn(move |cx| {
            if sent {
                return std::task::Poll::Ready(Output(dropped_tx.take().unwrap()));
            }
            sent = true;
            waker_tx.send((cx.waker().clone(), jsloop::keep_alive())).unwrap();
            std::task::Poll::Pending
        })));
    });
    let loop_thread = std::thread::current().id();
    assert_eq!(dropped_rx.recv().unwrap(), loop_thread, "the output is dropped on the loop");
    loop_done.store(true, std::sync::atomic::Ordering::Relaxed);
    remote.join().unwrap();
}

#[test]
fn waking_a_task_while_its_runtime_is_idle_runs_it_on_the_next_call() {
    let (waker_tx, waker_rx) = mpsc::channel::<Waker>();
    let polls = Rc::new(Cell::new(0));
    let rt = jsloop::Runtime::new().unwrap();
    let p = polls.clone();
    let handle = rt.spawn(std::future::poll_fn(move |cx| {
        p.set(p.get() + 1);
        if p.get() == 1 {
            waker_tx.send(cx.waker().clone()).unwrap();
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    }));
    rt.block_on(jsloop::yield_now());
    // Woken on the loop thread, but the runtime is not running: queued.
    waker_rx.recv().unwrap().wake();
    rt.block_on(handle).unwrap();
    assert_eq!(polls.get(), 2);
}

#[test]
fn runtime_types_are_send_and_sync_where_they_should_be() {
    fn send_sync<T: Send + Sync>() {}
    send_sync::<jsloop::KeepAlive>();
    send_sync::<jsloop::JoinError>();
    send_sync::<jsloop::time::Elapsed>();
}

#[test]
fn handles_outlive_their_runtime_harmlessly() {
    let rt = jsloop::Runtime::new().unwrap();
    let spawner = rt.handle(); // keeps the runtime's state allocated
    let (timer, immediate) = rt.block_on(async {
        let timer = jsloop::set_timeout(Duration::from_secs(60), || unreachable!());
        let immediate = jsloop::set_immediate(|| unreachable!());
        (timer, immediate)
    });
    let nap = rt.block_on(async {
        let nap = jsloop::time::sleep(Duration::from_secs(60));
        Some(nap)
    });
    let mut nap = Box::pin(nap.unwrap());
    drop(rt);
    timer.unref();
    timer.ref_();
    timer.refresh();
    timer.clear();
    immediate.clear();
    drop(spawner);
    // A sleep of a dropped runtime cannot complete: polling it says so.
    let payload = catch_unwind(AssertUnwindSafe(|| {
        futures::executor::block_on(std::future::poll_fn(|cx| {
            let _ = nap.as_mut().poll(cx);
            std::task::Poll::Ready(())
        }))
    }))
    .unwrap_err();
    assert!(panic_message(payload).contains("after its runtime was dropped"));
}

#[test]
// Miri does not give a const vtable one address, so `Waker::will_wake`
// cannot recognise main's waker parked in the awaiter slot there and
// block_on waits (as it did before) instead of panicking.
#[cfg_attr(miri, ignore = "Miri's vtable addresses defeat Waker::will_wake")]
fn block_on_a_handle_of_a_task_nothing_can_wake_panics_instead_of_hanging() {
    // Main's waker sits in the task's awaiter slot, on the loop itself.
    let payload = catch_unwind(|| {
        jsloop::block_on(async { jsloop::spawn(std::future::pending::<()>()).await })
    })
    .unwrap_err();
    assert!(panic_message(payload).contains("nothing can wake it"));
    // The same through a chain of tasks awaiting each other's handles.
    let payload = catch_unwind(|| {
        jsloop::block_on(async {
            let inner = jsloop::spawn(std::future::pending::<()>());
            jsloop::spawn(async move { inner.await.unwrap() }).await
        })
    })
    .unwrap_err();
    assert!(panic_message(payload).contains("nothing can wake it"));
}

#[test]
fn block_on_a_task_a_thread_will_wake_keeps_waiting() {
    // Main's waker is parked in the task's awaiter slot, but the task's own
    // waker is held by a thread: main can still be woken.
    let value = jsloop::block_on(async {
        let (tx, rx) = futures::channel::oneshot::channel();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            tx.send(9).unwrap();
        });
        jsloop::spawn(async move { rx.await.unwrap() }).await.unwrap()
    });
    assert_eq!(value, 9);
}

#[test]
fn a_remote_wake_of_main_that_finds_it_queued_is_not_lost() {
    // Two wakes from a thread; main is ready once it sees both increments.
    // With a plain store clearing main's queued flag, the second wake could
    // find it still queued, return early, and the poll that followed missed
    // its increment: a permanent hang. Many rounds to give the race room.
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let rounds = if cfg!(miri) { 20 } else { 20_000 };
    let rt = jsloop::Runtime::new().unwrap();
    for _ in 0..rounds {
        let counter = Arc::new(AtomicUsize::new(0));
        let mut spawned = false;
        rt.block_on(std::future::poll_fn(|cx| {
            if !spawned {
                spawned = true;
                let (waker, counter) = (cx.waker().clone(), counter.clone());
                std::thread::spawn(move || {
                    for _ in 0..2 {
                        counter.fetch_add(1, Ordering::Release);
                        waker.wake_by_ref();
                    }
                });
            }
            if counter.load(Ordering::Acquire) == 2 {
                std::task::Poll::Ready(())
            } else {
                std::task::Poll::Pending
            }
        }));
    }
}

/// Runs `on_drop` when dropped: a guard a callback captures.
struct OnDrop<F: FnMut()>(F);

impl<F: FnMut()> Drop for OnDrop<F> {
    fn drop(&mut self) {
        (self.0)();
    }
}

#[test]
fn dropping_a_runtime_whose_immediate_guard_clears_another_immediate_does_not_panic() {
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on(async {
        let later = jsloop::set_immediate(|| {});
        let guard = OnDrop(move || later.clear());
        // Queued first, so its callback (and guard) is dropped first.
        jsloop::set_immediate(move || drop(guard));
        jsloop::set_immediate(|| {});
    });
    // Debug builds used to panic here: "attempt to subtract with overflow".
    drop(rt);
}

#[test]
fn dropping_a_runtime_whose_timer_guard_unrefs_another_timer_does_not_panic() {
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on(async {
        let other = jsloop::set_timeout(Duration::from_secs(60), || {});
        let guard = OnDrop(move || {
            other.unref();
            other.clear();
        });
        jsloop::set_timeout(Duration::from_secs(30), move || drop(guard));
    });
    drop(rt);
}
