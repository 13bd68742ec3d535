//! `jsloop::events::EventEmitter` against the floor: a hand-written
//! `Vec<Box<dyn Fn(&u64)>>` called in a loop, same closures, same binary.
//!
//! | group              | one op                                        | floor |
//! |--------------------|-----------------------------------------------|-------|
//! | `emit_10`          | `emit("data", v)` to 10 `on` listeners         | a loop over 10 boxed closures |
//! | `once_round_trip`  | `once("data", f)`, then `emit("data", v)`      | push a boxed closure, call and drain the `Vec` |
//! | `events_once_await`| `events::once(&ee, "data")`, `emit`, `.await`  | (no floor) a hand-made promise settled by an `ee.once` listener |
//!
//! What the emitter adds over the floor is Node's contract: the name lookup,
//! a snapshot of the listeners (a reference count, copy-on-write), ids for
//! `off`, and the removal of a `once` listener before it runs. The summary
//! prints the medians and the ratio to the floor (target: <= 1.5x). The
//! last group is informational: what `events::once`'s promise costs over
//! a promise of one's own (it follows an inner promise, as in Node, which
//! takes a reaction task and a microtask).
//!
//! `cargo test -p jsloop-benches --benches` runs each routine once.
//!
//! Wall time on this VM is noisy, so the first two groups also run as
//! plain loops for callgrind's exact instruction counts: `count <workload>
//! <n>` runs one of `emit_10`, `emit_10_floor`, `once_round_trip`,
//! `once_round_trip_floor` `n` times and exits (no criterion). The count
//! of one op is the difference between two sizes, over their difference:
//!
//! ```sh
//! cargo bench -p jsloop-benches --bench events --no-run   # prints the binary's path
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/deps/events-<hash> count once_round_trip 100000
//! ```

mod common;

use std::cell::Cell;
use std::hint::black_box;
use std::path::Path;
use std::rc::Rc;
use std::time::{Instant, SystemTime};

use criterion::Criterion;
use jsloop::events::{self, EventEmitter};
use jsloop::promise::Promise;

const LISTENERS: usize = 10;
const TARGET: f64 = 1.5;

type Floor = Vec<Box<dyn Fn(&u64)>>;

/// The listener both sides call: adds the payload to `sink`.
fn adder(sink: &Rc<Cell<u64>>) -> impl Fn(&u64) + 'static + use<> {
    let sink = sink.clone();
    move |v| sink.set(sink.get().wrapping_add(*v))
}

/// An emitter with 10 `on` listeners of "data", and the floor's 10.
fn ten_listeners(sink: &Rc<Cell<u64>>) -> (EventEmitter<u64>, Floor) {
    let ee = EventEmitter::<u64>::new();
    for _ in 0..LISTENERS {
        ee.on("data", adder(sink));
    }
    let floor = (0..LISTENERS).map(|_| Box::new(adder(sink)) as Box<dyn Fn(&u64)>).collect();
    (ee, floor)
}

/// One op of `emit_10`, floor side.
fn emit_10_floor(floor: &Floor) {
    let v = black_box(1);
    for listener in floor {
        listener(&v);
    }
}

/// One op of `once_round_trip`, jsloop side.
fn once_round_trip_jsloop(ee: &EventEmitter<u64>, sink: &Rc<Cell<u64>>) -> bool {
    ee.once(black_box("data"), adder(sink));
    ee.emit(black_box("data"), black_box(1))
}

/// One op of `once_round_trip`, floor side.
fn once_round_trip_floor(floor: &mut Floor, sink: &Rc<Cell<u64>>) {
    floor.push(Box::new(adder(sink)));
    let v = black_box(1);
    for listener in floor.drain(..) {
        listener(&v);
    }
}

fn emit_10(c: &mut Criterion) {
    let sink = Rc::new(Cell::new(0));
    let (ee, floor) = ten_listeners(&sink);
    let mut group = c.benchmark_group("emit_10");
    group.bench_function("jsloop", |b| b.iter(|| ee.emit(black_box("data"), black_box(1))));
    group.bench_function("floor", |b| b.iter(|| emit_10_floor(&floor)));
    group.finish();
}

