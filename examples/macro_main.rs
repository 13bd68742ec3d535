//! `#[jsloop::main]`: an `async fn main` as the main script, with Node's
//! semantics. The program ends once the loop has nothing left to do, not
//! when `main`'s body does, so the timer and the task it did not wait for
//! still print.
//!
//! Run it with `cargo run --example macro_main`.

use std::time::Duration;

use jsloop::time::sleep;

#[jsloop::main]
async fn main() {
    println!("1 - main's body starts");
    jsloop::set_timeout(Duration::from_millis(20), || println!("4 - the timer, at 20 ms"));
    jsloop::spawn(async {
        sleep(Duration::from_millis(10)).await;
        println!("3 - the spawned task, at 10 ms");
    });
    println!("2 - main's body ends");
}
