//! Port of `118-abortsignal-any.js` (second set, rules from Node's
//! `test-abortsignal-any` and the DOM's dependent signals): `AbortSignal::
//! any(signals)` aborts as soon as one source does, with its reason, and
//! keeps it; the dispatch is synchronous inside the source's `abort()`:
//! first the source's own listeners, then the composites' in creation
//! order (a composite of a composite follows the original sources), their
//! next-ticks after `abort()` returns; over a source already aborted it is
//! aborted at once; a timeout source aborts it from the timers phase, and
//! the source that aborts first wins.
//!
//! Port notes: reasons are plain strings, except the timeout's, printed by
//! name (`TimeoutError` for `is_timeout()`); `any.aborted && ...every(..)`
//! is `is_aborted` over the five composites. Every signal stays reachable
//! from the last timer, as in the script.

use std::time::Duration;

use jsloop::abort::AbortReason;
use jsloop::{AbortController, AbortSignal, next_tick, set_timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn reason(signal: &AbortSignal) -> String {
    signal.reason().map_or("undefined".to_string(), |r| r.to_string())
}

fn name(reason: &AbortReason) -> &'static str {
    if reason.is_timeout() { "TimeoutError" } else { "AbortError" }
}

pub fn main() {
    jsloop::run(async {
        let a = AbortController::new();
        let b = AbortController::new();
        let any = AbortSignal::any([a.signal(), b.signal()]);
        let any_of_any = AbortSignal::any([&any]);

        let me = any.clone();
        any.add_listener(move |_| {
            out!("  composite listener: reason {}", reason(&me));
            next_tick(|| out!("  nextTick from the composite listener"));
        });
        let me = any_of_any.clone();
        any_of_any.add_listener(move |_| {
            out!("  composite-of-composite listener: reason {}", reason(&me))
        });
        a.signal().add_listener(|_| out!("  source a listener"));
        b.signal().add_listener(|_| out!("  source b listener"));

        out!("composite aborted at first: {}", any.is_aborted());
        out!("a.abort(\"reason a\")");
        a.abort("reason a");
        out!(
            "a.abort() returned; composite aborted: {}, reason {}",
            any.is_aborted(),
            reason(&any)
        );
        out!("b.abort(\"reason b\")");
        b.abort("reason b");
        out!("composite reason is still: {}", reason(&any));

        let pre =
            AbortSignal::any([AbortController::new().signal(), AbortSignal::abort("already")]);
        out!("any() over an aborted source: aborted {}, reason {}", pre.is_aborted(), reason(&pre));

        let c = AbortController::new();
        let t10 = AbortSignal::timeout(ms(10));
        let with_timeout = AbortSignal::any([t10.clone(), c.signal()]);
        let me = with_timeout.clone();
        with_timeout.add_listener(move |r| {
            let _ = &me;
            out!("timeout composite: {}", name(r))
        });

        let d = AbortController::new();
        let abort_d = d.clone();
        set_timeout(ms(15), move || {
            out!("timer 15 ms: d.abort(\"controller first\")");
            abort_d.abort("controller first");
        });
        let t20 = AbortSignal::timeout(ms(20));
        let raced = AbortSignal::any([t20.clone(), d.signal()]);
        let me = raced.clone();
        raced.add_listener(move |_| out!("raced composite: reason {}", reason(&me)));
        set_timeout(ms(40), move || {
            out!(
                "timer 40 ms: raced reason is still {}; its timeout source aborted too: {}",
                reason(&raced),
                t20.is_aborted()
            );
            let all = [&any, &any_of_any, &pre, &with_timeout, &raced];
            out!(
                "all composites aborted: {} ({})",
                all.iter().all(|s| s.is_aborted()),
                name(&t10.reason().unwrap())
            );
            drop((a, b, c));
        });

        out!("script end");
    });
}
