//! Port of `27-abort-signal.js`: `abort()` runs the listeners synchronously
//! and in order, an abortable sleep clears its timer and rejects, the task
//! awaiting it resumes in a microtask, a cleared timer no longer keeps the
//! loop alive, and a second abort or a late listener does nothing.
//!
//! Port notes: `sleep(ms, signal)` is the same `Promise::new` with a timer
//! and an abort listener; `.catch(err => 'text' + err)` needs a string
//! value, so a `then` first turns the sleep's `()` into one.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use jsloop::abort::AbortReason;
use jsloop::promise::Promise;
use jsloop::{AbortController, AbortSignal, set_immediate, set_timeout};

fn sleep(ms: u64, signal: &AbortSignal) -> Promise<(), AbortReason> {
    Promise::new(|resolve, reject| {
        if let Some(reason) = signal.reason() {
            reject(reason);
            return;
        }
        let on_abort = Rc::new(Cell::new(None));
        let timer = set_timeout(Duration::from_millis(ms), {
            let (signal, on_abort) = (signal.clone(), on_abort.clone());
            move || {
                if let Some(id) = on_abort.get() {
                    signal.remove_listener(id);
                }
                resolve(());
            }
        });
        on_abort.set(Some(signal.add_listener(move |reason| {
            timer.clear();
            out!("  sleep({ms}) cancelled");
            reject(reason.clone());
        })));
    })
}

async fn worker(ac: AbortController) {
    let signal = ac.signal();
    let steps = async {
        for i in 1..=5 {
            sleep(10, &signal).await?;
            out!("worker step {i}");
            if i == 2 {
                let ac = ac.clone();
                set_immediate(move || {
                    out!("before abort");
                    ac.abort("stop");
                    out!("after abort");
                });
            }
        }
        Ok::<(), AbortReason>(())
    };
    if let Err(err) = steps.await {
        out!("worker caught: {err}");
    }
}

pub fn main() {
    let ac = AbortController::new();
    jsloop::run({
        let ac = ac.clone();
        async move {
            let signal = ac.signal();
            signal.add_listener({
                let signal = signal.clone();
                move |_| {
                    let reason = signal.reason().map(|r| r.to_string()).unwrap_or_default();
                    out!("listener 1: aborted={} reason={reason}", signal.is_aborted());
                }
            });
            signal.add_listener(|_| out!("listener 2"));

            let long = sleep(1000, &signal)
                .then(|()| String::new())
                .catch(|err| format!("long sleep rejected: {err}"));
            worker(ac.clone()).await;
            out!("{}", long.await.unwrap());

            ac.abort("again");
            out!("after second abort: reason={}", signal.reason().unwrap());
            signal.add_listener(|_| out!("never: late listener"));
            if let Err(err) = sleep(10, &signal).await {
                out!("sleep on an aborted signal rejects at once: {err}");
            }
        }
    });
    out!("loop finished");
}
