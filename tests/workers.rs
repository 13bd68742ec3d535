//! `jsloop::worker`: loops on other threads, their ends, terminate, ref.
//! Times are only bounded from below, or generously from above.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use jsloop::worker::{Worker, WorkerError};

mod common;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Sets its flag when dropped: shows a worker's task was dropped.
struct DropFlag(Arc<AtomicBool>);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// A worker that never ends on its own; `dropped` is set once its main
/// future is dropped (it was terminated).
fn endless_worker(dropped: Arc<AtomicBool>) -> Worker<()> {
    Worker::spawn(move || async move {
        let _flag = DropFlag(dropped);
        let _guard = jsloop::keep_alive();
        std::future::pending::<()>().await;
    })
    .unwrap()
}

/// Waits (generously) for another thread to set `flag`.
fn wait_for(flag: &AtomicBool, what: &str) {
    let started = Instant::now();
    while !flag.load(Ordering::SeqCst) {
        assert!(started.elapsed() < ms(10_000), "{what}");
        std::thread::sleep(ms(1));
    }
}

#[test]
fn a_worker_runs_its_future_on_its_own_loop_and_the_parent_gets_the_output() {
    let parent = std::thread::current().id();
    let (thread, output) = jsloop::block_on(async move {
        let worker = Worker::spawn(|| async {
            // The worker's own loop: timers, immediates, tasks.
            jsloop::time::sleep(ms(2)).await;
            jsloop::yield_to_loop().await;
            let task = jsloop::spawn(async { 20 });
            (std::thread::current().id(), task.await.unwrap() + 1)
        })
        .unwrap();
        worker.exit().await.unwrap()
    });
    assert_ne!(thread, parent);
    assert_eq!(output, 21);
}

#[test]
fn a_worker_ends_when_its_loop_is_idle_like_run() {
    let fired = Arc::new(AtomicBool::new(false));
    jsloop::block_on({
        let fired = fired.clone();
        async move {
            let worker = Worker::spawn(move || async move {
                // Not awaited: `run` waits for the timer anyway (Node semantics).
                jsloop::set_timeout(ms(5), move || fired.store(true, Ordering::SeqCst));
            })
            .unwrap();
            worker.exit().await.unwrap();
        }
    });
    assert!(fired.load(Ordering::SeqCst), "the worker ended before its timer");
}

#[test]
fn a_running_worker_keeps_the_parent_loop_alive_and_unref_releases_it() {
    let finished = Arc::new(AtomicBool::new(false));
    jsloop::run({
        let finished = finished.clone();
        async move {
            let worker = Worker::spawn(move || async move {
                jsloop::time::sleep(ms(30)).await;
                finished.store(true, Ordering::SeqCst);
            })
            .unwrap();
            // Dropped without awaiting would terminate it: keep it in a task.
            jsloop::spawn(async move { worker.exit().await.unwrap() });
        }
    });
    assert!(finished.load(Ordering::SeqCst), "run returned before the worker ended");

    let started = Instant::now();
    jsloop::run(async {
        let worker = Worker::spawn(|| async { jsloop::time::sleep(ms(2_000)).await }).unwrap();
        worker.unref();
        worker.terminate(); // tidy up; unref alone lets `run` return
        std::mem::forget(worker);
    });
    assert!(started.elapsed() < ms(1_500), "an unref'd worker kept the parent alive");
}

#[test]
fn a_panicking_worker_reports_the_panic_and_the_parent_goes_on() {
    let after = jsloop::block_on(async {
        let worker = Worker::spawn(|| async { panic!("worker boom") }).unwrap();
        let error = worker.exit().await.unwrap_err();
        assert_eq!(error.to_string(), "the worker panicked: worker boom");
        match error {
            WorkerError::Panicked(payload) => {
                assert_eq!(common::panic_message(payload), "worker boom")
            }
            other => panic!("{other:?}"),
        }
        jsloop::time::sleep(ms(1)).await;
        "parent still running"
    });
    assert_eq!(after, "parent still running");
}

#[test]
fn a_panicking_callback_in_the_worker_ends_it_with_that_panic() {
    jsloop::block_on(async {
        let worker = Worker::spawn(|| async {
            jsloop::set_timeout(ms(1), || panic!("timer in worker"));
        })
        .unwrap();
        let error = worker.exit().await.unwrap_err();
        assert!(matches!(&error, WorkerError::Panicked(_)), "{error:?}");
    });
}

