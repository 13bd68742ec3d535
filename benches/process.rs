//! Child processes: jsloop's `process::Command` against tokio's
//! (current-thread runtime) and async-process on async-executor, same
//! binary, same run.
//!
//! | runtime         | driven by                                                                 |
//! |-----------------|---------------------------------------------------------------------------|
//! | `jsloop`        | `Runtime::new()`, `block_on`, `jsloop::process::Command`                  |
//! | `tokio`         | current-thread runtime (`enable_all`), `block_on`, `tokio::process::Command` |
//! | `async-process` | `async_executor::LocalExecutor` under `futures_lite::future::block_on`, `async_process::Command` |
//!
//! Workloads:
//!
//! - `process_spawn_wait`: spawn `true` and await its exit, one child after
//!   the other; per op = one child (spawn, exit noticed, reaped).
//! - `process_pipe_cat`: 64 MiB written to `cat`'s stdin in 64 KiB chunks
//!   while its stdout is read (both in one task, joined by
//!   `futures::future::join`); per op = the whole 64 MiB, spawn and exit
//!   included.
//!
//! Besides the criterion groups, `main` runs its own rounds (interleaved
//! across runtimes, after a warm-up round each) and prints median and
//! min–max per runtime and the ratio to the best peer, because spawning is
//! noisy on a shared 2-core machine. The manual rounds only run under
//! `cargo bench`; `cargo test -p jsloop-benches --benches` runs each criterion routine once,
//! with smaller sizes.

mod common;

use std::hint::black_box;
use std::process::Stdio;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};

const DEBUG: bool = cfg!(debug_assertions);
/// Children per manual `process_spawn_wait` round.
const SPAWN_N: usize = if DEBUG { 20 } else { 1_000 };
/// Bytes through `cat` per `process_pipe_cat` op.
const PIPE_BYTES: usize = if DEBUG { 4 << 20 } else { 64 << 20 };
const CHUNK: usize = 64 * 1024;
/// Manual rounds per workload and runtime (after one warm-up round).
const ROUNDS: usize = 15;

const JSLOOP: &str = "jsloop";
const TOKIO: &str = "tokio";
const ASYNC_PROCESS: &str = "async-process";
const RUNTIMES: [&str; 3] = [JSLOOP, TOKIO, ASYNC_PROCESS];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    SpawnWait,
    PipeCat,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::SpawnWait => "process_spawn_wait",
            Workload::PipeCat => "process_pipe_cat",
        }
    }
}

/// The runtimes, built once.
struct Runtimes {
    jsloop: jsloop::Runtime,
    tokio: tokio::runtime::Runtime,
    executor: async_executor::LocalExecutor<'static>,
}

/// Spawns `$command` (a `Command` of the runtime at hand) `$n` times,
/// awaiting each child's exit (`$wait` names the wait method).
macro_rules! spawn_wait {
    ($command:path, $wait:ident, $n:expr_2021) => {{
        let start = Instant::now();
        for _ in 0..$n {
            let mut child = <$command>::new("true").spawn().expect("spawn true");
            assert!(child.$wait().await.expect("wait").success());
        }
        start.elapsed()
    }};
}

/// Pushes `PIPE_BYTES` through `cat` (a `Command` of the runtime at hand),
/// writing and reading at once; the read and write traits in scope are the
/// runtime's.
macro_rules! pipe_cat {
    ($command:path, $wait:ident) => {{
        let start = Instant::now();
        let mut child = <$command>::new("cat")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn cat");
        let mut stdin = child.stdin.take().expect("piped stdin");
        let mut stdout = child.stdout.take().expect("piped stdout");
        let writer = async move {
            let chunk = vec![7u8; CHUNK];
            for _ in 0..PIPE_BYTES / CHUNK {
                stdin.write_all(&chunk).await.expect("write to cat");
            }
            // Dropping stdin closes it: cat sees EOF and exits.
        };
        let reader = async move {
            let mut buf = vec![0u8; CHUNK];
            let mut total = 0;
            loop {
                match stdout.read(&mut buf).await.expect("read from cat") {
                    0 => break total,
                    n => total += n,
                }
            }
        };
        let ((), total) = futures::future::join(writer, reader).await;
        assert_eq!(black_box(total), PIPE_BYTES);
        assert!(child.$wait().await.expect("wait").success());
        start.elapsed()
    }};
}

async fn jsloop_spawn_wait(n: usize) -> Duration {
    spawn_wait!(jsloop::process::Command, wait, n)
}

async fn jsloop_pipe_cat() -> Duration {
    use futures::{AsyncReadExt, AsyncWriteExt};
    pipe_cat!(jsloop::process::Command, wait)
}

async fn tokio_spawn_wait(n: usize) -> Duration {
    spawn_wait!(tokio::process::Command, wait, n)
}

async fn tokio_pipe_cat() -> Duration {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    pipe_cat!(tokio::process::Command, wait)
}

async fn async_process_spawn_wait(n: usize) -> Duration {
    spawn_wait!(async_process::Command, status, n)
}

async fn async_process_pipe_cat() -> Duration {
    use futures::{AsyncReadExt, AsyncWriteExt};
    pipe_cat!(async_process::Command, status)
}

impl Runtimes {
    fn new() -> Runtimes {
        let jsloop = jsloop::Runtime::new().expect("jsloop");
        let tokio =
            tokio::runtime::Builder::new_current_thread().enable_all().build().expect("tokio");
        Runtimes { jsloop, tokio, executor: async_executor::LocalExecutor::new() }
    }

