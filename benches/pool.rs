//! Worker pool round trips: jsloop's `spawn_blocking` against tokio's and
//! the `blocking` crate's, 4 worker threads each, same binary, same run.
//!
//! | runtime    | driven by                                                                 |
//! |------------|---------------------------------------------------------------------------|
//! | `jsloop`   | `Runtime::builder().worker_threads(4)`, `block_on`, `jsloop::spawn_blocking` |
//! | `tokio`    | current-thread runtime with `max_blocking_threads(4)`, `block_on`, `tokio::task::spawn_blocking` |
//! | `blocking` | `futures_lite::future::block_on`, `blocking::unblock`; `BLOCKING_MAX_THREADS=4` is set by `main` before first use |
//!
//! Workloads (every job is trivial: it returns its index):
//!
//! - `pool_round_trips`: submit 10,000 jobs at once, then await every
//!   handle; per op = per job.
//! - `pool_latency`: one job submitted on an idle loop and awaited, repeated;
//!   per op = per round trip (the worker → notify → wake path).
//!
//! The time is taken inside each runtime's `block_on`; runtimes are built
//! once and reused. Besides the criterion groups, `main` runs its own
//! rounds (interleaved across runtimes, after one warm-up round each) and
//! prints median and min–max per runtime and jsloop / tokio, because this
//! workload is noisy on a shared 2-core machine. The manual rounds only run
//! under `cargo bench` (the binary got `--bench`), not with `--list` or
//! `--profile-time`; `cargo test -p jsloop-benches --benches` runs each criterion routine
//! once, with 1/10 of the sizes.

mod common;

use std::future::Future;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, SamplingMode, Throughput};

const DEBUG: bool = cfg!(debug_assertions);
/// Jobs per `pool_round_trips` iteration.
const ROUND_TRIPS_N: usize = if DEBUG { 1_000 } else { 10_000 };
/// Round trips per manual `pool_latency` round.
const LATENCY_N: usize = if DEBUG { 100 } else { 2_000 };
/// Manual rounds per workload and runtime (after one warm-up round).
const ROUNDS: usize = 11;
const WORKERS: usize = 4;

const JSLOOP: &str = "jsloop";
const TOKIO: &str = "tokio";
const BLOCKING: &str = "blocking";
const RUNTIMES: [&str; 3] = [JSLOOP, TOKIO, BLOCKING];

/// The three runtimes, built once.
struct Runtimes {
    jsloop: jsloop::Runtime,
    tokio: tokio::runtime::Runtime,
}

impl Runtimes {
    fn new() -> Runtimes {
        let jsloop = jsloop::Runtime::builder().worker_threads(WORKERS).build().expect("jsloop");
        let tokio = tokio::runtime::Builder::new_current_thread()
            .max_blocking_threads(WORKERS)
            .build()
            .expect("tokio");
        Runtimes { jsloop, tokio }
    }

