//! Batched observers (`jsloop::observe`): one microtask per batch, queued by
//! the batch's first notify, delivering every record in one callback call.

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::process::Command;
use std::rc::Rc;
use std::time::Duration;

use jsloop::observe::Observer;

type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// A `queue_microtask` callback that logs `line`.
fn logged(log: &Log, line: &str) -> impl FnOnce() + 'static {
    let (log, line) = (log.clone(), line.to_owned());
    move || push(&log, line)
}

/// Runs `script` as a runtime's main script (virtual time) and returns
/// what it logged.
fn run_logged(script: impl FnOnce(&Log) + 'static) -> Vec<String> {
    let log: Log = Rc::default();
    let inner = log.clone();
    jsloop::Runtime::builder()
        .virtual_time(true)
        .build()
        .unwrap()
        .run(async move { script(&inner) });
    log.take()
}

/// An observer of numbers that logs each batch as `batch [..]`.
fn batch_logger(log: &Log) -> Observer<u32> {
    let log = log.clone();
    Observer::new(move |records: Vec<u32>, _: &Observer<u32>| {
        push(&log, format!("batch {records:?}"));
    })
}

#[test]
fn records_reach_the_callback_in_notify_order_in_one_call() {
    let lines = run_logged(|log| {
        let observer = batch_logger(log);
        for record in [3, 1, 2, 5, 4] {
            observer.notify(record);
        }
    });
    assert_eq!(lines, ["batch [3, 1, 2, 5, 4]"]);
}

#[test]
fn the_batch_is_delivered_after_the_synchronous_code_and_before_timers() {
    let lines = run_logged(|log| {
        jsloop::set_timeout(Duration::ZERO, logged(log, "timer"));
        let observer = batch_logger(log);
        observer.notify(1);
        push(log, "sync after notify 1");
        observer.notify(2);
        push(log, "sync end");
    });
    assert_eq!(lines, ["sync after notify 1", "sync end", "batch [1, 2]", "timer"]);
}

#[test]
fn the_batch_takes_the_ring_position_of_its_first_notify() {
    let lines = run_logged(|log| {
        let observer = batch_logger(log);
        jsloop::queue_microtask(logged(log, "microtask queued before"));
        observer.notify(1);
        jsloop::queue_microtask(logged(log, "microtask queued between"));
        observer.notify(2);
        jsloop::queue_microtask(logged(log, "microtask queued after"));
        jsloop::next_tick(logged(log, "next tick"));
    });
    assert_eq!(
        lines,
        [
            "next tick",
            "microtask queued before",
            "batch [1, 2]",
            "microtask queued between",
            "microtask queued after",
        ]
    );
}

#[test]
fn a_notify_inside_the_callback_goes_into_the_next_batch_in_the_same_checkpoint() {
    let lines = run_logged(|log| {
        jsloop::set_timeout(Duration::ZERO, logged(log, "timer"));
        let inner = log.clone();
        let observer = Observer::new(move |records: Vec<u32>, this: &Observer<u32>| {
            push(&inner, format!("batch {records:?}"));
            if records == [1] {
                this.notify(2);
                this.notify(3);
                push(&inner, "callback returns");
            }
        });
        observer.notify(1);
        jsloop::queue_microtask(logged(log, "microtask queued after the first batch"));
    });
    assert_eq!(
        lines,
        [
            "batch [1]",
            "callback returns",
            "microtask queued after the first batch",
            "batch [2, 3]",
            "timer",
        ]
    );
}

