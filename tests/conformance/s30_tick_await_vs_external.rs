//! Port of `30-tick-await-vs-external.js` (tick-exact): awaiting an already
//! resolved promise, or `await null`, costs exactly one microtask turn, and
//! the continuation is queued at the moment of the await.
//!
//! Port notes: `steps()` is `Promise::spawn` (it runs at once up to its
//! first await, like calling the async function); `counter()` likewise;
//! `await null` is `yield_now()`.

use std::time::Duration;

use jsloop::promise::Promise;
use jsloop::{queue_microtask, set_timeout, yield_now};

type Done = Promise<(), ()>;

fn steps() -> Done {
    Promise::spawn(async {
        out!("step 1");
        Done::resolve(()).await?;
        out!("step 2");
        Done::resolve(()).await?;
        out!("step 3");
        Ok(())
    })
}

fn counter(name: &'static str, n: u32) -> Done {
    Promise::spawn(async move {
        for i in 1..=n {
            yield_now().await;
            out!("{name} after await {i}");
        }
        Ok(())
    })
}

pub fn main() {
    jsloop::run(async {
        steps();
        Done::resolve(()).then(|()| out!("external microtask"));
        set_timeout(Duration::ZERO, || {
            counter("A", 3);
            counter("B", 3);
            queue_microtask(|| out!("queueMicrotask after both started"));
        });
    });
}
