//! Port of `119-message-channel-same-thread.js` (second set, rules from
//! Node's `test-worker-message-port*`): a `MessageChannel` on one thread.
//! `postMessage` never delivers synchronously; messages arrive in FIFO order
//! in the poll phase (after the due timer, before the immediates), each with
//! its own checkpoint; messages posted before a listener wait for it;
//! `receiveMessageOnPort` takes the oldest queued message synchronously and
//! it never reaches the listener; an endless ping-pong does not starve a
//! timer; `close()` emits `'close'` on both ports, and the loop ends.
//!
//! Port notes: `port.on('message', f)` is `on_message`, `'close'` is
//! `on_close`, `receiveMessageOnPort(b)` is `receive_message_on_port(&b)`
//! (`None` prints as `undefined`). A port whose other end is dropped is
//! closed in Rust, where JS keeps an unreachable port open while its peer
//! listens; so each sending port is kept by the listener of its peer, which
//! is dropped when the peer closes. `Promise.resolve().then(f)` is
//! `queue_microtask(f)`; `setTimeout(f, 0)` is 1 ms, as in Node.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use crate::log::busy_wait;
use jsloop::worker::{MessageChannel, receive_message_on_port};
use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

pub fn main() {
    jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::<&'static str>::new();
        let (port1, port2) = (Rc::new(port1), Rc::new(port2));
        let (sender, closer) = (port1.clone(), port2.clone());
        port2.on_message(move |m| {
            let _sender = &sender;
            out!("port2 got {m}");
            next_tick(move || out!("  nextTick after {m}"));
            queue_microtask(move || out!("  microtask after {m}"));
            if m == "m3" {
                closer.close();
                set_immediate(stage2);
            }
        });
        port1.post_message("m1").unwrap();
        port1.post_message("m2").unwrap();
        port1.post_message("m3").unwrap();
        out!("postMessage returned before any delivery");

        set_timeout(Duration::from_millis(1), || out!("due timer (timers phase)"));
        set_immediate(|| out!("immediate (check phase)"));
        next_tick(|| out!("script nextTick"));
        queue_microtask(|| out!("script microtask"));
        busy_wait(10);
        out!("script end");
    });
    out!("exit");
}

fn stage2() {
    let MessageChannel { port1: a, port2: b } = MessageChannel::<&'static str>::new();
    let shown = receive_message_on_port(&b).unwrap_or("undefined");
    out!("stage 2: empty queue gives {shown}");
    a.post_message("q1").unwrap();
    a.post_message("q2").unwrap();
    a.post_message("q3").unwrap();
    out!("receiveMessageOnPort: {}", receive_message_on_port(&b).unwrap());
    out!("receiveMessageOnPort: {}", receive_message_on_port(&b).unwrap());
    set_immediate(move || {
        out!("attach a listener one iteration later");
        let b = Rc::new(b);
        let closer = b.clone();
        b.on_message(move |m| {
            let _sender = &a;
            out!("listener got {m} (q1 and q2 were taken synchronously)");
            closer.close();
            stage3();
        });
    });
}

fn stage3() {
    let MessageChannel { port1: p, port2: q } = MessageChannel::<&'static str>::new();
    let (p, q) = (Rc::new(p), Rc::new(q));
    let running = Rc::new(Cell::new(true));
    set_timeout(Duration::ZERO, {
        let (running, p) = (running.clone(), p.clone());
        move || {
            out!("timer ran while the ping-pong was still running: {}", running.get());
            running.set(false);
            p.close();
        }
    });
    p.on_message({
        let (running, q) = (running.clone(), q.clone());
        move |_| {
            if running.get() {
                q.post_message("ping").unwrap();
            }
        }
    });
    q.on_message({
        let (running, p) = (running, p.clone());
        move |_| {
            if running.get() {
                p.post_message("pong").unwrap();
            }
        }
    });
    p.on_close(|| out!("port p closed"));
    q.on_close(|| out!("port q closed"));
    q.post_message("start").unwrap();
}
