//! Port of `124-tick-events-once.js` (second set, tick-exact, rule from
//! Node's `test-events-once`): a promise settled by a one-shot listener
//! resumes its awaiting code one tick after the emit; `events::once`'s
//! promise follows an inner one, so its awaiting code and its `then`
//! callback come one tick later, after step 1 of a chain started right
//! after the emit; the plain listener runs inside the emit.
//!
//! Port notes: the async arrow functions are `spawn_now`; the hand-made
//! `new Promise(resolve => ee.once('go', resolve))` is `Promise::new` with
//! an `ee.once` that calls `resolve`; `events.once(ee, 'go')` is
//! `events::once(&ee, "go")`, a `Promise` (so `.then` ports as is). The
//! emitter has no errors (`E = Infallible`), so awaiting cannot fail.

use std::convert::Infallible;
use std::time::Duration;

use jsloop::events::{self, EventEmitter};
use jsloop::promise::Promise;
use jsloop::{set_timeout, spawn_now};

pub fn main() {
    jsloop::run(async {
        let ee = EventEmitter::<()>::new();

        spawn_now({
            let ee = ee.clone();
            async move {
                let _ = Promise::<(), Infallible>::new(|resolve, _| {
                    ee.once("go", move |()| resolve(()));
                })
                .await;
                out!("hand-made promise: awaiting code resumed");
            }
        });
        spawn_now({
            let ee = ee.clone();
            async move {
                let _ = events::once(&ee, "go").await;
                out!("events.once: awaiting code resumed");
            }
        });
        events::once(&ee, "go").then(|()| out!("events.once: .then callback ran"));
        ee.on("go", |()| out!("plain listener (inside emit)"));

        set_timeout(Duration::from_millis(1), move || {
            out!("timer: emit go");
            ee.emit("go", ());
            out!("timer: emit returned");
            let mut p = Promise::<(), Infallible>::resolve(());
            for i in 1..=4 {
                p = p.then(move |()| out!("chain step {i}"));
            }
        });
    });
}
