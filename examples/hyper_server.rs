//! A hyper 1.x "Hello, world!" server on jsloop (HTTP/1.1, keep-alive),
//! with hyper's timeouts on jsloop's timers (`HyperTimer`): a client that
//! sends no complete request head within 10 s is dropped.
//!
//! `cargo run --release --example hyper_server --features hyper` serves on
//! 127.0.0.1:3000 (or the address given as the argument); try
//! `curl -i http://127.0.0.1:3000/` or `wrk -c50 http://127.0.0.1:3000/`.

use std::convert::Infallible;
use std::io;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use jsloop::io::{HyperIo, HyperTimer};
use jsloop::net::TcpListener;

async fn hello(
    _request: Request<hyper::body::Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
}

fn main() -> io::Result<()> {
    let addr = std::env::args().nth(1).unwrap_or_else(|| "127.0.0.1:3000".into());
    jsloop::run(async move {
        let listener = TcpListener::bind(addr.as_str()).await?;
        println!("listening on http://{}", listener.local_addr()?);
        loop {
            let (stream, _) = listener.accept().await?;
            stream.set_nodelay(true)?;
            // Each connection is a task; it need not be `Send`.
            jsloop::spawn(async move {
                let served = http1::Builder::new()
                    .timer(HyperTimer)
                    .header_read_timeout(Duration::from_secs(10))
                    .serve_connection(HyperIo::new(stream), service_fn(hello))
                    .await;
                if let Err(error) = served {
                    eprintln!("connection error: {error}");
                }
            });
        }
    })
}
