//! Port of `106-uncaught-timer-continues.js` (second set, rules from Node's
//! `test-timers-uncaught-exception`, `test-timers-unref-throw-then-ref`):
//! with an uncaught handler, a panicking timer callback does not stop the
//! loop: the handler runs right after it, then the next due timer of the
//! same timers phase; an interval that panics is still rescheduled; an
//! unref'd timer that ref()s itself and panics is handled the same way and
//! its ref'd sibling still fires.
//!
//! Port notes: `process.on('uncaughtException', f)` is the builder's
//! `on_uncaught_panic` (a `throw` is a `panic!`, `err.message` its payload;
//! `origin` is `uncaughtException` for every bare callback). The script's
//! `let interval` and `intervalErrors` are thread-locals the handler reads.

use std::cell::{Cell, RefCell};
use std::time::Duration;

use crate::log::{busy_wait, panic_text};
use jsloop::{Runtime, Timer, set_timeout};
use jsloop::{clear_interval, next_tick, queue_microtask, set_immediate, set_interval};

thread_local! {
    static INTERVAL_ERRORS: Cell<u32> = const { Cell::new(0) };
    static INTERVAL: RefCell<Option<Timer>> = const { RefCell::new(None) };
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    let rt = Runtime::builder()
        .on_uncaught_panic(|payload| {
            let message = panic_text(&*payload);
            out!("  uncaughtException (uncaughtException): {message}");
            if message == "interval error" {
                let errors = INTERVAL_ERRORS.with(|n| n.get() + 1);
                INTERVAL_ERRORS.with(|n| n.set(errors));
                if errors == 3 {
                    INTERVAL.with(|i| clear_interval(i.borrow().as_ref().unwrap()));
                    out!("  listener cleared the interval after 3 errors");
                    set_timeout(ms(1), stage3);
                }
            }
        })
        .build()
        .unwrap();
    rt.run(async {
        set_timeout(ms(1), || {
            out!("T1 throws");
            panic!("T1 error");
        });
        set_timeout(ms(1), || {
            out!("T2 (same phase, after T1)");
            next_tick(|| out!("T2 nextTick"));
            queue_microtask(|| out!("T2 microtask"));
        });
        set_timeout(ms(1), || out!("T3 (same phase)"));
        set_immediate(|| {
            out!("immediate (check phase) starts an interval that always throws");
            let mut n = 0;
            let interval = set_interval(ms(2), move || {
                n += 1;
                out!("interval tick {n} throws");
                panic!("interval error");
            });
            INTERVAL.with(|i| *i.borrow_mut() = Some(interval));
        });
        busy_wait(10);
        out!("script end");
    });
}

fn stage3() {
    out!("stage 3: unref'd timer U and ref'd timer R, both 1 ms");
    let u: RefCell<Option<Timer>> = RefCell::new(None);
    let u = std::rc::Rc::new(u);
    let me = u.clone();
    let timer = set_timeout(ms(1), move || {
        out!("U runs, ref()s itself, throws");
        me.borrow().as_ref().unwrap().ref_();
        panic!("U error");
    });
    timer.unref();
    *u.borrow_mut() = Some(timer);
    set_timeout(ms(1), || out!("R still fires"));
    busy_wait(5);
}
