//! Memory per pending task: live heap bytes added by N tasks that each await
//! a future that stays pending.
//!
//! Two workloads, each the same future on every runtime:
//! - **pending**: the task body is
//!   `async { polled += 1; let _guard = DropCounter; pending::<()>().await }`.
//! - **oneshot**: the body awaits a `futures::channel::oneshot::Receiver<u64>`
//!   instead (the outside harness's workload of issue 15). The N channels are
//!   made before the measurement starts and their senders kept alive outside
//!   the tasks, so the channels' own heap (96 bytes each, the same on every
//!   runtime) is not in the figure: what remains is what the *task* adds,
//!   including the waker clone the receiver stores.
//!
//! For each runtime and workload: spawn N tasks, then yield until every task
//! has been polled once. The counting global
//! allocator reports live bytes (requested sizes, not the allocator's
//! rounded-up blocks) before and after; the table shows (after - before) / N.
//! The runtime is fresh, so the delta includes the growth of its run queue
//! and task registry to N entries (kept as capacity afterwards): what a
//! program that parks 1M tasks actually pays.
//!
//! Two columns, the same on every runtime:
//! - **detached**: every handle is dropped at once (`detach()` for
//!   async-executor, `spawn_local` without a handle for LocalPool). A runtime
//!   where nothing owns a detached pending task frees it (monoio does: the
//!   guards report it), so it has no figure here.
//! - **handles kept**: the handles are kept in a `Vec` until after the
//!   measurement; the `Vec`'s own buffer is subtracted, the handles' heap
//!   (e.g. LocalPool's `RemoteHandle` channel) is not.
//!
//! Run with `cargo bench -p jsloop-benches --bench memory`; `cargo test -p jsloop-benches --benches` runs it with
//! N = 10k in debug.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::future::pending;
use std::rc::Rc;
use std::time::Duration;

use futures::channel::oneshot;
use futures::task::LocalSpawnExt;

mod common;

use common::counting::{Counting, live_bytes};

#[global_allocator]
static GLOBAL: Counting = Counting;

const N: usize = if cfg!(debug_assertions) { 10_000 } else { 1_000_000 };

thread_local! {
    static POLLED: Cell<usize> = const { Cell::new(0) };
    static DROPPED: Cell<usize> = const { Cell::new(0) };
    /// The oneshot workload's channels, made before the measurement: the
    /// tasks pop receivers (the buffer keeps its capacity, so nothing is
    /// freed inside the measurement), the senders stay until after it.
    static RECEIVERS: RefCell<Vec<oneshot::Receiver<u64>>> = const { RefCell::new(Vec::new()) };
    static SENDERS: RefCell<Vec<oneshot::Sender<u64>>> = const { RefCell::new(Vec::new()) };
    /// glommio's kept handles, dropped inside its `run` (`Glommio::drop`).
    static GLOMMIO_KEPT: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
}

/// Zero-sized: holding it across the await adds nothing to the future.
struct DropCounter;

impl Drop for DropCounter {
    fn drop(&mut self) {
        DROPPED.set(DROPPED.get() + 1);
    }
}

/// The pending workload's task body, the same on every runtime.
async fn pending_task() {
    POLLED.set(POLLED.get() + 1);
    let _guard = DropCounter;
    pending::<()>().await
}

/// The oneshot workload's task body: awaits the next prepared receiver.
fn oneshot_task() -> impl std::future::Future<Output = ()> + 'static {
    let rx = RECEIVERS.with_borrow_mut(Vec::pop).expect("a receiver per task");
    async move {
        POLLED.set(POLLED.get() + 1);
        let _guard = DropCounter;
        let _ = rx.await;
    }
}

/// Which task body a row spawns.
#[derive(Clone, Copy)]
enum Workload {
    Pending,
    Oneshot,
}

impl Workload {
    /// Makes what the tasks will need, before the measurement starts.
    fn prepare(self) {
        if let Workload::Oneshot = self {
            let (senders, receivers) = (0..N).map(|_| oneshot::channel()).unzip();
            SENDERS.set(senders);
            RECEIVERS.set(receivers);
        }
    }

    /// Frees what `prepare` made, after the measurement.
    fn clean_up(self) {
        SENDERS.take();
        RECEIVERS.take();
    }
}

/// Expands `$body` once per workload, with `$make` naming that workload's
/// task-body function (so each runtime's row is written once).
macro_rules! per_workload {
    ($workload:expr, $make:ident => $body:expr) => {
        match $workload {
            Workload::Pending => {
                let $make = pending_task;
                $body
            }
            Workload::Oneshot => {
                let $make = oneshot_task;
                $body
            }
        }
    };
}

