//! jsloop against other single-threaded executors, workload by workload.
//!
//! Every workload is written once, generic over [`Spawner`], and runs inside
//! each runtime's own `block_on`:
//!
//! | runtime             | driven by                                                  |
//! |---------------------|------------------------------------------------------------|
//! | `jsloop`            | `jsloop::Runtime::block_on`                                |
//! | `tokio`             | current-thread runtime + `LocalSet::block_on` (`spawn_local`) |
//! | `async-executor`    | `futures_lite::future::block_on(ex.run(..))` on a `LocalExecutor`; the timer groups use `async_io::block_on` (smol's `block_on`) so async-io's reactor runs on the bench thread |
//! | `futures-localpool` | `LocalPool::run_until` (`LocalSpawnExt`); no timers        |
//! | `monoio`            | `FusionDriver` (io_uring if the kernel allows, else legacy) with `enable_timer` |
//!
//! One criterion iteration is one whole workload (e.g. 100k spawns); the time
//! is taken inside `block_on`, so runtime construction is not measured. The
//! runtime is built once per bench function and reused by every iteration.
//! Throughput is in elements, so criterion's `elem/s` is per op.
//!
//! After the groups, `main` reads the medians criterion just wrote and prints
//! ns/op per runtime and the ratio jsloop / best peer.
//!
//! `cargo test -p jsloop-benches --benches` runs each routine once with smaller sizes (debug).

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::hint::black_box;
use std::path::Path;
use std::pin::pin;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use futures::executor::LocalPool;
use futures::task::LocalSpawnExt;

/// Smaller sizes in debug builds (`cargo test -p jsloop-benches --benches`).
const DEBUG: bool = cfg!(debug_assertions);
const SPAWN_N: usize = if DEBUG { 1_000 } else { 100_000 };
const YIELD_N: usize = if DEBUG { 10_000 } else { 1_000_000 };
const PING_PONG_N: usize = if DEBUG { 1_000 } else { 100_000 };
const TIMERS_N: usize = if DEBUG { 1_000 } else { 100_000 };
/// Timer `i` sleeps `i % TIMER_SPREAD_MS + 1` ms.
const TIMER_SPREAD_MS: u64 = 50;
const REGISTER_CANCEL_N: usize = if DEBUG { 1_000 } else { 100_000 };
const TIMEOUT_READY_N: usize = if DEBUG { 1_000 } else { 1_000_000 };
/// The `timeout_ready` workload's limit, never reached.
const TIMEOUT: Duration = Duration::from_secs(10);
const MICROTASK_N: usize = if DEBUG { 10_000 } else { 1_000_000 };

const JSLOOP: &str = "jsloop";
const TOKIO: &str = "tokio";
const ASYNC_EXECUTOR: &str = "async-executor";
const LOCALPOOL: &str = "futures-localpool";
const MONOIO: &str = "monoio";
const PEERS: [&str; 4] = [TOKIO, ASYNC_EXECUTOR, LOCALPOOL, MONOIO];

// ---------------------------------------------------------------------------
// The runtime abstraction: spawn, yield, sleep, block_on.
// ---------------------------------------------------------------------------

/// What a workload may do on a runtime. Cheap to clone (a unit struct or an
/// `Rc`), handed to the workload by [`Peer::block_on`].
trait Spawner: Clone + 'static {
    /// Spawns `future`; the returned future is its handle, yielding the
    /// output (a panicked / cancelled task panics the bench).
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static;

    /// Yield once, waking itself.
    fn yield_now() -> impl Future<Output = ()>;

    /// The runtime's timer future.
    fn sleep(duration: Duration) -> impl Future<Output = ()>;

    /// The runtime's `timeout(10 s, ..)` over a future ready at its first
    /// poll (the timer never needs to fire).
    fn timeout_ready(value: u64) -> impl Future<Output = u64>;
}

