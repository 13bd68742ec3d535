//! A `JoinHandle` with a `Send` output is `Send` and `Sync`: moved to
//! another thread it resolves there through its runtime's loop, `abort`,
//! `is_finished` and dropping it work from there, and a runtime that is
//! dropped resolves it (as aborted, unless the task had finished) instead
//! of leaving it hanging.

use std::future::{Future, pending};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::thread;
use std::time::{Duration, Instant};

use jsloop::time::sleep;
use jsloop::{JoinHandle, Runtime};

/// How long a test waits for another thread before calling it a hang.
const PATIENCE: Duration = Duration::from_secs(20);

fn runtime() -> Runtime {
    Runtime::new().expect("jsloop runtime")
}

/// Runs `f` on a new thread; its result, or a panic if it takes longer
/// than [`PATIENCE`] (a hang).
fn on_thread<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> mpsc::Receiver<R> {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || tx.send(f()).unwrap());
    rx
}

fn wait<R>(rx: &mpsc::Receiver<R>) -> R {
    rx.recv_timeout(PATIENCE).expect("the other thread hung (or panicked)")
}

/// An output that counts its drops.
struct Counted(Arc<AtomicUsize>);

impl Drop for Counted {
    fn drop(&mut self) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_handle_with_a_send_output_is_send_and_sync() {
    fn send_and_sync<T: Send + Sync>() {}
    send_and_sync::<JoinHandle<u32>>();
    send_and_sync::<JoinHandle<Vec<String>>>();
    // `JoinHandle<Rc<u8>>` is not `Send`: the `compile_fail` example on
    // `JoinHandle` pins that.
}

#[test]
fn a_moved_handle_resolves_on_the_other_threads_own_loop() {
    let rt = runtime();
    let handle = rt.spawn(async {
        sleep(Duration::from_millis(20)).await;
        42u32
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let output = jsloop::block_on(handle);
        drop(guard);
        output
    });
    rt.run(async {});
    assert_eq!(wait(&waiter).unwrap(), 42);
}

#[test]
fn a_moved_handle_resolves_under_another_executor() {
    let rt = runtime();
    let handle = rt.spawn(async {
        sleep(Duration::from_millis(20)).await;
        "done"
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let output = futures::executor::block_on(handle);
        drop(guard);
        output
    });
    rt.run(async {});
    assert_eq!(wait(&waiter).unwrap(), "done");
}

#[test]
fn a_task_of_a_second_runtime_awaits_a_handle_of_the_first() {
    let rt = runtime();
    let handle = rt.spawn(async {
        sleep(Duration::from_millis(20)).await;
        7u64
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let second = runtime();
        let output = second.block_on(async move {
            // Awaited inside a task of the second runtime, not its main future.
            jsloop::spawn(handle).await.unwrap()
        });
        drop(guard);
        output
    });
    rt.run(async {});
    assert_eq!(wait(&waiter).unwrap(), 7);
}

#[test]
fn a_task_that_finished_before_the_move_hands_its_output_over() {
    let rt = runtime();
    let handle = rt.spawn(async { vec![1, 2, 3] });
    rt.block_on(jsloop::yield_now());
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let output = futures::executor::block_on(handle);
        drop(guard);
        output
    });
    rt.run(async {});
    assert_eq!(wait(&waiter).unwrap(), [1, 2, 3]);
}

#[test]
fn a_panic_reaches_the_other_thread_with_its_payload() {
    let rt = runtime();
    let handle = rt.spawn(async {
        jsloop::yield_now().await;
        panic!("boom on the loop");
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let error = futures::executor::block_on(handle).unwrap_err();
        drop(guard);
        assert!(error.is_panic());
        *error.into_panic().downcast::<&str>().unwrap()
    });
    rt.run(async {});
    assert_eq!(wait(&waiter), "boom on the loop");
}

#[test]
fn abort_from_another_thread_drops_the_future_on_the_loop() {
    let rt = runtime();
    let dropped_on = Arc::new(std::sync::Mutex::new(None));
    let guard_on_drop = DropsOn(dropped_on.clone());
    let handle = rt.spawn(async move {
        let _guard = guard_on_drop;
        pending::<()>().await;
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        handle.abort();
        let error = futures::executor::block_on(handle).unwrap_err();
        drop(guard);
        error.is_aborted()
    });
    rt.run(async {});
    assert!(wait(&waiter));
    assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
}

/// Records the thread it is dropped on.
struct DropsOn(Arc<std::sync::Mutex<Option<thread::ThreadId>>>);