    /// Runs `n` ops of `workload` on `runtime` (for the pipe, `n`
    /// transfers) inside its `block_on`; returns the time taken inside.
    fn time(&self, runtime: &str, workload: Workload, n: usize) -> Duration {
        match (runtime, workload) {
            (JSLOOP, Workload::SpawnWait) => self.jsloop.block_on(jsloop_spawn_wait(n)),
            (JSLOOP, Workload::PipeCat) => self.jsloop.block_on(sum_of(n, jsloop_pipe_cat)),
            (TOKIO, Workload::SpawnWait) => self.tokio.block_on(tokio_spawn_wait(n)),
            (TOKIO, Workload::PipeCat) => self.tokio.block_on(sum_of(n, tokio_pipe_cat)),
            (ASYNC_PROCESS, Workload::SpawnWait) => {
                futures_lite::future::block_on(self.executor.run(async_process_spawn_wait(n)))
            }
            (ASYNC_PROCESS, Workload::PipeCat) => {
                futures_lite::future::block_on(self.executor.run(sum_of(n, async_process_pipe_cat)))
            }
            _ => unreachable!("unknown runtime {runtime}"),
        }
    }
}

/// `n` transfers one after the other, their times added up.
async fn sum_of<F: std::future::Future<Output = Duration>>(
    n: usize,
    op: impl Fn() -> F,
) -> Duration {
    let mut total = Duration::ZERO;
    for _ in 0..n {
        total += op().await;
    }
    total
}

// ---------------------------------------------------------------------------
// Criterion groups.
// ---------------------------------------------------------------------------

fn group(c: &mut Criterion, rt: &Runtimes, workload: Workload) {
    let mut group = c.benchmark_group(workload.name());
    match workload {
        Workload::SpawnWait => group.throughput(Throughput::Elements(1)),
        Workload::PipeCat => group.throughput(Throughput::Bytes(PIPE_BYTES as u64)),
    };
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(10);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(5));
    for runtime in RUNTIMES {
        group.bench_function(runtime, |b| {
            b.iter_custom(|iters| rt.time(runtime, workload, iters as usize));
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// Manual rounds: median and spread.
// ---------------------------------------------------------------------------

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}

fn manual_table(rt: &Runtimes, filter: Option<&str>) {
    let named = |w: Workload, f: &str| w.name().contains(f) || f.contains(w.name());
    let workloads = [Workload::SpawnWait, Workload::PipeCat];
    let filter = filter.filter(|f| workloads.iter().any(|&w| named(w, f)));
    let mut rows = Vec::new();
    for workload in workloads {
        if filter.is_some_and(|f| !named(workload, f)) {
            continue;
        }
        let n = if workload == Workload::SpawnWait { SPAWN_N } else { 1 };
        for runtime in RUNTIMES {
            rt.time(runtime, workload, n); // warm-up
        }
        let mut per_runtime = vec![Vec::with_capacity(ROUNDS); RUNTIMES.len()];
        // Interleaved, so drift in the machine's load hits every runtime alike.
        for _ in 0..ROUNDS {
            for (k, runtime) in RUNTIMES.iter().enumerate() {
                let took = rt.time(runtime, workload, n).as_secs_f64();
                // Spawns: µs per child; the pipe: MiB/s.
                per_runtime[k].push(match workload {
                    Workload::SpawnWait => took * 1e6 / n as f64,
                    Workload::PipeCat => (PIPE_BYTES as f64 / (1 << 20) as f64) / took,
                });
            }
        }
        let medians: Vec<f64> = per_runtime.iter().map(|r| median(r)).collect();
        let (unit, best_peer, ratio, verdict) = match workload {
            Workload::SpawnWait => {
                let best = medians[1].min(medians[2]);
                let ratio = medians[0] / best;
                ("µs per child", best, ratio, ratio <= 1.0)
            }
            Workload::PipeCat => {
                let best = medians[1].max(medians[2]);
                let ratio = medians[0] / best;
                ("MiB/s", best, ratio, ratio >= 0.95)
            }
        };
        for (k, runtime) in RUNTIMES.iter().enumerate() {
            let min = per_runtime[k].iter().copied().fold(f64::INFINITY, f64::min);
            let max = per_runtime[k].iter().copied().fold(0.0, f64::max);
            rows.push(format!(
                "| {} | {runtime} | {:.1} {unit} | {min:.1}–{max:.1} | {:.2}x |",
                workload.name(),
                medians[k],
                medians[k] / best_peer,
            ));
        }
        let target = match workload {
            Workload::SpawnWait => "jsloop time <= 1.00x the best peer's",
            Workload::PipeCat => "jsloop throughput >= 0.95x the best peer's",
        };
        rows.push(format!(
            "| target: {target} | | | | {} ({ratio:.2}x) |",
            if verdict { "met" } else { "MISSED" }
        ));
    }
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "Manual rounds ({ROUNDS} per runtime, interleaved; {SPAWN_N} children per spawn round, \
         {} MiB per pipe round):",
        PIPE_BYTES >> 20
    );
    println!();
    println!("| workload | runtime | median | min–max | / best peer |");
    println!("|---|---|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
}

fn main() {
    let (benching, filter) = common::manual_rounds();
    let filter = filter.as_deref();

    let rt = Runtimes::new();
    let output = common::criterion_dir();
    let base = || common::criterion(&output);
    let mut c = base();
    group(&mut c, &rt, Workload::SpawnWait);
    group(&mut c, &rt, Workload::PipeCat);
    base().final_summary();
    if benching {
        manual_table(&rt, filter);
    }
}
