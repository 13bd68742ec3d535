//! Loom model of the remote-wake handshake: a push from another thread
//! racing with the loop draining the queue and going to sleep in the poller
//! must never be lost (a lost wake shows up as a loom deadlock).
//!
//! Run with `RUSTFLAGS="--cfg jsloop_loom" cargo test --release --test loom`.
#![cfg(jsloop_loom)]

use jsloop::loom_model::{Poller, RemoteQueue};
use loom::sync::Arc;
use loom::thread;

/// The loop's side: drain, and sleep in the poller while nothing came.
fn loop_until(queue: &RemoteQueue<u32>, poller: &Poller, expected: usize) -> Vec<u32> {
    let mut seen = Vec::new();
    loop {
        queue.drain_into(&mut seen);
        if seen.len() == expected {
            return seen;
        }
        poller.wait(None).unwrap();
    }
}

#[test]
fn a_remote_push_racing_with_the_loop_going_to_sleep_is_never_lost() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new());
        let poller = Arc::new(Poller::new().unwrap());
        let remote = {
            let (queue, poller) = (queue.clone(), poller.clone());
            thread::spawn(move || queue.push(7, &poller))
        };
        assert_eq!(loop_until(&queue, &poller, 1), [7]);
        remote.join().unwrap();
    });
}

#[test]
fn two_remote_pushers_both_reach_the_loop() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new());
        let poller = Arc::new(Poller::new().unwrap());
        let pushers: Vec<_> = (0..2)
            .map(|i| {
                let (queue, poller) = (queue.clone(), poller.clone());
                thread::spawn(move || queue.push(i, &poller))
            })
            .collect();
        let mut seen = loop_until(&queue, &poller, 2);
        seen.sort_unstable();
        assert_eq!(seen, [0, 1]);
        for pusher in pushers {
            pusher.join().unwrap();
        }
    });
}

#[test]
fn pending_flag_is_set_until_the_loop_drains() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new());
        let poller = Arc::new(Poller::new().unwrap());
        let remote = {
            let (queue, poller) = (queue.clone(), poller.clone());
            thread::spawn(move || queue.push(1, &poller))
        };
        remote.join().unwrap();
        assert!(queue.has_pending());
        let mut seen = Vec::new();
        queue.drain_into(&mut seen);
        assert_eq!(seen, [1]);
        assert!(!queue.has_pending());
    });
}