#[test]
fn terminate_stops_an_idle_worker_promptly() {
    jsloop::block_on(async {
        let worker = endless_worker(Arc::default());
        jsloop::time::sleep(ms(5)).await; // it is idle in its poller now
        let started = Instant::now();
        worker.terminate();
        assert!(worker.exit().await.unwrap_err().is_terminated());
        assert!(started.elapsed() < ms(5_000));
    });
}

#[test]
fn terminate_waits_for_a_long_callback_to_return_and_drops_the_worker_s_tasks() {
    let callback_ended = Arc::new(AtomicBool::new(false));
    let task_dropped = Arc::new(AtomicBool::new(false));
    jsloop::block_on({
        let (callback_ended, task_dropped) = (callback_ended.clone(), task_dropped.clone());
        async move {
            let (started_tx, started_rx) = futures::channel::oneshot::channel();
            let worker = Worker::spawn({
                let callback_ended = callback_ended.clone();
                move || async move {
                    jsloop::spawn(async move {
                        let _kept = DropFlag(task_dropped);
                        std::future::pending::<()>().await;
                    });
                    jsloop::set_timeout(ms(1), move || {
                        started_tx.send(()).unwrap();
                        std::thread::sleep(ms(100)); // cannot be pre-empted
                        callback_ended.store(true, Ordering::SeqCst);
                    });
                    jsloop::set_interval(ms(1), || {}); // would run forever
                }
            })
            .unwrap();
            started_rx.await.unwrap();
            worker.terminate();
            assert!(worker.exit().await.unwrap_err().is_terminated());
        }
    });
    assert!(callback_ended.load(Ordering::SeqCst), "terminate pre-empted a callback");
    assert!(task_dropped.load(Ordering::SeqCst), "the worker's tasks were not dropped");
}

#[test]
fn terminate_after_the_end_keeps_the_outcome() {
    jsloop::block_on(async {
        let worker = Worker::spawn(|| async { 3 }).unwrap();
        while !worker.has_exited() {
            jsloop::time::sleep(ms(1)).await;
        }
        worker.terminate();
        assert_eq!(worker.exit().await.unwrap(), 3);
    });
}

#[test]
fn dropping_a_worker_terminates_it() {
    let dropped = Arc::new(AtomicBool::new(false));
    jsloop::block_on({
        let dropped = dropped.clone();
        async move {
            let worker = endless_worker(dropped);
            jsloop::time::sleep(ms(5)).await;
            drop(worker);
        }
    });
    wait_for(&dropped, "the dropped worker kept running");
}

#[test]
fn dropping_the_parent_runtime_terminates_its_workers() {
    let dropped = Arc::new(AtomicBool::new(false));
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on({
        let dropped = dropped.clone();
        async move {
            let worker = endless_worker(dropped);
            // Held by a task of the parent, which the runtime drops.
            jsloop::spawn(async move { worker.exit().await });
            jsloop::time::sleep(ms(5)).await;
        }
    });
    drop(rt);
    wait_for(&dropped, "a worker outlived its parent runtime");
}

#[test]
fn a_worker_spawns_workers() {
    let total = jsloop::block_on(async {
        Worker::spawn(|| async {
            let children: Vec<_> =
                (1..=3u32).map(|n| Worker::spawn(move || async move { n * 10 }).unwrap()).collect();
            let mut sum = 0;
            for child in children {
                sum += child.exit().await.unwrap();
            }
            sum
        })
        .unwrap()
        .exit()
        .await
        .unwrap()
    });
    assert_eq!(total, 60);
}

#[test]
fn the_builder_names_the_thread_and_builds_the_runtime() {
    jsloop::block_on(async {
        let worker = Worker::builder()
            .name("named-worker")
            .stack_size(1 << 20)
            .runtime(|| jsloop::Runtime::builder().virtual_time(true))
            .spawn(|| async {
                let start = jsloop::time::Instant::now();
                jsloop::time::sleep(Duration::from_secs(3600)).await; // virtual: instant
                (std::thread::current().name().map(str::to_owned), start.elapsed())
            })
            .unwrap();
        let (name, slept) = worker.exit().await.unwrap();
        assert_eq!(name.as_deref(), Some("named-worker"));
        assert!(slept >= Duration::from_secs(3600));
    });
}

#[test]
fn a_runtime_that_cannot_be_built_is_an_error_from_spawn() {
    jsloop::block_on(async {
        let error = Worker::builder()
            .runtime(|| jsloop::Runtime::builder().worker_threads(0))
            .spawn(|| async {})
            .unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
#[should_panic(expected = "no jsloop runtime is running on this thread")]
fn spawning_a_worker_outside_a_runtime_panics() {
    let _ = Worker::spawn(|| async {});
}
