//! Port of `114-timeout-max-overflow.js` (second set, rules from Node's
//! `test-timers-max-duration-warning`, `test-timers-nan-duration-warning`,
//! `test-timers-negative-duration-warning`): the largest delay is
//! `TIMEOUT_MAX` = 2^31 - 1 ms; anything longer becomes 1 ms, for timeouts and intervals alike, as does anything under
//! 1 ms; every 1 ms timer shares one FIFO, run before a 2 ms timer created
//! after them; a timer of exactly `TIMEOUT_MAX` is a real, very long timer
//! that keeps the loop alive until it is cleared.
//!
//! Port notes: a delay is a `Duration`. JS inputs with no `Duration`
//! (`-5`, `NaN`, `undefined`, `'abc'`) are ported as the 0 they are read
//! as, `1.9` as 1.9 ms (truncated to 1 ms, as Node truncates), `'3'` as
//! 3 ms and `Infinity` as `u64::MAX` seconds (not `Duration::MAX`, which
//! jsloop's timers read as never, as `time::sleep` does).

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::process::on_exit;
use jsloop::{Timer, clear_interval, clear_timeout, set_interval, set_timeout};

const TIMEOUT_MAX_MS: u64 = (1 << 31) - 1;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        set_timeout(ms(TIMEOUT_MAX_MS + 1), || out!("2^31 ms (overflow)"));
        set_timeout(ms(10_000_000_000_000), || out!("1e13 ms (overflow)"));
        set_timeout(Duration::from_secs(u64::MAX), || out!("Infinity (overflow)"));
        set_timeout(ms(0), || out!("0 ms"));
        set_timeout(Duration::ZERO, || out!("-5 ms"));
        set_timeout(Duration::ZERO, || out!("NaN"));
        set_timeout(Duration::ZERO, || out!("undefined"));
        set_timeout(Duration::ZERO, || out!("'abc'"));
        set_timeout(Duration::from_micros(1_900), || out!("1.9 ms"));
        set_timeout(ms(1), || out!("1 ms"));
        set_timeout(ms(2), || out!("2 ms (created after all the 1 ms ones)"));
        set_timeout(ms(3), || out!("'3' (a numeric string)"));

        let longest: Rc<RefCell<Option<Timer>>> = Rc::default();
        let interval: Rc<RefCell<Option<Timer>>> = Rc::default();
        let ticks = Cell::new(0);
        let (me, to_clear) = (interval.clone(), longest.clone());
        let overflow_interval = set_interval(ms(TIMEOUT_MAX_MS + 1), move || {
            ticks.set(ticks.get() + 1);
            out!("overflowing interval tick {}", ticks.get());
            if ticks.get() == 3 {
                clear_interval(me.borrow().as_ref().unwrap());
                let to_clear = to_clear.clone();
                set_timeout(ms(20), move || {
                    out!("20 ms later: the TIMEOUT_MAX timer is still pending; clear it");
                    clear_timeout(to_clear.borrow().as_ref().unwrap());
                });
            }
        });
        *interval.borrow_mut() = Some(overflow_interval);

        *longest.borrow_mut() =
            Some(set_timeout(ms(TIMEOUT_MAX_MS), || out!("never: TIMEOUT_MAX timer")));

        busy_wait(10);
        out!("script end");
        on_exit(|_| out!("exit"));
    });
}
