//! hyper 1.x on jsloop (feature `hyper`): hyper's I/O traits for any
//! `futures-io` stream, and an executor that spawns on the loop.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

/// The largest read handed to the stream at once (hyper's buffers are
/// usually 8 KiB or more).
const READ_CHUNK: usize = 16 * 1024;

/// A `futures-io` stream (a [`TcpStream`](crate::net::TcpStream), a
/// [`UnixStream`](crate::net::UnixStream), ...) as hyper's
/// `rt::Read` + `rt::Write`: what `hyper::server::conn::http1::Builder::
/// serve_connection` and `hyper::client::conn::http1::handshake` take. The
/// counterpart of hyper-util's `TokioIo`.
///
/// It tells hyper its writes are vectored, so hyper hands over its headers
/// and body chunks as slices instead of copying them into one buffer:
/// jsloop's sockets write all the slices in one `writev`. (A stream whose
/// `poll_write_vectored` is `futures-io`'s default writes only the first
/// slice per call: correct, with more calls.) For hyper's timeouts give
/// the builder a [`HyperTimer`](crate::io::HyperTimer).
///
/// # Examples
///
/// ```
/// use std::convert::Infallible;
/// use http_body_util::Full;
/// use hyper::{body::Bytes, server::conn::http1, service::service_fn, Response};
/// use jsloop::{io::HyperIo, net::TcpListener};
///
/// jsloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     jsloop::spawn(async move {
///         let (stream, _) = listener.accept().await.unwrap();
///         let hello = service_fn(|_req| async {
///             Ok::<_, Infallible>(Response::new(Full::new(Bytes::from("Hello, world!"))))
///         });
///         http1::Builder::new().serve_connection(HyperIo::new(stream), hello).await.unwrap();
///     });
///     // A raw client, to keep the example short.
///     use futures::{AsyncReadExt, AsyncWriteExt};
///     let mut client = jsloop::net::TcpStream::connect(addr).await?;
///     client.write_all(b"GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await?;
///     let mut response = String::new();
///     client.read_to_string(&mut response).await?;
///     assert!(response.starts_with("HTTP/1.1 200 OK"));
///     assert!(response.ends_with("Hello, world!"));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct HyperIo<T> {
    inner: T,
    /// Initialized memory to read into (allocated on the first read).
    read_buf: Box<[u8]>,
}

impl<T> HyperIo<T> {
    /// Wraps `inner`.
    pub fn new(inner: T) -> Self {
        HyperIo { inner, read_buf: Box::default() }
    }

    /// The wrapped stream.
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// Takes the wrapped stream back.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: AsyncRead + Unpin> hyper::rt::Read for HyperIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        mut buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        // Through an initialized buffer: `futures-io` reads into `&mut [u8]`
        // and hyper's cursor is uninitialized memory; copying what was read
        // keeps this safe, and reusing the buffer spares zeroing it per read.
        let this = &mut *self;
        if this.read_buf.is_empty() {
            this.read_buf = vec![0; READ_CHUNK].into_boxed_slice();
        }
        let len = buf.remaining().min(READ_CHUNK);
        let n = ready!(Pin::new(&mut this.inner).poll_read(cx, &mut this.read_buf[..len]))?;
        buf.put_slice(&this.read_buf[..n]);
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncWrite + Unpin> hyper::rt::Write for HyperIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_close(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        true
    }
}

impl<T: fmt::Debug> fmt::Debug for HyperIo<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("HyperIo").field(&self.inner).finish()
    }
}

/// hyper's `rt::Executor`: spawns hyper's background futures (HTTP/2
/// streams, client connections) on the current jsloop runtime. They need
/// not be `Send`.
///
/// # Panics
///
/// `execute` outside a runtime: "no jsloop runtime is running on this
/// thread".
///
/// # Examples
///
/// ```
/// use hyper::rt::Executor;
///
/// jsloop::run(async {
///     jsloop::io::HyperExecutor.execute(async { println!("spawned by hyper") });
/// });
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct HyperExecutor;

impl<F: Future + 'static> hyper::rt::Executor<F> for HyperExecutor {
    fn execute(&self, future: F) {
        crate::spawn(future);
    }
}
