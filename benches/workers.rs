//! Between loops on different threads, same binary, same run: handing work
//! into a loop (jsloop's `Spawner` against tokio's `Handle::spawn`), and
//! message ports (jsloop's `MessagePort` against tokio's unbounded `mpsc`,
//! `async-channel` on async-executor, and `crossbeam-channel` between plain
//! threads as the floor).
//!
//! Spawner groups. Each runtime runs on a thread of its own (jsloop: `run`
//! held alive by a `keep_alive` guard; tokio: `block_on` of a future that
//! waits for the end). The bench thread spawns a trivial task there and
//! waits for its handle with `futures::executor::block_on` (the same
//! awaiting side for both), so one op is: cross-thread spawn, the loop wakes
//! and polls the task, the output comes back, the bench thread is woken.
//!
//! - `spawner_latency`: one spawn awaited at a time; per op = per round trip.
//! - `spawner_burst`: 1,000 spawns, then all awaited; per op = per spawn.
//!
//! Port groups. The bench thread is the receiving loop: each batch of
//! criterion iterations runs inside one `block_on` of the peer's runtime
//! (jsloop `Runtime::block_on`, a tokio current-thread runtime,
//! `future::block_on(ex.run(..))` on a `LocalExecutor`; crossbeam blocks
//! the thread), built once per bench function.
//!
//! - `port_round_trip`: an echo loop on a second thread (the same runtime
//!   kind: jsloop `run` of `while let Some(m) = port.recv().await { post it
//!   back }`) sends every message back; per op = one round trip, two
//!   cross-thread wakes.
//! - `port_one_way`: a plain thread posts 1,000,000 messages and the bench
//!   thread's loop receives them with `recv().await` in a loop (jsloop also
//!   with an `on_message` listener); per op = one message. The poster runs
//!   ahead, so the receiver sees batches: one announcement (remote event and
//!   eventfd write) per batch, as the pool's completions have.
//!
//! After the groups, `main` prints the port groups' medians per op and the
//! ratios jsloop / peer.

mod common;

use std::hint::black_box;
use std::path::Path;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use jsloop::worker::{MessageChannel, MessagePort};

const DEBUG: bool = cfg!(debug_assertions);
const BURST: usize = if DEBUG { 100 } else { 1_000 };
/// Messages per `port_one_way` iteration.
const ONE_WAY: u64 = if DEBUG { 10_000 } else { 1_000_000 };

const JSLOOP: &str = "jsloop";
const JSLOOP_LISTENER: &str = "jsloop-on_message";
const TOKIO: &str = "tokio";
const ASYNC_CHANNEL: &str = "async-channel";
const CROSSBEAM: &str = "crossbeam-channel";
const PORT_PEERS: [&str; 3] = [TOKIO, ASYNC_CHANNEL, CROSSBEAM];

/// A loop running on its own thread until dropped: `handle` reaches it,
/// and dropping it and `stop` lets the loop end (a port or channel end
/// closes; a guard goes).
struct LoopThread<H, S = ()> {
    handle: Option<H>,
    stop: Option<S>,
    thread: Option<thread::JoinHandle<()>>,
}

impl<H: Send + 'static, S: Send + 'static> LoopThread<H, S> {
    /// Runs `run` on a new thread; it sends back the handle and the guard.
    fn start(run: impl FnOnce(mpsc::Sender<(H, S)>) + Send + 'static) -> LoopThread<H, S> {
        let (tx, rx) = mpsc::channel();
        let thread = thread::spawn(move || run(tx));
        let (handle, stop) = rx.recv().expect("loop thread");
        LoopThread { handle: Some(handle), stop: Some(stop), thread: Some(thread) }
    }

    fn handle(&self) -> &H {
        self.handle.as_ref().expect("until dropped")
    }

    fn handle_mut(&mut self) -> &mut H {
        self.handle.as_mut().expect("until dropped")
    }
}

