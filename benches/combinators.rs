//! jsloop's promise combinators against the `futures` crate's and
//! futures-concurrency's, on 100k children.
//!
//! | group            | children                                     | jsloop       | peers |
//! |------------------|----------------------------------------------|--------------|-------|
//! | `all_ready`      | `ready(Ok(i))`                               | `all`        | `try_join_all`, `join_all`, futures-concurrency `try_join` |
//! | `all_one_by_one` | gates, opened one at a time (reverse order) by a task that yields between opens | `all` | same |
//! | `race`           | gates; one (the middle one) is opened         | `race`       | `select_all`, futures-concurrency `race` |
//! | `any`            | gates; one (the middle one) is opened         | `any`        | `select_ok`, futures-concurrency `race_ok` |
//!
//! Every combinator runs on the same executor, a reused jsloop runtime's
//! `block_on`, so the difference is the combinator's own cost (the gate
//! opener is a jsloop task). `select_all` and `select_ok` need `Unpin`
//! children, so theirs are boxed: that is their API's cost. One criterion
//! iteration builds the children and runs the combinator to the end; the
//! summary prints ns per child and the ratio to the best peer (target:
//! <= 0.8x).
//!
//! `cargo test -p jsloop-benches --benches` runs each routine once with 1 000 children.

mod common;

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn, ready};
use std::path::Path;
use std::rc::Rc;
use std::sync::Mutex;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use futures::future::{join_all, select_all, select_ok, try_join_all};
use futures_concurrency::future::{Race, RaceOk, TryJoin};
use jsloop::promise;

const N: usize = if cfg!(debug_assertions) { 1_000 } else { 100_000 };
const JSLOOP: &str = "jsloop";
const TARGET: f64 = 0.8;

/// Children that wait until their gate opens.
struct Gates {
    opened: RefCell<Vec<bool>>,
    wakers: RefCell<Vec<Option<Waker>>>,
}

impl Gates {
    fn new(n: usize) -> Rc<Gates> {
        Rc::new(Gates { opened: RefCell::new(vec![false; n]), wakers: RefCell::new(vec![None; n]) })
    }

    /// Child `index`: `Ok(index)` once its gate is open.
    fn child(self: &Rc<Self>, index: usize) -> impl Future<Output = Result<usize, ()>> + use<> {
        let gates = self.clone();
        poll_fn(move |cx| {
            if gates.opened.borrow()[index] {
                return Poll::Ready(Ok(index));
            }
            gates.wakers.borrow_mut()[index] = Some(cx.waker().clone());
            Poll::Pending
        })
    }

    fn children(
        self: &Rc<Self>,
    ) -> impl Iterator<Item = impl Future<Output = Result<usize, ()>> + use<>> + use<> {
        let gates = self.clone();
        (0..N).map(move |index| gates.child(index))
    }

    /// Opens `indices` from a task, one per microtask turn, so that the
    /// combinator is polled after each.
    fn open(self: &Rc<Self>, indices: impl Iterator<Item = usize> + 'static) {
        let gates = self.clone();
        jsloop::spawn(async move {
            for index in indices {
                // Let the combinator take its first poll (and the previous wake).
                jsloop::yield_now().await;
                gates.opened.borrow_mut()[index] = true;
                let waker = gates.wakers.borrow_mut()[index].take();
                waker.expect("the child was polled").wake();
            }
        });
    }
}

fn expect_all(values: Vec<usize>) {
    assert_eq!(values.len(), N);
}

/// The workloads, by group and peer.
type Workload = fn() -> std::pin::Pin<Box<dyn Future<Output = ()>>>;

/// Children that are ready at once.
fn ready_children() -> impl Iterator<Item = std::future::Ready<Result<usize, ()>>> {
    (0..N).map(|i| ready(Ok(i)))
}

fn all_ready() -> Vec<(&'static str, Workload)> {
    vec![
        (JSLOOP, || {
            Box::pin(async move { expect_all(promise::all(ready_children()).await.unwrap()) })
        }),
        ("try_join_all", || {
            Box::pin(async move { expect_all(try_join_all(ready_children()).await.unwrap()) })
        }),
        ("join_all", || {
            Box::pin(async move { assert_eq!(join_all(ready_children()).await.len(), N) })
        }),
        ("fc try_join", || {
            Box::pin(async move {
                expect_all(ready_children().collect::<Vec<_>>().try_join().await.unwrap())
            })
        }),
    ]
}

/// Gates opened one by one, last first.
fn reverse_gates() -> Rc<Gates> {
    let gates = Gates::new(N);
    gates.open((0..N).rev());
    gates
}

fn all_one_by_one() -> Vec<(&'static str, Workload)> {
    vec![
        (JSLOOP, || {
            Box::pin(async move {
                let gates = reverse_gates();
                expect_all(promise::all(gates.children()).await.unwrap())
            })
        }),
        ("try_join_all", || {
            Box::pin(async move {
                let gates = reverse_gates();
                expect_all(try_join_all(gates.children()).await.unwrap())
            })
        }),
        ("join_all", || {
            Box::pin(async move {
                let gates = reverse_gates();
                assert_eq!(join_all(gates.children()).await.len(), N)
            })
        }),
        ("fc try_join", || {
            Box::pin(async move {
                let gates = reverse_gates();
                expect_all(gates.children().collect::<Vec<_>>().try_join().await.unwrap())
            })
        }),
    ]
}

