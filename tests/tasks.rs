//! Tasks: spawn, spawn_now, JoinHandle, abort, yields — through the public API.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::default()
}

fn push(log: &Log, line: &str) {
    log.borrow_mut().push(line.to_owned());
}

#[test]
fn spawned_task_first_poll_is_a_microtask_after_the_script() {
    let log = log();
    jsloop::run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::spawn(async move { push(&l, "task") });
            let l = log.clone();
            jsloop::queue_microtask(move || push(&l, "microtask queued after spawn"));
            push(&log, "script end");
        }
    });
    assert_eq!(*log.borrow(), ["script end", "task", "microtask queued after spawn"]);
}

#[test]
fn spawn_now_runs_the_synchronous_prefix_at_once() {
    let log = log();
    jsloop::run({
        let log = log.clone();
        async move {
            push(&log, "A");
            let l = log.clone();
            let handle = jsloop::spawn_now(async move {
                push(&l, "B");
                jsloop::yield_now().await;
                push(&l, "D");
                5
            });
            push(&log, "C");
            assert_eq!(handle.await.unwrap(), 5);
        }
    });
    assert_eq!(*log.borrow(), ["A", "B", "C", "D"]);
}

#[test]
fn dropping_a_join_handle_detaches_the_task() {
    let done = Rc::new(Cell::new(false));
    jsloop::run({
        let done = done.clone();
        async move {
            drop(jsloop::spawn(async move {
                jsloop::yield_to_loop().await;
                done.set(true);
            }));
        }
    });
    assert!(done.get());
}

#[test]
fn abort_drops_a_pending_future_and_the_handle_reports_aborted() {
    let dropped = Rc::new(Cell::new(false));
    jsloop::block_on({
        let dropped = dropped.clone();
        async move {
            let guard = DropFlag(dropped.clone());
            let handle = jsloop::spawn(async move {
                let _guard = guard;
                std::future::pending::<()>().await;
            });
            jsloop::yield_now().await;
            handle.abort();
            assert!(dropped.get(), "future dropped at once");
            assert!(handle.is_finished());
            handle.abort(); // twice: no-op
            let error = handle.await.unwrap_err();
            assert!(error.is_aborted() && !error.is_panic());
            assert_eq!(error.to_string(), "task was aborted");
        }
    });
}

#[test]
fn abort_before_the_first_poll_means_it_never_runs() {
    jsloop::block_on(async {
        let handle = jsloop::spawn(async { unreachable!("aborted before its first poll") });
        handle.abort();
        assert!(handle.await.unwrap_err().is_aborted());
    });
}

#[test]
fn abort_after_the_task_finished_keeps_its_output() {
    jsloop::block_on(async {
        let handle = jsloop::spawn(async { 3 });
        jsloop::yield_now().await;
        assert!(handle.is_finished());
        handle.abort();
        assert_eq!(handle.await.unwrap(), 3);
    });
}

#[test]
fn a_task_can_abort_itself_and_stops_at_its_next_await() {
    let after = Rc::new(Cell::new(false));
    jsloop::block_on({
        let after = after.clone();
        async move {
            let slot: Rc<RefCell<Option<jsloop::JoinHandle<()>>>> = Rc::default();
            let inner = slot.clone();
            let handle = jsloop::spawn(async move {
                jsloop::yield_now().await;
                inner.borrow().as_ref().unwrap().abort();
                jsloop::yield_now().await;
                after.set(true);
            });
            *slot.borrow_mut() = Some(handle);
            jsloop::yield_to_loop().await;
            let handle = slot.borrow_mut().take().unwrap();
            assert!(handle.await.unwrap_err().is_aborted());
        }
    });
    assert!(!after.get());
}

#[test]
fn abort_outside_a_running_runtime_takes_effect_when_it_runs() {
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.spawn(async { unreachable!("aborted before the loop ran") });
    handle.abort();
    assert!(rt.block_on(handle).unwrap_err().is_aborted());
}

