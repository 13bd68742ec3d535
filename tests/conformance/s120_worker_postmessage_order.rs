//! Port of `120-worker-postmessage-order.js` (second set, rules from Node's
//! `test-worker-onmessage`, `test-worker-exit-code`,
//! `test-worker-message-port-message-before-close`): the main loop and one
//! worker loop on another thread. Messages posted before the worker started
//! wait for it, in order; replies arrive in posting order; every message
//! callback, on either side, has its own checkpoint (a nextTick queued while
//! handling one runs before the next is handled); a ping-pong keeps its
//! order; the worker ends once it closed its port, with its exit code, and
//! everything it posted is delivered before the main loop sees its exit.
//!
//! Port notes: `new Worker(__filename)` is `Worker::spawn_with_port`, the
//! worker's `parentPort` the port its closure receives; JS messages that are
//! strings or numbers are a two-variant enum. `process.exitCode = 3` is a
//! cell the worker's main future returns once its port has closed (the
//! future's output is the exit code `exit()` gives). The worker's port is
//! kept by its own listener, which is dropped when the port closes; the
//! main loop's listener keeps the `Worker` (an `Rc`) until the worker's end
//! closes the channel.

use std::cell::Cell;
use std::fmt;
use std::rc::Rc;

use jsloop::next_tick;
use jsloop::promise::Promise;
use jsloop::worker::{MessagePort, Worker};

/// A JS message: a string or a number.
enum Msg {
    Text(String),
    Num(u32),
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Msg::Text(text) => f.write_str(text),
            Msg::Num(n) => write!(f, "{n}"),
        }
    }
}

fn text(s: impl Into<String>) -> Msg {
    Msg::Text(s.into())
}

/// The `!isMainThread` branch.
async fn worker_main(parent_port: MessagePort<Msg>) -> i32 {
    let parent_port = Rc::new(parent_port);
    let exit_code = Rc::new(Cell::new(0));
    let (closed, on_closed, _) = Promise::<(), ()>::with_resolvers();
    parent_port.on_close(move || on_closed(()));
    let (port, code) = (parent_port.clone(), exit_code.clone());
    parent_port.on_message(move |m| match m {
        Msg::Text(m) => {
            port.post_message(text(format!("worker got {m}"))).unwrap();
            let port = port.clone();
            next_tick(move || {
                port.post_message(text(format!("worker nextTick after {m}"))).unwrap();
            });
        }
        Msg::Num(m) if m < 6 => port.post_message(Msg::Num(m + 1)).unwrap(),
        Msg::Num(_) => {
            port.post_message(text("last message before closing")).unwrap();
            code.set(3);
            port.close();
        }
    });
    let _ = closed.await;
    exit_code.get()
}

pub fn main() {
    jsloop::run(async {
        let w = Rc::new(Worker::spawn_with_port(worker_main).unwrap());
        let sender = w.clone();
        w.on_message(move |m| {
            out!("main got: {m}");
            if let Msg::Text(t) = &m {
                if t == "last message before closing" {
                    return;
                }
            }
            let shown = m.to_string();
            next_tick(move || out!("  main nextTick after: {shown}"));
            match m {
                Msg::Text(t) if t == "worker nextTick after c" => {
                    out!("main starts a ping-pong with 1");
                    sender.post_message(Msg::Num(1)).unwrap();
                }
                Msg::Num(n) => sender.post_message(Msg::Num(n + 1)).unwrap(),
                Msg::Text(_) => {}
            }
        });
        w.post_message(text("a")).unwrap();
        w.post_message(text("b")).unwrap();
        w.post_message(text("c")).unwrap();
        out!("main: posted a, b, c before the worker started");
        let code = w.exit().await.unwrap();
        out!("main: worker exit, code {code}");
    });
}
