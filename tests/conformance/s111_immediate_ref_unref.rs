//! Port of `111-immediate-ref-unref.js` (second set, rules from Node's
//! `test-timers-immediate-unref*`): an immediate is ref'd when created;
//! `unref` / `ref_` are idempotent flags that return the immediate, and
//! `has_ref` reports the flag; an unref'd immediate does not keep the loop
//! alive but still runs when the loop is alive for another reason (a ref'd
//! timer) by the check phase; one queued when nothing else keeps the loop
//! alive never runs; `clear` works on unref'd immediates, and `ref_` on a
//! cleared one keeps nothing alive.
//!
//! Port notes: `probe.unref() === probe` is a pointer comparison of the
//! returned reference. `process.on('exit')` is `process::on_exit`.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::process::on_exit;
use jsloop::{Immediate, clear_immediate, set_immediate, set_timeout};

pub fn main() {
    jsloop::run(async {
        let probe = set_immediate(|| out!("never: cleared probe"));
        out!("new immediate hasRef: {}", probe.has_ref());
        out!("unref() returns the immediate: {}", std::ptr::eq(probe.unref(), &probe));
        out!("after unref hasRef: {}", probe.has_ref());
        probe.unref();
        probe.ref_();
        out!("after unref, unref, ref hasRef: {}", probe.has_ref());
        clear_immediate(&probe);

        set_immediate(first).ref_().unref().unref().ref_();

        on_exit(|_| out!("exit"));
    });
}

fn first() {
    out!("first (ref, unref, unref, ref: it ran)");
    let u = set_immediate(|| out!("unref'd immediate ran: the timer kept the loop alive"));
    u.unref();
    out!("  unref'd immediate hasRef: {}", u.has_ref());
    set_timeout(Duration::from_millis(1), || {
        out!("timer");
        set_immediate(second);
    });
    busy_wait(5);
}

fn second() {
    out!("second");
    let pair: Rc<RefCell<Option<(Immediate, Immediate)>>> = Rc::default();
    let both = pair.clone();
    let a = set_immediate(move || {
        out!("A (unref'd) clears B, then ref()s both");
        let (a, b) = both.borrow_mut().take().unwrap();
        clear_immediate(&a);
        clear_immediate(&b);
        a.ref_();
        b.ref_();
    });
    a.unref();
    let b = set_immediate(|| out!("never: B was cleared"));
    b.unref();
    *pair.borrow_mut() = Some((a, b));
    set_immediate(last);
}

fn last() {
    out!("last: queue one more unref'd immediate");
    set_immediate(|| out!("never: nothing keeps the loop alive")).unref();
}