impl<H, S> Drop for LoopThread<H, S> {
    fn drop(&mut self) {
        drop(self.stop.take());
        drop(self.handle.take());
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
        let rt = tokio_runtime();
        tx.send((rt.handle().clone(), stop)).expect("bench thread");
        rt.block_on(async {
            let _ = stopped.await;
        });
    })
}

/// The tokio peer everywhere here: a current-thread runtime, no drivers
/// (it parks on a condvar, the cheapest cross-thread wake it has).
fn tokio_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().build().expect("tokio")
}

fn spawner_latency(c: &mut Criterion) {
    let (jsloop, tokio) = (jsloop_thread(), tokio_thread());
    let mut group = c.benchmark_group("spawner_latency");
    group.throughput(Throughput::Elements(1));
    group.bench_function(JSLOOP, |b| {
        b.iter(|| {
            let handle = jsloop.handle().spawn(async { black_box(1u64) }).expect("spawn");
            futures::executor::block_on(handle).expect("task")
        })
    });
    group.bench_function(TOKIO, |b| {
        b.iter(|| {
            let handle = tokio.handle().spawn(async { black_box(1u64) });
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
    group.bench_function(JSLOOP, |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..BURST as u64)
                .map(|i| jsloop.handle().spawn(async move { black_box(i) }).expect("spawn"))
                .collect();
            await_all(handles)
        })
    });
    group.bench_function(TOKIO, |b| {
        b.iter(|| {
            let handles: Vec<_> = (0..BURST as u64)
                .map(|i| tokio.handle().spawn(async move { black_box(i) }))
                .collect();
            await_all(handles)
        })
    });
    group.finish();
}

/// tokio's unbounded `mpsc`, both ways: what the bench thread holds.
type TokioEnds =
    (tokio::sync::mpsc::UnboundedSender<u64>, tokio::sync::mpsc::UnboundedReceiver<u64>);
/// `async-channel`, both ways.
type AsyncChannelEnds = (async_channel::Sender<u64>, async_channel::Receiver<u64>);
/// `crossbeam-channel`, both ways.
type CrossbeamEnds = (crossbeam_channel::Sender<u64>, crossbeam_channel::Receiver<u64>);

/// jsloop: a loop that posts every message back on its port; the bench
/// holds the other port, and closing it ends the loop.
fn jsloop_echo() -> LoopThread<MessagePort<u64>> {
    LoopThread::start(|tx| {
        let MessageChannel { port1, port2 } = MessageChannel::new();
        tx.send((port1, ())).expect("bench thread");
        jsloop::Runtime::new().expect("jsloop").run(async move {
            while let Some(message) = port2.recv().await {
                if port2.post_message(message).is_err() {
                    break;
                }
            }
        });
    })
}

/// tokio: the same echo on a current-thread runtime.
fn tokio_echo() -> LoopThread<TokioEnds> {
    LoopThread::start(|tx| {
        let (to_echo, mut from_bench) = tokio::sync::mpsc::unbounded_channel();
        let (to_bench, from_echo) = tokio::sync::mpsc::unbounded_channel();
        tx.send(((to_echo, from_echo), ())).expect("bench thread");
        tokio_runtime().block_on(async move {
            while let Some(message) = from_bench.recv().await {
                if to_bench.send(message).is_err() {
                    break;
                }
            }
        });
    })
}

/// async-executor: the same echo on a `LocalExecutor`.
fn async_channel_echo() -> LoopThread<AsyncChannelEnds> {
    LoopThread::start(|tx| {
        let (to_echo, from_bench) = async_channel::unbounded();
        let (to_bench, from_echo) = async_channel::unbounded();
        tx.send(((to_echo, from_echo), ())).expect("bench thread");
        let ex = async_executor::LocalExecutor::new();
        futures_lite::future::block_on(ex.run(async move {
            while let Ok(message) = from_bench.recv().await {
                if to_bench.try_send(message).is_err() {
                    break;
                }
            }
        }));
    })
}

