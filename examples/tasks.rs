//! Tasks: spawn, JoinHandle, abort, panics, and a wake from another thread.
//!
//! Run it with `cargo run --example tasks`.

use std::time::Duration;

fn main() {
    let total = jsloop::run(async {
        // Spawned tasks start as microtasks; their handles are promises.
        let handles: Vec<_> = (1..=10).map(|n| jsloop::spawn(async move { n * n })).collect();
        let mut total = 0;
        for handle in handles {
            total += handle.await.unwrap();
        }

        // Abort a task that would never finish.
        let stuck = jsloop::spawn(std::future::pending::<()>());
        stuck.abort();
        println!("aborted: {}", stuck.await.unwrap_err());

        // A panic in a task is an error for whoever awaits it.
        let failed = jsloop::spawn(async { panic!("oops") }).await.unwrap_err();
        println!("panicked: {failed}");

        // Another thread wakes us; it holds a KeepAlive until it has.
        let (tx, rx) = futures::channel::oneshot::channel();
        let guard = jsloop::keep_alive();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(10));
            tx.send(1000).unwrap();
            drop(guard);
        });
        total + rx.await.unwrap()
    });
    println!("total: {total}");
}
