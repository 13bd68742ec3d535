//! Port of `116-timers-promises-abort.js` (second set, rules from Node's
//! `test-timers-promisified`, `test-timers-interval-promisified`): a
//! promise timer given an aborted signal rejects at once with its reason;
//! aborting while it waits rejects it synchronously inside `abort()` (the
//! awaiting code resumes a microtask later); aborting after it resolved
//! changes nothing; the same for the immediate promise; the interval is an
//! async iterator of its value, cleared when the loop over it breaks, and
//! an abort rejects the pending `next()`.
//!
//! Port notes: `timers/promises` is `jsloop::time::promises`, its
//! `{ signal }` option `TimerOptions::signal`. Node's `AbortError` (name
//! `AbortError`, code `ABORT_ERR`) is the `AbortReason` the promise rejects
//! with; its `cause` is that reason's text. The async iterator is
//! `promises::set_interval`'s `Stream`: `for await` is `while let` over
//! `next()`, `break` drops the stream, and `it.next()` kept for later is a
//! `next()` future created before the abort and awaited after it.

use std::time::Duration;

use futures::StreamExt;
use jsloop::process::on_exit;
use jsloop::promise::Promise;
use jsloop::time::promises::{self as tp, TimerOptions};
use jsloop::{AbortController, AbortSignal, set_timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn with(signal: &AbortSignal) -> TimerOptions {
    TimerOptions::new().signal(signal)
}

async fn script() {
    set_timeout(Duration::ZERO, || out!("a 0 ms callback timer (created first)"));
    if let Err(e) = tp::set_timeout_with(ms(10), "x", with(&AbortSignal::abort("too early"))).await
    {
        out!("pre-aborted setTimeout: AbortError ABORT_ERR, cause: {e}");
    }
    if let Err(e) = tp::set_immediate_with("x", with(&AbortSignal::abort("also too early"))).await {
        out!("pre-aborted setImmediate: AbortError, cause: {e}");
    }

    let ac = AbortController::new();
    let waiting = tp::set_timeout_with(ms(10_000), "never", with(&ac.signal()));
    set_timeout(ms(5), move || {
        out!("timer: abort(\"stop\")");
        ac.abort("stop");
        out!("timer: abort() returned");
    });
    if let Err(e) = waiting.await {
        out!("aborted while waiting: AbortError, cause: {e}");
    }

    let ac2 = AbortController::new();
    let v = tp::set_timeout_with(ms(1), "done", with(&ac2.signal())).await.unwrap();
    ac2.abort("late");
    out!("abort after resolve: still {v}");

    let mut n = 0;
    let mut ticks = tp::set_interval(ms(2), "tick value");
    while let Some(value) = ticks.next().await {
        n += 1;
        out!("interval {n}: {}", value.unwrap());
        if n == 3 {
            break;
        }
    }
    drop(ticks);
    out!("for await left with break after {n}");

    let ac3 = AbortController::new();
    let mut it = tp::set_interval_with(ms(2), "v", with(&ac3.signal()));
    out!("first next(): {}", it.next().await.unwrap().unwrap());
    let second = it.next();
    ac3.abort("enough");
    if let Some(Err(e)) = second.await {
        out!("pending next() after abort: AbortError, cause: {e}");
    }
}

pub fn main() {
    jsloop::run(async {
        Promise::<(), ()>::spawn(async {
            script().await;
            Ok(())
        })
        .then(|()| out!("main done"));
        on_exit(|_| out!("exit"));
    });
}
