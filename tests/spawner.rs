//! `Spawner` and `RemoteJoinHandle`: spawning into a loop from other threads.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::thread;
use std::time::Duration;

mod common;

#[test]
fn a_thread_spawns_into_a_running_loop_and_awaits_on_its_own_loop() {
    let rt = jsloop::Runtime::new().unwrap();
    let spawner = rt.spawner();
    let (done_tx, done_rx) = mpsc::channel();
    let guard = rt.block_on(async { jsloop::keep_alive() });
    let client = thread::spawn(move || {
        let sums: Vec<_> =
            (0..100u64).map(|i| spawner.spawn(async move { i * 2 }).unwrap()).collect();
        let total = jsloop::block_on(async move {
            let mut total = 0;
            for sum in sums {
                total += sum.await.unwrap();
            }
            total
        });
        drop(guard);
        done_tx.send(total).unwrap();
    });
    rt.run(async {});
    client.join().unwrap();
    assert_eq!(done_rx.recv().unwrap(), 9900);
}

#[test]
fn spawn_local_builds_a_non_send_future_on_the_loop_thread() {
    let rt = jsloop::Runtime::new().unwrap();
    let loop_thread = thread::current().id();
    let handle = thread::spawn({
        let spawner = rt.spawner();
        move || {
            spawner
                .spawn_local(move || {
                    let here = Rc::new(Cell::new(thread::current().id()));
                    async move {
                        jsloop::yield_to_loop().await;
                        here.get()
                    }
                })
                .unwrap()
        }
    })
    .join()
    .unwrap();
    assert_eq!(rt.block_on(handle).unwrap(), loop_thread);
}

#[test]
fn a_spawn_is_a_poll_phase_macrotask() {
    let rt = jsloop::Runtime::new().unwrap();
    let order = Rc::new(std::cell::RefCell::new(Vec::new()));
    let spawner = rt.spawner();
    rt.run({
        let order = order.clone();
        async move {
            let handle = spawner.spawn(async {}).unwrap();
            let o = order.clone();
            jsloop::set_immediate(move || o.borrow_mut().push("immediate"));
            let o = order.clone();
            jsloop::queue_microtask(move || o.borrow_mut().push("microtask"));
            handle.await.unwrap();
            order.borrow_mut().push("spawned task done");
        }
    });
    // The microtask runs in the script's checkpoint; the spawn arrives in
    // the poll phase, before the check phase's immediate.
    assert_eq!(*order.borrow(), ["microtask", "spawned task done", "immediate"]);
}

#[test]
fn a_panic_and_an_abort_come_out_as_join_errors() {
    let rt = jsloop::Runtime::new().unwrap();
    let spawner = rt.spawner();
    let panicking = spawner.spawn(async { panic!("remote task failed") }).unwrap();
    let make_panics =
        spawner.spawn_local(|| -> std::future::Ready<()> { panic!("make failed") }).unwrap();
    let pending = spawner.spawn(std::future::pending::<()>()).unwrap();
    let (a, b) = rt.block_on(async move { (panicking.await, make_panics.await) });
    assert_eq!(common::panic_message(a.unwrap_err().into_panic()), "remote task failed");
    assert_eq!(common::panic_message(b.unwrap_err().into_panic()), "make failed");
    // Aborted from another thread while it waits.
    let error = rt.block_on(async move {
        jsloop::yield_to_loop().await; // it is running (pending) now
        let pending = thread::spawn(move || {
            pending.abort();
            pending
        })
        .join()
        .unwrap();
        pending.await.unwrap_err()
    });
    assert!(error.is_aborted());
}

#[test]
fn spawning_after_the_runtime_ended_is_an_error() {
    let rt = jsloop::Runtime::new().unwrap();
    let spawner = rt.spawner();
    drop(rt);
    let error = spawner.spawn(async {}).unwrap_err();
    assert!(error.is_shutdown());
}

#[test]
fn a_spawn_queued_when_the_runtime_drops_resolves_as_aborted() {
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.spawner().spawn(async { 1 }).unwrap();
    drop(rt); // never ran
    let error = jsloop::block_on(handle).unwrap_err();
    assert!(error.is_aborted());
}

#[test]
fn a_running_remote_task_dropped_with_its_runtime_resolves_as_aborted() {
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.spawner().spawn(std::future::pending::<()>()).unwrap();
    rt.block_on(async { jsloop::yield_to_loop().await });
    assert!(!handle.is_finished());
    drop(rt);
    assert!(handle.is_finished());
    assert!(jsloop::block_on(handle).unwrap_err().is_aborted());
}

#[test]
fn a_spawner_does_not_keep_the_loop_alive() {
    let rt = jsloop::Runtime::new().unwrap();
    let _spawner = rt.spawner();
    // Returns at once: nothing is alive.
    rt.run(async {});
}

#[test]
fn many_threads_spawn_at_once() {
    let rt = jsloop::Runtime::new().unwrap();
    let ran = Arc::new(AtomicUsize::new(0));
    let guard = rt.block_on(async { jsloop::keep_alive() });
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let (spawner, ran) = (rt.spawner(), ran.clone());
            thread::spawn(move || {
                let handles: Vec<_> = (0..250)
                    .map(|_| {
                        let ran = ran.clone();
                        spawner.spawn(async move { ran.fetch_add(1, Ordering::Relaxed) }).unwrap()
                    })
                    .collect();
                jsloop::block_on(async move {
                    for handle in handles {
                        handle.await.unwrap();
                    }
                });
            })
        })
        .collect();
    let waiter = thread::spawn(move || {
        for thread in threads {
            thread.join().unwrap();
        }
        drop(guard);
    });
    rt.run(async {});
    waiter.join().unwrap();
    assert_eq!(ran.load(Ordering::Relaxed), 1000);
}

#[test]
fn remote_join_handles_are_send() {
    fn assert_send<T: Send>(_: &T) {}
    let rt = jsloop::Runtime::new().unwrap();
    let spawner = rt.spawner();
    assert_send(&spawner);
    let handle = spawner.spawn(async { 5u8 }).unwrap();
    assert_send(&handle);
    let handle = thread::spawn(move || handle).join().unwrap();
    assert_eq!(
        rt.block_on(async { jsloop::time::timeout(Duration::from_secs(30), handle).await })
            .unwrap()
            .unwrap(),
        5
    );
}
