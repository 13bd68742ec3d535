//! A minimal HTTP/1.1 server on `jsloop::net`: every request gets
//! "Hello, world!", with keep-alive.
//!
//! `cargo run --example http_hello` serves on 127.0.0.1:8080 (or the
//! address given as the argument); try `curl -i http://127.0.0.1:8080/`.

use std::io;

use futures::StreamExt;
use jsloop::net::TcpListener;

mod common;

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
                if let Err(error) = common::serve_connection(stream, || {}).await {
                    eprintln!("connection failed: {error}");
                }
            });
        }
        Ok(())
    })
}
