//! The progress rule under the livelock that motivated it: async-lock's
//! `RwLock` with readers waiting while a writer holds the lock across a
//! 1 ms sleep (the waiting readers wake each other on every poll).
//!
//! One workload body, written once over the runtime's spawn and sleep, run
//! on jsloop (default settings), tokio's current-thread runtime with a
//! `LocalSet`, and async-executor's `LocalExecutor` driven by
//! `async_io::block_on` (timers from async-io), in the same binary and the
//! same run. After the criterion group, `main` prints jsloop's median
//! against each peer's.
//!
//! ```sh
//! cargo bench -p jsloop-benches --bench progress
//! ```
//!
//! `cargo test -p jsloop-benches --benches` runs each routine once (debug build).

mod common;

use std::future::Future;
use std::rc::Rc;
use std::time::{Duration, SystemTime};

use criterion::Criterion;

/// Writer rounds per iteration; each holds the lock across a 1 ms sleep.
const ROUNDS: usize = 5;
/// Readers queued behind each writer.
const READERS: usize = 3;
const GROUP: &str = "rwlock_contention";

/// The workload: `ROUNDS` × (a writer that sleeps 1 ms holding the lock,
/// `READERS` readers behind it), all spawned at once, then awaited.
async fn rwlock_contention<H, S>(
    spawn: impl Fn(std::pin::Pin<Box<dyn Future<Output = ()>>>) -> H,
    sleep: S,
) where
    H: Future<Output = ()>,
    S: Fn(Duration) -> std::pin::Pin<Box<dyn Future<Output = ()>>> + Clone + 'static,
{
    let lock = Rc::new(async_lock::RwLock::new(0usize));
    let mut handles = Vec::new();
    for _ in 0..ROUNDS {
        let (writer, sleep) = (lock.clone(), sleep.clone());
        handles.push(spawn(Box::pin(async move {
            let mut value = writer.write().await;
            sleep(Duration::from_millis(1)).await;
            *value += 1;
        })));
        for _ in 0..READERS {
            let reader = lock.clone();
            handles.push(spawn(Box::pin(async move { drop(reader.read().await) })));
        }
    }
    for handle in handles {
        handle.await;
    }
    assert_eq!(*lock.read().await, ROUNDS);
}

fn jsloop_run(rt: &jsloop::Runtime) {
    rt.block_on(rwlock_contention(
        |future| {
            let handle = jsloop::spawn(future);
            async move { handle.await.expect("jsloop task") }
        },
        |duration| Box::pin(jsloop::time::sleep(duration)),
    ));
}

fn tokio_run(rt: &tokio::runtime::Runtime) {
    tokio::task::LocalSet::new().block_on(
        rt,
        rwlock_contention(
            |future| {
                let handle = tokio::task::spawn_local(future);
                async move { handle.await.expect("tokio task") }
            },
            |duration| Box::pin(tokio::time::sleep(duration)),
        ),
    );
}

fn async_executor_run(ex: &Rc<async_executor::LocalExecutor<'static>>) {
    let spawner = ex.clone();
    async_io::block_on(ex.run(rwlock_contention(
        move |future| spawner.spawn(future),
        |duration| {
            Box::pin(async move {
                async_io::Timer::after(duration).await;
            })
        },
    )));
}

fn main() {
    let output = common::criterion_dir();
    let since = SystemTime::now();
    let mut c: Criterion = common::criterion(&output);
    let mut group = c.benchmark_group(GROUP);
    group.sample_size(20);

    let jsloop_rt = jsloop::Runtime::builder().warnings(false).build().unwrap();
    group.bench_function("jsloop", |b| b.iter(|| jsloop_run(&jsloop_rt)));
    let tokio_rt =
        tokio::runtime::Builder::new_current_thread().enable_time().build().expect("tokio");
    group.bench_function("tokio", |b| b.iter(|| tokio_run(&tokio_rt)));
    let ex = Rc::new(async_executor::LocalExecutor::new());
    group.bench_function("async-executor", |b| b.iter(|| async_executor_run(&ex)));
    group.finish();
    c.final_summary();

    let (dir, _) = &output;
    let median = |name| common::median_ns(dir, GROUP, name, since);
    if let Some(jsloop) = median("jsloop") {
        println!("\n{GROUP}: jsloop {:.2} ms per iteration", jsloop / 1e6);
        for peer in ["tokio", "async-executor"] {
            if let Some(ns) = median(peer) {
                println!("  {peer}: {:.2} ms, jsloop / {peer} = {:.2}x", ns / 1e6, jsloop / ns);
            }
        }
        println!("  deferred wakes on jsloop so far: {}", jsloop_rt.deferred_wakes());
    }
}
