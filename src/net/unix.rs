//! Unix domain sockets: `UnixListener`, `UnixStream`, `UnixDatagram` on the
//! loop's poller (Node's `net` with a path, "IPC").

use std::io;
use std::os::unix::net::{self, SocketAddr};
use std::path::Path;

use rustix::net::{AddressFamily, SocketAddrUnix};

use super::accept::AcceptBackoff;
use super::incoming::Incoming;
use super::socket::{connected_datagrams, listener, socket_handle};
use super::stream::{self, ReadHalf, WriteHalf, stream_impls};
use crate::io::Async;

/// A Unix domain server socket: `net.createServer().listen(path)`.
///
/// The socket file is not removed when the listener is dropped (as with
/// the standard library's); remove it yourself.
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use jsloop::net::{UnixListener, UnixStream};
///
/// let dir = std::env::temp_dir().join(format!("jsloop-doc-{}", std::process::id()));
/// std::fs::create_dir_all(&dir)?;
/// let path = dir.join("unix-listener.sock");
/// let _ = std::fs::remove_file(&path);
/// jsloop::block_on(async {
///     let listener = UnixListener::bind(&path)?;
///     let mut client = UnixStream::connect(&path).await?;
///     let (mut server, _) = listener.accept().await?;
///     client.write_all(b"hi").await?;
///     let mut buf = [0; 2];
///     server.read_exact(&mut buf).await?;
///     assert_eq!(&buf, b"hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// std::fs::remove_dir_all(&dir)?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixListener {
    inner: Async<net::UnixListener>,
    backoff: AcceptBackoff,
}

impl UnixListener {
    /// Binds to `path` and listens.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, or the OS's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let inner = Async::new(net::UnixListener::bind(path)?)?;
        Ok(UnixListener { inner, backoff: AcceptBackoff::new() })
    }

    /// Waits for the next connection.
    ///
    /// # Errors
    ///
    /// The OS's (`EMFILE`, for instance; the listener keeps working). Out
    /// of descriptors, the error comes back at once and the next `accept`
    /// waits for one to be freed (see "Out of descriptors" on
    /// [`TcpListener::accept`](super::TcpListener::accept)).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("jsloop-doc-accept-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("accept.sock");
    /// let _ = std::fs::remove_file(&path);
    /// jsloop::block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let (_server, _addr) = listener.accept().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let accept = net::UnixListener::accept;
        let (inner, addr) =
            self.backoff.accept(&self.inner, accept, net::UnixStream::peer_addr).await?;
        Ok((UnixStream { inner }, addr))
    }

    /// A stream of incoming connections; it never ends. An accept error is
    /// an item, and after an out-of-descriptors one the next item waits as
    /// [`accept`](UnixListener::accept) does.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures::StreamExt;
    /// use jsloop::net::{UnixListener, UnixStream};
    ///
    /// let dir = std::env::temp_dir().join(format!("jsloop-doc-incoming-{}", std::process::id()));
    /// std::fs::create_dir_all(&dir)?;
    /// let path = dir.join("incoming.sock");
    /// let _ = std::fs::remove_file(&path);
    /// jsloop::block_on(async {
    ///     let listener = UnixListener::bind(&path)?;
    ///     let _client = UnixStream::connect(&path).await?;
    ///     let _server: UnixStream = listener.incoming().next().await.expect("it never ends")?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// std::fs::remove_dir_all(&dir)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn incoming(&self) -> Incoming<'_, UnixListener> {
        Incoming::new(self)
    }
}

/// A Unix domain stream connection; the same API as
/// [`TcpStream`](super::TcpStream) (`AsyncRead` / `AsyncWrite`, also
/// through `&`, and `into_split`).
///
/// # Examples
///
/// ```
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use jsloop::net::UnixStream;
///
/// jsloop::block_on(async {
///     let (mut a, mut b) = UnixStream::pair()?;
///     a.write_all(b"over the pair").await?;
///     a.close().await?;
///     let mut text = String::new();
///     b.read_to_string(&mut text).await?;
///     assert_eq!(text, "over the pair");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixStream {
    inner: Async<net::UnixStream>,
}

impl UnixStream {
    /// Connects to the socket at `path` without blocking the loop.
    ///
    /// # Errors
    ///
    /// `NotFound` / `ConnectionRefused` when nothing listens there;
    /// `WouldBlock` when the listener's backlog is full.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let addr = SocketAddrUnix::new(path.as_ref())?;
        Ok(UnixStream { inner: stream::connect(AddressFamily::UNIX, &addr).await? })
    }

    /// A connected pair of streams.
    ///
    /// # Errors
    ///
    /// The OS's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = net::UnixStream::pair()?;
        Ok((UnixStream { inner: Async::new(a)? }, UnixStream { inner: Async::new(b)? }))
    }

    /// Splits the stream into halves that can move to different tasks.
    pub fn into_split(self) -> (ReadHalf<UnixStream>, WriteHalf<UnixStream>) {
        stream::into_split(self)
    }
}

stream_impls!(UnixStream, SocketAddr);

/// A Unix domain datagram socket.
///
/// # Examples
///
/// ```
/// use jsloop::net::UnixDatagram;
///
/// jsloop::block_on(async {
///     let (a, b) = UnixDatagram::pair()?;
///     a.send(b"one datagram").await?;
///     let mut buf = [0; 32];
///     let n = b.recv(&mut buf).await?;
///     assert_eq!(&buf[..n], b"one datagram");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UnixDatagram {
    inner: Async<net::UnixDatagram>,
}

impl UnixDatagram {
    /// Binds to `path`.
    ///
    /// # Errors
    ///
    /// `AddrInUse` if the path exists, or the OS's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { inner: Async::new(net::UnixDatagram::bind(path)?)? })
    }

    /// A socket bound to no address (it can send, and receive replies only
    /// once connected).
    ///
    /// # Errors
    ///
    /// The OS's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn unbound() -> io::Result<UnixDatagram> {
        Ok(UnixDatagram { inner: Async::new(net::UnixDatagram::unbound()?)? })
    }

    /// A connected pair of sockets.
    ///
    /// # Errors
    ///
    /// The OS's.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = net::UnixDatagram::pair()?;
        Ok((UnixDatagram { inner: Async::new(a)? }, UnixDatagram { inner: Async::new(b)? }))
    }

    /// Sets the default peer of `send` / `recv`.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.inner.get_ref().connect(path)
    }

    /// Sends a datagram to the socket at `path`.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let path = path.as_ref();
        self.inner.write_with(|s| s.send_to(buf, path)).await
    }

    /// Receives a datagram and its sender's address.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }
}

socket_handle!(UnixListener, SocketAddr);
socket_handle!(UnixStream, SocketAddr);
socket_handle!(UnixDatagram, SocketAddr);
listener!(UnixListener, UnixStream);
connected_datagrams!(UnixDatagram);
