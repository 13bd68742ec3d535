//! Handing work into a loop from another thread: jsloop's `Spawner` against
//! tokio's `Handle::spawn` onto a current-thread runtime, same binary, same
//! run.
//!
//! Each runtime runs on a thread of its own (jsloop: `run` held alive by a
//! `keep_alive` guard; tokio: `block_on` of a future that waits for the
//! end). The bench thread spawns a trivial task there and waits for its
//! handle with `futures::executor::block_on` (the same awaiting side for
//! both), so one op is: cross-thread spawn, the loop wakes and polls the
//! task, the output comes back, the bench thread is woken.
//!
//! - `spawner_latency`: one spawn awaited at a time; per op = per round trip.
//! - `spawner_burst`: 1,000 spawns, then all awaited; per op = per spawn.
//!
//! Message-port groups join this file with the ports.

mod common;

use std::hint::black_box;
use std::sync::mpsc;
use std::thread;

use criterion::{Criterion, Throughput};

const DEBUG: bool = cfg!(debug_assertions);
const BURST: usize = if DEBUG { 100 } else { 1_000 };

/// A loop running on its own thread until dropped: `handle` reaches it,
/// and dropping `stop` lets it end.
struct LoopThread<H, S> {
    handle: H,
    stop: Option<S>,
    thread: Option<thread::JoinHandle<()>>,
}

impl<H: Send + 'static, S: Send + 'static> LoopThread<H, S> {
    /// Runs `run` on a new thread; it sends back the handle and the guard.
    fn start(run: impl FnOnce(mpsc::Sender<(H, S)>) + Send + 'static) -> LoopThread<H, S> {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || run(tx));
        let (handle, stop) = rx.recv().expect("loop thread");
        LoopThread { handle, stop: Some(stop), thread: Some(thread) }
    }
}

impl<H, S> Drop for LoopThread<H, S> {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            thread.join().expect("loop thread");
        }
    }
}

/// jsloop: `run`, kept alive by a `KeepAlive` guard.
fn jsloop_thread() -> LoopThread<jsloop::Spawner, jsloop::KeepAlive> {
    LoopThread::start(|tx| {
        let rt = jsloop::Runtime::new().expect("jsloop");
        let guard = rt.block_on(async { jsloop::keep_alive() });
        tx.send((rt.spawner(), guard)).expect("bench thread");
        rt.run(async {});
    })
}

/// tokio: a current-thread runtime's `block_on` until a oneshot fires.
fn tokio_thread() -> LoopThread<tokio::runtime::Handle, tokio::sync::oneshot::Sender<()>> {
    LoopThread::start(|tx| {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let rt = tokio::runtime::Builder::new_current_thread().build().expect("tokio");
        tx.send((rt.handle().clone(), stop)).expect("bench thread");
        rt.block_on(async {
            let _ = stopped.await;
        });
    })
}

fn spawner_latency(c: &mut Criterion) {
    let (jsloop, tokio) = (jsloop_thread(), tokio_thread());
    let mut group = c.benchmark_group("spawner_latency");
    group.throughput(Throughput::Elements(1));
    group.bench_function("jsloop", |b| {
        b.iter(|| {
            let handle = jsloop.handle.spawn(async { black_box(1u64) }).expect("spawn");
            futures::executor::block_on(handle).expect("task")
        })
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let handle = tokio.handle.spawn(async { black_box(1u64) });
            futures::executor::block_on(handle).expect("task")
        })
    });
    group.finish();
}

/// Waits for every handle on the bench thread and sums the outputs.
fn await_all<H, E>(handles: Vec<H>) -> u64
where
    H: std::future::Future<Output = Result<u64, E>>,
    E: std::fmt::Debug,
{
    futures::executor::block_on(async {
        let mut sum = 0;
        for handle in handles {
            sum += handle.await.expect("task");
        }
        sum
    })
}

fn spawner_burst(c: &mut Criterion) {
    let (jsloop, tokio) = (jsloop_thread(), tokio_thread());
    let mut group = c.benchmark_group("spawner_burst");
    group.throughput(Throughput::Elements(BURST as u64));
    group.bench_function("jsloop", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..BURST as u64)
                .map(|i| jsloop.handle.spawn(async move { black_box(i) }).expect("spawn"))
                .collect();
            await_all(handles)
        })
    });
    group.bench_function("tokio", |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..BURST as u64)
                .map(|i| tokio.handle.spawn(async move { black_box(i) }))
                .collect();
            await_all(handles)
        })
    });
    group.finish();
}

fn main() {
    let dir = common::criterion_dir();
    let mut c = common::criterion(&dir);
    spawner_latency(&mut c);
    spawner_burst(&mut c);
    c.final_summary();
}
