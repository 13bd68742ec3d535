//! The progress rule: the wake budget of one macrotask and its checkpoint.
//!
//! Node drains microtasks without limit, and jsloop keeps that for
//! everything JavaScript has: next-ticks, `queue_microtask`, promise
//! reactions, `await` on a [`Promise`](crate::promise::Promise) or a
//! [`JoinHandle`](crate::JoinHandle), a spawned task's first poll. Rust
//! libraries, though, are written for executors that eventually run their
//! driver (tokio polls it every 61 tasks): two futures that wake each other
//! on every poll, as `async-lock`'s waiting readers do, or a
//! `while !flag { yield_now().await }` spin, would hold the checkpoint
//! forever and the timer or socket that would end them never gets its turn.
//!
//! So each macrotask and its checkpoint get a budget of [`BUDGET`] wakes:
//! a task pushed onto the microtask ring by a [`Waker`] call spends one,
//! and jsloop's own promise machinery refunds what its wakes spend, so
//! JavaScript's reactions never run it down. The wake that finds the budget
//! spent is *deferred* — the task waits in the check phase's queue, as if
//! woken by `set_immediate` — and the budget starts over; the checkpoint
//! goes on with what is already queued, then the loop runs the timers, the
//! poll phase and the immediates before the deferred task. A task that
//! woke *itself* (a [`yield_now`] loop, `await` on something already
//! done) is not deferred until it has spent [`SELF_WAKE_BUDGETS`] budgets
//! in the checkpoint (262,144 turns): far more than a Node-style chain of
//! `await`s needs, while two tasks that wake each other are cut after
//! 8,192. A new macrotask starts with a full budget.
//!
//! The numbers are counts, not time: the same program makes the same
//! choices on an idle and on a loaded machine. They sit far above what a
//! Node program that terminates needs in one checkpoint (the conformance
//! sets pin chains of 100,000 ticks, reactions and `await`s), and low
//! enough that a livelock yields to the loop within a few milliseconds.
//! [`Builder::strict_microtasks`](crate::Builder::strict_microtasks)
//! restores Node's unbounded rule.
//!
//! [`yield_now`]: crate::yield_now

use std::cell::{Cell, RefCell};
use std::task::Waker;

use crate::context;

/// Wakes through a `Waker` in one macrotask and its checkpoint.
pub(crate) const BUDGET: i64 = 8192;
/// Budgets a task that wakes itself may spend in one checkpoint.
pub(crate) const SELF_WAKE_BUDGETS: u32 = 32;
/// Names of deferred tasks kept for the one-time warning.
const NAMES_KEPT: usize = 8;

/// The budget, and what the loop reports about its deferrals.
#[derive(Debug)]
pub(crate) struct WakeBudget {
    /// Wakes left; the wake that takes it below zero goes to the cold path.
    credits: Cell<i64>,
    /// Budgets granted again in this checkpoint to self-waking tasks.
    self_wake_grants: Cell<u32>,
    /// Node's exact rule: never defer.
    strict: bool,
    /// Wakes deferred so far (`Runtime::deferred_wakes`).
    deferred: Cell<u64>,
    /// The warning is still to be printed (`None`: off, or printed).
    warning: RefCell<Option<Vec<&'static str>>>,
}

impl WakeBudget {
    pub(crate) fn new(strict: bool, warn: bool) -> WakeBudget {
        WakeBudget {
            credits: Cell::new(BUDGET),
            self_wake_grants: Cell::new(0),
            strict,
            deferred: Cell::new(0),
            warning: RefCell::new(warn.then(Vec::new)),
        }
    }

    /// Spends one wake; `false` once the budget is gone (then the caller
    /// asks [`over_budget`](Self::over_budget)).
    #[inline]
    pub(crate) fn spend_wake(&self) -> bool {
        let left = self.credits.get() - 1;
        self.credits.set(left);
        left >= 0
    }

    /// Gives back what the wake that follows will spend: jsloop's promise
    /// machinery (a reaction, an `await`) is Node's rule, not a livelock.
    /// If that wake does not spend (the task was queued already, or the
    /// waker is not a jsloop one), the budget grows by one, which only real
    /// work can cause.
    #[inline]
    pub(crate) fn refund_wake(&self) {
        self.credits.set(self.credits.get() + 1);
    }

    /// A new macrotask begins: a full budget.
    #[inline]
    pub(crate) fn reset(&self) {
        self.credits.set(BUDGET);
        self.self_wake_grants.set(0);
    }

