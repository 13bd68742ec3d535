//! Crates that need `Send` I/O, on jsloop (feature `hyper`): hyper-util's
//! pooled legacy `Client` against a jsloop hyper server, and an `async-h1`
//! server and client.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::task::{Context, Poll};
use std::time::Duration;

use futures::{AsyncRead, AsyncWrite};
use http_body_util::{BodyExt, Empty, Full};
use hyper::body::Bytes;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::{Connected, Connection};
use jsloop::io::{HyperExecutor, HyperIo, HyperTimer};
use jsloop::net::{TcpListener, TcpStream};

/// Runs `f` on a fresh thread and fails the test if it takes more than 30 s.
fn within_30s<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || tx.send(f()).unwrap());
    rx.recv_timeout(Duration::from_secs(30)).expect("the test hung")
}

/// A connection of the client: hyper-util wants its own `Connection` trait
/// on the I/O type, so the test wraps jsloop's `HyperIo`.
struct Conn(HyperIo<TcpStream>);

impl Connection for Conn {
    fn connected(&self) -> Connected {
        Connected::new()
    }
}

impl hyper::rt::Read for Conn {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl hyper::rt::Write for Conn {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

/// Connects with jsloop's `TcpStream` (hyper-util wants a `Send` future).
#[derive(Clone)]
struct Connector;

impl tower_service::Service<Uri> for Connector {
    type Response = Conn;
    type Error = io::Error;
    type Future = Pin<Box<dyn Future<Output = io::Result<Conn>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, uri: Uri) -> Self::Future {
        Box::pin(async move {
            let host = uri.host().ok_or_else(|| io::Error::other("no host"))?.to_owned();
            let port = uri.port_u16().unwrap_or(80);
            Ok(Conn(HyperIo::new(TcpStream::connect((host.as_str(), port)).await?)))
        })
    }
}

/// A keep-alive hyper server on `listener` that counts its connections.
async fn serve(listener: TcpListener, connections: Arc<AtomicUsize>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else { return };
        connections.fetch_add(1, Ordering::SeqCst);
        jsloop::spawn(async move {
            let service = service_fn(|request: Request<hyper::body::Incoming>| async move {
                let reply = format!("hello from {}", request.uri().path());
                Ok::<_, Infallible>(Response::new(Full::new(Bytes::from(reply))))
            });
            let _ = http1::Builder::new()
                .timer(HyperTimer)
                .serve_connection(HyperIo::new(stream), service)
                .await;
        });
    }
}

#[test]
fn hyper_utils_pooled_client_reuses_one_connection_for_sequential_requests() {
    within_30s(|| {
        jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let connections = Arc::new(AtomicUsize::new(0));
            let server = jsloop::spawn(serve(listener, connections.clone()));

            let client: Client<Connector, Empty<Bytes>> = Client::builder(HyperExecutor)
                .pool_timer(HyperTimer)
                .pool_idle_timeout(Duration::from_secs(30))
                .build(Connector);
            for i in 0..5 {
                let uri: Uri = format!("http://{addr}/request/{i}").parse().unwrap();
                let response = client.get(uri).await.map_err(io::Error::other)?;
                assert!(response.status().is_success());
                let body = response.into_body().collect().await.map_err(io::Error::other)?;
                assert_eq!(body.to_bytes(), format!("hello from /request/{i}"));
            }
            // The pool kept the first connection for the other four.
            assert_eq!(connections.load(Ordering::SeqCst), 1);

            // Requests at once need connections of their own: at most one each.
            let requests = (0..3).map(|i| {
                let uri: Uri = format!("http://{addr}/at-once/{i}").parse().unwrap();
                client.get(uri)
            });
            for response in futures::future::join_all(requests).await {
                assert!(response.map_err(io::Error::other)?.status().is_success());
            }
            assert!(connections.load(Ordering::SeqCst) <= 3);
            server.abort();
            io::Result::Ok(())
        })
    })
    .unwrap();
}

#[test]
fn hyper_utils_client_reports_a_refused_connection_as_an_error() {
    within_30s(|| {
        jsloop::block_on(async {
            // A port that was just free: nothing listens there.
            let addr = TcpListener::bind("127.0.0.1:0").await.unwrap().local_addr().unwrap();
            let client: Client<Connector, Empty<Bytes>> =
                Client::builder(HyperExecutor).build(Connector);
            let error = client.get(format!("http://{addr}/").parse().unwrap()).await.unwrap_err();
            assert!(error.is_connect(), "{error:?}");
        })
    });
}

/// A shared stream: async-h1 wants `Clone` I/O, as async-std's sockets are.
#[derive(Clone)]
struct SharedStream(Arc<TcpStream>);

impl AsyncRead for SharedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SharedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.0).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.0).poll_close(cx)
    }
}

#[test]
fn async_h1_serves_and_requests_on_jsloop() {
    use http_types::{Method, StatusCode, Url};

    within_30s(|| {
        jsloop::block_on(async {
            let listener = TcpListener::bind("127.0.0.1:0").await?;
            let addr = listener.local_addr()?;
            let server = jsloop::spawn(async move {
                let (stream, _) = listener.accept().await?;
                async_h1::accept(SharedStream(Arc::new(stream)), |request| async move {
                    let mut response = http_types::Response::new(StatusCode::Ok);
                    response.set_body(format!("async-h1 got {}", request.url().path()));
                    Ok(response)
                })
                .await
                .map_err(|error| io::Error::other(error.to_string()))
            });

            let stream = SharedStream(Arc::new(TcpStream::connect(addr).await?));
            let url = Url::parse(&format!("http://{addr}/hello")).unwrap();
            let request = http_types::Request::new(Method::Get, url);
            let mut response = async_h1::connect(stream, request)
                .await
                .map_err(|error| io::Error::other(error.to_string()))?;
            assert_eq!(response.status(), StatusCode::Ok);
            let body = response
                .body_string()
                .await
                .map_err(|error| io::Error::other(error.to_string()))?;
            assert_eq!(body, "async-h1 got /hello");
            drop(response); // the last clone of the client's stream: it closes
            server.await.unwrap()
        })
    })
    .unwrap();
}
