//! TCP: `TcpListener` and `TcpStream` on the loop's poller (Node's `net`).

use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::{AsFd, BorrowedFd};

use rustix::net::AddressFamily;

use super::accept::AcceptBackoff;
use super::addr::{ToSocketAddrs, each_addr};
use super::incoming::Incoming;
use super::listen::TcpListenerBuilder;
use super::socket::{listener, socket_handle};
use super::stream::{self, ReadHalf, WriteHalf, stream_impls};
use crate::io::Async;

/// A TCP server socket: `net.createServer().listen(..)`.
///
/// Waiting in [`accept`](TcpListener::accept) keeps the loop alive, like a
/// listening Node server, unless [`unref`](TcpListener::unref)'d. Dropping
/// the listener closes it.
///
/// # One listener per loop
///
/// A thread-per-core server runs one loop per core, each with its own
/// listener on the same port, bound with `SO_REUSEPORT`
/// ([`bind_reuseport`](TcpListener::bind_reuseport), or
/// [`builder`](TcpListener::builder) and
/// [`reuse_port`](TcpListenerBuilder::reuse_port)): the kernel (Linux's;
/// see `reuse_port` for the BSDs) balances the incoming connections over
/// the listeners, so every connection is accepted and served on one loop
/// and nothing crosses threads. glommio and monoio servers are built this
/// way. Closing one listener of the group resets the connections still
/// waiting in its backlog; the others go on taking new ones.
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
    backoff: AcceptBackoff,
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
        TcpListener::builder().bind(addr).await
    }

    /// Binds to `addr` with `SO_REUSEPORT` set, and listens: other
    /// listeners bound the same way (by this process or another of the same
    /// user) can share the port, and the kernel spreads the connections
    /// over them. One per loop is how a thread-per-core server shares a
    /// port (see [One listener per loop](TcpListener#one-listener-per-loop)).
    /// The same as `TcpListener::builder().reuse_port(true).bind(addr)`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the port is taken by a socket bound without
    /// `SO_REUSEPORT` (a plain [`bind`](TcpListener::bind), say), or by
    /// another user's; `Unsupported` on targets without `SO_REUSEPORT`
    /// (Solaris, illumos, Cygwin); otherwise as [`bind`](TcpListener::bind).
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// Two listeners on one port. Each would serve on its own loop; here,
    /// with the first one closed, the kernel sends every connection to the
    /// second:
    ///
    /// ```
    /// use jsloop::net::{TcpListener, TcpStream};
    ///
    /// jsloop::block_on(async {
    ///     let first = TcpListener::bind_reuseport("127.0.0.1:0").await?;
    ///     let addr = first.local_addr()?;
    ///     let second = TcpListener::bind_reuseport(addr).await?;
    ///     assert_eq!(second.local_addr()?, addr);
    ///
    ///     drop(first);
    ///     let client = TcpStream::connect(addr).await?;
    ///     let (_socket, peer) = second.accept().await?;
    ///     assert_eq!(peer, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind_reuseport(addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        TcpListener::builder().reuse_port(true).bind(addr).await
    }

    /// Options for a listener set before it binds: `SO_REUSEPORT`,
    /// `SO_REUSEADDR`, `IPV6_V6ONLY` and the backlog. Its defaults are what
    /// [`bind`](TcpListener::bind) uses.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::builder()
    ///         .reuse_port(true)
    ///         .backlog(1024)
    ///         .bind("127.0.0.1:0")
    ///         .await?;
    ///     assert!(listener.local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn builder() -> TcpListenerBuilder {
        TcpListenerBuilder::default()
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
        Ok(TcpListener { inner: Async::new(listener)?, backoff: AcceptBackoff::new() })
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// The OS's: `EMFILE` when the process is out of file descriptors, for
    /// instance. The listener keeps working: the connection waits in the
    /// backlog, and a later `accept` takes it once descriptors are free.
    ///
    /// # Out of descriptors
    ///
    /// An `EMFILE` / `ENFILE` (or `ENOBUFS` / `ENOMEM`) is returned at once,
    /// so the caller learns of it, and then the listener pauses: the next
    /// `accept` waits, without polling, until this loop closes a descriptor
    /// (any jsloop socket or [`Async`](crate::io::Async) dropped) or a
    /// backoff runs out (1 ms after the first failure, doubling with each
    /// failure in a row up to 100 ms, for descriptors freed where the loop
    /// cannot see), and only then tries again. So a server that retries in
    /// a loop, as most do, waits instead of spinning, and the connection is
    /// accepted soon after a descriptor frees up. A successful accept starts
    /// the backoff over. The backoff timer alone does not keep the loop
    /// alive; a task waiting in `accept` does, unless the listener is
    /// [`unref`](TcpListener::unref)'d. (Node's libuv instead closes the
    /// pending connections to stay under the limit, and its servers never
    /// see the error.)
    ///
    /// # Examples
    ///
    /// A retry loop needs no sleep of its own:
    ///
    /// ```no_run
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::run(async {
    ///     let listener = TcpListener::bind("127.0.0.1:8080").await.expect("port 8080 is free");
    ///     loop {
    ///         match listener.accept().await {
    ///             Ok((socket, peer)) => {
    ///                 jsloop::spawn(async move {
    ///                     println!("{peer} connected");
    ///                     drop(socket); // closing it lets a paused accept retry
    ///                 });
    ///             }
    ///             // EMFILE: the next `accept` waits for a free descriptor.
    ///             Err(error) => eprintln!("accept: {error}"),
    ///         }
    ///     }
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let accept = net::TcpListener::accept;
        let (inner, peer) =
            self.backoff.accept(&self.inner, accept, net::TcpStream::peer_addr).await?;
        Ok((TcpStream { inner }, peer))
    }

    /// A stream of incoming connections (`server.on('connection')`). It
    /// never ends; an accept error is an item, and after an out-of-
    /// descriptors one the next item waits as [`accept`](TcpListener::accept)
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use jsloop::net::{TcpListener, TcpStream};
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await?;
    ///     let client = TcpStream::connect(listener.local_addr()?).await?;
    ///     let mut incoming = listener.incoming();
    ///     let socket = incoming.next().await.expect("it never ends")?;
    ///     assert_eq!(socket.peer_addr()?, client.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
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

/// The listening socket, for options jsloop has no method for (through
/// `rustix::net::sockopt`, say).
///
/// # Examples
///
/// ```
/// use std::os::fd::AsFd;
/// use jsloop::net::TcpListener;
///
/// jsloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let fd = listener.as_fd();
///     assert!(std::os::fd::AsRawFd::as_raw_fd(&fd) >= 0);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.inner.get_ref().as_fd()
    }
}

stream_impls!(TcpStream, SocketAddr);
socket_handle!(TcpListener, SocketAddr);
socket_handle!(TcpStream, SocketAddr);
listener!(TcpListener, TcpStream);
