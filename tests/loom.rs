//! Loom models of the remote-wake handshakes: a push from another thread
//! racing with the loop draining the queue and going to sleep in the poller,
//! and a wake racing with the poll that clears a future's queued flag (the
//! main future's, a combinator child's), must never be lost (a lost wake
//! shows up as a loom deadlock or a failed assertion); nor may a worker's
//! stop request racing with its loop going to sleep. A message port's
//! inbox has the same shape: a post racing with the loop starting a batch
//! is in that batch or announces the next one. And a thread that wakes a
//! task and then drops its `KeepAlive` must not let the loop end with the
//! wake unseen. Nor may a socket's readiness event that lands between an
//! operation's `WouldBlock` and the drained mark it leaves be wiped out,
//! nor bytes one reader kept back be hidden by another's drained mark.
//! A `JoinHandle` moved off its loop waits on a relay: the loop finishing
//! it, racing with the handle's poll, wakes the handle and hands it the
//! task's output (written before the finish) whole. The loop's park,
//! where it sleeps either in its driver or on a futex: a notify racing
//! with the loop settling at either place reaches it there.
//!
//! Run with `RUSTFLAGS="--cfg jsloop_loom" cargo test --release --test loom`.
#![cfg(jsloop_loom)]

use std::collections::VecDeque;

use jsloop::loom_model::{
    GuardCount, Inbox, Marks, Park, Place, Poller, QueuedFlag, Relay, RemoteQueue, StopRequest,
};
use loom::sync::atomic::{AtomicUsize, Ordering};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;

/// The loop's side: drain, and sleep in the poller while nothing came.
fn loop_until(queue: &RemoteQueue<u32>, poller: &Poller, expected: usize) -> Vec<u32> {
    let mut seen = VecDeque::new();
    loop {
        queue.drain_into(&mut seen);
        if seen.len() == expected {
            return seen.into();
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
fn a_wake_before_the_last_guard_drops_is_seen_before_the_loop_ends() {
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new());
        let poller = Arc::new(Poller::new().unwrap());
        let guards = Arc::new(GuardCount::default());
        guards.acquire();
        let remote = {
            let (queue, poller, guards) = (queue.clone(), poller.clone(), guards.clone());
            thread::spawn(move || {
                queue.push(1, &poller);
                guards.release(&poller);
            })
        };
        // The loop's liveness rule, then its poll phase.
        let mut seen = VecDeque::new();
        while guards.alive_with(&queue) {
            queue.drain_into(&mut seen);
            if guards.alive_with(&queue) {
                poller.wait(None).unwrap();
            }
        }
        assert_eq!(seen, [1]);
        remote.join().unwrap();
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
        let mut seen = VecDeque::new();
        queue.drain_into(&mut seen);
        assert_eq!(seen, [1]);
        assert!(!queue.has_pending());
    });
}

#[test]
fn a_second_wake_that_finds_the_future_queued_is_seen_by_the_next_poll() {
    // The shape of `block_on(poll_fn(..))` woken twice from a thread: each
    // wake publishes an increment, then queues the future unless it is
    // queued already; the loop clears the flag and polls (reads the count)
    // once per queue entry. The future is done when it reads 2.
    loom::model(|| {
        let queue = Arc::new(RemoteQueue::new());
        let poller = Arc::new(Poller::new().unwrap());
        let flag = Arc::new(QueuedFlag::new(false));
        let count = Arc::new(AtomicUsize::new(0));
        let waker = {
            let (queue, poller, flag, count) =
                (queue.clone(), poller.clone(), flag.clone(), count.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    count.fetch_add(1, Ordering::Release);
                    if flag.mark_queued() {
                        queue.push((), &poller);
                    }
                }
            })
        };
        let mut entries = VecDeque::new();
        loop {
            queue.drain_into(&mut entries);
            if entries.pop_back().is_some() {
                flag.clear_for_poll();
                if count.load(Ordering::Acquire) == 2 {
                    break;
                }
            } else {
                poller.wait(None).unwrap();
            }
        }
        waker.join().unwrap();
    });
}

#[test]
fn a_stop_request_racing_with_the_loop_going_to_sleep_is_never_lost() {
    loom::model(|| {
        let stop = Arc::new(StopRequest::default());
        let poller = Arc::new(Poller::new().unwrap());
        let terminator = {
            let (stop, poller) = (stop.clone(), poller.clone());
            thread::spawn(move || stop.request(&poller))
        };
        // The loop: look at the request at each boundary, sleep otherwise.
        while !stop.is_requested() {
            poller.wait(None).unwrap();
        }
        terminator.join().unwrap();
    });
}

