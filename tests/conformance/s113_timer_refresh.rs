//! Port of `113-timer-refresh.js` (second set, rules from Node's
//! `test-timers-refresh`, `test-timers-refresh-in-callback`): `refresh`
//! restarts a timer's countdown from now with its delay and callback, and
//! returns the timer, so a timer refreshed after another of the same delay
//! was created fires after it; a refresh inside the timer's own callback,
//! or from a next-tick after it fired, re-arms it (ref'd); a refresh keeps
//! an unref'd timer unref'd; a refresh of a cleared timer does nothing.
//!
//! Port notes: a timeout that is refreshed after it fired (R, X) is given
//! a `Refreshable` callback (an `FnMut`; a plain closure is an `FnOnce`,
//! which cannot run twice). `a.refresh() === a` is a pointer comparison of
//! the returned reference. The timers reach themselves through `Rc` slots,
//! as the JS closures reach their `const`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::process::on_exit;
use jsloop::time::Refreshable;
use jsloop::{Timer, clear_timeout, next_tick, set_timeout};

type Slot = Rc<RefCell<Option<Timer>>>;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        let u = set_timeout(ms(10_000), || out!("never: unref'd 10 s timer"));
        u.unref();
        u.refresh();
        out!("unref'd timer after refresh, hasRef: {}", u.has_ref());

        let a = set_timeout(ms(5), || {
            out!("A (created first, refreshed after B was created)");
            stage2();
        });
        set_timeout(ms(5), || out!("B (created second, never refreshed)"));
        busy_wait(2);
        out!("refresh() returns the timer: {}", std::ptr::eq(a.refresh(), &a));

        on_exit(|_| out!("exit"));
    });
}

fn stage2() {
    let slot: Slot = Rc::default();
    let me = slot.clone();
    let runs = Cell::new(0);
    let r = set_timeout(
        ms(3),
        Refreshable(move || {
            runs.set(runs.get() + 1);
            out!("R run {}", runs.get());
            if runs.get() < 3 {
                me.borrow().as_ref().unwrap().refresh();
            } else {
                stage3();
            }
        }),
    );
    *slot.borrow_mut() = Some(r);
}

fn stage3() {
    let slot: Slot = Rc::default();
    let me = slot.clone();
    let runs = Cell::new(0);
    let x = set_timeout(
        ms(2),
        Refreshable(move || {
            runs.set(runs.get() + 1);
            out!("X run {}", runs.get());
            if runs.get() == 1 {
                let me = me.clone();
                next_tick(move || {
                    let x = me.borrow();
                    let x = x.as_ref().unwrap();
                    x.refresh();
                    out!("X refreshed from a nextTick, hasRef: {}", x.has_ref());
                });
            } else {
                let c = set_timeout(ms(1), || out!("never: cleared timer"));
                clear_timeout(&c);
                c.refresh();
                out!("refreshed a cleared timer");
            }
        }),
    );
    *slot.borrow_mut() = Some(x);
}
