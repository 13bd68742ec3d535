//! A minimal HTTP/1.1 server on `jsloop::net`: every request gets
//! "Hello, world!", with keep-alive.
//!
//! `cargo run --example http_hello` serves on 127.0.0.1:8080 (or the
//! address given as the argument); try `curl -i http://127.0.0.1:8080/`.

use std::io;

use futures::{AsyncReadExt, AsyncWriteExt, StreamExt};
use jsloop::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 13\r\n\r\nHello, world!";

/// Answers each request on the connection until the client closes it.
async fn serve_connection(mut stream: TcpStream) -> io::Result<()> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0; 4096];
    loop {
        // Answer every complete request head in the buffer (requests
        // without a body, which is all this server expects).
        while let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            buf.drain(..end + 4);
            stream.write_all(RESPONSE).await?;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:8080".into());
    jsloop::run(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let mut incoming = listener.incoming();
        while let Some(stream) = incoming.next().await {
            let stream = stream?;
            stream.set_nodelay(true)?;
            jsloop::spawn(async move {
                if let Err(error) = serve_connection(stream).await {
                    eprintln!("connection failed: {error}");
                }
            });
        }
        Ok(())
    })
}