/// A port's loop: start a batch, take its messages, sleep in the poller
/// until announced while fewer than `expected` came.
fn deliver_batches(inbox: &Inbox<u32>, poller: &Poller, expected: usize) -> Vec<u32> {
    let mut seen = Vec::new();
    loop {
        for _ in 0..inbox.start_batch() {
            seen.extend(inbox.take());
        }
        if seen.len() == expected {
            return seen;
        }
        poller.wait(None).unwrap();
    }
}

/// A poster's side, as `PortShared::post` has it: queue, then announce
/// unless the batch is announced (a load first, the swap only if clear).
fn post(inbox: &Inbox<u32>, poller: &Poller, message: u32) {
    inbox.post(message).unwrap();
    if !inbox.is_notified() && inbox.mark_notified() {
        poller.notify();
    }
}

#[test]
fn a_port_post_racing_with_the_loop_starting_a_batch_is_never_lost() {
    loom::model(|| {
        let inbox = Arc::new(Inbox::new());
        let poller = Arc::new(Poller::new().unwrap());
        let poster = {
            let (inbox, poller) = (inbox.clone(), poller.clone());
            thread::spawn(move || {
                post(&inbox, &poller, 1);
                post(&inbox, &poller, 2);
            })
        };
        // Two posts, one or two announcements: both arrive, in order.
        assert_eq!(deliver_batches(&inbox, &poller, 2), [1, 2]);
        poster.join().unwrap();
    });
}

#[test]
fn a_post_racing_with_close_is_delivered_or_given_back() {
    loom::model(|| {
        let inbox = Arc::new(Inbox::new());
        let poster = {
            let inbox = inbox.clone();
            thread::spawn(move || inbox.post(5).is_ok())
        };
        inbox.close(false);
        let posted = poster.join().unwrap();
        assert_eq!(inbox.take().is_some(), posted, "a message lost between post and close");
        assert!(inbox.is_finished());
    });
}

#[test]
fn a_take_from_another_thread_racing_with_a_batch_start_loses_and_repeats_nothing() {
    loom::model(|| {
        let inbox = Arc::new(Inbox::new());
        inbox.post(1).unwrap();
        inbox.post(2).unwrap();
        // `receive_message_on_port` elsewhere while the loop moves the
        // posted messages into its batch and delivers it.
        let taker = {
            let inbox = inbox.clone();
            thread::spawn(move || inbox.take())
        };
        let delivered: Vec<u32> = (0..inbox.start_batch()).filter_map(|_| inbox.take()).collect();
        let taken = taker.join().unwrap();
        assert!(delivered.windows(2).all(|pair| pair[0] < pair[1]), "out of order: {delivered:?}");
        let mut all: Vec<u32> = delivered.iter().copied().chain(taken).collect();
        all.sort_unstable();
        assert_eq!(all, [1, 2], "delivered {delivered:?}, taken {taken:?}");
        assert!(!inbox.has_messages());
    });
}

#[test]
fn an_event_racing_with_a_wouldblock_is_never_wiped_out() {
    // A socket used on one thread while its loop takes events on another.
    // The operation reads the marks, finds no data, and marks the
    // direction drained; the event thread makes data arrive and then sets
    // ready. However they interleave, afterwards either the operation saw
    // the data or the direction is still marked ready (worth a retry):
    // otherwise the task would wait for an edge that already came.
    loom::model(|| {
        let marks = Arc::new(Marks::new());
        let data = Arc::new(loom::sync::atomic::AtomicBool::new(false));
        let event = {
            let (marks, data) = (marks.clone(), data.clone());
            thread::spawn(move || {
                data.store(true, Ordering::SeqCst);
                marks.set_ready();
            })
        };
        let saw_data = match marks.may_be_ready() {
            None => unreachable!("a new socket's direction is worth a try"),
            Some(seen) => {
                let got = data.load(Ordering::SeqCst);
                if !got {
                    marks.mark_drained(seen); // `WouldBlock`
                }
                got
            }
        };
        event.join().unwrap();
        assert!(
            saw_data || marks.take_ready(false),
            "the event was lost: drained, not ready, and the data unread"
        );
    });
}