/// A runtime instance, built once per bench function.
trait Peer: Sized {
    type Spawner: Spawner;
    /// `timers`: the workload uses timers (only async-executor cares).
    fn new(timers: bool) -> Self;
    fn block_on<Fut: Future>(&mut self, make: impl FnOnce(Self::Spawner) -> Fut) -> Fut::Output;
}

// --- jsloop ---

#[derive(Clone)]
struct JsloopSpawner;

impl Spawner for JsloopSpawner {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = jsloop::spawn(future);
        async move { handle.await.expect("jsloop task failed") }
    }

    fn yield_now() -> impl Future<Output = ()> {
        jsloop::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        jsloop::time::sleep(duration)
    }
    async fn timeout_ready(value: u64) -> u64 {
        jsloop::time::timeout(TIMEOUT, std::future::ready(value)).await.unwrap()
    }
}

struct JsloopPeer(jsloop::Runtime);

impl Peer for JsloopPeer {
    type Spawner = JsloopSpawner;

    fn new(_timers: bool) -> Self {
        JsloopPeer(jsloop::Runtime::new().expect("jsloop runtime"))
    }

    fn block_on<Fut: Future>(&mut self, make: impl FnOnce(JsloopSpawner) -> Fut) -> Fut::Output {
        self.0.block_on(make(JsloopSpawner))
    }
}

// --- tokio ---

#[derive(Clone)]
struct TokioSpawner;

impl Spawner for TokioSpawner {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        let handle = tokio::task::spawn_local(future);
        async move { handle.await.expect("tokio task failed") }
    }

    fn yield_now() -> impl Future<Output = ()> {
        tokio::task::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(duration)
    }
    async fn timeout_ready(value: u64) -> u64 {
        tokio::time::timeout(TIMEOUT, std::future::ready(value)).await.unwrap()
    }
}

struct TokioPeer {
    rt: tokio::runtime::Runtime,
    local: tokio::task::LocalSet,
}

impl Peer for TokioPeer {
    type Spawner = TokioSpawner;

    fn new(_timers: bool) -> Self {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("tokio runtime");
        TokioPeer { rt, local: tokio::task::LocalSet::new() }
    }

    fn block_on<Fut: Future>(&mut self, make: impl FnOnce(TokioSpawner) -> Fut) -> Fut::Output {
        self.local.block_on(&self.rt, make(TokioSpawner))
    }
}

// --- async-executor ---

#[derive(Clone)]
struct AsyncExecutorSpawner(Rc<async_executor::LocalExecutor<'static>>);

impl Spawner for AsyncExecutorSpawner {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.0.spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        let timer = async_io::Timer::after(duration);
        async move {
            timer.await;
        }
    }
    /// smol's idiom (`smol-timeout`, `FutureExt::or` with a timer): the
    /// timer is made only if the future is pending.
    async fn timeout_ready(value: u64) -> u64 {
        use futures_lite::FutureExt;
        std::future::ready(value)
            .or(async {
                async_io::Timer::after(TIMEOUT).await;
                panic!("timed out")
            })
            .await
    }
}

struct AsyncExecutorPeer {
    ex: Rc<async_executor::LocalExecutor<'static>>,
    /// Drive with `async_io::block_on` (timer workloads).
    async_io: bool,
}

impl Peer for AsyncExecutorPeer {
    type Spawner = AsyncExecutorSpawner;

    fn new(timers: bool) -> Self {
        AsyncExecutorPeer { ex: Rc::new(async_executor::LocalExecutor::new()), async_io: timers }
    }

    fn block_on<Fut: Future>(
        &mut self,
        make: impl FnOnce(AsyncExecutorSpawner) -> Fut,
    ) -> Fut::Output {
        let future = self.ex.run(make(AsyncExecutorSpawner(self.ex.clone())));
        if self.async_io {
            async_io::block_on(future)
        } else {
            futures_lite::future::block_on(future)
        }
    }
}

// --- futures LocalPool ---

