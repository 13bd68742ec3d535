//! Port of `14-pool-completion-checkpoint.js`: worker-pool completions are
//! delivered by the loop (poll phase), never before the script's own
//! next-ticks and microtask flood; a completion's microtasks run right
//! after it, then the check phase, then the next iteration's timers.
//!
//! Port notes: `fs.stat` is `jsloop::fs::metadata`; `crypto.pbkdf2` is a
//! CPU-bound key stretch of the same shape (1000 rounds, 32 bytes) on
//! `spawn_blocking`. Each callback is the code after the `.await` in a
//! spawned task.

use std::cell::Cell;
use std::time::Duration;

use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout, spawn, spawn_blocking};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/14-pool-completion-checkpoint.js");

/// Stands in for `crypto.pbkdf2(password, salt, iterations, 32, ..)`.
fn stretch_key(password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
    let mut key = [0u8; 32];
    let mut state: u64 = 0xcbf2_9ce4_8422_2325;
    for round in 0..iterations {
        for &byte in password.iter().chain(salt) {
            state = (state ^ u64::from(byte) ^ u64::from(round)).wrapping_mul(0x0100_0000_01b3);
        }
        key[(round % 32) as usize] ^= state as u8;
    }
    key.to_vec()
}

thread_local! {
    static N: Cell<u32> = const { Cell::new(0) };
}

fn step() {
    let n = N.with(|n| {
        n.set(n.get() + 1);
        n.get()
    });
    if n < 10000 {
        queue_microtask(step);
    } else {
        out!("script microtask flood done: {n}");
    }
}

pub fn main() {
    N.with(|n| n.set(0));
    jsloop::run(async {
        spawn(async {
            let st = jsloop::fs::metadata(FILENAME).await.unwrap();
            out!("stat callback: isFile={}", st.is_file());
            queue_microtask(|| out!("stat: microtask"));
            set_timeout(Duration::ZERO, || {
                out!("stat: timeout");
                spawn(async {
                    let key =
                        spawn_blocking(|| stretch_key(b"secret", b"salt", 1000)).await.unwrap();
                    out!("pbkdf2 callback: {} bytes", key.len());
                    queue_microtask(|| out!("pbkdf2: promise"));
                    set_timeout(Duration::ZERO, || out!("pbkdf2: timeout"));
                    set_immediate(|| out!("pbkdf2: immediate"));
                });
                out!("pbkdf2 started");
            });
            set_immediate(|| out!("stat: immediate"));
        });

        queue_microtask(step);
        next_tick(|| out!("script nextTick"));
        out!("script end");
    });
}
