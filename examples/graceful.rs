//! An HTTP/1.1 server that shuts down gracefully: on SIGINT or SIGTERM it
//! stops accepting, lets the requests in flight finish (for 10 s at most),
//! and returns from `jsloop::run`.
//!
//! `cargo run --example graceful -- [ADDR [DEADLINE_SECS]]` serves on
//! ADDR (127.0.0.1:8080 by default). `curl http://127.0.0.1:8080/slow`
//! takes a second to answer: press Ctrl-C meanwhile (or `kill` the server),
//! and the server refuses new connections at once, closes the idle ones,
//! answers the slow request, and then exits. `/stuck` takes a minute,
//! longer than the deadline (10 s by default): the shutdown drops it.
//!
//! Node's shape for this is `process.on('SIGTERM', () => server.close())`
//! with a timer as the deadline. Here the signal listeners abort an
//! `AbortController`, which everything that must stop listens to: the
//! accept loop (and the listener it owns with it), and each connection
//! between two requests. The connections are counted, and the shutdown
//! awaits the count's drop to zero as an event (`events::once`).

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::events::{self, EventEmitter};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::process::{SignalKind, on_signal};
use jsloop::{AbortController, AbortSignal, abortable};

/// How long the shutdown waits for the connections before dropping them,
/// unless the second argument says otherwise.
const DEADLINE: Duration = Duration::from_secs(10);

fn main() -> io::Result<()> {
    let mut args = std::env::args().skip(1);
    let addr = args.next().unwrap_or_else(|| "127.0.0.1:8080".into());
    let deadline = match args.next().map(|secs| secs.parse()) {
        None => DEADLINE,
        Some(Ok(secs)) => Duration::from_secs(secs),
        Some(Err(_)) => {
            let usage = "usage: graceful [ADDR [DEADLINE_SECS]]";
            return Err(io::Error::new(io::ErrorKind::InvalidInput, usage));
        }
    };
    jsloop::run(async move {
        // Listening turns the signals' default action (ending the process
        // on the spot) off, so it comes before the server says it is up.
        // The abort's reason is the signal's name.
        let shutdown = AbortController::new();
        for kind in [SignalKind::interrupt(), SignalKind::terminate()] {
            let shutdown = shutdown.clone();
            on_signal(kind, move || shutdown.abort(format!("{kind:?}")))?;
        }
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("listening on http://{}", listener.local_addr()?);

        let draining = shutdown.signal();
        let connections = Connections::default();
        let accepting = accept(listener, connections.clone(), draining.clone());
        if let Ok(failed) = abortable(accepting, &draining).await {
            return failed; // Accepting only ends early on an error.
        }
        // The accept loop, and the listener it owned, are dropped now.
        let reason = draining.reason().expect("the shutdown has begun");
        println!("{reason}: stopped accepting, {} connection(s) open", connections.open());

        match jsloop::time::timeout(deadline, connections.all_closed()).await {
            Ok(()) => println!("all connections closed"),
            Err(_) => {
                println!("gave up on {} connection(s) after {deadline:?}", connections.open());
                connections.drop_all();
            }
        }
        Ok(())
    })
}

/// Serves every connection `listener` accepts on a task of its own; never
/// returns but with an error.
async fn accept(
    listener: TcpListener,
    connections: Connections,
    draining: AbortSignal,
) -> io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        connections.spawn(stream, draining.clone());
    }
}

/// The server's open connections, counted so that the shutdown can wait
/// for them.
#[derive(Clone, Default)]
struct Connections {
    open: Rc<Cell<usize>>,
    /// Emits "all-closed" each time the count drops to zero.
    events: EventEmitter<()>,
    /// Aborted at the deadline: drops the connections still open.
    force: AbortController,
}

impl Connections {
    /// Serves `stream` on a task, counted until the task ends.
    fn spawn(&self, stream: TcpStream, draining: AbortSignal) {
        self.open.set(self.open.get() + 1);
        let counted = Counted(self.clone());
        let force = self.force.signal();
        jsloop::spawn(async move {
            let _counted = counted; // dropped however the task ends
            if let Ok(Err(error)) = abortable(serve(stream, draining), &force).await {
                eprintln!("connection failed: {error}");
            }
        });
    }

    fn open(&self) -> usize {
        self.open.get()
    }

    /// Resolves once no connection is open.
    async fn all_closed(&self) {
        if self.open() > 0 {
            // (The promise's error type is `Infallible`: no "error" event.)
            let _ = events::once(&self.events, "all-closed").await;
        }
    }

    fn drop_all(&self) {
        self.force.abort("the shutdown deadline passed");
    }
}

/// One open connection in the count, for as long as it lives.
struct Counted(Connections);

impl Drop for Counted {
    fn drop(&mut self) {
        let open = &self.0.open;
        open.set(open.get() - 1);
        if open.get() == 0 {
            self.0.events.emit("all-closed", ());
        }
    }
}

/// Answers the requests on one connection (keep-alive) until the client
/// closes it, or until the server drains: then an idle connection closes
/// at once, a busy one after its response (marked `connection: close`).
async fn serve(mut stream: TcpStream, draining: AbortSignal) -> io::Result<()> {
    let mut buf = Vec::new();
    loop {
        let Ok(head) = abortable(read_head(&mut stream, &mut buf), &draining).await else {
            return Ok(()); // drained between two requests
        };
        let Some(request_line) = head? else { return Ok(()) };
        println!("{request_line}");
        let (delay, body) = match request_line.split(' ').nth(1) {
            Some("/slow") => (Duration::from_secs(1), "slow hello\n"),
            Some("/stuck") => (Duration::from_secs(60), "stuck hello\n"),
            _ => (Duration::ZERO, "hello\n"),
        };
        if !delay.is_zero() {
            jsloop::time::sleep(delay).await;
        }
        // A drain that began meanwhile makes this the last response.
        let last = draining.is_aborted();
        let connection = if last { "close" } else { "keep-alive" };
        let response = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: {}\r\n\
             connection: {connection}\r\n\r\n{body}",
            body.len()
        );
        stream.write_all(response.as_bytes()).await?;
        if last {
            return Ok(());
        }
    }
}

/// Reads through the end of the next request head (requests without a
/// body, which is all this server expects) and returns its first line,
/// `GET /slow HTTP/1.1`; `None` if the client closed the connection
/// first. What follows the head (a pipelined request) stays in `buf`.
async fn read_head(stream: &mut TcpStream, buf: &mut Vec<u8>) -> io::Result<Option<String>> {
    let mut chunk = [0; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head: Vec<u8> = buf.drain(..end + 4).collect();
            let first_line = head.split(|&byte| byte == b'\r').next().unwrap_or_default();
            return Ok(Some(String::from_utf8_lossy(first_line).into_owned()));
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(None);
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}
