//! Message ports (`jsloop::worker`): delivery in the poll phase, one
//! macrotask per message, posting order, liveness, close, and bad input.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use jsloop::worker::{MessageChannel, receive_message_on_port};

type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

#[test]
fn post_to_a_port_whose_other_end_is_gone_gives_the_message_back() {
    let MessageChannel { port1, port2 } = MessageChannel::new();
    drop(port2);
    let error = port1.post_message(String::from("lost")).unwrap_err();
    assert_eq!(error.to_string(), "the message port's channel is closed");
    assert_eq!(error.into_inner(), "lost");
    // And from the closing side too.
    let MessageChannel { port1, port2 } = MessageChannel::new();
    port1.close();
    assert_eq!(port1.post_message(1).unwrap_err().into_inner(), 1);
    assert_eq!(port2.post_message(2).unwrap_err().into_inner(), 2);
}

#[test]
fn posting_never_delivers_synchronously() {
    let log: Log = Rc::default();
    jsloop::run({
        let log = log.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            let port2 = Rc::new(port2);
            let inner = log.clone();
            let closer = port2.clone();
            port2.on_message(move |m: u32| {
                push(&inner, format!("message {m}"));
                let tick = inner.clone();
                jsloop::next_tick(move || push(&tick, format!("tick after {m}")));
                if m == 2 {
                    closer.close();
                }
            });
            port1.post_message(1).unwrap();
            port1.post_message(2).unwrap();
            jsloop::queue_microtask({
                let log = log.clone();
                move || push(&log, "script microtask")
            });
            jsloop::set_immediate({
                let log = log.clone();
                move || push(&log, "immediate")
            });
            push(&log, "script end");
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "script end",
            "script microtask",
            "message 1",
            "tick after 1",
            "message 2",
            "tick after 2",
            "immediate"
        ]
    );
}

#[test]
fn a_million_messages_queued_before_the_receiver_reads_all_arrive_in_order() {
    const N: u32 = 1_000_000;
    let MessageChannel { port1, port2 } = MessageChannel::new();
    for n in 0..N {
        port1.post_message(n).unwrap();
    }
    drop(port1);
    let count = jsloop::run(async move {
        let mut next = 0;
        while let Some(n) = port2.recv().await {
            assert_eq!(n, next, "message out of order");
            next += 1;
        }
        next
    });
    assert_eq!(count, N);
}

#[test]
fn messages_from_another_thread_arrive_in_posting_order() {
    const N: u32 = 10_000;
    let received = jsloop::run(async {
        let MessageChannel { port1, mut port2 } = MessageChannel::new();
        let poster = std::thread::spawn(move || {
            for n in 0..N {
                port1.post_message(n).unwrap();
                if n % 1000 == 0 {
                    std::thread::yield_now();
                }
            }
        });
        let all: Vec<u32> = (&mut port2).collect().await;
        poster.join().unwrap();
        all
    });
    assert_eq!(received, (0..N).collect::<Vec<_>>());
}

#[test]
fn ping_pong_between_two_ports_on_one_loop_keeps_a_due_timer_running() {
    let bounces = Rc::new(Cell::new(0u64));
    let timer_saw = Rc::new(Cell::new(0u64));
    jsloop::run({
        let (bounces, timer_saw) = (bounces.clone(), timer_saw.clone());
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            let (p, q) = (Rc::new(port1), Rc::new(port2));
            let running = Rc::new(Cell::new(true));
            // Each side answers on the other port: an endless exchange.
            for (receiver, sender) in [(p.clone(), q.clone()), (q.clone(), p.clone())] {
                let (running, bounces) = (running.clone(), bounces.clone());
                receiver.on_message(move |()| {
                    bounces.set(bounces.get() + 1);
                    if running.get() {
                        let _ = sender.post_message(());
                    }
                });
            }
            jsloop::set_timeout(Duration::from_millis(5), move || {
                timer_saw.set(bounces.get());
                running.set(false);
                p.close();
            });
            q.post_message(()).unwrap();
        }
    });
    assert!(timer_saw.get() > 0, "the timer ran before the ping-pong started");
    assert!(bounces.get() >= timer_saw.get());
}

#[test]
fn close_delivers_queued_messages_first_then_ends() {
    let (received, closes) = jsloop::run(async {
        let MessageChannel { port1, mut port2 } = MessageChannel::new();
        let closes = Rc::new(Cell::new(0));
        for port in [&port1, &port2] {
            let closes = closes.clone();
            port.on_close(move || closes.set(closes.get() + 1));
        }
        for n in 0..5 {
            port1.post_message(n).unwrap();
        }
        port1.close();
        let received: Vec<i32> = (&mut port2).collect().await;
        assert_eq!(port2.recv().await, None, "a closed, drained port keeps ending");
        (received, closes)
    });
    assert_eq!(received, [0, 1, 2, 3, 4]);
    assert_eq!(closes.get(), 2, "on_close runs on both ports");
}

#[test]
fn a_port_dropped_on_another_thread_ends_the_receivers_stream() {
    let received = jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::new();
        std::thread::spawn(move || {
            port1.post_message("last words").unwrap();
            std::thread::sleep(Duration::from_millis(20));
            drop(port1);
        });
        let first = port2.recv().await;
        let end = port2.recv().await;
        (first, end)
    });
    assert_eq!(received, (Some("last words"), None));
}