#[test]
fn bytes_kept_back_by_one_reader_are_never_hidden_by_anothers_wouldblock() {
    // Two threads read one stream socket, each under the socket's lock
    // (which also guards the bytes kept in user space). One reads ahead
    // and keeps bytes back; the other, reading before it, found nothing and
    // marks the direction drained, with the marks it saw before its lock,
    // after it let the lock go. epoll reports no edge for bytes that left
    // the kernel, so however the two interleave, afterwards either the
    // other reader took the kept bytes or the direction is still worth a
    // try: else the kept bytes would wait for an event that never comes.
    loom::model(|| {
        let marks = Arc::new(Marks::new());
        let kept = Arc::new(Mutex::new(false));
        let other_reader = {
            let (marks, kept) = (marks.clone(), kept.clone());
            thread::spawn(move || {
                let Some(seen) = marks.may_be_ready() else { return false };
                let took_kept = std::mem::take(&mut *kept.lock().unwrap());
                if !took_kept {
                    marks.mark_drained(seen); // `WouldBlock`
                }
                took_kept
            })
        };
        {
            let mut kept = kept.lock().unwrap();
            let seen = marks.may_be_ready();
            let _ = marks.keep_ready(seen); // read ahead, bytes kept
            *kept = true;
        }
        let took_kept = other_reader.join().unwrap();
        assert!(took_kept || marks.may_be_ready().is_some(), "drained over bytes kept back");
    });
}

#[test]
fn a_relay_finished_while_the_handle_polls_wakes_it_with_the_output_written() {
    loom::model(|| {
        let relay = Arc::new(Relay::default());
        // The task cell's stage: written by the loop, read by the handle
        // after the relay finished (loom checks the handover orders them).
        let stage = Arc::new(loom::cell::UnsafeCell::new(0u32));
        let looper = {
            let (relay, stage) = (relay.clone(), stage.clone());
            thread::spawn(move || {
                // SAFETY (model): only this thread touches the stage before
                // `finish`, and only the handle after it.
                stage.with_mut(|stage| unsafe { *stage = 42 });
                relay.finish();
            })
        };
        // The handle's executor: poll, and sleep until the waker notifies.
        let poller = Arc::new(Poller::new().unwrap());
        let waker = std::task::Waker::from(std::sync::Arc::new(Notify(poller.clone())));
        let mut cx = std::task::Context::from_waker(&waker);
        while relay.poll_finished(&mut cx).is_pending() {
            poller.wait(None).unwrap();
        }
        assert!(relay.is_finished());
        // SAFETY (model): the relay finished, so the loop is done with it.
        assert_eq!(stage.with(|stage| unsafe { *stage }), 42);
        looper.join().unwrap();
    });
}

/// A waker that notifies a poller, as a thread's own loop's waker does.
struct Notify(Arc<Poller>);

impl std::task::Wake for Notify {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.notify();
    }
}

/// A driver as the park sees it: a wait that only its own sticky notify
/// ends (an eventfd written, an `epoll_wait` on it).
#[derive(Default)]
struct StickyDriver {
    notified: Mutex<bool>,
    condvar: Condvar,
}

impl StickyDriver {
    /// A wait whose timeout ran out: it takes a notify that came, and
    /// returns without one.
    fn wait_briefly(&self) {
        *self.notified.lock().unwrap() = false;
    }

    fn wait(&self) {
        let mut notified = self.notified.lock().unwrap();
        while !*notified {
            notified = self.condvar.wait(notified).unwrap();
        }
        *notified = false;
    }

    fn notify(&self) {
        *self.notified.lock().unwrap() = true;
        self.condvar.notify_one();
    }
}

/// The loop's side of the park: sleeps at `places` in turn until it has
/// seen `expected` items: in the driver while sockets are registered,
/// once with a timeout that runs out (so a driver notify can come late,
/// after the loop moved on), and on the futex while none are.
fn park_until(park: &Park, driver: &StickyDriver, items: &AtomicUsize, expected: usize) {
    let mut places =
        [(Place::Driver, true), (Place::Futex, false), (Place::Driver, false)].into_iter().cycle();
    while items.load(Ordering::Acquire) < expected {
        let (place, briefly) = places.next().unwrap();
        if park.settle(place) {
            match place {
                Place::Driver if briefly => driver.wait_briefly(),
                Place::Driver => driver.wait(),
                Place::Futex => park.sleep_on_futex(None).unwrap(),
            }
            park.woke();
        }
    }
}

#[test]
fn a_notify_reaches_the_loop_whether_it_sleeps_in_its_driver_or_on_the_futex() {
    loom::model(|| {
        let (park, driver) = (Arc::new(Park::new()), Arc::new(StickyDriver::default()));
        let items = Arc::new(AtomicUsize::new(0));
        let notifier = {
            let (park, driver, items) = (park.clone(), driver.clone(), items.clone());
            thread::spawn(move || {
                for _ in 0..2 {
                    items.fetch_add(1, Ordering::Release);
                    if park.notify() {
                        driver.notify();
                    }
                }
            })
        };
        park_until(&park, &driver, &items, 2);
        notifier.join().unwrap();
    });
}
