//! hyper's runtime traits on jsloop (feature `hyper`): `HyperTimer`'s
//! sleeps and the timeouts they drive, and `HyperIo`'s vectored writes.

use std::convert::Infallible;
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::rt::Timer;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use jsloop::io::{HyperIo, HyperTimer};
use jsloop::net::{TcpListener, TcpStream};
use jsloop::time::Instant;

fn assert_send_sync<T: Send + Sync + 'static>(_: &T) {}

async fn hello(_: Request<hyper::body::Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    Ok(Response::new(Full::new(Bytes::from_static(b"Hello, world!"))))
}

/// A server on one connection with a `header_read_timeout`; its outcome.
async fn serve_one(listener: TcpListener, header_timeout: Duration) -> Result<(), hyper::Error> {
    let (stream, _) = listener.accept().await.unwrap();
    http1::Builder::new()
        .timer(HyperTimer)
        .header_read_timeout(header_timeout)
        .serve_connection(HyperIo::new(stream), service_fn(hello))
        .await
}

async fn listener() -> (TcpListener, std::net::SocketAddr) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    (listener, addr)
}

/// The server's connection ended with hyper's timeout error, no sooner
/// than `at_least` after `since`.
fn assert_timed_out(outcome: Result<(), hyper::Error>, since: Instant, at_least: Duration) {
    let error = outcome.expect_err("the connection timed out");
    assert!(error.is_timeout(), "{error:?}");
    assert!(since.elapsed() >= at_least, "{:?}", since.elapsed());
}

#[test]
fn a_sleep_is_send_and_sync_and_never_fires_early() {
    jsloop::run(async {
        // The sleeps are unref'd: alone they would let the loop end, as a
        // Node socket timeout does. Here a guard keeps it running.
        let _alive = jsloop::keep_alive();
        let sleep = HyperTimer.sleep(Duration::from_millis(5));
        assert_send_sync(&sleep);
        assert_send_sync(&HyperTimer);
        let start = Instant::now();
        sleep.await;
        assert!(start.elapsed() >= Duration::from_millis(5), "{:?}", start.elapsed());
        let start = Instant::now();
        HyperTimer.sleep_until(std::time::Instant::now() + Duration::from_millis(3)).await;
        assert!(start.elapsed() >= Duration::from_millis(3), "{:?}", start.elapsed());
    });
}

#[test]
fn a_silent_client_is_dropped_after_the_header_read_timeout() {
    jsloop::run(async {
        let (listener, addr) = listener().await;
        let start = Instant::now();
        let server = jsloop::spawn(serve_one(listener, Duration::from_millis(50)));
        let mut silent = TcpStream::connect(addr).await.unwrap();
        let mut rest = Vec::new();
        silent.read_to_end(&mut rest).await.unwrap(); // the server hung up
        assert_timed_out(server.await.unwrap(), start, Duration::from_millis(50));
    });
}

#[test]
fn a_client_that_sends_in_time_is_served_and_its_timeout_cleared() {
    jsloop::run(async {
        let (listener, addr) = listener().await;
        // An hour: were its sleep left behind, `run` would still end (the
        // timers are unref'd), so the test also counts the tasks.
        let server = jsloop::spawn(serve_one(listener, Duration::from_secs(3600)));
        let mut client = TcpStream::connect(addr).await.unwrap();
        client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
        let mut response = String::new();
        client.read_to_string(&mut response).await.unwrap();
        assert!(response.ends_with("Hello, world!"), "{response}");
        server.await.unwrap().unwrap();
        // The header-read sleep was dropped when the headers came: its
        // loop-side task ended and cleared its timer.
        for _ in 0..3 {
            jsloop::yield_to_loop().await;
        }
        assert_eq!(jsloop::metrics::stats().tasks_alive, 0, "{:?}", jsloop::metrics::stats());
    });
}

#[test]
fn a_sleep_dropped_on_another_thread_clears_its_timer() {
    jsloop::run(async {
        let baseline = jsloop::metrics::stats().tasks_alive;
        let sleep = HyperTimer.sleep(Duration::from_secs(3600));
        jsloop::yield_now().await; // its loop-side task is running
        assert_eq!(jsloop::metrics::stats().tasks_alive, baseline + 1);
        std::thread::spawn(move || drop(sleep)).join().unwrap();
        // The drop is a remote wake: it arrives in a poll phase.
        let start = std::time::Instant::now();
        while jsloop::metrics::stats().tasks_alive > baseline {
            assert!(start.elapsed() < Duration::from_secs(20), "the loop-side task lingers");
            jsloop::time::sleep(Duration::from_millis(1)).await;
        }
    });
}

#[test]
fn a_sleep_of_duration_max_neither_fires_nor_keeps_the_loop_alive() {
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    let fired = rt.run(async {
        let sleep = HyperTimer.sleep(Duration::MAX);
        jsloop::time::timeout(Duration::from_secs(86_400 * 365), sleep).await.is_ok()
    });
    assert!(!fired);
}

#[test]
fn a_timeout_due_while_the_loop_is_blocked_fires_after_the_block() {
    jsloop::run(async {
        let (listener, addr) = listener().await;
        let server = jsloop::spawn(serve_one(listener, Duration::from_millis(20)));
        let _silent = TcpStream::connect(addr).await.unwrap();
        // A callback holds the loop past the timeout's deadline.
        jsloop::set_timeout(Duration::from_millis(5), || {
            std::thread::sleep(Duration::from_millis(100));
        });
        let start = Instant::now();
        assert_timed_out(server.await.unwrap(), start, Duration::from_millis(100));
    });
}

#[test]
fn a_response_in_many_chunks_round_trips_through_vectored_writes() {
    jsloop::run(async {
        let (listener, addr) = listener().await;
        let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let expected = body.clone();
        let server = jsloop::spawn(async move {
            let (stream, _) = listener.accept().await.unwrap();
            let body = body.clone();
            let service = service_fn(move |_| {
                let body = body.clone();
                async move { Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(body)))) }
            });
            http1::Builder::new().serve_connection(HyperIo::new(stream), service).await
        });
        let stream = TcpStream::connect(addr).await.unwrap();
        let (mut sender, connection) =
            hyper::client::conn::http1::handshake(HyperIo::new(stream)).await.unwrap();
        jsloop::spawn(connection);
        let request = Request::get("/").header("host", "x").body(Full::new(Bytes::new())).unwrap();
        let response = sender.send_request(request).await.unwrap();
        let received = response.into_body().collect().await.unwrap().to_bytes();
        assert_eq!(received.len(), expected.len());
        assert!(received == expected, "the body came back intact");
        drop(sender);
        server.await.unwrap().unwrap();
    });
}