#[test]
fn a_bound_port_with_a_listener_dropped_on_another_thread_lets_the_loop_end() {
    let closed = Rc::new(Cell::new(false));
    jsloop::run({
        let closed = closed.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::<u8>::new();
            port2.on_message(|_| {});
            port2.on_close(move || closed.set(true));
            std::thread::spawn(move || drop((port1, port2)));
        }
    });
    assert!(closed.get());
}

#[test]
fn messages_posted_before_a_listener_wait_in_the_port() {
    let log: Log = Rc::default();
    jsloop::run({
        let log = log.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            for m in ["q1", "q2", "q3"] {
                port1.post_message(m).unwrap();
            }
            assert_eq!(receive_message_on_port(&port2), Some("q1"));
            jsloop::set_immediate(move || {
                let port2 = Rc::new(port2);
                let closer = port2.clone();
                port2.on_message(move |m| {
                    push(&log, m);
                    if m == "q3" {
                        closer.close();
                    }
                });
            });
        }
    });
    assert_eq!(*log.borrow(), ["q2", "q3"]);
}

#[test]
fn a_listener_keeps_the_loop_alive_until_unref() {
    // With `unref` the loop ends though the port is still open.
    let ended = jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::<u8>::new();
        port2.on_message(|_| {});
        port2.unref();
        std::mem::forget((port1, port2));
        true
    });
    assert!(ended);
    // ref_ again: the listener keeps the loop going until a message closes it.
    let got = jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::<u8>::new();
        let port2 = Rc::new(port2);
        let got = Rc::new(Cell::new(0));
        let (closer, seen) = (port2.clone(), got.clone());
        port2.on_message(move |m| {
            seen.set(m);
            closer.close();
        });
        port2.unref();
        port2.ref_();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            port1.post_message(9).unwrap();
        });
        got
    });
    assert_eq!(got.get(), 9);
}

#[test]
fn a_waiting_recv_keeps_the_loop_alive() {
    let got = Rc::new(Cell::new(None));
    jsloop::run({
        let got = got.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            // The script ends at once; only the task waiting in `recv` is left.
            jsloop::spawn(async move { got.set(port2.recv().await) });
            std::thread::spawn(move || {
                std::thread::sleep(Duration::from_millis(20));
                port1.post_message(3).unwrap();
            });
        }
    });
    assert_eq!(got.get(), Some(3));
}

#[test]
#[should_panic(expected = "this MessagePort belongs to another runtime")]
fn receiving_on_a_second_runtime_panics() {
    let MessageChannel { port1, port2 } = MessageChannel::new();
    port1.post_message(1).unwrap();
    let port2 = jsloop::run(async move {
        assert_eq!(port2.recv().await, Some(1));
        port2
    });
    port1.post_message(2).unwrap();
    jsloop::run(async move { port2.recv().await });
}

#[test]
fn a_port_moves_to_another_thread_before_its_first_receive() {
    let MessageChannel { port1, port2 } = MessageChannel::new();
    port1.post_message(11).unwrap();
    let got =
        std::thread::spawn(move || jsloop::run(async move { port2.recv().await })).join().unwrap();
    assert_eq!(got, Some(11));
    drop(port1);
}

#[test]
fn a_port_whose_receiver_is_done_does_not_keep_the_loop_alive() {
    // The port stays open (held by the script's output), but nothing waits.
    let (port1, port2) = jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::new();
        port1.post_message(1).unwrap();
        assert_eq!(port2.recv().await, Some(1));
        (port1, port2)
    });
    port1.post_message(2).unwrap();
    assert_eq!(receive_message_on_port(&port2), Some(2));
}

#[test]
fn a_dropped_recv_stops_keeping_the_loop_alive() {
    let timed_out = jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::<u8>::new();
        let result = jsloop::time::timeout(Duration::from_millis(5), port2.recv()).await;
        drop(port1);
        result.is_err()
    });
    assert!(timed_out);
}

#[test]
fn each_message_received_with_recv_is_its_own_macrotask() {
    let log: Log = Rc::default();
    jsloop::run({
        let log = log.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            for m in 1..=3 {
                port1.post_message(m).unwrap();
            }
            drop(port1);
            while let Some(m) = port2.recv().await {
                push(&log, format!("got {m}"));
                let tick = log.clone();
                // Runs in this message's checkpoint, before the next message.
                jsloop::next_tick(move || push(&tick, format!("tick after {m}")));
            }
        }
    });
    assert_eq!(
        *log.borrow(),
        ["got 1", "tick after 1", "got 2", "tick after 2", "got 3", "tick after 3"]
    );
}

#[test]
fn a_listener_that_panics_is_kept_and_gets_the_next_message() {
    let panics = Rc::new(Cell::new(0));
    let seen: Log = Rc::default();
    let runtime = jsloop::Runtime::builder()
        .on_uncaught_panic({
            let panics = panics.clone();
            move |_| panics.set(panics.get() + 1)
        })
        .build()
        .unwrap();
    runtime.run({
        let seen = seen.clone();
        async move {
            let MessageChannel { port1, port2 } = MessageChannel::new();
            let port2 = Rc::new(port2);
            let closer = port2.clone();
            port2.on_message(move |m: &str| {
                if m == "boom" {
                    panic!("listener panicked on purpose");
                }
                push(&seen, m);
                closer.close();
            });
            port1.post_message("boom").unwrap();
            port1.post_message("after").unwrap();
        }
    });
    assert_eq!(panics.get(), 1);
    assert_eq!(*seen.borrow(), ["after"]);
}
