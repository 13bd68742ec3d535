//! A worker's message channel to its parent (`Worker::spawn_with_port`):
//! order both ways, delivery before the exit, the ends' refs, and bad
//! input. Times are only bounded generously from above.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jsloop::worker::{MessagePort, Worker};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// Until the worker thread has ended, without blocking the parent's loop.
async fn until_exited<T, M: Send>(worker: &Worker<T, M>) {
    while !worker.has_exited() {
        jsloop::time::sleep(ms(1)).await;
    }
}

#[test]
fn messages_keep_their_order_both_ways_even_posted_before_the_worker_started() {
    const N: u32 = 10_000;
    let (replies, handled) = jsloop::block_on(async {
        let worker = Worker::spawn_with_port(|parent: MessagePort<u32>| async move {
            let mut handled = 0;
            while let Some(n) = parent.recv().await {
                parent.post_message(n * 2).unwrap();
                handled += 1;
            }
            handled
        })
        .unwrap();
        for n in 0..N {
            worker.post_message(n).unwrap();
        }
        let mut replies = Vec::new();
        while replies.len() < N as usize {
            replies.push(worker.recv().await.unwrap());
        }
        worker.port().close(); // the worker's `recv` ends, so does the worker
        (replies, worker.exit().await.unwrap())
    });
    assert_eq!(handled, N);
    assert_eq!(replies, (0..N).map(|n| n * 2).collect::<Vec<_>>());
}

#[test]
fn every_message_reaches_the_listener_before_exit_even_one_attached_after_the_end() {
    let seen = Rc::new(RefCell::new(Vec::new()));
    jsloop::block_on({
        let seen = seen.clone();
        async move {
            let worker = Worker::spawn_with_port(|parent| async move {
                for n in 0..100 {
                    parent.post_message(n).unwrap();
                }
            })
            .unwrap();
            until_exited(&worker).await;
            // The worker thread is gone; its messages wait in this port.
            worker.on_message(move |n| seen.borrow_mut().push(n));
            worker.exit().await.unwrap();
        }
    });
    assert_eq!(*seen.borrow(), (0..100).collect::<Vec<_>>());
}

#[test]
fn the_parent_can_reply_from_its_listener_with_the_worker_in_an_rc() {
    let log = jsloop::block_on(async {
        let worker = Rc::new(
            Worker::spawn_with_port(|parent: MessagePort<u32>| async move {
                parent.post_message(1).unwrap();
                while let Some(n) = parent.recv().await {
                    if n >= 5 {
                        return n;
                    }
                    parent.post_message(n + 1).unwrap();
                }
                0
            })
            .unwrap(),
        );
        let log = Rc::new(RefCell::new(Vec::new()));
        let (reply, seen) = (worker.clone(), log.clone());
        worker.on_message(move |n| {
            seen.borrow_mut().push(n);
            let _ = reply.post_message(n + 1);
        });
        let last = worker.exit().await.unwrap();
        log.borrow_mut().push(last);
        Rc::try_unwrap(log).unwrap().into_inner()
    });
    assert_eq!(log, [1, 3, 5, 6]);
}

#[test]
fn posting_to_a_worker_that_ended_or_has_no_port_gives_the_message_back() {
    jsloop::block_on(async {
        let plain = Worker::spawn(|| async {}).unwrap();
        until_exited(&plain).await;
        assert_eq!(plain.post_message(()).unwrap_err().into_inner(), ());

        let with_port = Worker::spawn_with_port(|_parent: MessagePort<String>| async {}).unwrap();
        until_exited(&with_port).await;
        let error = with_port.post_message("late".into()).unwrap_err();
        assert_eq!(error.to_string(), "the message port's channel is closed");
        assert_eq!(error.into_inner(), "late");
        assert_eq!(with_port.recv().await, None, "the worker's end closed");
    });
}

#[test]
fn the_parent_s_end_does_not_keep_the_parent_loop_alive_once_the_worker_is_unrefd() {
    let kept = Rc::new(RefCell::new(None));
    let started = Instant::now();
    jsloop::run({
        let kept = kept.clone();
        async move {
            // Alive for 10 s: its own port has a listener.
            let worker = Worker::spawn_with_port(|parent: MessagePort<u8>| async move {
                let parent = Rc::new(parent);
                parent.on_message(|_| {});
                jsloop::set_timeout(ms(10_000), move || parent.close());
            })
            .unwrap();
            worker.on_message(|_| unreachable!("the worker posts nothing"));
            worker.unref();
            *kept.borrow_mut() = Some(worker);
        }
    });
    assert!(started.elapsed() < ms(5_000), "the parent's port kept its loop alive");
    drop(kept.borrow_mut().take()); // terminates the worker
}

#[test]
#[should_panic(expected = "jsloop: this worker's exit was already read")]
fn reading_an_exit_twice_panics() {
    jsloop::block_on(async {
        let worker = Worker::spawn(|| async { 1 }).unwrap();
        assert_eq!(worker.exit().await.unwrap(), 1);
        let _ = worker.exit().await;
    });
}
