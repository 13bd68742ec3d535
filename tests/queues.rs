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
    log.borrow().clone()
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

#[test]
fn an_unrefd_immediate_runs_while_a_timer_keeps_the_loop_alive_and_not_after() {
    let lines = run_logged(|log| {
        let log_line = logger(log);
        jsloop::set_immediate(log_line("unref'd, with a timer pending")).unref();
        let late = log_line("never: nothing keeps the loop alive");
        let timer_line = log_line("timer");
        jsloop::set_timeout(Duration::from_millis(5), move || {
            timer_line();
            jsloop::set_immediate(late).unref();
        });
    });
    assert_eq!(lines, ["unref'd, with a timer pending", "timer"]);
}

#[test]
fn immediate_ref_flags_are_idempotent_and_end_when_it_ran_or_was_cleared() {
    let lines = run_logged(|log| {
        let log_line = logger(log);
        let a = jsloop::set_immediate(log_line("a"));
        assert!(a.unref().unref().ref_().has_ref());
        let b = jsloop::set_immediate(log_line("never: b"));
        b.clear();
        assert!(!b.has_ref());
        assert!(!b.ref_().has_ref(), "ref_ on a cleared immediate does nothing");
        let c = jsloop::set_immediate(log_line("never: c"));
        c.unref().clear();
        c.unref();
        let after = a.clone();
        jsloop::set_immediate(move || assert!(!after.has_ref(), "a ran"));
        assert!(format!("{a:?}").contains("refed: true"));
    });
    assert_eq!(lines, ["a"]);
}

#[test]
fn the_poll_phase_does_not_sleep_past_an_unrefd_immediate() {
    // A ref'd 1 h timer keeps the loop alive; the unref'd immediate must
    // still run in this iteration's check phase, not after the timer.
    let lines = run_logged(|log| {
        let log_line = logger(log);
        let timer = jsloop::set_timeout(Duration::from_secs(3600), log_line("never: the timer"));
        let immediate_line = log_line("immediate");
        jsloop::set_immediate(move || {
            immediate_line();
            timer.clear();
        })
        .unref();
    });
    assert_eq!(lines, ["immediate"]);
}
