//! The microtask checkpoint and the check phase: next_tick, queue_microtask,
//! set_immediate.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

type Log = Rc<RefCell<Vec<String>>>;

fn logger(log: &Log) -> impl Fn(&str) -> Box<dyn FnOnce()> + '_ {
    move |line: &str| {
        let log = log.clone();
        let line = line.to_owned();
        Box::new(move || log.borrow_mut().push(line))
    }
}

fn run_logged(script: impl FnOnce(&Log)) -> Vec<String> {
    let log: Log = Rc::default();
    let inner = log.clone();
    jsloop::Runtime::builder()
        .virtual_time(true)
        .build()
        .unwrap()
        .run(async move { script(&inner) });
    let lines = log.borrow().clone();
    lines
}

#[test]
fn next_ticks_run_before_microtasks_even_when_queued_later() {
    let lines = run_logged(|log| {
        let line = logger(log);
        jsloop::queue_microtask(line("microtask"));
        jsloop::next_tick(line("tick"));
    });
    assert_eq!(lines, ["tick", "microtask"]);
}

#[test]
fn a_tick_queued_by_a_microtask_waits_until_the_ring_is_empty() {
    let lines = run_logged(|log| {
        let l = log.clone();
        jsloop::queue_microtask(move || {
            l.borrow_mut().push("micro 1".into());
            let l2 = l.clone();
            jsloop::next_tick(move || l2.borrow_mut().push("tick from micro 1".into()));
            let l3 = l.clone();
            jsloop::queue_microtask(move || l3.borrow_mut().push("micro from micro 1".into()));
        });
        jsloop::queue_microtask(logger(log)("micro 2"));
    });
    assert_eq!(lines, ["micro 1", "micro 2", "micro from micro 1", "tick from micro 1"]);
}

#[test]
fn microtasks_queued_by_microtasks_run_before_any_timer() {
    let lines = run_logged(|log| {
        jsloop::set_timeout(Duration::ZERO, logger(log)("timer"));
        let l = log.clone();
        jsloop::queue_microtask(move || {
            let l2 = l.clone();
            jsloop::queue_microtask(move || l2.borrow_mut().push("nested microtask".into()));
        });
    });
    assert_eq!(lines, ["nested microtask", "timer"]);
}

#[test]
fn check_phase_runs_only_immediates_queued_before_it_began() {
    let lines = run_logged(|log| {
        let l = log.clone();
        jsloop::set_immediate(move || {
            l.borrow_mut().push("A".into());
            let l2 = l.clone();
            jsloop::set_immediate(move || l2.borrow_mut().push("C (from A)".into()));
            let l3 = l.clone();
            jsloop::set_timeout(Duration::ZERO, move || {
                l3.borrow_mut().push("timer from A".into())
            });
        });
        jsloop::set_immediate(logger(log)("B"));
    });
    // Virtual time: the 1 ms timer is not due at the next timers phase, so C
    // (next iteration's check phase) runs before it.
    assert_eq!(lines, ["A", "B", "C (from A)", "timer from A"]);
}

#[test]
fn clear_immediate_cancels_and_is_idempotent() {
    let lines = run_logged(|log| {
        let victim = jsloop::set_immediate(logger(log)("must not run"));
        let l = log.clone();
        jsloop::set_immediate(move || {
            l.borrow_mut().push("first".into());
        });
        victim.clear();
        jsloop::clear_immediate(&victim);
        assert!(format!("{victim:?}").contains("pending: false"));
    });
    assert_eq!(lines, ["first"]);
}

#[test]
fn clearing_a_later_immediate_from_an_earlier_one_in_the_same_phase() {
    let lines = run_logged(|log| {
        let slot: Rc<RefCell<Option<jsloop::Immediate>>> = Rc::default();
        let s = slot.clone();
        let l = log.clone();
        jsloop::set_immediate(move || {
            l.borrow_mut().push("A clears B".into());
            s.borrow_mut().take().unwrap().clear();
        });
        *slot.borrow_mut() = Some(jsloop::set_immediate(logger(log)("B")));
    });
    assert_eq!(lines, ["A clears B"]);
}

#[test]
fn a_long_microtask_chain_delays_an_overdue_timer() {
    let count = Rc::new(std::cell::Cell::new(0));
    let seen = Rc::new(std::cell::Cell::new(0));
    let (c, s) = (count.clone(), seen.clone());
    jsloop::run(async move {
        let c2 = c.clone();
        jsloop::set_timeout(Duration::ZERO, move || s.set(c2.get()));
        fn step(c: Rc<std::cell::Cell<u32>>) {
            jsloop::queue_microtask(move || {
                c.set(c.get() + 1);
                if c.get() < 10_000 {
                    step(c);
                }
            });
        }
        step(c);
    });
    assert_eq!(seen.get(), 10_000);
    assert_eq!(count.get(), 10_000);
}