#[derive(Clone)]
struct LocalPoolSpawner(futures::executor::LocalSpawner);

impl Spawner for LocalPoolSpawner {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        self.0.spawn_local_with_handle(future).expect("LocalPool spawn")
    }

    fn yield_now() -> impl Future<Output = ()> {
        futures_lite::future::yield_now()
    }

    async fn sleep(_duration: Duration) {
        // Never called: the timer groups skip LocalPool.
        unreachable!("futures LocalPool has no timers")
    }
    async fn timeout_ready(_value: u64) -> u64 {
        unreachable!("futures LocalPool has no timers")
    }
}

struct LocalPoolPeer(LocalPool);

impl Peer for LocalPoolPeer {
    type Spawner = LocalPoolSpawner;

    fn new(_timers: bool) -> Self {
        LocalPoolPeer(LocalPool::new())
    }

    fn block_on<Fut: Future>(&mut self, make: impl FnOnce(LocalPoolSpawner) -> Fut) -> Fut::Output {
        let spawner = LocalPoolSpawner(self.0.spawner());
        self.0.run_until(make(spawner))
    }
}

// --- monoio ---

#[derive(Clone)]
struct MonoioSpawner;

impl Spawner for MonoioSpawner {
    fn spawn<F>(&self, future: F) -> impl Future<Output = F::Output>
    where
        F: Future + 'static,
        F::Output: 'static,
    {
        monoio::spawn(future)
    }

    fn yield_now() -> impl Future<Output = ()> {
        // monoio has no public `yield_now`.
        futures_lite::future::yield_now()
    }

    fn sleep(duration: Duration) -> impl Future<Output = ()> {
        monoio::time::sleep(duration)
    }
    async fn timeout_ready(value: u64) -> u64 {
        monoio::time::timeout(TIMEOUT, std::future::ready(value)).await.unwrap()
    }
}

type MonoioRuntime = monoio::FusionRuntime<
    monoio::time::TimeDriver<monoio::IoUringDriver>,
    monoio::time::TimeDriver<monoio::LegacyDriver>,
>;

struct MonoioPeer(MonoioRuntime);

impl Peer for MonoioPeer {
    type Spawner = MonoioSpawner;

    fn new(_timers: bool) -> Self {
        let rt = monoio::RuntimeBuilder::<monoio::FusionDriver>::new()
            .enable_timer()
            .build()
            .expect("monoio runtime");
        MonoioPeer(rt)
    }

    fn block_on<Fut: Future>(&mut self, make: impl FnOnce(MonoioSpawner) -> Fut) -> Fut::Output {
        self.0.block_on(make(MonoioSpawner))
    }
}

/// Which monoio driver the FusionDriver picked here.
fn monoio_driver() -> &'static str {
    match MonoioPeer::new(true).0 {
        MonoioRuntime::Uring(_) => "io_uring",
        MonoioRuntime::Legacy(_) => "legacy (io_uring unavailable)",
    }
}

// ---------------------------------------------------------------------------
// The workloads, written once.
// ---------------------------------------------------------------------------

/// Runs `body` as a spawned task (so every runtime's task waker path is the
/// one measured, not its `block_on` waker) and waits for it.
async fn in_task<S: Spawner, Fut>(spawner: S, body: impl FnOnce(S) -> Fut) -> Fut::Output
where
    Fut: Future + 'static,
    Fut::Output: 'static,
{
    let task = body(spawner.clone());
    spawner.spawn(task).await
}

/// 1. Spawn `n` tasks returning a small value, then await every handle.
async fn spawn_many<S: Spawner>(spawner: S, n: usize) {
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        handles.push(spawner.spawn(async move { i }));
    }
    let mut sum = 0;
    for handle in handles {
        sum += handle.await;
    }
    assert_eq!(sum, n * (n - 1) / 2);
}

/// 2. One task yields `n` times.
async fn yield_many<S: Spawner>(n: usize) {
    for _ in 0..n {
        S::yield_now().await;
    }
}