    /// The wake that found the budget spent: `true` if it must be deferred.
    /// Either way the budget starts over. Strict mode never defers; a task
    /// waking itself gets [`SELF_WAKE_BUDGETS`] budgets first.
    pub(crate) fn over_budget(&self, self_wake: bool, task_name: &'static str) -> bool {
        self.credits.set(BUDGET);
        if self.strict {
            return false;
        }
        if self_wake && self.self_wake_grants.get() + 1 < SELF_WAKE_BUDGETS {
            self.self_wake_grants.set(self.self_wake_grants.get() + 1);
            return false;
        }
        self.deferred.set(self.deferred.get() + 1);
        if let Some(names) = self.warning.borrow_mut().as_mut() {
            if names.len() < NAMES_KEPT && !names.contains(&task_name) {
                names.push(task_name);
            }
        }
        true
    }

    /// Wakes deferred since the runtime was built.
    pub(crate) fn deferred(&self) -> u64 {
        self.deferred.get()
    }

    /// Prints the one-time warning, if it is on and not printed yet (the
    /// check phase calls this when it runs a deferred task).
    pub(crate) fn warn_once(&self) {
        let Some(names) = self.warning.borrow_mut().take() else { return };
        eprintln!(
            "jsloop: the progress rule stepped in: a checkpoint woke tasks through their Waker \
             more than 8,192 times (262,144 for a task waking itself), so the loop ran timers \
             and I/O before it went on with: {}. Futures that wake each other on every poll do \
             this; `Builder::strict_microtasks(true)` keeps Node's unbounded checkpoint, \
             `Builder::warnings(false)` silences this one-time warning.",
            names.join(", ")
        );
    }
}

/// Wakes `waker` for jsloop's promise machinery (a reaction, an `await`
/// turn, an abort signal's waiter): Node's rule, so the wake is refunded
/// when it happens on a running loop. From another thread it is a plain
/// wake (it arrives in the poll phase, a macrotask of its own).
pub(crate) fn wake_as_reaction(waker: &Waker) {
    context::try_with_current(|core| core.microtasks.budget.refund_wake());
    waker.wake_by_ref();
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Spends wakes until the budget is gone; how many went through.
    fn spend_all(budget: &WakeBudget) -> i64 {
        let mut spent = 0;
        while budget.spend_wake() {
            spent += 1;
        }
        spent
    }

    #[test]
    fn a_budget_is_8192_wakes() {
        let budget = WakeBudget::new(false, false);
        assert_eq!(spend_all(&budget), 8192);
        assert!(budget.over_budget(false, "task"));
        assert_eq!(spend_all(&budget), 8192, "the budget starts over after a deferral");
    }

    #[test]
    fn a_self_waking_task_gets_32_budgets_per_checkpoint() {
        let budget = WakeBudget::new(false, false);
        let mut turns = 0;
        loop {
            turns += spend_all(&budget);
            if budget.over_budget(true, "task") {
                break;
            }
            turns += 1; // the wake that asked was let through
        }
        // 32 budgets, and the 31 wakes that were let through when asking.
        assert_eq!(turns, 32 * 8192 + 31);
        budget.reset();
        assert!(!budget.over_budget(true, "task"), "a new checkpoint grants again");
    }

    #[test]
    fn refunded_wakes_never_run_the_budget_down() {
        let budget = WakeBudget::new(false, false);
        let wakes = if cfg!(miri) { 20_000 } else { 1_000_000 };
        for _ in 0..wakes {
            budget.refund_wake();
            assert!(budget.spend_wake());
        }
    }

    #[test]
    fn strict_mode_never_defers_and_starts_over() {
        let budget = WakeBudget::new(true, false);
        spend_all(&budget);
        assert!(!budget.over_budget(false, "task"));
        assert!(budget.spend_wake());
        assert_eq!(budget.deferred(), 0);
    }

    #[test]
    fn deferrals_are_counted_and_named_once() {
        let budget = WakeBudget::new(false, true);
        for name in ["a", "b", "a"] {
            assert!(budget.over_budget(false, name));
        }
        assert_eq!(budget.deferred(), 3);
        assert_eq!(budget.warning.borrow().as_deref(), Some(&["a", "b"][..]));
        budget.warn_once();
        assert!(budget.warning.borrow().is_none());
        assert!(budget.over_budget(false, "c"));
        assert!(budget.warning.borrow().is_none());
    }
}
