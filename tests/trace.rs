//! `jsloop::trace` through the public API: the Chrome Trace Event JSON a
//! traced runtime writes, parsed back with `serde_json`.

use std::cell::Cell;
use std::io;
use std::path::PathBuf;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use futures::channel::mpsc;
use jsloop::trace::Trace;
use serde_json::Value;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A file in the temp directory, removed when dropped.
struct TempFile(PathBuf);

impl TempFile {
    fn new(name: &str) -> TempFile {
        TempFile(std::env::temp_dir().join(format!("jsloop-{name}-{}.json", std::process::id())))
    }

    fn json(&self) -> Value {
        let text = std::fs::read_to_string(&self.0).unwrap();
        serde_json::from_str(&text).unwrap_or_else(|error| panic!("invalid JSON: {error}\n{text}"))
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// `trace` saved to a temp file and parsed: checks the outer object.
fn parse(trace: &Trace, name: &str) -> Vec<Value> {
    let file = TempFile::new(name);
    trace.save(&file.0).unwrap();
    let json = file.json();
    assert_eq!(json["displayTimeUnit"], "ms");
    assert_eq!(json["otherData"]["dropped_events"], trace.dropped());
    json["traceEvents"].as_array().expect("a traceEvents array").clone()
}

fn ph(event: &Value) -> &str {
    event["ph"].as_str().unwrap()
}

fn name(event: &Value) -> &str {
    event["name"].as_str().unwrap()
}

fn tid(event: &Value) -> u64 {
    event["tid"].as_u64().unwrap()
}

fn ts(event: &Value) -> f64 {
    event["ts"].as_f64().unwrap()
}

fn end(event: &Value) -> f64 {
    ts(event) + event["dur"].as_f64().unwrap()
}

fn slices(events: &[Value]) -> impl Iterator<Item = &Value> {
    events.iter().filter(|e| ph(e) == "X")
}

/// Half a nanosecond, in microseconds: the files are exact to the
/// nanosecond, the parsed floats nearly so.
const EPSILON: f64 = 0.0005;

/// The slice on `tid` innermost around `at`.
fn innermost_at(events: &[Value], tid_: u64, at: f64) -> Option<&Value> {
    slices(events)
        .filter(|s| tid(s) == tid_ && ts(s) <= at + EPSILON && at <= end(s) + EPSILON)
        .min_by(|a, b| (end(a) - ts(a)).total_cmp(&(end(b) - ts(b))))
}

/// Every arrow has both ends, with the same id, and each end lies inside
/// an item slice (a callback or task poll).
fn check_arrows(events: &[Value]) -> Vec<(Value, Value)> {
    let starts: Vec<&Value> = events.iter().filter(|e| ph(e) == "s").collect();
    let ends: Vec<&Value> = events.iter().filter(|e| ph(e) == "f").collect();
    assert_eq!(starts.len(), ends.len(), "every arrow has both ends");
    let mut pairs = Vec::new();
    for start in starts {
        let matching: Vec<_> = ends.iter().filter(|f| f["id"] == start["id"]).collect();
        assert_eq!(matching.len(), 1, "one end for arrow {start}");
        let finish = matching[0];
        assert_eq!(finish["bp"], "e", "the end binds to its enclosing slice");
        assert_eq!(
            (start["cat"].clone(), start["name"].clone()),
            (finish["cat"].clone(), finish["name"].clone())
        );
        assert!(ts(start) <= ts(finish));
        for point in [start, *finish] {
            let around = innermost_at(events, tid(point), ts(point))
                .unwrap_or_else(|| panic!("no slice around {point}"));
            assert!(around["args"]["kind"].is_string(), "{point} is inside an item: {around}");
        }
        pairs.push((start.clone(), (*finish).clone()));
    }
    pairs
}

/// Slices on one track never partly overlap: each one starting inside
/// another ends inside it too.
fn check_nesting(events: &[Value]) {
    let mut tids: Vec<u64> = slices(events).map(tid).collect();
    tids.sort_unstable();
    tids.dedup();
    for track in tids {
        let mut on_track: Vec<&Value> = slices(events).filter(|s| tid(s) == track).collect();
        // Outer before inner where they start together.
        on_track.sort_by(|a, b| ts(a).total_cmp(&ts(b)).then(end(b).total_cmp(&end(a))));
        let mut open: Vec<&Value> = Vec::new();
        for slice in on_track {
            while open.last().is_some_and(|outer| end(outer) <= ts(slice) + EPSILON) {
                open.pop();
            }
            if let Some(outer) = open.last() {
                assert!(
                    end(slice) <= end(outer) + EPSILON,
                    "track {track}: {slice} overlaps {outer} partly"
                );
            }
            open.push(slice);
        }
    }
}

/// Timers, immediates, microtasks, next-ticks, two tasks waking each
/// other and a pool job.
fn busy_program() -> jsloop::TaskId {
    // Long after the rest: the loop waits for it in the poller (idle).
    jsloop::set_timeout(ms(30), || jsloop::queue_microtask(|| {}));
    let ticks = Rc::new(Cell::new(0));
    let interval: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
    interval.set(Some(jsloop::set_interval(ms(1), {
        let (ticks, interval) = (ticks.clone(), interval.clone());
        move || {
            ticks.set(ticks.get() + 1);
            if ticks.get() == 3 {
                interval.take().expect("set").clear();
            }
        }
    })));
    jsloop::set_immediate(|| jsloop::next_tick(|| {}));
    jsloop::queue_microtask(|| {});
    let (ping_tx, mut ping_rx) = mpsc::unbounded::<u32>();
    let (pong_tx, mut pong_rx) = mpsc::unbounded::<u32>();
    let ponger = jsloop::spawn(async move {
        while let Some(n) = ping_rx.next().await {
            pong_tx.unbounded_send(n).unwrap();
        }
    });
    jsloop::spawn(async move {
        for n in 0..3 {
            ping_tx.unbounded_send(n).unwrap();
            assert_eq!(pong_rx.next().await, Some(n));
        }
    });
    jsloop::spawn(async { assert_eq!(jsloop::spawn_blocking(|| 6 * 7).await.unwrap(), 42) });
    ponger.id()
}

#[test]
fn a_trace_is_chrome_json_with_every_kind_of_event() {
    let rt = jsloop::Runtime::builder().trace().build().unwrap();
    let ponger = rt.run(async { busy_program() });
    let trace = rt.take_trace();
    assert_eq!(trace.dropped(), 0);
    let events = parse(&trace, "every-kind");

    let metadata: Vec<&Value> = events.iter().filter(|e| ph(e) == "M").collect();
    let thread_name = |tid_: u64| {
        metadata
            .iter()
            .find(|m| name(m) == "thread_name" && tid(m) == tid_)
            .map(|m| m["args"]["name"].as_str().unwrap().to_owned())
    };
    assert_eq!(thread_name(1).as_deref(), Some("event loop"));

    let loop_slice_names: Vec<&str> = slices(&events).filter(|s| tid(s) == 1).map(name).collect();
    for expected in ["iteration", "script", "timers", "poll", "check", "idle", "the main future"] {
        assert!(loop_slice_names.contains(&expected), "no {expected:?} slice");
    }
    let kinds: Vec<&str> = slices(&events).filter_map(|s| s["args"]["kind"].as_str()).collect();
    for expected in
        ["main", "task", "timeout", "interval", "immediate", "microtask", "next_tick", "wake"]
    {
        assert!(kinds.contains(&expected), "no {expected:?} item");
    }
    let ponger_polls: Vec<&Value> =
        slices(&events).filter(|s| s["args"]["task"] == ponger.to_string()).collect();
    assert!(ponger_polls.len() >= 4, "its first poll, three pings");
    for poll in &ponger_polls {
        assert_eq!(poll["cat"], "task");
        assert!(name(poll).starts_with(&format!("task {ponger} spawned at tests/trace.rs:")));
        assert!(poll["args"]["location"].as_str().unwrap().starts_with("tests/trace.rs:"));
    }
    let interval = slices(&events).find(|s| s["args"]["kind"] == "interval").unwrap();
    assert!(name(interval).starts_with("an interval set at tests/trace.rs:"));
    let iteration = slices(&events).find(|s| name(s) == "iteration").unwrap();
    assert!(iteration["args"]["n"].as_u64().unwrap() >= 1);

    // The pool job, on a worker's own, named track.
    let job = slices(&events).find(|s| s["cat"] == "pool").expect("a job slice");
    assert!(tid(job) >= 2);
    assert!(name(job).starts_with("spawn_blocking job at tests/trace.rs:"));
    assert!(thread_name(tid(job)).unwrap().starts_with("jsloop-worker-"));

    // Queue depths at phase boundaries.
    let counters: Vec<&Value> = events.iter().filter(|e| ph(e) == "C").collect();
    assert!(counters.len() >= 8);
    for key in ["microtask ring", "immediates", "timers", "tasks alive"] {
        assert!(counters.iter().all(|c| c["args"][key].is_u64()), "a {key:?} counter");
    }
    assert!(counters.iter().any(|c| c["args"]["timers"].as_u64() > Some(0)));
    assert!(counters.iter().any(|c| c["args"]["tasks alive"].as_u64() > Some(0)));

    check_nesting(&events);
    let arrows = check_arrows(&events);
    assert!(!arrows.is_empty());
    // The pinger's polls wake the ponger: an arrow from one to the other.
    let into_ponger = arrows.iter().filter(|(start, finish)| {
        let from = innermost_at(&events, 1, ts(start)).unwrap();
        let to = innermost_at(&events, 1, ts(finish)).unwrap();
        from["args"]["kind"] == "task"
            && from["args"]["task"] != ponger.to_string()
            && to["args"]["task"] == ponger.to_string()
    });
    assert!(into_ponger.count() >= 3, "one per ping");
}

#[test]
fn an_arrow_leads_from_spawn_to_the_task_s_first_poll_and_from_a_queued_microtask() {
    let rt = jsloop::Runtime::builder().trace().build().unwrap();
    let task = rt.run(async {
        jsloop::set_immediate(|| jsloop::queue_microtask(|| {}));
        jsloop::spawn(async {}).id()
    });
    let events = parse(&rt.take_trace(), "spawn-arrow");
    let arrows = check_arrows(&events);
    let ends_of = |from: &str, to: &str| {
        arrows.iter().any(|(start, finish)| {
            innermost_at(&events, 1, ts(start)).unwrap()["args"]["kind"] == from
                && innermost_at(&events, 1, ts(finish)).unwrap()["args"]["kind"] == to
        })
    };
    assert!(ends_of("main", "task"), "main spawned the task");
    assert!(ends_of("immediate", "microtask"), "the immediate queued the microtask");
    let first_poll = arrows
        .iter()
        .map(|(_, finish)| innermost_at(&events, 1, ts(finish)).unwrap())
        .find(|poll| poll["args"]["task"] == task.to_string());
    assert!(first_poll.is_some());
}

/// Immediates, microtasks and yielding tasks, no timers or I/O: the same
/// events on every run.
fn deterministic_program() {
    for _ in 0..1_000 {
        jsloop::set_immediate(|| jsloop::queue_microtask(|| {}));
    }
    for _ in 0..20 {
        jsloop::spawn(async {
            for _ in 0..10 {
                jsloop::yield_now().await;
            }
            jsloop::yield_to_loop().await;
        });
    }
}

/// What identifies an event across runs (times differ).
fn shape(events: &[Value]) -> Vec<(String, String, u64)> {
    events
        .iter()
        .filter(|e| !matches!(ph(e), "M" | "s" | "f"))
        .map(|e| (ph(e).to_owned(), name(e).to_owned(), tid(e)))
        .collect()
}

#[test]
fn a_full_ring_keeps_exactly_the_last_n_events() {
    let whole = jsloop::Runtime::builder().trace().build().unwrap();
    whole.run(async { deterministic_program() });
    let whole = whole.take_trace();
    assert_eq!(whole.dropped(), 0);
    assert!(whole.len() > 4_000, "{} events", whole.len());

    let ring = jsloop::Runtime::builder().trace_capacity(64).build().unwrap();
    ring.run(async { deterministic_program() });
    let last = ring.take_trace();
    assert_eq!(last.len(), 64);
    assert_eq!(last.dropped(), (whole.len() - 64) as u64);

    let last_events = parse(&last, "ring-last");
    let whole_events = parse(&whole, "ring-whole");
    let (last_shape, whole_shape) = (shape(&last_events), shape(&whole_events));
    assert!(!last_shape.is_empty());
    assert_eq!(last_shape[..], whole_shape[whole_shape.len() - last_shape.len()..]);
    assert!(last_events.iter().filter(|e| ph(e) != "M").count() <= 64);
    check_nesting(&last_events);
    check_arrows(&last_events); // the arrows cut in half are left out
}

#[test]
fn take_trace_empties_the_ring() {
    let rt = jsloop::Runtime::builder().trace().build().unwrap();
    rt.run(async { jsloop::set_immediate(|| {}) });
    let first = rt.take_trace();
    assert!(!first.is_empty());
    assert!(rt.take_trace().is_empty());
    rt.run(async { jsloop::set_immediate(|| {}) });
    assert_eq!(rt.take_trace().len(), first.len(), "the same program again");
}

#[test]
fn a_runtime_without_trace_records_nothing() {
    let rt = jsloop::Runtime::new().unwrap();
    let inside = rt.run(async {
        busy_program();
        let file = TempFile::new("untraced");
        let error = jsloop::trace::write_chrome_json(&file.0).unwrap_err();
        assert!(!file.0.exists(), "no file is written");
        error
    });
    assert_eq!(inside.kind(), io::ErrorKind::Unsupported);
    assert!(inside.to_string().contains("Builder::trace()"), "{inside}");
    let trace = rt.take_trace();
    assert!(trace.is_empty());
    assert_eq!(trace.dropped(), 0);
    // No observer at all: checkpoints are only timed while one is installed.
    assert_eq!(rt.stats().checkpoint_time, None);
    // An empty trace is still a valid file.
    let events = parse(&trace, "empty");
    assert!(events.iter().all(|e| ph(e) == "M"));
}

#[test]
fn trace_capacity_zero_is_invalid_input() {
    let error = jsloop::Runtime::builder().trace_capacity(0).build().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    assert!(error.to_string().contains("trace_capacity(0)"), "{error}");
    // `trace()` after it keeps the (bad) size it was given.
    let error = jsloop::Runtime::builder().trace_capacity(0).trace().build().unwrap_err();
    assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
}

#[test]
fn write_chrome_json_inside_the_loop_takes_what_ran_so_far() {
    let rt = jsloop::Runtime::builder().trace().build().unwrap();
    let file = TempFile::new("inside");
    rt.run({
        let path = file.0.clone();
        async move {
            jsloop::set_timeout(ms(1), || {});
            jsloop::time::sleep(ms(5)).await;
            jsloop::trace::write_chrome_json(&path).unwrap();
            jsloop::set_immediate(|| {});
        }
    });
    let written = file.json();
    let events = written["traceEvents"].as_array().unwrap();
    let kinds: Vec<&str> = slices(events).filter_map(|s| s["args"]["kind"].as_str()).collect();
    assert!(kinds.contains(&"timeout"));
    assert!(!kinds.contains(&"immediate"), "queued after the write");
    check_nesting(events);
    check_arrows(events);
    // The rest is in the next trace.
    let rest = parse(&rt.take_trace(), "inside-rest");
    let kinds: Vec<&str> = slices(&rest).filter_map(|s| s["args"]["kind"].as_str()).collect();
    assert!(kinds.contains(&"immediate"));
    assert!(!kinds.contains(&"timeout"));
}
