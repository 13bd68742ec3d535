//! Memory per pending task: live heap bytes added by N tasks that each await
//! a future that is always pending.
//!
//! For each runtime: spawn N tasks whose body is
//! `async { polled += 1; let _guard = DropCounter; pending::<()>().await }`,
//! drop (detach) every handle, then yield until every task has been polled
//! once. The counting global allocator reports live bytes (requested sizes,
//! not the allocator's rounded-up blocks) before and after; the table shows
//! (after - before) / N.
//!
//! Two columns:
//! - **cold**: a fresh runtime, so the delta includes the growth of its run
//!   queue / task registry to N entries (kept as capacity afterwards);
//! - **warm**: the same runtime first ran N tasks that finished at once, so
//!   queues and registries already have the capacity and the delta is the
//!   per-task cells alone.
//!
//! A task freed while pending (no handle, no waker, nothing owning it) would
//! show up as a drop of its guard; the table flags that, since such a runtime
//! stores nothing for it.
//!
//! Run with `cargo bench --bench memory`; `cargo test --benches` runs it with
//! N = 10k in debug.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::future::{pending, Future};
use std::rc::Rc;
use std::sync::atomic::{AtomicIsize, Ordering};

use futures::task::LocalSpawnExt;

struct Counting;

/// Live bytes (requested sizes) across the process.
static LIVE: AtomicIsize = AtomicIsize::new(0);

// SAFETY: forwards every call to `System` unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc(layout);
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let ptr = System.alloc_zeroed(layout);
        if !ptr.is_null() {
            LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout);
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let new = System.realloc(ptr, layout, new_size);
        if !new.is_null() {
            LIVE.fetch_add(new_size as isize - layout.size() as isize, Ordering::Relaxed);
        }
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = if cfg!(debug_assertions) { 10_000 } else { 1_000_000 };

thread_local! {
    static POLLED: Cell<usize> = const { Cell::new(0) };
    static DROPPED: Cell<usize> = const { Cell::new(0) };
}

/// Zero-sized: holding it across the await adds nothing to the future.
struct DropCounter;

impl Drop for DropCounter {
    fn drop(&mut self) {
        DROPPED.set(DROPPED.get() + 1);
    }
}

/// The task body, the same on every runtime: pending forever, or (the
/// warm-up round) done at once.
fn task(stay_pending: bool) -> impl Future<Output = ()> + 'static {
    async move {
        POLLED.set(POLLED.get() + 1);
        if stay_pending {
            let _guard = DropCounter;
            pending::<()>().await
        }
    }
}

fn reset() {
    POLLED.set(0);
    DROPPED.set(0);
}

/// The workload, the same shape on every runtime: spawn `n` copies of `task`
/// with `$spawn_detached`, then yield with `$yield_now` until all were polled.
/// It runs as a spawned task itself (monoio re-polls a yielding `block_on`
/// future without running its tasks, so yielding there would spin forever).
macro_rules! workload {
    ($spawn_detached:expr, $yield_now:expr, $stay_pending:expr, $n:expr) => {
        async move {
            reset();
            for _ in 0..$n {
                $spawn_detached(task($stay_pending));
            }
            while POLLED.get() < $n {
                $yield_now.await;
            }
        }
    };
}

#[derive(Clone, Copy)]
struct Row {
    bytes_per_task: f64,
    /// Guards dropped while the tasks should all be pending.
    dropped: usize,
}

/// One measurement: build a runtime with `build`, optionally run a warm-up
/// round, then the pending round; returns bytes per task.
fn measure<R>(
    warm: bool,
    build: impl FnOnce() -> R,
    mut block_on: impl FnMut(&mut R, bool),
) -> Row {
    let mut rt = build();
    if warm {
        block_on(&mut rt, false);
    }
    let before = LIVE.load(Ordering::Relaxed);
    block_on(&mut rt, true);
    let after = LIVE.load(Ordering::Relaxed);
    let row = Row { bytes_per_task: (after - before) as f64 / N as f64, dropped: DROPPED.get() };
    drop(rt);
    row
}

fn jsloop_row(warm: bool) -> Row {
    measure(
        warm,
        || jsloop::Runtime::new().unwrap(),
        |rt, pending| {
            let spawn = |f| drop(jsloop::spawn(f));
            let work = workload!(spawn, jsloop::yield_now(), pending, N);
            rt.block_on(async { jsloop::spawn(work).await.unwrap() })
        },
    )
}