#[test]
fn a_record_notified_before_the_next_batch_is_delivered_joins_it() {
    // The first delivery, once its callback returns, must not reopen the
    // next batch: the microtask notifying 3 finds batch [2]'s delivery
    // still queued and joins it. (Had it queued a delivery of its own, that
    // one would hand over 4 ahead of the microtask queued before it.)
    let lines = run_logged(|log| {
        let inner = log.clone();
        let observer = Observer::new(move |records: Vec<u32>, this: &Observer<u32>| {
            push(&inner, format!("batch {records:?}"));
            if records == [1] {
                let again = this.clone();
                jsloop::queue_microtask(move || again.notify(3));
                this.notify(2);
            }
            if records == [2, 3] {
                jsloop::queue_microtask(logged(&inner, "microtask queued by batch [2, 3]"));
                this.notify(4);
            }
        });
        observer.notify(1);
    });
    assert_eq!(
        lines,
        ["batch [1]", "batch [2, 3]", "microtask queued by batch [2, 3]", "batch [4]"]
    );
}

#[test]
fn take_records_before_delivery_leaves_the_callback_uncalled() {
    let lines = run_logged(|log| {
        let observer = batch_logger(log);
        observer.notify(1);
        observer.notify(2);
        let taken = observer.take_records();
        push(log, format!("taken {taken:?}"));
        jsloop::queue_microtask(logged(log, "microtask after the emptied batch"));
    });
    assert_eq!(lines, ["taken [1, 2]", "microtask after the emptied batch"]);
}

#[test]
fn a_record_after_take_records_joins_the_batch_already_queued() {
    let lines = run_logged(|log| {
        let observer = batch_logger(log);
        observer.notify(1);
        jsloop::queue_microtask(logged(log, "microtask queued after the first notify"));
        assert_eq!(observer.take_records(), [1]);
        observer.notify(2);
    });
    assert_eq!(lines, ["batch [2]", "microtask queued after the first notify"]);
}

#[test]
fn disconnect_drops_the_queued_records_and_ignores_later_notifies() {
    let lines = run_logged(|log| {
        let observer = batch_logger(log);
        observer.notify(1);
        observer.disconnect();
        observer.notify(2);
        assert!(!observer.is_connected());
        assert!(observer.take_records().is_empty());
        let later = observer.clone();
        jsloop::set_timeout(Duration::from_millis(1), move || later.notify(3));
    });
    assert!(lines.is_empty(), "{lines:?}");
}

#[test]
fn disconnect_inside_the_callback_drops_what_the_callback_notified() {
    let lines = run_logged(|log| {
        let inner = log.clone();
        let observer = Observer::new(move |records: Vec<u32>, this: &Observer<u32>| {
            push(&inner, format!("batch {records:?}"));
            this.notify(2);
            this.disconnect();
            this.notify(3);
        });
        observer.notify(1);
    });
    assert_eq!(lines, ["batch [1]"]);
}

#[test]
fn a_panicking_callback_goes_to_the_uncaught_handler_and_the_observer_works_again() {
    let log: Log = Rc::default();
    let (in_handler, in_script) = (log.clone(), log.clone());
    let runtime = jsloop::Runtime::builder()
        .virtual_time(true)
        .on_uncaught_panic(move |payload| {
            let message = payload.downcast_ref::<&str>().copied().unwrap_or("?");
            push(&in_handler, format!("uncaught: {message}"));
        })
        .build()
        .unwrap();
    runtime.run(async move {
        let inner = in_script.clone();
        let observer = Observer::new(move |records: Vec<u32>, _: &Observer<u32>| {
            push(&inner, format!("batch {records:?}"));
            if records.contains(&1) {
                panic!("render failed");
            }
        });
        observer.notify(1);
        let again = observer.clone();
        jsloop::set_timeout(Duration::from_millis(1), move || {
            again.notify(2);
            again.notify(3);
        });
        jsloop::queue_microtask(logged(&in_script, "microtask after the panic"));
    });
    assert_eq!(
        log.take(),
        ["batch [1]", "uncaught: render failed", "microtask after the panic", "batch [2, 3]"]
    );
}

#[test]
fn a_hundred_thousand_notifies_in_one_turn_are_one_call() {
    let calls: Rc<RefCell<Vec<Vec<u32>>>> = Rc::default();
    let seen = calls.clone();
    jsloop::run(async move {
        let observer = Observer::new(move |records: Vec<u32>, _: &Observer<u32>| {
            seen.borrow_mut().push(records);
        });
        for record in 0..100_000 {
            observer.notify(record);
        }
    });
    let calls = calls.take();
    assert_eq!(calls.len(), 1);
    assert!(calls[0].iter().copied().eq(0..100_000));
}