impl Drop for DropsOn {
    fn drop(&mut self) {
        *self.0.lock().unwrap() = Some(thread::current().id());
    }
}

#[test]
fn is_finished_on_another_thread_turns_true_while_the_runtime_runs() {
    let rt = runtime();
    let handle = rt.spawn(async {
        sleep(Duration::from_millis(10)).await;
        5u8
    });
    let guard = rt.keep_alive();
    let waiter = on_thread(move || {
        let deadline = Instant::now() + PATIENCE;
        while !handle.is_finished() {
            assert!(Instant::now() < deadline, "is_finished never turned true");
            thread::sleep(Duration::from_millis(1));
        }
        let output = futures::executor::block_on(handle);
        drop(guard);
        output
    });
    rt.run(async {});
    assert_eq!(wait(&waiter).unwrap(), 5);
}

#[test]
fn a_handle_dropped_on_another_thread_detaches_the_task() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicBool::new(false));
    let handle = rt.spawn({
        let (drops, ran) = (drops.clone(), ran.clone());
        async move {
            sleep(Duration::from_millis(20)).await;
            ran.store(true, Ordering::SeqCst);
            Counted(drops)
        }
    });
    let guard = rt.keep_alive();
    let dropper = on_thread(move || {
        drop(handle);
        drop(guard);
    });
    rt.run(async {});
    wait(&dropper);
    assert!(ran.load(Ordering::SeqCst), "the detached task ran to its end");
    assert_eq!(drops.load(Ordering::SeqCst), 1, "its output was dropped, once");
}

#[test]
fn a_finished_tasks_unread_output_is_dropped_by_the_loop_when_the_handle_goes() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let dropped_on = Arc::new(std::sync::Mutex::new(None));
    let handle = rt.spawn({
        let (drops, dropped_on) = (drops.clone(), dropped_on.clone());
        async move { (Counted(drops), DropsOn(dropped_on)) }
    });
    rt.block_on(jsloop::yield_now());
    let guard = rt.keep_alive();
    let dropper = on_thread(move || {
        drop(handle);
        drop(guard);
    });
    rt.run(async {});
    wait(&dropper);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
    assert_eq!(*dropped_on.lock().unwrap(), Some(thread::current().id()));
}

#[test]
fn a_panic_nobody_read_is_reported_when_the_handle_is_dropped_elsewhere() {
    let reported = Arc::new(AtomicUsize::new(0));
    let rt = Runtime::builder()
        .on_uncaught_panic({
            let reported = reported.clone();
            move |payload| {
                assert_eq!(payload.downcast_ref::<&str>(), Some(&"unread"));
                reported.fetch_add(1, Ordering::SeqCst);
            }
        })
        .build()
        .unwrap();
    let handle = rt.spawn(async { panic!("unread") });
    rt.block_on(jsloop::yield_now());
    assert_eq!(reported.load(Ordering::SeqCst), 0, "the handle may still read it");
    let guard = rt.keep_alive();
    let dropper = on_thread(move || {
        drop(handle);
        drop(guard);
    });
    rt.run(async {});
    wait(&dropper);
    assert_eq!(reported.load(Ordering::SeqCst), 1);
}

#[test]
fn a_runtime_dropped_before_the_other_thread_polls_resolves_the_handle() {
    let rt = runtime();
    let unfinished = rt.spawn(pending::<u8>());
    let finished = rt.spawn(async { 9u8 });
    rt.block_on(jsloop::yield_now());
    let (tx, rx) = mpsc::channel::<()>();
    let waiter = on_thread(move || {
        rx.recv().unwrap(); // the runtime is gone
        assert!(unfinished.is_finished() && finished.is_finished());
        unfinished.abort(); // too late: a no-op
        let unfinished = futures::executor::block_on(unfinished);
        let finished = futures::executor::block_on(finished);
        (unfinished.unwrap_err().is_aborted(), finished.unwrap())
    });
    drop(rt);
    tx.send(()).unwrap();
    assert_eq!(wait(&waiter), (true, 9));
}

#[test]
fn a_handle_dropped_elsewhere_after_its_runtime_drops_its_output_there() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let handle = rt.spawn({
        let drops = drops.clone();
        async move { Counted(drops) }
    });
    rt.block_on(jsloop::yield_now());
    drop(rt);
    let dropper = on_thread(move || drop(handle));
    wait(&dropper);
    assert_eq!(drops.load(Ordering::SeqCst), 1);
}

/// Sets `polled` once its handle's first poll returned `Pending`.
struct FirstPoll<F> {
    future: F,
    polled: Arc<AtomicBool>,
}

