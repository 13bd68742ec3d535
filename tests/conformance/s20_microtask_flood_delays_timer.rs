//! Port of `20-microtask-flood-delays-timer.js`: a 1000-step microtask chain
//! (and a 1000-step promise chain) delays an overdue 0 ms timer; a flood
//! started inside a timer delays the next due timer and the check phase.

use std::cell::Cell;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::{queue_microtask, set_immediate, set_timeout};

// The script's top-level `let`s.
thread_local! {
    static QM: Cell<u32> = const { Cell::new(0) };
    static PR: Cell<u32> = const { Cell::new(0) };
    static FLOOD: Cell<u32> = const { Cell::new(0) };
}

fn create_microtasks() {
    queue_microtask(|| {
        QM.set(QM.get() + 1);
        if QM.get() < 1000 {
            create_microtasks();
        }
    });
}

fn infinite() {
    PR.set(PR.get() + 1);
    if PR.get() < 1000 {
        // Promise.resolve().then(infinite)
        queue_microtask(infinite);
    }
}

fn flood_step() {
    FLOOD.set(FLOOD.get() + 1);
    if FLOOD.get() < 1000 {
        queue_microtask(flood_step);
    }
}

pub fn main() {
    jsloop::run(async {
        // let qm = 0; let pr = 0;
        QM.set(0);
        PR.set(0);
        set_timeout(Duration::ZERO, || {
            out!(
                "timer T0 (0 ms) sees queueMicrotask steps={} promise steps={}",
                QM.get(),
                PR.get()
            );
        });

        create_microtasks();

        infinite();

        // let flood = 0;
        FLOOD.set(0);
        set_timeout(Duration::from_millis(10), || {
            out!("timer A starts a flood, flood={}", FLOOD.get());
            set_immediate(|| out!("immediate I sees flood={}", FLOOD.get()));
            queue_microtask(flood_step);
        });
        set_timeout(Duration::from_millis(10), || out!("timer B sees flood={}", FLOOD.get()));

        busy_wait(30); // T0, A and B are all overdue when the loop starts
        out!("script end: queueMicrotask steps={} promise steps={}", QM.get(), PR.get());
    });
}