/// The workload, the same shape on every runtime: spawn N tasks made by
/// `$make` with `$spawn` (which returns the handle, or `()` when detaching),
/// then yield with `$yield_now` until all were polled. Returns the handles.
///
/// It runs as a spawned task itself: monoio re-polls a self-waking
/// `block_on` future without running its tasks, and puts a self-woken task
/// back at the *front* of its queue, so on monoio "yield" here is a 1 ms
/// sleep (the only way to let the other tasks run).
macro_rules! workload {
    ($spawn:expr, $yield_now:expr, $make:ident) => {
        async move {
            POLLED.set(0);
            DROPPED.set(0);
            let mut handles = Vec::with_capacity(N);
            for _ in 0..N {
                handles.push($spawn($make()));
            }
            while POLLED.get() < N {
                $yield_now.await;
            }
            handles
        }
    };
}

/// What a measurement keeps alive past `after`, and the bytes of its `Vec`
/// buffer (not the task's cost).
struct Kept {
    _handles: Box<dyn Any>,
    vec_bytes: usize,
}

impl Kept {
    fn new<H: 'static>(handles: Vec<H>) -> Kept {
        let vec_bytes = handles.capacity() * std::mem::size_of::<H>();
        Kept { _handles: Box::new(handles), vec_bytes }
    }

    /// As `new`, but the handles wait in [`GLOMMIO_KEPT`] until the
    /// executor drops them inside `run` (glommio's handles need it).
    fn stashed<H: 'static>(handles: Vec<H>) -> Kept {
        let vec_bytes = handles.capacity() * std::mem::size_of::<H>();
        GLOMMIO_KEPT.set(Some(Box::new(handles)));
        Kept { _handles: Box::new(()), vec_bytes }
    }
}

/// Bytes per task, or `None` if the runtime freed pending tasks.
fn measure<R>(
    workload: Workload,
    build: impl FnOnce() -> R,
    block_on: impl FnOnce(&mut R) -> Kept,
) -> Option<f64> {
    let mut rt = build();
    workload.prepare();
    let before = live_bytes();
    let kept = block_on(&mut rt);
    let after = live_bytes();
    let freed = DROPPED.get();
    let bytes = (after - before - kept.vec_bytes as isize) as f64 / N as f64;
    drop(kept);
    drop(rt);
    workload.clean_up();
    (freed == 0).then_some(bytes)
}

/// One runtime: `keep` chooses detached (false) or handles kept (true).
type RowFn = fn(keep: bool, workload: Workload) -> Option<f64>;

fn jsloop_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(
        workload,
        || jsloop::Runtime::new().unwrap(),
        |rt| {
            let yield_now = jsloop::yield_now;
            per_workload!(workload, make => if keep {
                let work = workload!(jsloop::spawn, yield_now(), make);
                Kept::new(rt.block_on(async { jsloop::spawn(work).await.unwrap() }))
            } else {
                let work = workload!(|f| drop(jsloop::spawn(f)), yield_now(), make);
                Kept::new(rt.block_on(async { jsloop::spawn(work).await.unwrap() }))
            })
        },
    )
}

struct Tokio {
    rt: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

fn tokio_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(
        workload,
        || Tokio {
            rt: tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap(),
            local: tokio::task::LocalSet::new(),
        },
        |t| {
            let yield_now = tokio::task::yield_now;
            per_workload!(workload, make => if keep {
                let work = workload!(tokio::task::spawn_local, yield_now(), make);
                Kept::new(
                    t.local
                        .block_on(&t.rt, async { tokio::task::spawn_local(work).await.unwrap() }),
                )
            } else {
                let work = workload!(|f| drop(tokio::task::spawn_local(f)), yield_now(), make);
                Kept::new(
                    t.local
                        .block_on(&t.rt, async { tokio::task::spawn_local(work).await.unwrap() }),
                )
            })
        },
    )
}

fn async_executor_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(
        workload,
        || Rc::new(async_executor::LocalExecutor::new()),
        |ex| {
            let yield_now = futures_lite::future::yield_now;
            let spawner = ex.clone();
            per_workload!(workload, make => if keep {
                let work = workload!(|f| spawner.spawn(f), yield_now(), make);
                Kept::new(futures_lite::future::block_on(ex.run(ex.spawn(work))))
            } else {
                let work = workload!(|f| spawner.spawn(f).detach(), yield_now(), make);
                Kept::new(futures_lite::future::block_on(ex.run(ex.spawn(work))))
            })
        },
    )
}

fn localpool_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(workload, futures::executor::LocalPool::new, |pool| {
        let yield_now = futures_lite::future::yield_now;
        let spawner = pool.spawner();
        let sp = spawner.clone();
        per_workload!(workload, make => if keep {
            let work = workload!(|f| sp.spawn_local_with_handle(f).unwrap(), yield_now(), make);
            Kept::new(pool.run_until(spawner.spawn_local_with_handle(work).unwrap()))
        } else {
            let work = workload!(|f| sp.spawn_local(f).unwrap(), yield_now(), make);
            Kept::new(pool.run_until(spawner.spawn_local_with_handle(work).unwrap()))
        })
    })
}