/// The floor: a plain thread blocking in `recv`.
fn crossbeam_echo() -> LoopThread<CrossbeamEnds> {
    LoopThread::start(|tx| {
        let (to_echo, from_bench) = crossbeam_channel::unbounded();
        let (to_bench, from_echo) = crossbeam_channel::unbounded();
        tx.send(((to_echo, from_echo), ())).expect("bench thread");
        while let Ok(message) = from_bench.recv() {
            if to_bench.send(message).is_err() {
                break;
            }
        }
    })
}

/// Times `iters` round trips inside one `block_on` of the bench thread's
/// loop.
fn port_round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("port_round_trip");
    group.throughput(Throughput::Elements(1));
    {
        let (echo, rt) = (jsloop_echo(), jsloop::Runtime::new().expect("jsloop"));
        let port = echo.handle();
        group.bench_function(JSLOOP, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for i in 0..iters {
                        port.post_message(i).expect("echo loop");
                        black_box(port.recv().await.expect("echo loop"));
                    }
                    start.elapsed()
                })
            })
        });
    }
    {
        let (mut echo, rt) = (tokio_echo(), tokio_runtime());
        let (to_echo, from_echo) = echo.handle_mut();
        group.bench_function(TOKIO, |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let start = Instant::now();
                    for i in 0..iters {
                        to_echo.send(i).expect("echo loop");
                        black_box(from_echo.recv().await.expect("echo loop"));
                    }
                    start.elapsed()
                })
            })
        });
    }
    {
        let (echo, ex) = (async_channel_echo(), async_executor::LocalExecutor::new());
        let (to_echo, from_echo) = echo.handle();
        group.bench_function(ASYNC_CHANNEL, |b| {
            b.iter_custom(|iters| {
                futures_lite::future::block_on(ex.run(async {
                    let start = Instant::now();
                    for i in 0..iters {
                        to_echo.try_send(i).expect("echo loop");
                        black_box(from_echo.recv().await.expect("echo loop"));
                    }
                    start.elapsed()
                }))
            })
        });
    }
    {
        let echo = crossbeam_echo();
        let (to_echo, from_echo) = echo.handle();
        group.bench_function(CROSSBEAM, |b| {
            b.iter_custom(|iters| {
                let start = Instant::now();
                for i in 0..iters {
                    to_echo.send(i).expect("echo thread");
                    black_box(from_echo.recv().expect("echo thread"));
                }
                start.elapsed()
            })
        });
    }
    group.finish();
}

/// Times `messages` posted by a new plain thread (`post`, one message) and
/// taken by `receive` on the bench thread; the spawn and join are noise
/// next to a million messages.
fn one_way<P, R>(messages: u64, post: P, receive: R) -> Duration
where
    P: Fn(u64) + Sync,
    R: FnOnce(u64),
{
    let start = Instant::now();
    thread::scope(|s| {
        s.spawn(|| (0..messages).for_each(&post));
        receive(messages);
    });
    start.elapsed()
}