/// A single-slot local channel. The receiver's waker stays stored across
/// messages (`wake_by_ref` on send) and is only replaced when `will_wake`
/// says it changed, so a steady exchange clones no waker.
struct Slot<T> {
    value: Option<T>,
    waker: Option<Waker>,
}

struct Chan<T>(Rc<RefCell<Slot<T>>>);

impl<T> Clone for Chan<T> {
    fn clone(&self) -> Self {
        Chan(self.0.clone())
    }
}

impl<T> Chan<T> {
    fn new() -> Self {
        Chan(Rc::new(RefCell::new(Slot { value: None, waker: None })))
    }

    fn send(&self, value: T) {
        let mut slot = self.0.borrow_mut();
        assert!(slot.value.is_none(), "single-slot channel overrun");
        slot.value = Some(value);
        if let Some(waker) = &slot.waker {
            waker.wake_by_ref();
        }
    }

    fn recv(&self) -> impl Future<Output = T> + '_ {
        poll_fn(move |cx| {
            let mut slot = self.0.borrow_mut();
            if let Some(value) = slot.value.take() {
                return Poll::Ready(value);
            }
            match &slot.waker {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => slot.waker = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
    }
}

/// 3. Two tasks exchange `n` round trips.
async fn ping_pong<S: Spawner>(spawner: S, n: usize) {
    // One channel each way; both ends of a channel share its slot.
    let to_pong: Chan<usize> = Chan::new();
    let from_ping = to_pong.clone();
    let to_ping: Chan<usize> = Chan::new();
    let from_pong = to_ping.clone();
    let ping = spawner.spawn(async move {
        for i in 0..n {
            to_pong.send(i);
            let back = from_pong.recv().await;
            debug_assert_eq!(back, i);
        }
    });
    let pong = spawner.spawn(async move {
        for _ in 0..n {
            let value = from_ping.recv().await;
            to_ping.send(value);
        }
    });
    ping.await;
    pong.await;
}

/// 4. `n` timers spread over 1..=50 ms, each awaited by its own task.
async fn timers_fire<S: Spawner>(spawner: S, n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|i| {
            let ms = i as u64 % TIMER_SPREAD_MS + 1;
            spawner.spawn(S::sleep(Duration::from_millis(ms)))
        })
        .collect();
    for handle in handles {
        handle.await;
    }
}

/// 5. `n` x (create a 1 s sleep, poll it once so it registers, drop it).
async fn timer_register_cancel<S: Spawner>(n: usize) {
    for _ in 0..n {
        let mut sleep = pin!(S::sleep(Duration::from_secs(1)));
        poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    }
}

/// 6. `n` x `timeout(10 s, ready(i)).await`: what a timeout costs when
///    the future does not need it.
async fn timeout_ready_many<S: Spawner>(n: usize) {
    let mut sum = 0u64;
    for i in 0..n as u64 {
        sum = sum.wrapping_add(S::timeout_ready(black_box(i)).await);
    }
    black_box(sum);
}

thread_local! {
    /// Sum of what the microtasks / reference tasks saw, and how many ran.
    static MICRO_SUM: Cell<usize> = const { Cell::new(0) };
    static MICRO_DONE: Cell<usize> = const { Cell::new(0) };
}

fn micro_work(i: usize) {
    MICRO_SUM.set(MICRO_SUM.get().wrapping_add(black_box(i)));
    MICRO_DONE.set(MICRO_DONE.get() + 1);
}

fn micro_reset() {
    MICRO_SUM.set(0);
    MICRO_DONE.set(0);
}

fn micro_check(n: usize) {
    assert_eq!(MICRO_DONE.get(), n);
    assert_eq!(MICRO_SUM.get(), n * (n - 1) / 2);
}

/// 6. `n` `queue_microtask` closures, then wait until all ran. Each closure
///    captures a `usize`, so each is a real allocation.
async fn microtasks_jsloop(n: usize) {
    micro_reset();
    for i in 0..n {
        jsloop::queue_microtask(move || micro_work(i));
    }
    while MICRO_DONE.get() < n {
        jsloop::yield_now().await;
    }
    micro_check(n);
}

/// Reference for 6: the same closures as detached spawned tasks.
async fn microtasks_as_tasks<S: Spawner>(spawner: S, n: usize) {
    micro_reset();
    for i in 0..n {
        // Detach: the handle future is dropped without being awaited (for
        // jsloop and tokio dropping a handle detaches the task).
        drop(spawner.spawn(async move { micro_work(i) }));
    }
    while MICRO_DONE.get() < n {
        S::yield_now().await;
    }
    micro_check(n);
}

// ---------------------------------------------------------------------------
// Criterion plumbing.
// ---------------------------------------------------------------------------

/// (group, function, elements per iteration) of every bench that ran.
static RAN: Mutex<Vec<(&'static str, &'static str, u64)>> = Mutex::new(Vec::new());

fn note_ran(group: &'static str, function: &'static str, elements: u64) {
    let mut ran = RAN.lock().unwrap();
    if !ran.iter().any(|&(g, f, _)| g == group && f == function) {
        ran.push((group, function, elements));
    }
}

/// Benches one runtime on one workload: each criterion iteration runs the
/// whole workload once inside `block_on`, timed inside.
fn bench_peer<P, W, Fut>(
    group: &mut criterion::BenchmarkGroup<'_, criterion::measurement::WallTime>,
    group_name: &'static str,
    name: &'static str,
    elements: u64,
    timers: bool,
    workload: W,
) where
    P: Peer,
    W: Fn(P::Spawner) -> Fut + Copy,
    Fut: Future<Output = ()>,
{
    let mut peer = P::new(timers);
    group.bench_function(name, |b| {
        note_ran(group_name, name, elements);
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                total += peer.block_on(|spawner| async move {
                    let start = Instant::now();
                    workload(spawner).await;
                    start.elapsed()
                });
            }
            total
        });
    });
}