    /// Runs `workload` of `runtime` inside that runtime's `block_on`, and
    /// returns the time taken inside.
    fn time(&self, runtime: &str, workload: Workload, n: usize) -> Duration {
        match runtime {
            JSLOOP => self.jsloop.block_on(timed(
                workload,
                n,
                |i| jsloop::spawn_blocking(move || i),
                |h| async move { h.await.expect("jsloop job") },
            )),
            TOKIO => self.tokio.block_on(timed(
                workload,
                n,
                |i| tokio::task::spawn_blocking(move || i),
                |h| async move { h.await.expect("tokio job") },
            )),
            BLOCKING => futures_lite::future::block_on(timed(
                workload,
                n,
                |i| blocking::unblock(move || i),
                |h| h,
            )),
            _ => unreachable!("unknown runtime {runtime}"),
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Workload {
    /// Submit `n` jobs, then await them all.
    RoundTrips,
    /// `n` times: submit one job and await it.
    Latency,
}

impl Workload {
    fn name(self) -> &'static str {
        match self {
            Workload::RoundTrips => "pool_round_trips",
            Workload::Latency => "pool_latency",
        }
    }
}

/// The workload, generic over how a job is submitted (`submit(i)` returns
/// the runtime's handle) and awaited (`wait(handle)` yields the index).
async fn timed<S, H, W, WF>(workload: Workload, n: usize, submit: S, wait: W) -> Duration
where
    S: Fn(usize) -> H,
    W: Fn(H) -> WF,
    WF: Future<Output = usize>,
{
    let start = Instant::now();
    let mut sum = 0usize;
    match workload {
        Workload::RoundTrips => {
            let mut handles = Vec::with_capacity(n);
            for i in 0..n {
                handles.push(submit(i));
            }
            for handle in handles {
                sum += wait(handle).await;
            }
        }
        Workload::Latency => {
            for i in 0..n {
                sum += wait(submit(i)).await;
            }
        }
    }
    let elapsed = start.elapsed();
    assert_eq!(black_box(sum), n * (n - 1) / 2);
    elapsed
}

// ---------------------------------------------------------------------------
// Criterion groups.
// ---------------------------------------------------------------------------

fn group_round_trips(c: &mut Criterion, rt: &Runtimes) {
    let mut group = c.benchmark_group(Workload::RoundTrips.name());
    group.throughput(Throughput::Elements(ROUND_TRIPS_N as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for runtime in RUNTIMES {
        group.bench_function(runtime, |b| {
            b.iter_custom(|iters| {
                (0..iters).map(|_| rt.time(runtime, Workload::RoundTrips, ROUND_TRIPS_N)).sum()
            });
        });
    }
    group.finish();
}

fn group_latency(c: &mut Criterion, rt: &Runtimes) {
    let mut group = c.benchmark_group(Workload::Latency.name());
    group.throughput(Throughput::Elements(1));
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(3));
    for runtime in RUNTIMES {
        group.bench_function(runtime, |b| {
            // `iters` round trips in one `block_on`.
            b.iter_custom(|iters| rt.time(runtime, Workload::Latency, iters as usize));
        });
    }
    group.finish();
}

// ---------------------------------------------------------------------------
// Manual rounds: median and spread.
// ---------------------------------------------------------------------------

/// Per-op nanoseconds of each round, for one runtime.
fn manual_rounds(rt: &Runtimes, workload: Workload, n: usize) -> Vec<Vec<f64>> {
    let mut per_runtime = vec![Vec::with_capacity(ROUNDS); RUNTIMES.len()];
    for runtime in RUNTIMES {
        rt.time(runtime, workload, n); // warm-up: threads started, caches grown
    }
    // Interleaved, so drift in the machine's load hits every runtime alike.
    for _ in 0..ROUNDS {
        for (k, runtime) in RUNTIMES.iter().enumerate() {
            let took = rt.time(runtime, workload, n);
            per_runtime[k].push(took.as_nanos() as f64 / n as f64);
        }
    }
    per_runtime
}

fn median(values: &[f64]) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    if sorted.len() % 2 == 1 { sorted[mid] } else { (sorted[mid - 1] + sorted[mid]) / 2.0 }
}

fn fmt_ns(ns: f64) -> String {
    if ns >= 100.0 { format!("{ns:.0}") } else { format!("{ns:.1}") }
}

fn manual_table(rt: &Runtimes, filter: Option<&str>) {
    let workloads = [(Workload::RoundTrips, ROUND_TRIPS_N), (Workload::Latency, LATENCY_N)];
    let mut rows = Vec::new();
    // A filter naming a workload (`pool_latency`, `pool_latency/jsloop`)
    // selects it; one naming neither (e.g. `jsloop`) keeps both.
    let named = |w: Workload, f: &str| w.name().contains(f) || f.contains(w.name());
    let filter = filter.filter(|f| workloads.iter().any(|&(w, _)| named(w, f)));
    for (workload, n) in workloads {
        if filter.is_some_and(|f| !named(workload, f)) {
            continue;
        }
        let rounds = manual_rounds(rt, workload, n);
        let medians: Vec<f64> = rounds.iter().map(|r| median(r)).collect();
        let tokio = medians[1];
        for (k, runtime) in RUNTIMES.iter().enumerate() {
            let min = rounds[k].iter().copied().fold(f64::INFINITY, f64::min);
            let max = rounds[k].iter().copied().fold(0.0, f64::max);
            rows.push(format!(
                "| {} | {runtime} | {} | {}–{} | {:.2}x |",
                workload.name(),
                fmt_ns(medians[k]),
                fmt_ns(min),
                fmt_ns(max),
                medians[k] / tokio,
            ));
        }
        let verdict = if medians[0] <= tokio { "met" } else { "MISSED" };
        if workload == Workload::RoundTrips {
            rows.push(format!(
                "| target: jsloop median <= tokio median | | | | {verdict} ({:+.0}%) |",
                (medians[0] / tokio - 1.0) * 100.0
            ));
        }
    }
    if rows.is_empty() {
        return;
    }
    println!();
    println!(
        "Manual rounds ({ROUNDS} per runtime, interleaved; {ROUND_TRIPS_N} jobs per \
         round trip round, {LATENCY_N} round trips per latency round; {WORKERS} workers), \
         ns per op:"
    );
    println!();
    println!("| workload | runtime | median | min–max | / tokio |");
    println!("|---|---|---:|---:|---:|");
    for row in rows {
        println!("{row}");
    }
}

// ---------------------------------------------------------------------------
// main
// ---------------------------------------------------------------------------

fn main() {
    // Before the `blocking` crate's first use: it reads this once, lazily.
    // SAFETY: the first statement of `main`: no other thread exists yet.
    unsafe { std::env::set_var("BLOCKING_MAX_THREADS", WORKERS.to_string()) };

    // Flags taking a value are rare here: the first positional argument
    // is good enough to skip an unselected workload.
    let (benching, filter) = common::manual_rounds();
    let filter = filter.as_deref();

    let rt = Runtimes::new();
    let output = common::criterion_dir();
    let base = || common::criterion(&output);
    let mut c = base();
    group_round_trips(&mut c, &rt);
    group_latency(&mut c, &rt);
    base().final_summary();
    if benching {
        manual_table(&rt, filter);
    }
}
