//! Port of `125-immediate-flood-vs-io.js` (second set, rules from Node's
//! `test-timers-immediate-queue`, `test-timers-setimmediate-infinite-loop`
//! and `test-worker-message-port-infinite-message-loop`): the check phase
//! runs only the immediates queued before it began, so an immediate chain
//! that re-queues itself forever still lets every other phase run once per
//! iteration. A pool job, a loopback TCP round trip and a 5 ms timer, each
//! started by the one before, all complete while the chain runs (a
//! next-tick chain, in contrast, starves them: scenario 110). An immediate
//! can clear immediates queued behind it in the same check phase: they do
//! not run, and the phase ends normally.
//!
//! Port notes: the listen callback is a spawned task (so "script end" comes
//! first, as in JS), and the rest of the scenario is that task's code after
//! each `.await`: `fs.readFile(__filename, 'utf8', cb)` is
//! `jsloop::fs::read_to_string` (a worker-pool job), `net.connect` is
//! `TcpStream::connect`, its connect callback's `client.end('ping')` is
//! `write_all` then `close()` (a half-close), and the client's `'end'` is
//! the end of `read_to_string`. The server (`allowHalfOpen: true`) is a task
//! that accepts connections and gives each a handler task: it reads the
//! request until the client's end, then writes the reply and half-closes.
//! `server.close(cb)` aborts the accepting task (the listener is dropped, so
//! no new connection is taken) and `cb` runs once every handler task is done.
//! JS reads `i2` and `i3` in the first immediate before their `const`s run;
//! the port hands the two handles to it through a cell filled right after.
//! The hop count is never printed, only whether it passed 3.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::{Immediate, JoinHandle, clear_immediate, set_immediate, set_timeout, spawn};

const FILENAME: &str =
    concat!(env!("CARGO_MANIFEST_DIR"), "/tests/conformance/125-immediate-flood-vs-io.js");

// The script's top-level `let hops = 0; let running = true;`.
thread_local! {
    static HOPS: Cell<u64> = const { Cell::new(0) };
    static RUNNING: Cell<bool> = const { Cell::new(true) };
}

fn hop() {
    HOPS.set(HOPS.get() + 1);
    if RUNNING.get() {
        set_immediate(hop);
    }
}

/// The server's connection handler: `sock.on('end', () => sock.end(got.toUpperCase()))`.
async fn serve(mut sock: TcpStream) {
    let mut got = String::new();
    sock.read_to_string(&mut got).await.unwrap();
    sock.write_all(got.to_uppercase().as_bytes()).await.unwrap();
    sock.close().await.unwrap();
}

/// `server.close(cb)`: stop accepting, then `cb` once every connection is done.
fn close_server(
    server: &JoinHandle<()>,
    connections: &RefCell<Vec<JoinHandle<()>>>,
    callback: impl FnOnce() + 'static,
) {
    server.abort();
    let connections = connections.take();
    spawn(async move {
        for connection in connections {
            connection.await.unwrap();
        }
        callback();
    });
}

pub fn main() {
    jsloop::run(async {
        HOPS.set(0);
        RUNNING.set(true);

        // const server = net.createServer({ allowHalfOpen: true }, ...);
        // server.listen(0, '127.0.0.1', ...)
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().unwrap();
        let connections = Rc::new(RefCell::new(Vec::new()));
        let server = spawn({
            let connections = connections.clone();
            async move {
                loop {
                    let (sock, _) = listener.accept().await.unwrap();
                    connections.borrow_mut().push(spawn(serve(sock)));
                }
            }
        });

        // The listen callback.
        spawn(async move {
            out!("server listening; start an endless immediate chain");
            set_immediate(hop);
            let text = jsloop::fs::read_to_string(FILENAME).await.unwrap();
            out!("readFile done ({}), chain still running: {}", !text.is_empty(), RUNNING.get());
            let mut client = TcpStream::connect(addr).await.unwrap();
            // The connect callback: client.end('ping').
            client.write_all(b"ping").await.unwrap();
            client.close().await.unwrap();
            let mut reply = String::new();
            client.read_to_string(&mut reply).await.unwrap();
            // The client's 'end'.
            out!("TCP reply {reply}, chain still running: {}", RUNNING.get());
            drop(client);
            set_timeout(Duration::from_millis(5), move || {
                out!("5 ms timer fired, chain still running: {}", RUNNING.get());
                RUNNING.set(false);
                let before = HOPS.get();
                set_immediate(move || {
                    out!("chain stopped; it had run more than 3 hops: {}", before > 3);
                    // `i2` and `i3`, as the first immediate sees them.
                    let behind: Rc<RefCell<Option<(Immediate, Immediate)>>> = Rc::default();
                    set_immediate({
                        let behind = behind.clone();
                        move || {
                            out!("first immediate clears the two queued behind it");
                            let (i2, i3) = behind.take().expect("i2 and i3 are queued");
                            clear_immediate(&i2);
                            clear_immediate(&i3);
                        }
                    });
                    let i2 = set_immediate(|| out!("never: i2"));
                    let i3 = set_immediate(|| out!("never: i3"));
                    *behind.borrow_mut() = Some((i2, i3));
                    set_immediate(move || {
                        close_server(&server, &connections, || out!("server closed"));
                    });
                });
            });
        });
        out!("script end");
    });
}