fn configure<'a>(
    c: &'a mut Criterion,
    name: &str,
    elements: u64,
    long: bool,
) -> criterion::BenchmarkGroup<'a, criterion::measurement::WallTime> {
    let mut group = c.benchmark_group(name);
    group.throughput(Throughput::Elements(elements));
    // One iteration is milliseconds long: few, flat samples.
    group.sampling_mode(SamplingMode::Flat);
    if long {
        group.sample_size(10);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
    } else {
        group.sample_size(20);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
    }
    group
}

/// Benches `$workload` (a generic fn item taking a spawner) on every runtime
/// in the list.
macro_rules! bench_all {
    ($group:expr_2021, $gname:expr_2021, $n:expr_2021, $timers:expr_2021, $workload:ident, [$($peer:ty => $name:expr_2021),*]) => {
        $(
            bench_peer::<$peer, _, _>(
                &mut $group, $gname, $name, $n as u64, $timers,
                |spawner| $workload::<<$peer as Peer>::Spawner>(spawner),
            );
        )*
    };
}

fn group_spawn(c: &mut Criterion) {
    const G: &str = "spawn";
    let mut group = configure(c, G, SPAWN_N as u64, false);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |s| spawn_many(s, SPAWN_N)).await
    }
    bench_all!(group, G, SPAWN_N, false, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        LocalPoolPeer => LOCALPOOL, MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_yield(c: &mut Criterion) {
    const G: &str = "yield";
    let mut group = configure(c, G, YIELD_N as u64, false);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |_| yield_many::<S>(YIELD_N)).await
    }
    bench_all!(group, G, YIELD_N, false, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        LocalPoolPeer => LOCALPOOL, MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_ping_pong(c: &mut Criterion) {
    const G: &str = "ping_pong";
    let mut group = configure(c, G, PING_PONG_N as u64, false);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |s| ping_pong(s, PING_PONG_N)).await
    }
    bench_all!(group, G, PING_PONG_N, false, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        LocalPoolPeer => LOCALPOOL, MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_timers_fire(c: &mut Criterion) {
    const G: &str = "timers_fire";
    let mut group = configure(c, G, TIMERS_N as u64, true);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |s| timers_fire(s, TIMERS_N)).await
    }
    bench_all!(group, G, TIMERS_N, true, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_timer_register_cancel(c: &mut Criterion) {
    const G: &str = "timer_register_cancel";
    let mut group = configure(c, G, REGISTER_CANCEL_N as u64, false);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |_| timer_register_cancel::<S>(REGISTER_CANCEL_N)).await
    }
    bench_all!(group, G, REGISTER_CANCEL_N, true, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_timeout_ready(c: &mut Criterion) {
    const G: &str = "timeout_ready";
    let mut group = configure(c, G, TIMEOUT_READY_N as u64, false);
    async fn work<S: Spawner>(s: S) {
        in_task(s, |_| timeout_ready_many::<S>(TIMEOUT_READY_N)).await
    }
    bench_all!(group, G, TIMEOUT_READY_N, true, work, [
        JsloopPeer => JSLOOP, TokioPeer => TOKIO, AsyncExecutorPeer => ASYNC_EXECUTOR,
        MonoioPeer => MONOIO
    ]);
    group.finish();
}

fn group_queue_microtask(c: &mut Criterion) {
    const G: &str = "queue_microtask";
    let mut group = configure(c, G, MICROTASK_N as u64, false);
    async fn jsloop_work(_: JsloopSpawner) {
        microtasks_jsloop(MICROTASK_N).await
    }
    async fn spawn_work<S: Spawner>(s: S) {
        microtasks_as_tasks(s, MICROTASK_N).await
    }
    bench_peer::<JsloopPeer, _, _>(&mut group, G, JSLOOP, MICROTASK_N as u64, false, jsloop_work);
    // Reference points, not peers of `queue_microtask`: detached spawns of
    // the same closure body.
    bench_peer::<TokioPeer, _, _>(
        &mut group,
        G,
        "tokio-spawn (ref)",
        MICROTASK_N as u64,
        false,
        spawn_work::<TokioSpawner>,
    );
    bench_peer::<JsloopPeer, _, _>(
        &mut group,
        G,
        "jsloop-spawn (ref)",
        MICROTASK_N as u64,
        false,
        spawn_work::<JsloopSpawner>,
    );
    group.finish();
}

// ---------------------------------------------------------------------------
// Summary table.
// ---------------------------------------------------------------------------

/// The issues' targets: (workload, max ratio, against "best" peer or the
/// peer named).
const TARGETS: [(&str, f64, &str); 6] = [
    ("spawn", 0.85, "best"),
    ("yield", 0.9, "best"),
    ("ping_pong", 0.9, "best"),
    ("timers_fire", 0.8, "tokio"),
    ("timer_register_cancel", 0.8, "best"),
    ("timeout_ready", 0.9, ASYNC_EXECUTOR),
];

fn summary(dir: &Path, since: SystemTime) {
    let ran = RAN.lock().unwrap().clone();
    let mut groups: Vec<&str> = Vec::new();
    for &(g, _, _) in &ran {
        if !groups.contains(&g) {
            groups.push(g);
        }
    }
    let per_op = |g: &str, f: &str| -> Option<f64> {
        let &(_, _, n) = ran.iter().find(|&&(gg, ff, _)| gg == g && ff == f)?;
        Some(common::median_ns(dir, g, f, since)? / n as f64)
    };
    // Nothing measured (test or list mode, or everything filtered out).
    if !ran.iter().any(|&(g, f, _)| per_op(g, f).is_some()) {
        return;
    }
    let fmt = |v: Option<f64>| match v {
        Some(v) if v >= 100.0 => format!("{v:.0}"),
        Some(v) => format!("{v:.1}"),
        None => "-".to_owned(),
    };
    let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
        (Some(a), Some(b)) => format!("{:.2}x", a / b),
        _ => "-".to_owned(),
    };
    println!();
    println!("Summary: median ns per op (criterion estimates in {})", dir.display());
    println!("monoio driver: {}", monoio_driver());
    println!();
    println!(
        "| workload | {JSLOOP} | {} | best peer | jsloop / best | jsloop / tokio | target |",
        PEERS.join(" | ")
    );
    println!("|---|---:|{}---|---:|---:|---|", "---:|".repeat(PEERS.len()));
    for g in groups {
        let js = per_op(g, JSLOOP);
        let (peers, best): (Vec<Option<f64>>, Option<(&str, f64)>) = if g == "queue_microtask" {
            // Reference point only: tokio spawning the same closure as a task.
            let r = per_op(g, "tokio-spawn (ref)");
            (vec![r, None, None, None], r.map(|v| ("tokio-spawn (ref)", v)))
        } else {
            let peers: Vec<_> = PEERS.iter().map(|p| per_op(g, p)).collect();
            let best = PEERS
                .iter()
                .zip(&peers)
                .filter_map(|(p, v)| v.map(|v| (*p, v)))
                .min_by(|a, b| a.1.total_cmp(&b.1));
            (peers, best)
        };
        let tokio = peers[0];
        let target = match TARGETS.iter().find(|t| t.0 == g) {
            Some(&(_, max, against)) => {
                let base = match PEERS.iter().position(|&p| p == against) {
                    Some(i) => peers[i],
                    None => best.map(|b| b.1),
                };
                match (js, base) {
                    (Some(js), Some(base)) => {
                        let r = js / base;
                        let verdict = if r <= max { "met" } else { "MISSED" };
                        format!("<= {max}x {against}: {verdict}")
                    }
                    _ => "-".to_owned(),
                }
            }
            None => "-".to_owned(),
        };
        println!(
            "| {g} | {} | {} | {} | {} | {} | {target} |",
            fmt(js),
            peers.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(" | "),
            best.map_or("-", |b| b.0),
            ratio(js, best.map(|b| b.1)),
            ratio(js, tokio),
        );
        if g == "queue_microtask" {
            if let Some(v) = per_op(g, "jsloop-spawn (ref)") {
                println!(
                    "| (ref: jsloop spawn, detached, same body) | {} | | | | | | | | |",
                    fmt(Some(v))
                );
            }
        }
        if g == "timers_fire" {
            // Timer overhead: (total - 50 ms) / n.
            let overhead = |f: &str| {
                per_op(g, f).map(|ns| {
                    (ns * TIMERS_N as f64 - TIMER_SPREAD_MS as f64 * 1e6) / TIMERS_N as f64
                })
            };
            let peers: Vec<_> = PEERS.iter().map(|p| overhead(p)).collect();
            let best = peers.iter().flatten().copied().min_by(f64::total_cmp);
            println!(
                "| timers_fire overhead: (total - {TIMER_SPREAD_MS} ms) / n | {} | {} | | {} | {} | |",
                fmt(overhead(JSLOOP)),
                peers.iter().map(|v| fmt(*v)).collect::<Vec<_>>().join(" | "),
                ratio(overhead(JSLOOP), best),
                ratio(overhead(JSLOOP), peers[0]),
            );
        }
    }
}

fn main() {
    let since = SystemTime::now();
    let output = common::criterion_dir();
    let base = || common::criterion(&output);
    let mut c = base();
    group_spawn(&mut c);
    group_yield(&mut c);
    group_ping_pong(&mut c);
    group_timers_fire(&mut c);
    group_timer_register_cancel(&mut c);
    group_timeout_ready(&mut c);
    group_queue_microtask(&mut c);
    base().final_summary();
    summary(&output.0, since);
}
