//! Port of `121-worker-message-channel.js` (second set, rules from Node's
//! `test-worker-message-channel`, `test-worker-message-port-receive-message`,
//! `test-worker-message-port-message-before-close`): a port transferred to
//! a worker in a message carries the messages posted to it before, in order;
//! the worker takes them synchronously with `receiveMessageOnPort`; then the
//! channel works both ways between the threads, apart from the worker's
//! parent port; `close()` emits `'close'` on the closing end first, then on
//! the other end, in the other thread; the worker, its last port closed,
//! exits with code 0 after its last message was delivered.
//!
//! Port notes: `new Worker(__filename)` is `Worker::spawn_with_port`, the
//! worker's `parentPort` the port its closure receives; the message
//! `{ port }` with `[port]` in the transfer list is `Msg::Port(port2)` (a
//! `MessagePort` moves to another thread until a loop first receives on it).
//! `parentPort.once('message')` is one `recv().await`; after it, the
//! worker's parent port is only used to post (it keeps nothing alive, as a
//! port without a listener). The worker's exit code is its main future's
//! output. A sending port is kept by its own listener, which is dropped when
//! the port closes.

use std::rc::Rc;

use jsloop::worker::{MessageChannel, MessagePort, Worker, receive_message_on_port};

/// What travels on the worker's parent port.
enum Msg {
    Port(MessagePort<String>),
    Text(String),
}

/// The `!isMainThread` branch.
async fn worker_main(parent_port: MessagePort<Msg>) -> i32 {
    let Some(Msg::Port(port)) = parent_port.recv().await else {
        panic!("the first message carries the port");
    };
    let mut drained = Vec::new();
    while let Some(m) = receive_message_on_port(&port) {
        drained.push(m);
    }
    port.post_message(format!("worker drained synchronously: {}", drained.join(", "))).unwrap();
    let port = Rc::new(port);
    let echo = port.clone();
    port.on_message(move |m| echo.post_message(format!("echo {m}")).unwrap());
    port.on_close(move || {
        let m = String::from("worker saw its end of the channel close");
        parent_port.post_message(Msg::Text(m)).unwrap();
    });
    0
}

pub fn main() {
    jsloop::run(async {
        let MessageChannel { port1, port2 } = MessageChannel::<String>::new();
        port1.post_message("p1".into()).unwrap();
        port1.post_message("p2".into()).unwrap();
        port1.post_message("p3".into()).unwrap();
        let w = Worker::spawn_with_port(worker_main).unwrap();
        w.post_message(Msg::Port(port2)).unwrap();
        out!("main: queued p1, p2, p3, then transferred the port");

        let port1 = Rc::new(port1);
        let channel = port1.clone();
        port1.on_message(move |m| {
            out!("main via channel: {m}");
            if m.starts_with("worker drained") {
                channel.post_message("x1".into()).unwrap();
                channel.post_message("x2".into()).unwrap();
            } else if m == "echo x2" {
                out!("main closes its end");
                channel.close();
            }
        });
        port1.on_close(|| out!("main: its end closed"));
        w.on_message(|m| {
            if let Msg::Text(m) = m {
                out!("main via parentPort: {m}");
            }
        });
        let code = w.exit().await.unwrap();
        out!("main: worker exit, code {code}");
    });
}
