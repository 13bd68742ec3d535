//! Port of `115-timers-promises-values.js` (second set, rules from Node's
//! `test-timers-promisified`, `test-timers-immediate-promisified`,
//! `test-timers-promises-scheduler`): a promise timer resolves with its
//! value in the timers phase, in FIFO order with callback timers of the
//! same delay, its reactions in that timer's own checkpoint; the immediate
//! promise resolves in the check phase in queue order with callback
//! immediates; from an I/O callback the immediate promise resumes before a
//! 0 ms timer promise started right after it; `scheduler::wait` is a delay
//! and `scheduler::yield_now` an immediate; a promise timer with
//! `ref_(false)` lets the loop end with it still pending.
//!
//! Port notes: `require('timers/promises')` is `jsloop::time::promises`;
//! `undefined` is `()` (printed as the JS does). `fs.readFile(f, async
//! () => ..)` is a spawned task that awaits `jsloop::fs::read`: the code
//! after that await runs in the completion's checkpoint, as the callback
//! does. `process.on('exit')` is `process::on_exit`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::process::on_exit;
use jsloop::time::promises::{self as tp, TimerOptions};
use jsloop::{next_tick, set_immediate, set_timeout};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/115-timers-promises-values.js");

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        let pending_forever = Rc::new(Cell::new("pending"));
        let settled = pending_forever.clone();
        tp::set_timeout_with(ms(10_000), "x", TimerOptions::new().ref_(false))
            .then(move |_| settled.set("settled"));

        tp::set_timeout(ms(5), "value A").then(|v| out!("promise timer A resolved with: {v}"));
        set_timeout(ms(5), || out!("callback timer B"));
        tp::set_timeout(ms(5), ()).then(|()| out!("promise timer C resolved with: undefined"));

        set_immediate(|| out!("callback immediate 1"));
        tp::set_immediate("value I").then(|v| {
            out!("promise immediate resolved with: {v}");
            next_tick(|| out!("  its nextTick"));
        });
        set_immediate(|| {
            out!("callback immediate 3");
            jsloop::spawn(async {
                let _ = jsloop::fs::read(FILENAME).await;
                out!("readFile callback");
                let order = Rc::new(RefCell::new(Vec::new()));
                let pushed = order.clone();
                let t = tp::set_timeout(Duration::ZERO, ())
                    .then(move |()| pushed.borrow_mut().push("timeout(0) promise"));
                tp::set_immediate(()).await.unwrap();
                order.borrow_mut().push("immediate promise");
                t.await.unwrap();
                out!("from I/O: {}", order.borrow().join(", then "));
                tp::scheduler::wait(ms(2)).await.unwrap();
                out!("scheduler.wait(2) done");
                tp::scheduler::yield_now().await.unwrap();
                out!("scheduler.yield() done");
            });
        });

        busy_wait(10);
        out!("script end");
        on_exit(move |_| out!("exit; the unref'd promise timer is {}", pending_forever.get()));
    });
}