struct Tokio {
    rt: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

fn tokio_row(warm: bool) -> Row {
    measure(
        warm,
        || Tokio {
            rt: tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap(),
            local: tokio::task::LocalSet::new(),
        },
        |t, pending| {
            let spawn = |f| drop(tokio::task::spawn_local(f));
            let work = workload!(spawn, tokio::task::yield_now(), pending, N);
            t.local.block_on(&t.rt, async { tokio::task::spawn_local(work).await.unwrap() })
        },
    )
}

fn async_executor_row(warm: bool) -> Row {
    measure(
        warm,
        || Rc::new(async_executor::LocalExecutor::new()),
        |ex, pending| {
            let spawn = {
                let ex = ex.clone();
                move |f| ex.spawn(f).detach()
            };
            let yield_now = futures_lite::future::yield_now;
            let work = workload!(spawn, yield_now(), pending, N);
            futures_lite::future::block_on(ex.run(ex.spawn(work)))
        },
    )
}

fn localpool_row(warm: bool) -> Row {
    measure(warm, futures::executor::LocalPool::new, |pool, pending| {
        let spawner = pool.spawner();
        let spawn = {
            let spawner = spawner.clone();
            move |f| spawner.spawn_local(f).unwrap()
        };
        let yield_now = futures_lite::future::yield_now;
        let work = workload!(spawn, yield_now(), pending, N);
        let handle = spawner.spawn_local_with_handle(work).unwrap();
        pool.run_until(handle)
    })
}

type MonoioRuntime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

fn monoio_row(warm: bool) -> Row {
    measure(
        warm,
        || -> MonoioRuntime {
            monoio::RuntimeBuilder::<monoio::FusionDriver>::new().enable_timer().build().unwrap()
        },
        |rt, pending| {
            let spawn = |f| drop(monoio::spawn(f));
            let yield_now = futures_lite::future::yield_now;
            let work = workload!(spawn, yield_now(), pending, N);
            rt.block_on(async move { monoio::spawn(work).await })
        },
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing else here takes arguments.
    type RowFn = fn(bool) -> Row;
    let runtimes: [(&str, RowFn); 5] = [
        ("jsloop", jsloop_row),
        ("tokio", tokio_row),
        ("async-executor", async_executor_row),
        ("futures-localpool", localpool_row),
        ("monoio", monoio_row),
    ];
    println!("Memory per pending task: N = {N}, handles dropped (detached), every task polled once.");
    println!("Bytes are live heap bytes as requested from the allocator, (after - before) / N.");
    println!("Task future: {} bytes.", std::mem::size_of_val(&task(true)));
    println!();
    println!("| runtime | cold: bytes / task | warm: bytes / task | note |");
    println!("|---|---:|---:|---|");
    let mut results = Vec::new();
    for (name, row) in runtimes {
        let cold = row(false);
        let warm = row(true);
        let note = if cold.dropped + warm.dropped > 0 {
            format!(
                "{} pending tasks were FREED (nothing owns a detached pending task): not comparable",
                cold.dropped.max(warm.dropped)
            )
        } else {
            String::new()
        };
        println!("| {name} | {:.1} | {:.1} | {note} |", cold.bytes_per_task, warm.bytes_per_task);
        results.push((name, cold, warm));
    }
    let best_peer = |pick: fn(&(&str, Row, Row)) -> Row| {
        results
            .iter()
            .filter(|r| r.0 != "jsloop" && r.1.dropped + r.2.dropped == 0)
            .map(|r| (r.0, pick(r).bytes_per_task))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let js = &results[0];
    println!();
    for (label, pick, own) in [
        ("cold", (|r: &(&str, Row, Row)| r.1) as fn(&(&str, Row, Row)) -> Row, js.1),
        ("warm", |r: &(&str, Row, Row)| r.2, js.2),
    ] {
        if let Some((peer, bytes)) = best_peer(pick) {
            println!(
                "{label}: jsloop {:.1} B/task, best peer {peer} {bytes:.1} B/task, ratio {:.2}x",
                own.bytes_per_task,
                own.bytes_per_task / bytes
            );
        }
    }
}