type MonoioRuntime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

/// A monoio runtime that, when dropped, first drops the oneshot senders
/// inside `block_on` and lets the woken tasks finish: monoio leaves pending
/// tasks alive when the runtime goes, and a waker woken outside its runtime
/// panics (without monoio's `sync` feature).
struct Monoio(MonoioRuntime);

impl Drop for Monoio {
    fn drop(&mut self) {
        self.0.block_on(async {
            let senders = SENDERS.take();
            let settled = DROPPED.get() + senders.len();
            drop(senders);
            while DROPPED.get() < settled {
                monoio::time::sleep(Duration::from_millis(1)).await;
            }
        });
    }
}

fn monoio_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(
        workload,
        || {
            Monoio(
                monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
                    .enable_timer()
                    .build()
                    .unwrap(),
            )
        },
        |Monoio(rt)| {
            let yield_now = || monoio::time::sleep(Duration::from_millis(1));
            per_workload!(workload, make => if keep {
                let work = workload!(monoio::spawn, yield_now(), make);
                Kept::new(rt.block_on(async move { monoio::spawn(work).await }))
            } else {
                let work = workload!(|f| drop(monoio::spawn(f)), yield_now(), make);
                Kept::new(rt.block_on(async move { monoio::spawn(work).await }))
            })
        },
    )
}

/// A glommio executor that, when dropped, first drops the oneshot senders
/// inside `run` and lets the woken tasks finish (as [`Monoio`]).
struct Glommio(glommio::LocalExecutor);

impl Drop for Glommio {
    fn drop(&mut self) {
        self.0.run(async {
            GLOMMIO_KEPT.take();
            let senders = SENDERS.take();
            let settled = DROPPED.get() + senders.len();
            drop(senders);
            while DROPPED.get() < settled {
                futures_lite::future::yield_now().await;
            }
        });
    }
}

fn glommio_row(keep: bool, workload: Workload) -> Option<f64> {
    measure(
        workload,
        || {
            // The default 10 MiB of io_uring buffers starts here too.
            Glommio(
                glommio::LocalExecutorBuilder::new(glommio::Placement::Unbound)
                    .make()
                    .expect("glommio executor"),
            )
        },
        |Glommio(ex)| {
            let yield_now = futures_lite::future::yield_now;
            per_workload!(workload, make => if keep {
                let work = workload!(glommio::spawn_local, yield_now(), make);
                Kept::stashed(ex.run(async move { glommio::spawn_local(work).await }))
            } else {
                let work = workload!(|f| drop(glommio::spawn_local(f).detach()), yield_now(), make);
                Kept::stashed(ex.run(async move { glommio::spawn_local(work).await }))
            })
        },
    )
}

fn main() {
    // `cargo bench` passes `--bench`; nothing here takes arguments.
    let runtimes: [(&str, RowFn); 6] = [
        ("jsloop", jsloop_row),
        ("tokio", tokio_row),
        ("async-executor", async_executor_row),
        ("futures-localpool", localpool_row),
        ("monoio", monoio_row),
        ("glommio", glommio_row),
    ];
    println!("Memory per pending task: N = {N}, every task polled once, fresh runtime.");
    println!("Live heap bytes as requested from the allocator, (after - before) / N.");
    RECEIVERS.set(vec![oneshot::channel().1]);
    println!(
        "Task futures: pending {} bytes, oneshot {} bytes.",
        std::mem::size_of_val(&pending_task()),
        std::mem::size_of_val(&oneshot_task())
    );
    for (label, workload) in [("pending", Workload::Pending), ("oneshot", Workload::Oneshot)] {
        println!();
        println!("Workload: {label}.");
        println!();
        println!("| runtime | detached: bytes / task | handles kept: bytes / task |");
        println!("|---|---:|---:|");
        let fmt = |v: Option<f64>| v.map_or("freed (n/a)".to_owned(), |v| format!("{v:.1}"));
        let mut rows = Vec::new();
        for (name, row) in runtimes {
            let (detached, kept) = (row(false, workload), row(true, workload));
            println!("| {name} | {} | {} |", fmt(detached), fmt(kept));
            rows.push((name, detached, kept));
        }
        println!();
        for (column, pick) in [
            ("detached", (|r: &(&str, Option<f64>, Option<f64>)| r.1) as fn(&_) -> Option<f64>),
            ("handles kept", |r: &(&str, Option<f64>, Option<f64>)| r.2),
        ] {
            let best = rows[1..]
                .iter()
                .filter_map(|r| pick(r).map(|v| (r.0, v)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            if let (Some(js), Some((peer, bytes))) = (pick(&rows[0]), best) {
                println!(
                    "{label}, {column}: jsloop {js:.1} B/task, best peer {peer} {bytes:.1} B/task, jsloop / best = {:.2}x",
                    js / bytes
                );
            }
        }
    }
}
