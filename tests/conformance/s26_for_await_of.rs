//! Port of `26-for-await-of.js`: `for await...of` over an array of promises
//! visits them in array order; promises that settled while an earlier one
//! was awaited are consumed at once, in the same checkpoint.
//!
//! Promises: `fakeFetch`'s promise is the receiving end of a `oneshot`
//! channel whose `Sender` is `resolve`; the timer always settles it, so
//! awaiting it never yields `Canceled`.

use std::time::Duration;

use futures::channel::oneshot;
use jsloop::{set_timeout, yield_now};

/// `await Promise.resolve(value)`: one microtask turn, then the value.
async fn resolved<T>(value: T) -> T {
    yield_now().await;
    value
}

/// What `fakeFetch` resolves with: `{ json: () => Promise.resolve(...) }`.
struct Response {
    url: &'static str,
}

impl Response {
    async fn json(&self) -> String {
        resolved(format!("json of {}", self.url)).await
    }
}

fn fake_fetch(url: &'static str, ms: u64) -> oneshot::Receiver<Response> {
    // new Promise((resolve) => setTimeout(...))
    let (resolve, promise) = oneshot::channel();
    set_timeout(Duration::from_millis(ms), move || {
        out!("response ready for {url}");
        let _ = resolve.send(Response { url });
    });
    promise
}

async fn get_data(array_of_promises: Vec<oneshot::Receiver<Response>>) {
    // for await (const request of arrayOfPromises)
    for promise in array_of_promises {
        let request = promise.await.unwrap();
        let data = request.json().await;
        out!("got {data}");
    }
}

/// `async function main()`
async fn js_main() {
    // timers are created in increasing delay order, the array order differs
    let a = fake_fetch("/a", 10);
    let b = fake_fetch("/b", 20);
    let c = fake_fetch("/c", 30);
    get_data(vec![c, a, b]).await;
    out!("first loop done");

    get_data(vec![fake_fetch("/x", 10), fake_fetch("/y", 20), fake_fetch("/z", 30)]).await;
    out!("second loop done");
}

pub fn main() {
    // main();
    jsloop::run(js_main());
}
