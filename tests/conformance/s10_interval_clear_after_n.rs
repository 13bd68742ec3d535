//! Port of `10-interval-clear-after-n.js`: `set_interval` fires until
//! `clear_interval` is called inside its own callback; then the loop ends.

use std::cell::{Cell, OnceCell};
use std::rc::Rc;
use std::time::Duration;

use jsloop::{Timer, clear_interval, queue_microtask, set_interval, set_timeout};

pub fn main() {
    // `let count = 0;` is read by the `process.on('exit')` handler too, so it
    // lives outside `run`.
    let count = Rc::new(Cell::new(0));
    jsloop::run({
        let count = count.clone();
        async move {
            // `const id = setInterval(...)`: the callback refers to `id`,
            // which is only assigned once `set_interval` returns.
            let id: Rc<OnceCell<Timer>> = Rc::default();
            let interval = set_interval(Duration::from_millis(10), {
                let id = id.clone();
                move || {
                    count.set(count.get() + 1);
                    out!("tick {}", count.get());
                    // Promise.resolve().then(...): reads `count` when it runs.
                    let c = count.clone();
                    queue_microtask(move || out!("microtask after tick {}", c.get()));
                    if count.get() == 3 {
                        clear_interval(id.get().unwrap());
                        out!("cleared after 3 ticks");
                        let c = count.clone();
                        set_timeout(Duration::from_millis(50), move || {
                            out!("later timeout sees count={}", c.get())
                        });
                    }
                }
            });
            id.set(interval).unwrap();
            out!("interval started");
        }
    });
    // process.on('exit', ...)
    out!("loop finished, count={}", count.get());
}