fn port_one_way(c: &mut Criterion) {
    let mut group = c.benchmark_group("port_one_way");
    group.throughput(Throughput::Elements(ONE_WAY));
    // One iteration is tens of milliseconds: few, flat samples.
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    {
        let MessageChannel { port1, port2 } = MessageChannel::new();
        let rt = jsloop::Runtime::new().expect("jsloop");
        let post = |i| port1.post_message(i).expect("bench port");
        group.bench_function(JSLOOP, |b| {
            b.iter_custom(|iters| {
                one_way(iters * ONE_WAY, post, |n| {
                    rt.block_on(async {
                        for _ in 0..n {
                            black_box(port2.recv().await.expect("poster"));
                        }
                    })
                })
            })
        });
        group.bench_function(JSLOOP_LISTENER, |b| {
            b.iter_custom(|iters| {
                one_way(iters * ONE_WAY, post, |n| {
                    rt.block_on(async {
                        let (done, all_received) = futures::channel::oneshot::channel();
                        let (mut left, mut done) = (n, Some(done));
                        port2.on_message(move |message| {
                            black_box(message);
                            left -= 1;
                            if left == 0 {
                                let _ = done.take().expect("one last message").send(());
                            }
                        });
                        all_received.await.expect("listener");
                    })
                })
            })
        });
    }
    {
        let (to_loop, mut from_poster) = tokio::sync::mpsc::unbounded_channel();
        let rt = tokio_runtime();
        let post = |i| to_loop.send(i).expect("bench receiver");
        group.bench_function(TOKIO, |b| {
            b.iter_custom(|iters| {
                one_way(iters * ONE_WAY, post, |n| {
                    rt.block_on(async {
                        for _ in 0..n {
                            black_box(from_poster.recv().await.expect("poster"));
                        }
                    })
                })
            })
        });
    }
    {
        let (to_loop, from_poster) = async_channel::unbounded();
        let ex = async_executor::LocalExecutor::new();
        let post = |i| to_loop.try_send(i).expect("bench receiver");
        group.bench_function(ASYNC_CHANNEL, |b| {
            b.iter_custom(|iters| {
                one_way(iters * ONE_WAY, post, |n| {
                    futures_lite::future::block_on(ex.run(async {
                        for _ in 0..n {
                            black_box(from_poster.recv().await.expect("poster"));
                        }
                    }))
                })
            })
        });
    }
    {
        let (to_loop, from_poster) = crossbeam_channel::unbounded();
        let post = |i| to_loop.send(i).expect("bench receiver");
        group.bench_function(CROSSBEAM, |b| {
            b.iter_custom(|iters| {
                one_way(iters * ONE_WAY, post, |n| {
                    for _ in 0..n {
                        black_box(from_poster.recv().expect("poster"));
                    }
                })
            })
        });
    }
    group.finish();
}

/// The port groups' medians per op (ns) and jsloop / peer, from what
/// criterion wrote during this run; nothing in test or list mode.
fn summary(dir: &Path, since: SystemTime) {
    let rows = [
        ("port_round_trip", 1, JSLOOP),
        ("port_one_way", ONE_WAY, JSLOOP),
        ("port_one_way", ONE_WAY, JSLOOP_LISTENER),
    ];
    let per_op = |g: &str, f: &str, n: u64| Some(common::median_ns(dir, g, f, since)? / n as f64);
    if rows.iter().all(|&(g, n, js)| per_op(g, js, n).is_none()) {
        return;
    }
    let fmt = |v: Option<f64>| v.map_or("-".to_owned(), |v| format!("{v:.1}"));
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "-".to_owned(),
    };
    println!();
    println!("Summary: median ns per op (criterion estimates in {})", dir.display());
    println!();
    println!(
        "| group | jsloop | {} | {} |",
        PORT_PEERS.join(" | "),
        PORT_PEERS.map(|p| format!("jsloop / {p}")).join(" | ")
    );
    println!("|---|---:|{}", "---:|".repeat(2 * PORT_PEERS.len()));
    for (g, n, js) in rows {
        let js_ns = per_op(g, js, n);
        let peers: Vec<_> = PORT_PEERS.iter().map(|p| per_op(g, p, n)).collect();
        println!(
            "| {g} ({js}) | {} | {} | {} |",
            fmt(js_ns),
            peers.iter().map(|&v| fmt(v)).collect::<Vec<_>>().join(" | "),
            peers.iter().map(|&v| ratio(js_ns, v)).collect::<Vec<_>>().join(" | "),
        );
    }
}

fn main() {
    let since = SystemTime::now();
    let dir = common::criterion_dir();
    let mut c = common::criterion(&dir);
    spawner_latency(&mut c);
    spawner_burst(&mut c);
    port_round_trip(&mut c);
    port_one_way(&mut c);
    c.final_summary();
    summary(&dir.0, since);
}
