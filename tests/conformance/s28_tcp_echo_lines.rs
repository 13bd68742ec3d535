//! Port of `28-tcp-echo-lines.js`: TCP readiness comes in the poll phase,
//! and one connection's events keep their causal order: listen, connect,
//! each request line, its reply, half-close, the peer's end, close.
//!
//! Port notes: the listen callback is a spawned task (so "script end"
//! comes first, as in JS); the server's connection handler is the task
//! that accepted; `socket.end()` is `close()` (a half-close); the server's
//! `close` callback runs once its connection task is done.

use futures::{AsyncBufReadExt, AsyncWriteExt, StreamExt};
use jsloop::net::{TcpListener, TcpStream};

pub fn main() {
    jsloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        jsloop::spawn(async move {
            out!("server listening");
            let addr = listener.local_addr().unwrap();
            let server = jsloop::spawn(async move {
                let (socket, _) = listener.accept().await.unwrap();
                let mut lines = futures::io::BufReader::new(&socket).lines();
                while let Some(line) = lines.next().await {
                    let line = line.unwrap();
                    out!("server got: {line}");
                    (&socket)
                        .write_all(format!("{}\n", line.to_uppercase()).as_bytes())
                        .await
                        .unwrap();
                }
                out!("server saw end of input, ends too");
                (&socket).close().await.unwrap();
                // Dropping the listener here is `server.close()`.
            });

            let client = TcpStream::connect(addr).await.unwrap();
            out!("client connected");
            (&client).write_all(b"ping\n").await.unwrap();
            let mut lines = futures::io::BufReader::new(&client).lines();
            while let Some(line) = lines.next().await {
                let line = line.unwrap();
                out!("client got: {line}");
                if line == "PING" {
                    (&client).write_all(b"hello\n").await.unwrap();
                } else if line == "HELLO" {
                    out!("client ends its side");
                    (&client).close().await.unwrap();
                }
            }
            out!("client saw end of input");
            drop(lines);
            drop(client);
            out!("client closed");
            server.await.unwrap();
            out!("server closed");
        });
        out!("script end");
    });
}
