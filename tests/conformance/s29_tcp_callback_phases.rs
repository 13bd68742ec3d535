//! Port of `29-tcp-callback-phases.js`: a socket read is delivered in the
//! poll phase, so what the read handler queues runs as its microtasks
//! (FIFO), then the check phase, then the next iteration's timers.
//!
//! Port notes: the read handler is the code after the `read` that got the
//! greeting; the server's connection handler is the task that accepted.

use std::time::Duration;

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::promise::Promise;

pub fn main() {
    jsloop::run(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        jsloop::spawn(async move {
            let addr = listener.local_addr().unwrap();
            let server = jsloop::spawn(async move {
                let (mut socket, _) = listener.accept().await.unwrap();
                socket.write_all(b"hello\n").await.unwrap();
                let mut sink = Vec::new();
                socket.read_to_end(&mut sink).await.unwrap();
                out!("server saw end of input");
                socket.close().await.unwrap();
            });

            let client = std::rc::Rc::new(TcpStream::connect(addr).await.unwrap());
            let mut buf = Vec::new();
            let mut chunk = [0; 64];
            while !buf.contains(&b'\n') {
                let n = (&*client).read(&mut chunk).await.unwrap();
                buf.extend_from_slice(&chunk[..n]);
            }
            // The read handler.
            out!("client read: {}", String::from_utf8_lossy(&buf).trim());
            let ender = client.clone();
            jsloop::set_timeout(Duration::ZERO, move || {
                out!("timeout from read handler: client ends");
                ender.shutdown(std::net::Shutdown::Write).unwrap();
            });
            jsloop::set_immediate(|| out!("immediate from read handler"));
            jsloop::queue_microtask(|| out!("microtask from read handler"));
            Promise::<(), ()>::resolve(()).then(|()| out!("promise from read handler"));
            out!("read handler returns");

            let mut rest = Vec::new();
            (&*client).read_to_end(&mut rest).await.unwrap();
            out!("client saw end of input");
            drop(client);
            out!("client closed");
            server.await.unwrap();
            out!("server closed");
        });
    });
}