#[test]
#[should_panic(expected = "no jsloop runtime is running on this thread")]
fn notify_outside_a_runtime_panics() {
    let observer = Observer::new(|_: Vec<u32>, _: &Observer<u32>| {});
    observer.notify(1);
}

#[test]
fn a_batch_its_runtime_dropped_is_delivered_by_the_next_runtimes_notify() {
    let calls: Rc<RefCell<Vec<Vec<u32>>>> = Rc::default();
    let seen = calls.clone();
    let observer = Observer::new(move |records: Vec<u32>, _: &Observer<u32>| {
        seen.borrow_mut().push(records);
    });
    let runtime = jsloop::Runtime::new().unwrap();
    let first = observer.clone();
    let outcome = catch_unwind(AssertUnwindSafe(|| {
        runtime.run(async move {
            first.notify(1);
            panic!("the script fails before the checkpoint");
        })
    }));
    assert!(outcome.is_err());
    drop(runtime);
    assert!(calls.borrow().is_empty(), "the batch went down with its runtime unrun");
    let second = observer.clone();
    jsloop::run(async move { second.notify(2) });
    assert_eq!(calls.take(), [vec![1, 2]]);
}

/// The seeds' batching script, `tests/conformance/25-queuemicrotask-batching.js`
/// (`scheduleUpdate` / `flushUpdates`), with the flush as an observer whose
/// records are the updates. `Promise.resolve().then(f)` is one microtask:
/// `queue_microtask(f)`.
fn seeds_batching_script(log: &Log) {
    type Update = Box<dyn FnOnce()>;
    let inner = log.clone();
    let flush_updates = Observer::new(move |batch: Vec<Update>, _: &Observer<Update>| {
        push(&inner, format!("flush of {} update(s)", batch.len()));
        for update in batch {
            update();
        }
    });
    let schedule_update = {
        let flush_updates = flush_updates.clone();
        move |update: Update| flush_updates.notify(update)
    };
    let line = |text: &str| -> Update { Box::new(logged(log, text)) };

    jsloop::queue_microtask(logged(log, "microtask queued before the batch"));
    schedule_update(line("element1 textContent = updated"));
    let (inner, again) = (log.clone(), schedule_update.clone());
    schedule_update(Box::new(move || {
        push(&inner, "element2 color = red");
        again(Box::new(logged(&inner, "update scheduled during the flush")));
    }));
    schedule_update(line("element3 class += active"));
    jsloop::queue_microtask(logged(log, "microtask queued after the batch"));
    push(log, "three updates scheduled");

    let (inner, again) = (log.clone(), schedule_update.clone());
    jsloop::set_timeout(Duration::from_millis(5), move || {
        push(&inner, "timer 1");
        again(Box::new(logged(&inner, "timer update a")));
        again(Box::new(logged(&inner, "timer update b")));
    });
    jsloop::set_timeout(Duration::from_millis(5), logged(log, "timer 2"));
}

#[test]
fn the_seeds_batching_script_prints_what_node_prints() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/conformance/25-queuemicrotask-batching.js");
    let expected = std::fs::read_to_string(script.with_extension("out")).unwrap();
    let rust = run_logged(seeds_batching_script);
    assert_eq!(rust, expected.lines().collect::<Vec<_>>(), "the Rust (left), the recorded .out");

    let Ok(node) = Command::new("node").arg(&script).output() else {
        eprintln!("skipped the live comparison: `node` is not on PATH");
        return;
    };
    assert!(node.status.success(), "node failed: {node:?}");
    let node = String::from_utf8(node.stdout).unwrap();
    assert_eq!(rust, node.lines().collect::<Vec<_>>(), "the Rust (left), node (right)");
}