#[test]
fn a_task_woken_many_times_is_queued_once() {
    let polls = Rc::new(Cell::new(0));
    jsloop::block_on({
        let polls = polls.clone();
        async move {
            let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
            let stash = waker.clone();
            let handle = jsloop::spawn(poll_fn(move |cx| {
                polls.set(polls.get() + 1);
                if polls.get() == 1 {
                    *stash.borrow_mut() = Some(cx.waker().clone());
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            }));
            jsloop::yield_now().await;
            let waker = waker.borrow_mut().take().unwrap();
            for _ in 0..10 {
                waker.wake_by_ref();
            }
            waker.wake();
            handle.await.unwrap();
        }
    });
    assert_eq!(polls.get(), 2);
}

#[test]
fn yield_now_goes_to_the_back_of_the_microtask_ring() {
    let log = log();
    jsloop::run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::queue_microtask(move || push(&l, "queued before the yield"));
            let l = log.clone();
            jsloop::set_immediate(move || push(&l, "immediate"));
            jsloop::yield_now().await;
            push(&log, "after yield");
        }
    });
    assert_eq!(*log.borrow(), ["queued before the yield", "after yield", "immediate"]);
}

#[test]
fn yield_to_loop_waits_for_the_check_phase() {
    let log = log();
    jsloop::run({
        let log = log.clone();
        async move {
            let l = log.clone();
            jsloop::set_immediate(move || push(&l, "immediate queued first"));
            jsloop::yield_to_loop().await;
            push(&log, "after yield_to_loop");
        }
    });
    assert_eq!(*log.borrow(), ["immediate queued first", "after yield_to_loop"]);
}

#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn a_million_tasks_spawn_and_complete() {
    let total = jsloop::block_on(async {
        let handles: Vec<_> = (0..1_000_000u64).map(|i| jsloop::spawn(async move { i })).collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }
        total
    });
    assert_eq!(total, (0..1_000_000u64).sum::<u64>());
}

#[test]
fn join_handle_works_across_runtimes_on_one_thread() {
    let first = jsloop::Runtime::new().unwrap();
    let handle = first.spawn(async { 9 });
    first.block_on(jsloop::yield_now());
    // The output is read by a second runtime's main future.
    assert_eq!(jsloop::block_on(handle).unwrap(), 9);
}

#[test]
fn non_send_futures_and_outputs_are_fine() {
    let out = jsloop::block_on(async {
        let rc = Rc::new(5);
        jsloop::spawn(async move { Rc::new(*rc + 1) }).await.unwrap()
    });
    assert_eq!(*out, 6);
}

#[test]
fn handle_spawns_through_futures_task_traits() {
    use futures::task::{LocalSpawn, LocalSpawnExt, SpawnExt};
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.handle();
    let hits = Rc::new(Cell::new(0));
    let h = hits.clone();
    handle.spawn_local(async move { h.set(h.get() + 1) }).unwrap();
    SpawnExt::spawn(&handle, async {}).unwrap();
    assert!(handle.status_local().is_ok());
    rt.run(async {});
    assert_eq!(hits.get(), 1);
    drop(rt);
    assert!(handle.spawn_local(async {}).unwrap_err().is_shutdown());
}

#[test]
fn handle_current_spawns_on_the_running_runtime() {
    let v = jsloop::block_on(async { jsloop::Handle::current().spawn(async { 4 }).await.unwrap() });
    assert_eq!(v, 4);
}

struct DropFlag(Rc<Cell<bool>>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

/// A future that stores its own task's waker inside itself forever: a
/// reference cycle that only the task registry can break.
struct SelfReferencing {
    waker: Option<Waker>,
    _flag: DropFlag,
}

impl Future for SelfReferencing {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.waker = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
fn dropping_the_runtime_drops_pending_futures_even_in_waker_cycles() {
    let dropped = Rc::new(Cell::new(false));
    let plain = Rc::new(Cell::new(false));
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.spawn(SelfReferencing { waker: None, _flag: DropFlag(dropped.clone()) });
    let guard = DropFlag(plain.clone());
    rt.spawn(async move {
        let _guard = guard;
        std::future::pending::<()>().await
    });
    rt.block_on(jsloop::yield_now());
    assert!(!dropped.get());
    drop(rt);
    assert!(dropped.get() && plain.get());
    // The handle outlives the runtime and reports the task as aborted.
    assert!(jsloop::block_on(handle).unwrap_err().is_aborted());
}

#[test]
fn spawn_on_a_dropped_runtime_settles_as_aborted() {
    let rt = jsloop::Runtime::new().unwrap();
    let handle = rt.handle();
    drop(rt);
    let task = handle.spawn(async { 1 });
    assert!(task.is_finished());
    assert!(jsloop::block_on(task).unwrap_err().is_aborted());
}