impl<F: Future + Unpin> Future for FirstPoll<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let output = Pin::new(&mut self.future).poll(cx);
        if output.is_pending() {
            self.polled.store(true, Ordering::SeqCst);
        }
        output
    }
}

#[test]
fn a_runtime_dropped_while_another_thread_waits_wakes_it_with_an_abort() {
    let rt = runtime();
    let handle = rt.spawn(pending::<u8>());
    let polled = Arc::new(AtomicBool::new(false));
    let waiter = on_thread({
        let polled = polled.clone();
        move || futures::executor::block_on(FirstPoll { future: handle, polled })
    });
    // Let the loop take the other thread's watch before the runtime goes.
    rt.block_on(async {
        while !polled.load(Ordering::SeqCst) {
            sleep(Duration::from_millis(1)).await;
        }
        sleep(Duration::from_millis(10)).await;
    });
    drop(rt);
    assert!(wait(&waiter).unwrap_err().is_aborted());
}

#[test]
fn two_threads_can_use_one_handle_at_once() {
    let rt = runtime();
    let handle = rt.spawn(pending::<()>());
    let id = handle.id();
    let (first, second) = (rt.keep_alive(), rt.keep_alive());
    let handle_ref = &handle;
    thread::scope(|scope| {
        scope.spawn(move || {
            assert_eq!(handle_ref.id(), id);
            handle_ref.abort();
            drop(first);
        });
        scope.spawn(move || {
            let deadline = Instant::now() + PATIENCE;
            while !handle_ref.is_finished() {
                assert!(Instant::now() < deadline, "is_finished never turned true");
                thread::sleep(Duration::from_millis(1));
            }
            drop(second);
        });
        // The home thread too, while the others switch the handle over.
        rt.run(async {
            let _ = handle_ref.is_finished();
        });
    });
    // Back home, forwarded for good: it still resolves.
    assert!(rt.block_on(handle).unwrap_err().is_aborted());
}

#[test]
fn a_handle_back_home_after_a_poll_elsewhere_still_resolves() {
    let rt = runtime();
    let handle = rt.spawn(async {
        sleep(Duration::from_millis(20)).await;
        3u8
    });
    let mut handle = wait(&on_thread(move || {
        let mut handle = handle;
        let waker = futures::task::noop_waker();
        let polled = Pin::new(&mut handle).poll(&mut Context::from_waker(&waker));
        assert!(polled.is_pending());
        handle
    }));
    // Polled at home now: the loop's watch must still reach this poll.
    assert_eq!(rt.block_on(&mut handle).unwrap(), 3);
}

#[test]
fn the_id_is_the_same_on_every_thread() {
    let rt = runtime();
    let handle = rt.spawn(async {});
    let id = handle.id();
    let (moved_id, handle) = wait(&on_thread(move || (handle.id(), handle)));
    assert_eq!(moved_id, id);
    rt.block_on(handle).unwrap();
}

#[test]
fn a_drop_queued_for_a_runtime_that_never_runs_again_still_drops_the_output() {
    let rt = runtime();
    let drops = Arc::new(AtomicUsize::new(0));
    let handle = rt.spawn({
        let drops = drops.clone();
        async move { Counted(drops) }
    });
    rt.block_on(jsloop::yield_now());
    // The runtime lives on, idle: the release waits in its queue.
    wait(&on_thread(move || drop(handle)));
    assert_eq!(drops.load(Ordering::SeqCst), 0, "the loop has not run since");
    drop(rt);
    assert_eq!(drops.load(Ordering::SeqCst), 1, "dropped with the runtime's queue");
}

#[test]
fn a_wait_queued_for_an_idle_runtime_ends_with_the_output_when_it_drops() {
    let rt = runtime();
    let handle = rt.spawn(async { 11u8 });
    rt.block_on(jsloop::yield_now());
    let polled = Arc::new(AtomicBool::new(false));
    let waiter = on_thread({
        let polled = polled.clone();
        move || futures::executor::block_on(FirstPoll { future: handle, polled })
    });
    // The watch waits in the idle runtime's queue; dropping the runtime
    // drops it, which tells the handle the (finished) task's outcome.
    let deadline = Instant::now() + PATIENCE;
    while !polled.load(Ordering::SeqCst) {
        assert!(Instant::now() < deadline, "the other thread never polled");
        thread::sleep(Duration::from_millis(1));
    }
    drop(rt);
    assert_eq!(wait(&waiter).unwrap(), 11);
}
