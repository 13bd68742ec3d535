//! Port of `23-foreach-async.js`: `forEach(async ...)` does not wait;
//! `for...of` with await is sequential; `Promise.all(map(async ...))` is
//! parallel. "Slow" and "fast" are counted in loop iterations (one
//! `set_immediate` hop per iteration), not in wall-clock time.
//!
//! Promises: `afterHops`'s promise is the receiving end of a `oneshot`
//! channel whose `Sender` is `resolve`. Each call of an async callback is a
//! task started with `spawn_now` (the JS call runs it up to its first
//! await); `Promise.all` over the tasks is `join_all` over their handles.

use futures::channel::oneshot;
use futures::future::join_all;
use jsloop::{set_immediate, spawn_now};

/// `const HOPS = { '/a': 3, '/b': 1, '/c': 2 };`
fn hops(url: &str) -> u32 {
    match url {
        "/a" => 3,
        "/b" => 1,
        "/c" => 2,
        _ => unreachable!("no HOPS entry for {url}"),
    }
}

fn after_hops(n: u32) -> oneshot::Receiver<()> {
    // new Promise((resolve) => { ...; hop(n); })
    let (resolve, promise) = oneshot::channel();
    fn hop(left: u32, resolve: oneshot::Sender<()>) {
        if left == 0 {
            let _ = resolve.send(());
        } else {
            set_immediate(move || hop(left - 1, resolve));
        }
    }
    hop(n, resolve);
    promise
}

async fn fake_fetch(url: &str) -> String {
    after_hops(hops(url)).await.unwrap();
    format!("data for {url}")
}

const URLS: [&str; 3] = ["/a", "/b", "/c"];

/// `async function main()`
async fn js_main() {
    out!("-- forEach");
    URLS.iter().for_each(|&url| {
        // The async callback's promise is dropped: forEach ignores it.
        drop(spawn_now(async move {
            let data = fake_fetch(url).await;
            out!("{data}");
        }));
    });
    out!("forEach returned");
    after_hops(4).await.unwrap(); // there is no way to await forEach itself

    out!("-- for...of");
    for url in URLS {
        let data = fake_fetch(url).await;
        out!("{data}");
    }
    out!("for...of finished");

    out!("-- Promise.all");
    let results = join_all(URLS.map(|url| {
        spawn_now(async move {
            let data = fake_fetch(url).await;
            out!("{data}");
        })
    }))
    .await;
    for result in results {
        result.unwrap();
    }
    out!("Promise.all finished");
}

pub fn main() {
    // main();
    jsloop::run(js_main());
}
