//! Port of `21-timer-loop-yields.js`: a loop of 0 ms timers yields to the
//! check phase on every iteration; a loop of microtasks does not.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use jsloop::{queue_microtask, set_immediate, set_timeout};

// The script's top-level `let iteration = 0;`.
thread_local! {
    static ITERATION: Cell<u32> = const { Cell::new(0) };
}

fn create_tasks() {
    set_timeout(Duration::ZERO, || {
        ITERATION.set(ITERATION.get() + 1);
        out!("Task executed {}", ITERATION.get());
        set_immediate(|| out!("  check phase after task {}", ITERATION.get()));
        if ITERATION.get() < 5 {
            create_tasks();
        } else {
            micro_loop_demo();
        }
    });
}

fn micro_loop_demo() {
    let m = Rc::new(Cell::new(0));
    set_immediate({
        let m = m.clone();
        move || out!("immediate after micro loop sees m={}", m.get())
    });
    // `function microLoop()` closes over `m`: here it takes it.
    fn micro_loop(m: Rc<Cell<u32>>) {
        queue_microtask(move || {
            m.set(m.get() + 1);
            out!("Microtask executed {}", m.get());
            if m.get() < 5 {
                micro_loop(m);
            }
        });
    }
    micro_loop(m);
}

pub fn main() {
    jsloop::run(async {
        // let iteration = 0;
        ITERATION.set(0);
        create_tasks();
        out!("script end");
    });
}