fn once_round_trip(c: &mut Criterion) {
    let sink = Rc::new(Cell::new(0));
    let ee = EventEmitter::<u64>::new();
    let mut group = c.benchmark_group("once_round_trip");
    group.bench_function("jsloop", |b| b.iter(|| once_round_trip_jsloop(&ee, &sink)));
    group.bench_function("floor", |b| {
        let mut floor: Floor = Vec::new();
        b.iter(|| once_round_trip_floor(&mut floor, &sink))
    });
    group.finish();
}

/// `count <workload> <n>`: `n` ops of one workload, for callgrind.
fn count(workload: &str, n: u64) {
    let sink = Rc::new(Cell::new(0));
    let (ee, floor) = ten_listeners(&sink);
    let once_ee = EventEmitter::<u64>::new();
    let mut once_floor = Floor::new();
    // One loop per workload: the name is matched once, not per op.
    match workload {
        "emit_10" => (0..n).for_each(|_| assert!(ee.emit(black_box("data"), black_box(1)))),
        "emit_10_floor" => (0..n).for_each(|_| emit_10_floor(&floor)),
        "once_round_trip" => (0..n).for_each(|_| assert!(once_round_trip_jsloop(&once_ee, &sink))),
        "once_round_trip_floor" => {
            (0..n).for_each(|_| once_round_trip_floor(&mut once_floor, &sink))
        }
        other => panic!("unknown workload {other}"),
    }
    println!("{workload}: {n} ops, sum {}", sink.get());
}

fn events_once_await(c: &mut Criterion) {
    let rt = jsloop::Runtime::new().expect("runtime");
    let ee = EventEmitter::<u64>::new();
    let mut group = c.benchmark_group("events_once_await");
    let mut timed =
        |name: &str, round_trip: &dyn Fn(u64) -> Promise<u64, std::convert::Infallible>| {
            group.bench_function(name, |b| {
                b.iter_custom(|iters| {
                    rt.block_on(async {
                        let start = Instant::now();
                        for i in 0..iters {
                            let promise = round_trip(i);
                            ee.emit("data", i);
                            black_box(promise.await.ok());
                        }
                        start.elapsed()
                    })
                })
            });
        };
    timed("jsloop", &|_| events::once(&ee, "data"));
    timed("hand-made promise", &|_| {
        Promise::new(|resolve, _| {
            ee.once("data", move |v| resolve(*v));
        })
    });
    group.finish();
}

fn summary(dir: &Path, since: SystemTime) {
    let median = |group: &str, function: &str| common::median_ns(dir, group, function, since);
    let rows = [
        ("emit_10", "floor", true),
        ("once_round_trip", "floor", true),
        ("events_once_await", "hand-made promise", false),
    ];
    if !rows.iter().any(|(group, _, _)| median(group, "jsloop").is_some()) {
        return; // test or list mode, or everything filtered out
    }
    println!();
    println!("Summary: median ns per op (criterion estimates in {})", dir.display());
    println!();
    println!("| group | jsloop | against | ns | ratio | target |");
    println!("|---|---:|---|---:|---:|---|");
    for (group, against, targeted) in rows {
        let (Some(js), Some(base)) = (median(group, "jsloop"), median(group, against)) else {
            continue;
        };
        let ratio = js / base;
        let verdict = match (targeted, ratio <= TARGET) {
            (false, _) => "-".to_owned(),
            (true, met) => format!("<= {TARGET}x: {}", if met { "met" } else { "MISSED" }),
        };
        println!("| {group} | {js:.1} | {against} | {base:.1} | {ratio:.2}x | {verdict} |");
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let [mode, workload, n, ..] = &args[..] {
        if mode == "count" {
            return count(workload, n.parse().expect("count <workload> <n>"));
        }
    }
    let since = SystemTime::now();
    let output = common::criterion_dir();
    let mut c = common::criterion(&output);
    emit_10(&mut c);
    once_round_trip(&mut c);
    events_once_await(&mut c);
    c.final_summary();
    summary(&output.0, since);
}
