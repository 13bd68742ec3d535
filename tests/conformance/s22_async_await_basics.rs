//! Port of `22-async-await-basics.js`: an async function runs synchronously
//! up to its first await (`spawn_now`); `await` on a rejected promise throws
//! into try/catch; a promise that is not awaited runs on its own; an async
//! function that throws returns a rejected promise.
//!
//! Promises: a promise settled from a timer is the receiving end of a
//! `oneshot` channel, and its `Sender` is `resolve` (a rejection is an `Err`
//! sent through it). The timers always settle them, so awaiting one never
//! yields `Canceled`. A rejected `await` that throws is a `?`.

use std::time::Duration;

use futures::channel::oneshot;
use jsloop::{set_timeout, spawn_now, yield_now};

/// `await Promise.resolve(value)`: one microtask turn, then the value.
async fn resolved<T>(value: T) -> T {
    yield_now().await;
    value
}

/// What `fakeFetch` resolves with: `{ json: () => Promise.resolve(...) }`.
struct Response {
    url: String,
}

impl Response {
    async fn json(&self) -> String {
        resolved(format!("body of {}", self.url)).await
    }
}

fn fake_fetch(url: &str) -> oneshot::Receiver<Result<Response, String>> {
    // new Promise((resolve, reject) => ...)
    let (resolve, promise) = oneshot::channel();
    let url = url.to_string();
    set_timeout(Duration::from_millis(10), move || {
        if url == "/broken" {
            let _ = resolve.send(Err(format!("HTTP 500 for {url}"))); // reject
        } else {
            let _ = resolve.send(Ok(Response { url }));
        }
    });
    promise
}

async fn fetch_data() -> &'static str {
    out!("B - inside fetchData, before await");
    let result = resolved("data").await;
    out!("D - inside fetchData, after await");
    result
}

async fn get_data(url: &str) {
    // try { ... } catch (err) { ... }
    let attempt = async {
        let res = fake_fetch(url).await.unwrap()?;
        let data = res.json().await;
        out!("{data}");
        Ok::<(), String>(())
    };
    if let Err(err) = attempt.await {
        out!("oops: {err}");
    }
}

/// `const db = { insert(user) { ... } }`
mod db {
    use super::*;

    pub fn insert(user: &'static str) -> oneshot::Receiver<()> {
        let (resolve, promise) = oneshot::channel();
        set_timeout(Duration::from_millis(10), move || {
            out!("inserted {user}");
            let _ = resolve.send(());
        });
        promise
    }
}

async fn save_user(user: &'static str) {
    let _promise = db::insert(user); // returns a Promise - but no await!
    out!("saved {user}"); // runs before insert completes
}

async fn save_user_fixed(user: &'static str) {
    db::insert(user).await.unwrap();
    out!("saved {user}");
}

/// `new Error(message)`
struct Error {
    message: String,
}

async fn danger() -> Result<(), Error> {
    // throw new Error('oops');
    Err(Error { message: "oops".to_string() })
}

/// `async function main()`
async fn js_main() {
    out!("A - before call");
    let p = spawn_now(fetch_data());
    out!("C - after call");
    out!("fetchData result: {}", p.await.unwrap());

    get_data("/users").await;
    get_data("/broken").await;

    save_user("ann").await;
    save_user_fixed("bob").await;

    // await danger().catch((err) => console.log('caught: ' + err.message));
    if let Err(err) = danger().await {
        out!("caught: {}", err.message);
    }
}

pub fn main() {
    // main();
    jsloop::run(js_main());
}
