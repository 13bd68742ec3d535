//! Port of `11-clear-timeout-same-phase.js`: `clear_timeout` cancels a timer
//! due later in the same timers phase, also from a microtask between two due
//! timers; clearing a fired timer, or clearing twice, is a no-op.

use std::cell::OnceCell;
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::{Timer, clear_timeout, queue_microtask, set_timeout};

/// A `let` that a callback reads before the script assigns it.
type Slot = Rc<OnceCell<Timer>>;

/// `slot = timer;`
fn assign(slot: &Slot, timer: Timer) {
    slot.set(timer).expect("assigned once");
}

pub fn main() {
    jsloop::run(async {
        let (a, b, d, g): (Slot, Slot, Slot, Slot) = Default::default();
        assign(
            &a,
            set_timeout(Duration::from_millis(5), {
                let (b, d) = (b.clone(), d.clone());
                move || {
                    out!("A (5 ms) clears B and D");
                    clear_timeout(b.get().unwrap());
                    clear_timeout(d.get().unwrap());
                    clear_timeout(d.get().unwrap());
                }
            }),
        );
        assign(&b, set_timeout(Duration::from_millis(5), || out!("B (5 ms) must not run")));
        set_timeout(Duration::from_millis(5), || out!("C (5 ms) still runs"));
        assign(&d, set_timeout(Duration::from_millis(6), || out!("D (6 ms) must not run")));
        set_timeout(Duration::from_millis(7), {
            let a = a.clone();
            move || {
                out!("E (7 ms) clears A, which already ran");
                clear_timeout(a.get().unwrap());
            }
        });
        set_timeout(Duration::from_millis(8), {
            let g = g.clone();
            move || {
                out!("F (8 ms) queues a microtask that clears G");
                queue_microtask(move || {
                    out!("microtask from F clears G");
                    clear_timeout(g.get().unwrap());
                });
            }
        });
        assign(&g, set_timeout(Duration::from_millis(8), || out!("G (8 ms) must not run")));
        set_timeout(Duration::from_millis(9), || out!("H (9 ms) runs last"));
        busy_wait(40);
        out!("script end");
    });
}
