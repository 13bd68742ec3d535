//! jsloop's hot paths as plain workloads, for exact instruction counts.
//!
//! Wall time on a shared 2-core VM moves by ±15 %; callgrind's instruction
//! count does not move at all for the same binary. So to compare two
//! commits, build this bench at each and count:
//!
//! ```sh
//! cargo bench -p jsloop-benches --bench instructions --no-run   # prints the binary's path
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null \
//!     target/release/deps/instructions-<hash> yield
//! ```
//!
//! With a workload name as argument it runs only that workload (once, at
//! the sizes of `benches/peers.rs`); without one it runs them all and, under
//! `cargo test -p jsloop-benches --benches` (a debug build), with sizes cut by 100. Each
//! workload runs inside a spawned task of `Runtime::block_on`, like the
//! `peers` groups, so the task waker path is the one counted.

use std::cell::RefCell;
use std::future::{Future, poll_fn};
use std::pin::pin;
use std::rc::Rc;
use std::task::{Poll, Waker};
use std::time::Duration;

const SCALE: usize = if cfg!(debug_assertions) { 100 } else { 1 };

/// The workloads by name, with their release sizes.
const WORKLOADS: [(&str, usize); 9] = [
    ("spawn", 100_000),
    ("yield", 1_000_000),
    ("ping_pong", 100_000),
    ("timers_fire", 10_000),
    ("timer_register_cancel", 100_000),
    ("set_timeout_clear", 100_000),
    ("set_timeout_fire", 100_000),
    ("queue_microtask", 1_000_000),
    ("timeout_ready", 1_000_000),
];

/// The frame phase's workload, run on a runtime of its own (virtual
/// time) and in a future of its own: in [`run`]'s, its code would change
/// how the compiler inlines every other workload's poll (yield moved by
/// 10 % in callgrind, built with codegen-units=1, when it was there).
const FRAME_WORKLOAD: (&str, usize) = ("animation_frame", 1_000_000);

fn main() {
    // `cargo bench` passes `--bench`; a name selects one workload.
    let wanted: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    for (name, n) in WORKLOADS {
        if wanted.is_empty() || wanted.iter().any(|w| w == name) {
            run(name, n / SCALE);
        }
    }
    let (name, n) = FRAME_WORKLOAD;
    if wanted.is_empty() || wanted.iter().any(|w| w == name) {
        let n = n / SCALE;
        run_frames(n);
        println!("{name}: {n} ops");
    }
}

fn run(name: &'static str, n: usize) {
    // Virtual time where a workload waits for its timers: the count then
    // does not depend on how the waits fell.
    let virtual_time = name == "set_timeout_fire";
    let rt = jsloop::Runtime::builder().virtual_time(virtual_time).build().expect("jsloop runtime");
    rt.block_on(async move {
        let task = jsloop::spawn(async move {
            match name {
                "spawn" => spawn_many(n).await,
                "yield" => yield_many(n).await,
                "ping_pong" => ping_pong(n).await,
                "timers_fire" => timers_fire(n).await,
                "timer_register_cancel" => timer_register_cancel(n).await,
                "set_timeout_clear" => set_timeout_clear(n),
                "set_timeout_fire" => set_timeout_fire(n).await,
                "queue_microtask" => queue_microtasks(n).await,
                "timeout_ready" => timeout_ready(n).await,
                other => unreachable!("unknown workload {other}"),
            }
        });
        task.await.expect("workload task");
    });
    println!("{name}: {n} ops");
}

async fn spawn_many(n: usize) {
    let handles: Vec<_> = (0..n).map(|i| jsloop::spawn(async move { i })).collect();
    let mut sum = 0;
    for handle in handles {
        sum += handle.await.expect("spawned task");
    }
    assert_eq!(sum, n * n.saturating_sub(1) / 2);
}

async fn yield_many(n: usize) {
    for _ in 0..n {
        jsloop::yield_now().await;
    }
}

/// Two tasks, `n` round trips over two single-slot channels whose receiver
/// keeps its waker (no clone per message), as in `benches/peers.rs`.
async fn ping_pong(n: usize) {
    let to_pong = Chan::default();
    let to_ping = Chan::default();
    let (from_ping, from_pong) = (to_pong.clone(), to_ping.clone());
    let ping = jsloop::spawn(async move {
        for i in 0..n {
            to_pong.send(i);
            assert_eq!(from_pong.recv().await, i);
        }
    });
    let pong = jsloop::spawn(async move {
        for _ in 0..n {
            let value = from_ping.recv().await;
            to_ping.send(value);
        }
    });
    ping.await.expect("ping");
    pong.await.expect("pong");
}

