//! Port of `101-beforeexit-revives-loop.js` (second set, rules from Node's
//! `test-process-beforeexit`): the before-exit listeners run when the loop
//! has run out of work; work they queue (an immediate, a timer, a listening
//! server, a pool job, a chain of timers) keeps the loop alive, and once it
//! is empty again they run again; they get the exit code; ticks, microtasks
//! and an unref'd timer queued there do not revive the loop; then the exit
//! listeners run once.
//!
//! Port notes: `process.on('beforeExit', f)` is `process::on_before_exit`,
//! `process.on('exit', f)` is `process::on_exit`, `process.exitCode` is
//! `process::set_exit_code`. `fs.stat(__filename, cb)` is a task awaiting
//! `jsloop::fs::metadata` (a pool job). The TCP server is a task: `listen`'s
//! callback is its code after `TcpListener::bind`, `server.close(cb)` drops
//! the listener and `cb` runs a loop turn later (`yield_to_loop`, as
//! libuv's close callbacks run after the check phase).

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use jsloop::net::TcpListener;
use jsloop::process::{on_before_exit, on_exit, set_exit_code};
use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout, spawn, yield_to_loop};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/101-beforeexit-revives-loop.js");

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A timer chain link: each link starts the next, three in all.
fn link(links: Rc<Cell<u32>>) {
    links.set(links.get() + 1);
    out!("  timer chain link {}", links.get());
    if links.get() < 3 {
        set_timeout(ms(1), move || link(links));
    }
}

pub fn main() {
    jsloop::run(async {
        let round = Rc::new(Cell::new(0));
        let counter = round.clone();
        on_before_exit(move |code| {
            counter.set(counter.get() + 1);
            let round = counter.get();
            out!("beforeExit #{round} (exitCode {code})");
            match round {
                1 => drop(set_immediate(|| out!("  immediate scheduled by beforeExit #1"))),
                2 => drop(set_timeout(ms(1), || out!("  timer scheduled by beforeExit #2"))),
                3 => drop(spawn(async {
                    let server = TcpListener::bind("127.0.0.1:0").await.unwrap();
                    out!("  server scheduled by beforeExit #3 is listening; close it");
                    drop(server);
                    yield_to_loop().await;
                    out!("  server closed");
                })),
                4 => drop(spawn(async {
                    let st = jsloop::fs::metadata(FILENAME).await.unwrap();
                    let is_file = st.is_file();
                    out!("  fs.stat scheduled by beforeExit #4: isFile={is_file}; set exitCode 5");
                    set_exit_code(5);
                })),
                5 => {
                    set_exit_code(0);
                    let links = Rc::new(Cell::new(0));
                    set_timeout(ms(1), move || link(links));
                }
                _ => {
                    next_tick(move || out!("  nextTick queued by beforeExit #{round}"));
                    queue_microtask(move || out!("  microtask queued by beforeExit #{round}"));
                    set_timeout(ms(1), || out!("never: unref'd timer")).unref();
                }
            }
        });
        on_exit(move |code| {
            out!("exit (code {code}) after {} beforeExit events", round.get());
        });
        set_timeout(ms(1), || out!("script timer"));
        out!("script end");
    });
}
