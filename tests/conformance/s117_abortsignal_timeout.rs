//! Port of `117-abortsignal-timeout.js` (second set, rules from Node's
//! `test-abortsignal-timeout`, `test-abortcontroller`): `AbortSignal::
//! timeout(d)` is not aborted at first and aborts from a timer that takes
//! its place among the other timers by deadline, its listeners in
//! registration order with their next-ticks and microtasks after all of
//! them; that timer is unref'd, so a 20 min timeout signal neither keeps
//! the loop alive nor fires; `abort` without a reason gives the default
//! reason, and a second `abort` changes nothing.
//!
//! Port notes: `signal.onabort = f` and `addEventListener(.., { once:
//! true })` are `add_listener` (every listener runs once); DOMException
//! names are printed from the reason: `TimeoutError code 23` for
//! `is_timeout()`, else `AbortError code 20` (`AbortReason::default()` is
//! `ac.abort()`'s reason). `throwIfAborted` is `throw_if_aborted`'s `Err`.

use std::time::Duration;

use jsloop::abort::AbortReason;
use jsloop::process::on_exit;
use jsloop::{AbortController, AbortSignal, next_tick, queue_microtask, set_timeout};

fn dom_name(reason: &AbortReason) -> &'static str {
    if reason.is_timeout() { "TimeoutError code 23" } else { "AbortError code 20" }
}

pub fn main() {
    jsloop::run(async {
        let forever = AbortSignal::timeout(Duration::from_secs(20 * 60));
        forever.add_listener(|_| out!("never: the 20 min signal aborted"));

        set_timeout(Duration::from_millis(5), || out!("callback timer 5 ms"));
        let signal = AbortSignal::timeout(Duration::from_millis(10));
        out!("timeout signal aborted at first: {}", signal.is_aborted());
        signal.add_listener(|reason| {
            out!("abort listener 1: {}", dom_name(reason));
            next_tick(|| out!("  nextTick from listener 1"));
            queue_microtask(|| out!("  microtask from listener 1"));
        });
        signal.add_listener(|_| out!("onabort handler"));
        signal.add_listener(|_| out!("abort listener 3 (once)"));
        set_timeout(Duration::from_millis(30), move || {
            out!("callback timer 30 ms: signal.aborted={}", signal.is_aborted());
            if let Err(reason) = signal.throw_if_aborted() {
                out!("throwIfAborted threw: {}", dom_name(&reason).split(' ').next().unwrap());
            }
            let ac = AbortController::new();
            ac.signal().throw_if_aborted().unwrap();
            out!("throwIfAborted on a live signal: no throw");
            ac.signal().add_listener(|_| out!("plain abort listener"));
            ac.abort(AbortReason::default());
            ac.abort(AbortReason::default());
            out!("abort() twice; reason: {}", dom_name(&ac.signal().reason().unwrap()));
        });

        on_exit(move |_| out!("exit; the 20 min signal aborted: {}", forever.is_aborted()));
        out!("script end");
    });
}