#[derive(Clone, Default)]
struct Chan(Rc<RefCell<(Option<usize>, Option<Waker>)>>);

impl Chan {
    fn send(&self, value: usize) {
        let mut slot = self.0.borrow_mut();
        slot.0 = Some(value);
        if let Some(waker) = &slot.1 {
            waker.wake_by_ref();
        }
    }

    async fn recv(&self) -> usize {
        poll_fn(|cx| {
            let mut slot = self.0.borrow_mut();
            if let Some(value) = slot.0.take() {
                return Poll::Ready(value);
            }
            match &slot.1 {
                Some(waker) if waker.will_wake(cx.waker()) => {}
                _ => slot.1 = Some(cx.waker().clone()),
            }
            Poll::Pending
        })
        .await
    }
}

/// `n` tasks each awaiting a sleep of 1..=5 ms.
async fn timers_fire(n: usize) {
    let handles: Vec<_> = (0..n)
        .map(|i| jsloop::spawn(jsloop::time::sleep(Duration::from_millis(i as u64 % 5 + 1))))
        .collect();
    for handle in handles {
        handle.await.expect("sleeping task");
    }
}

/// `n` × (create a 1 s sleep, poll it once so it registers, drop it).
async fn timer_register_cancel(n: usize) {
    for _ in 0..n {
        let mut sleep = pin!(jsloop::time::sleep(Duration::from_secs(1)));
        poll_fn(|cx| {
            assert!(sleep.as_mut().poll(cx).is_pending());
            Poll::Ready(())
        })
        .await;
    }
}

/// `n` × (`set_timeout` of 1 s, `clear` it): a Node timer's way in and
/// out of its duration's list.
fn set_timeout_clear(n: usize) {
    for _ in 0..n {
        jsloop::set_timeout(Duration::from_secs(1), || unreachable!()).clear();
    }
}

/// `n` `set_timeout` callbacks of 1..=5 ms (virtual time), then a wait
/// for the last.
async fn set_timeout_fire(n: usize) {
    let fired = Rc::new(RefCell::new(0usize));
    for i in 0..n {
        let fired = fired.clone();
        jsloop::set_timeout(Duration::from_millis(i as u64 % 5 + 1), move || {
            *fired.borrow_mut() += 1;
        });
    }
    jsloop::time::sleep(Duration::from_millis(6)).await;
    assert_eq!(*fired.borrow(), n);
}

/// `n` `queue_microtask` closures, then one more turn so all have run.
async fn queue_microtasks(n: usize) {
    let ran = Rc::new(RefCell::new(0usize));
    for _ in 0..n {
        let ran = ran.clone();
        jsloop::queue_microtask(move || *ran.borrow_mut() += 1);
    }
    jsloop::yield_now().await;
    assert_eq!(*ran.borrow(), n);
}

/// `n` × `timeout(10 s, ready)`: a time limit over a future that is done
/// at its first poll, which should cost no timer (and as little else as
/// possible) — async-io's `Timer` does nothing until it is pending.
async fn timeout_ready(n: usize) {
    for i in 0..n {
        let limited = jsloop::time::timeout(Duration::from_secs(10), std::future::ready(i));
        assert_eq!(limited.await, Ok(i));
    }
}

/// `n` `request_animation_frame` closures, 10 000 per frame, as in
/// `benches/frames.rs`: the frame phase's cost per callback, beside
/// `queue_microtask`'s (which queues all of its `n` at once).
fn run_frames(n: usize) {
    use futures::StreamExt;
    let rt = jsloop::Runtime::builder().virtual_time(true).build().expect("jsloop runtime");
    rt.block_on(async move {
        let task = jsloop::spawn(async move {
            let ran = Rc::new(RefCell::new(0usize));
            let mut next_frame = jsloop::frame::frames();
            for round in (0..n).step_by(10_000) {
                for _ in round..n.min(round + 10_000) {
                    let ran = ran.clone();
                    jsloop::frame::request_animation_frame(move |_| *ran.borrow_mut() += 1);
                }
                next_frame.next().await;
            }
            assert_eq!(*ran.borrow(), n);
        });
        task.await.expect("workload task");
    });
}
