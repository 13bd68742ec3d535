//! Port of `16-all-fail-fast.js`: `promise::all` keeps input order, fails
//! on the first error, and cancels nothing: the other tasks keep running.
//!
//! Port notes: each `task(...)` call is `spawn_now` (it runs to its first
//! await at once, creating its timer in call order, as the JS call does);
//! `all` gets the tasks' `JoinHandle`s, and a handle that `all` drops when
//! it fails fast detaches its task, which goes on like the JS promise.

use std::time::Duration;

use jsloop::promise::all;
use jsloop::{JoinHandle, spawn_now};

async fn task(name: &'static str, ms: u64, fail: bool) -> Result<String, String> {
    jsloop::time::sleep(Duration::from_millis(ms)).await;
    if fail {
        out!("{name} fails");
        return Err(format!("{name} failed"));
    }
    out!("{name} done");
    Ok(name.to_uppercase())
}

/// `await handle` as the promise's value (a task here never panics).
async fn settled(handle: JoinHandle<Result<String, String>>) -> Result<String, String> {
    handle.await.expect("task ran")
}

pub fn main() {
    jsloop::run(async {
        // success: timers are created in increasing delay order, the array is not
        let task_a = spawn_now(task("taskA", 10, false));
        let task_b = spawn_now(task("taskB", 20, false));
        let task_c = spawn_now(task("taskC", 30, false));
        let results = all([settled(task_c), settled(task_a), settled(task_b)]).await.unwrap();
        out!("all fulfilled: {}", results.join(","));

        let t1 = spawn_now(task("t1", 10, false));
        let t2 = spawn_now(task("t2", 20, true));
        let t3 = spawn_now(task("t3", 30, false));
        let t4 = spawn_now(task("t4", 40, true));
        match all([settled(t3), settled(t1), settled(t2), settled(t4)]).await {
            Ok(results) => out!("never: {}", results.join(",")),
            Err(err) => out!("all rejected with: {err}"),
        }
        out!("main continues while t3 and t4 are still running");
    });
    out!("loop finished");
}
