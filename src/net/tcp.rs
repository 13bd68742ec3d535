//! TCP: `TcpListener` and `TcpStream` on the loop's poller (Node's `net`).

use std::io;
use std::net::{self, SocketAddr};

use rustix::net::AddressFamily;

use super::addr::{each_addr, ToSocketAddrs};
use super::incoming::Incoming;
use super::socket::{listener, socket_handle};
use super::stream::{self, stream_impls, ReadHalf, WriteHalf};
use crate::io::Async;

/// A TCP server socket: `net.createServer().listen(..)`.
///
/// Waiting in [`accept`](TcpListener::accept) keeps the loop alive, like a
/// listening Node server, unless [`unref`](TcpListener::unref)'d. Dropping
/// the listener closes it.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use jsloop::net::{TcpListener, TcpStream};
///
/// jsloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let server = jsloop::spawn(async move {
///         let (mut socket, _peer) = listener.accept().await?;
///         let mut line = String::new();
///         socket.read_to_string(&mut line).await?;
///         socket.write_all(line.to_uppercase().as_bytes()).await
///     });
///     let mut client = TcpStream::connect(addr).await?;
///     client.write_all(b"ping").await?;
///     client.close().await?; // half-close: the server reads EOF
///     let mut reply = String::new();
///     client.read_to_string(&mut reply).await?;
///     assert_eq!(reply, "PING");
///     server.await.unwrap()
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct TcpListener {
    inner: Async<net::TcpListener>,
}

impl TcpListener {
    /// Binds to `addr` (the first of its addresses that works) and listens.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the address is taken, a resolver error for a bad host
    /// name, or the last address's error.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move { TcpListener::from_std(net::TcpListener::bind(addr)?) })
            .await
    }

    /// Wraps a listener from the standard library (made non-blocking).
    ///
    /// # Errors
    ///
    /// If it cannot be registered with the poller.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn from_std(listener: net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener { inner: Async::new(listener)? })
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// The OS's: `EMFILE` when the process is out of file descriptors, for
    /// instance. The listener keeps working: the connection waits in the
    /// backlog, and a later `accept` takes it once descriptors are free.
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, peer) = self.inner.read_with(net::TcpListener::accept).await?;
        Ok((TcpStream::from_std(stream)?, peer))
    }

    /// A stream of incoming connections (`server.on('connection')`).
    pub fn incoming(&self) -> Incoming<'_, TcpListener> {
        Incoming::new(self)
    }
}

/// A TCP connection: `net.connect(..)`, or a server's `'connection'`.
///
/// `TcpStream` and `&TcpStream` are `futures-io` `AsyncRead` +
/// `AsyncWrite`: with `&stream`, one task can read while another writes;
/// [`into_split`](TcpStream::into_split) gives halves that can move to
/// different tasks. Closing (`AsyncWriteExt::close`) shuts the write side
/// down, Node's `socket.end()`; the descriptor closes when the stream is
/// dropped. Reads after EOF return `Ok(0)`.
///
/// # Examples
///
/// See [`TcpListener`].
pub struct TcpStream {
    inner: Async<net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr` (each of its addresses in turn, until one
    /// accepts), without blocking the loop; host names are resolved on the
    /// worker pool.
    ///
    /// # Errors
    ///
    /// `ConnectionRefused` when nothing listens there, a resolver error for
    /// a bad host name, or the last address's error.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::{TcpListener, TcpStream};
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let port = listener.local_addr()?.port();
    ///     // A `SocketAddr`, a "host:port" string or a (host, port) pair.
    ///     let stream = TcpStream::connect(("localhost", port)).await?;
    ///     assert_eq!(stream.peer_addr()?.port(), port);
    ///     let refused = TcpStream::connect("127.0.0.1:1").await.unwrap_err();
    ///     assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn connect(addr: impl ToSocketAddrs) -> io::Result<TcpStream> {
        each_addr(addr, |addr| async move {
            let family = if addr.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
            Ok(TcpStream { inner: stream::connect(family, &addr).await? })
        })
        .await
    }

    /// Wraps a connected stream from the standard library (made
    /// non-blocking).
    ///
    /// # Errors
    ///
    /// If it cannot be registered with the poller.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn from_std(stream: net::TcpStream) -> io::Result<TcpStream> {
        Ok(TcpStream { inner: Async::new(stream)? })
    }

    /// Turns Nagle's algorithm off (`true`) or on: `socket.setNoDelay()`.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.inner.get_ref().set_nodelay(nodelay)
    }

    /// Whether Nagle's algorithm is off.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn nodelay(&self) -> io::Result<bool> {
        self.inner.get_ref().nodelay()
    }

    /// Splits the stream into a read half and a write half that can move
    /// to different tasks. Dropping the write half shuts the write side
    /// down.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::{AsyncReadExt, AsyncWriteExt};
    /// use jsloop::net::{TcpListener, TcpStream};
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let (mut server, _) = listener.accept().await?;
    ///     let (mut reader, mut writer) = client.into_split();
    ///     let sender = jsloop::spawn(async move { writer.write_all(b"ping").await });
    ///     let mut buf = [0; 4];
    ///     server.read_exact(&mut buf).await?;
    ///     server.write_all(&buf).await?;
    ///     reader.read_exact(&mut buf).await?;
    ///     assert_eq!(&buf, b"ping");
    ///     sender.await.unwrap()
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn into_split(self) -> (ReadHalf<TcpStream>, WriteHalf<TcpStream>) {
        stream::into_split(self)
    }
}

stream_impls!(TcpStream, SocketAddr);
socket_handle!(TcpListener, SocketAddr);
socket_handle!(TcpStream, SocketAddr);
listener!(TcpListener, TcpStream);
