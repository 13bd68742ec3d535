//! Promises: a `Promise` chain, the combinators, and an `AbortController`,
//! each printing in the order Node would.
//!
//! Run it with `cargo run --example promises`.

use std::time::Duration;

use jsloop::promise::{self, Promise, tuple};
use jsloop::{AbortController, AbortSignal, abortable, set_timeout, time::sleep};

/// `new Promise(resolve => setTimeout(() => resolve(value), ms))`
fn later(ms: u64, value: &'static str) -> Promise<&'static str, String> {
    Promise::new(|resolve, _reject| {
        set_timeout(Duration::from_millis(ms), move || resolve(value));
    })
}

fn main() {
    jsloop::run(async {
        // A chain: each reaction is a microtask, run in registration order.
        later(5, "it worked")
            .then(|text| format!("{text}!"))
            .and_then(|text| if text.is_empty() { Err("empty".to_string()) } else { Ok(text) })
            .then(|text| println!("chain: {text}"))
            .finally(|| println!("chain: finally"));
        println!("sync: the chain is set up, nothing ran yet");

        // `await` takes one microtask turn, even on a settled promise.
        jsloop::queue_microtask(|| println!("microtask: queued before the await"));
        let ready = Promise::<_, ()>::resolve("ready").await.unwrap();
        println!("await: {ready} (after the microtask)");

        // The combinators, on promises or any futures.
        let all = promise::all([later(10, "a"), later(5, "b")]).await.unwrap();
        println!("all: {all:?} (input order)");
        let first = promise::race([later(10, "slow"), later(1, "fast")]).await.unwrap();
        println!("race: {first}");
        let (name, n) = tuple::all((later(1, "tuple"), async { Ok(2) })).await.unwrap();
        println!("tuple::all: {name} {n}");

        // Resolve from another thread: the reactions still run on the loop.
        let (from_thread, resolve, _reject) = Promise::<u32, ()>::with_resolvers();
        let _alive = jsloop::keep_alive();
        std::thread::spawn(move || resolve(42));
        println!("from a thread: {}", from_thread.await.unwrap());

        // Cancellation: listeners run inside abort(); the sleep is dropped.
        let controller = AbortController::new();
        let signal = controller.signal();
        signal.add_listener(|reason| println!("abort listener: {reason}"));
        set_timeout(Duration::from_millis(5), move || controller.abort("user left"));
        let either = AbortSignal::any([signal, AbortSignal::timeout(Duration::from_secs(60))]);
        let outcome = abortable(sleep(Duration::from_secs(3600)), &either).await;
        println!("abortable sleep: {}", outcome.unwrap_err());
    });
}