/// Gates with only the middle one to be opened.
fn middle_gate() -> Rc<Gates> {
    let gates = Gates::new(N);
    gates.open(std::iter::once(N / 2));
    gates
}

fn race() -> Vec<(&'static str, Workload)> {
    vec![
        (JSLOOP, || {
            Box::pin(async move {
                let gates = middle_gate();
                assert_eq!(promise::race(gates.children()).await, Ok(N / 2))
            })
        }),
        ("select_all", || {
            Box::pin(async move {
                let gates = middle_gate();
                let (won, _, _) = select_all(gates.children().map(Box::pin)).await;
                assert_eq!(won, Ok(N / 2))
            })
        }),
        ("fc race", || {
            Box::pin(async move {
                let gates = middle_gate();
                assert_eq!(gates.children().collect::<Vec<_>>().race().await, Ok(N / 2))
            })
        }),
    ]
}

fn any() -> Vec<(&'static str, Workload)> {
    vec![
        (JSLOOP, || {
            Box::pin(async move {
                let gates = middle_gate();
                assert_eq!(promise::any(gates.children()).await.ok(), Some(N / 2))
            })
        }),
        ("select_ok", || {
            Box::pin(async move {
                let gates = middle_gate();
                let won = select_ok(gates.children().map(Box::pin)).await;
                assert_eq!(won.ok().map(|(value, _)| value), Some(N / 2))
            })
        }),
        ("fc race_ok", || {
            Box::pin(async move {
                let gates = middle_gate();
                let won = gates.children().collect::<Vec<_>>().race_ok().await;
                assert_eq!(won.ok(), Some(N / 2))
            })
        }),
    ]
}

/// Every (group, workloads) pair, in the order they run and print.
fn groups() -> Vec<(&'static str, Vec<(&'static str, Workload)>)> {
    vec![
        ("all_ready", all_ready()),
        ("all_one_by_one", all_one_by_one()),
        ("race", race()),
        ("any", any()),
    ]
}

/// (group, function) of every bench that ran.
static RAN: Mutex<Vec<(&'static str, &'static str)>> = Mutex::new(Vec::new());

fn bench(c: &mut Criterion, rt: &jsloop::Runtime) {
    for (group_name, workloads) in groups() {
        let mut group = c.benchmark_group(group_name);
        group.throughput(Throughput::Elements(N as u64));
        group.sampling_mode(SamplingMode::Flat);
        group.sample_size(20);
        group.warm_up_time(Duration::from_secs(1));
        group.measurement_time(Duration::from_secs(3));
        for (name, workload) in workloads {
            group.bench_function(name, |b| {
                RAN.lock().unwrap().push((group_name, name));
                b.iter_custom(|iters| {
                    let total = Cell::new(Duration::ZERO);
                    for _ in 0..iters {
                        rt.block_on(async {
                            let start = Instant::now();
                            workload().await;
                            total.set(total.get() + start.elapsed());
                        });
                    }
                    total.get()
                });
            });
        }
        group.finish();
    }
}

fn summary(dir: &Path, since: SystemTime) {
    let ran = RAN.lock().unwrap().clone();
    let per_child = |g: &str, f: &str| common::median_ns(dir, g, f, since).map(|ns| ns / N as f64);
    if !ran.iter().any(|&(g, f)| per_child(g, f).is_some()) {
        return; // test or list mode, or everything filtered out
    }
    println!();
    println!(
        "Summary: median ns per child, {N} children (criterion estimates in {})",
        dir.display()
    );
    println!();
    println!("| workload | jsloop | peers | best peer | jsloop / best | target |");
    println!("|---|---:|---|---|---:|---|");
    for (group, workloads) in groups() {
        let js = per_child(group, JSLOOP);
        let peers: Vec<(&str, f64)> = workloads
            .iter()
            .filter(|(name, _)| *name != JSLOOP)
            .filter_map(|(name, _)| Some((*name, per_child(group, name)?)))
            .collect();
        let best = peers.iter().copied().min_by(|a, b| a.1.total_cmp(&b.1));
        let listed: Vec<String> = peers.iter().map(|(n, v)| format!("{n} {v:.1}")).collect();
        let (ratio, verdict) = match (js, best) {
            (Some(js), Some((_, best))) => {
                let r = js / best;
                (format!("{r:.2}x"), if r <= TARGET { "met" } else { "MISSED" })
            }
            _ => ("-".to_owned(), "-"),
        };
        println!(
            "| {group} | {} | {} | {} | {ratio} | <= {TARGET}x: {verdict} |",
            js.map_or("-".to_owned(), |v| format!("{v:.1}")),
            listed.join(", "),
            best.map_or("-", |b| b.0),
        );
    }
}

fn main() {
    let since = SystemTime::now();
    let output = common::criterion_dir();
    let rt = jsloop::Runtime::new().expect("runtime");
    let mut c = common::criterion(&output);
    bench(&mut c, &rt);
    common::criterion(&output).final_summary();
    summary(&output.0, since);
}
