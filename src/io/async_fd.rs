//! `Async<T>`: any file descriptor (socket, pipe, ...) made async on the
//! loop's poller.

use std::fmt;
use std::future::Future;
use std::io::{self, Read, Write};
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, ready};

use futures_io::{AsyncRead, AsyncWrite};

use super::source::{READ, Source, Transfer, WRITE};
use crate::listeners::ListenerKey;

/// An I/O object registered with the current runtime's poller: operations
/// that would block wait for a readiness event instead (async-io's
/// `Async<T>`, on jsloop's poll phase).
///
/// [`Async::new`] puts the object in non-blocking mode. Use
/// [`read_with`](Async::read_with) / [`write_with`](Async::write_with) to run
/// any non-blocking operation until it stops saying `WouldBlock`, or the
/// `futures-io` [`AsyncRead`] / [`AsyncWrite`] impls when `&T` is `Read` /
/// `Write`. A task waiting on it keeps the loop alive, unless
/// [`unref`](Async::unref) says otherwise. A poll-style wait (through
/// `AsyncRead` / `AsyncWrite` or `poll_readable`) has nowhere to take its
/// registration back if its caller gives up (a read dropped by a timeout,
/// say): it stays until the next event or until the object is dropped,
/// keeping the loop alive meanwhile, as an open socket does in Node.
///
/// # Across threads
///
/// `Async<T>` is `Send` and `Sync` when `T` is, like
/// tokio's and smol's sockets. Its readiness follows the loop that waits:
/// a task on another loop that finds it not ready registers it with that
/// loop's poller (and takes it off the old one), so a socket handed to a
/// [worker](crate::worker) or another runtime simply goes on working
/// there. Polled by another executor, on a thread that runs no jsloop
/// loop, it stays with the loop that registered it last, whose poll phase
/// then delivers its events: that loop must be running. Once that runtime
/// is dropped, such a poll fails with an error that says so; a poll on a
/// loop moves the object there instead.
///
/// # Examples
///
/// ```
/// use std::net::{TcpListener, TcpStream};
/// use futures::{AsyncReadExt, AsyncWriteExt};
/// use jsloop::io::Async;
///
/// jsloop::block_on(async {
///     let listener = Async::new(TcpListener::bind("127.0.0.1:0")?)?;
///     let addr = listener.get_ref().local_addr()?;
///     // (A loopback connect completes at once; `jsloop::net` has an async one.)
///     let mut client = Async::new(TcpStream::connect(addr)?)?;
///     client.write_all(b"hi").await?;
///     drop(client);
///     let (stream, _) = listener.read_with(|l| l.accept()).await?;
///     let mut stream = Async::new(stream)?;
///     let mut text = String::new();
///     stream.read_to_string(&mut text).await?;
///     assert_eq!(text, "hi");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Async<T: AsFd> {
    source: Arc<Source>,
    /// `None` only inside `into_inner`.
    io: Option<T>,
}

impl<T: AsFd> Async<T> {
    /// Puts `io` in non-blocking mode and registers it with the current
    /// runtime's poller.
    ///
    /// # Errors
    ///
    /// If the descriptor cannot be made non-blocking or registered (a
    /// regular file, for instance, cannot be polled with epoll).
    ///
    /// # Panics
    ///
    /// Outside a runtime: "no jsloop runtime is running on this thread".
    pub fn new(io: T) -> io::Result<Async<T>> {
        rustix::io::ioctl_fionbio(io.as_fd(), true)?;
        Async::registered(io)
    }

    /// Registers `io` without touching its flags: for an object whose
    /// operations do not block anyway (sent with `MSG_DONTWAIT`, or
    /// opened non-blocking), where the flag would be shared with other
    /// processes (`io::stdin`'s socket).
    pub(crate) fn registered(io: T) -> io::Result<Async<T>> {
        let source = Source::register(io.as_fd())?;
        Ok(Async { source, io: Some(io) })
    }

    /// Registers `io`, an unconnected non-blocking stream socket, with a
    /// driver that connects it to `address` itself (wait with `writable`,
    /// then ask [`connect_outcome`](Async::connect_outcome)); `io` comes
    /// back where the driver does not connect sockets.
    pub(crate) fn connecting(
        io: T,
        address: &rustix::net::SocketAddrAny,
    ) -> io::Result<Result<Async<T>, T>> {
        Ok(match Source::register_connecting(io.as_fd(), address)? {
            Some(source) => Ok(Async { source, io: Some(io) }),
            None => Err(io),
        })
    }

    /// How the driver's connect ended (`Pending` while it goes on), told
    /// once; `None` where the driver is not connecting this socket: ask
    /// the socket.
    pub(crate) fn connect_outcome(&self) -> Option<Poll<io::Result<()>>> {
        self.source.connect_outcome(self.fd())
    }

    /// The I/O object.
    pub fn get_ref(&self) -> &T {
        self.io.as_ref().expect("`Async` holds its I/O object until `into_inner`")
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.get_ref().as_fd()
    }

    /// Deregisters the object and gives it back (still non-blocking).
    pub fn into_inner(mut self) -> T {
        let io = self.io.take().expect("`Async` holds its I/O object until `into_inner`");
        self.source.deregister(io.as_fd());
        io
    }

    /// Waits for a readiness event: at once if one came that no earlier
    /// `readable()` took (a new object starts out ready), else at the next
    /// one. After it, operate until `WouldBlock`, as with any edge-triggered
    /// readiness, before waiting again; [`read_with`](Async::read_with)
    /// does all of that for you.
    ///
    /// # Errors
    ///
    /// If the runtime the object was registered with is gone, or the
    /// poller cannot be re-armed.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::{ErrorKind, Read, Write};
    /// use std::os::unix::net::UnixStream;
    /// use jsloop::io::Async;
    ///
    /// jsloop::block_on(async {
    ///     let (a, mut b) = UnixStream::pair()?;
    ///     let a = Async::new(a)?;
    ///     b.write_all(b"x")?;
    ///     let mut buf = [0; 8];
    ///     loop {
    ///         a.readable().await?;
    ///         // Operate until `WouldBlock`, then wait again.
    ///         match a.get_ref().read(&mut buf) {
    ///             Ok(n) => break assert_eq!(&buf[..n], b"x"),
    ///             Err(e) if e.kind() == ErrorKind::WouldBlock => continue,
    ///             Err(e) => return Err(e),
    ///         }
    ///     }
    ///     Ok(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn readable(&self) -> Readable<'_, T> {
        Readable(WaitReady { io: self, direction: READ, key: None, consume: true })
    }

    /// Waits until the object may be writable; see
    /// [`readable`](Async::readable).
    ///
    /// # Errors
    ///
    /// As for [`readable`](Async::readable).
    pub fn writable(&self) -> Writable<'_, T> {
        Writable(WaitReady { io: self, direction: WRITE, key: None, consume: true })
    }

    /// `readable()` for poll-based code: `Ready` once per readiness event
    /// (one waker per direction is kept: the last task to poll).
    ///
    /// # Errors
    ///
    /// As for [`readable`](Async::readable).
    pub fn poll_readable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_consuming(READ, None, cx)
    }

    /// `writable()` for poll-based code; see
    /// [`poll_readable`](Async::poll_readable).
    ///
    /// # Errors
    ///
    /// As for [`readable`](Async::readable).
    pub fn poll_writable(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_consuming(WRITE, None, cx)
    }

    fn poll_consuming(
        &self,
        direction: usize,
        key: Option<&mut Option<ListenerKey>>,
        cx: &mut Context<'_>,
    ) -> Poll<io::Result<()>> {
        self.source.poll_ready(direction, self.fd(), key, true, cx)
    }

    /// Runs the non-blocking `op` until it stops failing with `WouldBlock`,
    /// waiting for readability in between.
    ///
    /// # Errors
    ///
    /// `op`'s error, or one from waiting (see [`readable`](Async::readable)).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::UdpSocket;
    /// use jsloop::io::Async;
    ///
    /// jsloop::block_on(async {
    ///     let socket = Async::new(UdpSocket::bind("127.0.0.1:0")?)?;
    ///     let addr = socket.get_ref().local_addr()?;
    ///     socket.write_with(|s| s.send_to(b"ping", addr)).await?;
    ///     let mut buf = [0; 8];
    ///     let (n, _) = socket.read_with(|s| s.recv_from(&mut buf)).await?;
    ///     assert_eq!(&buf[..n], b"ping");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn read_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.with(READ, op).await
    }

    /// Runs the non-blocking `op` until it stops failing with `WouldBlock`,
    /// waiting for writability in between.
    ///
    /// # Errors
    ///
    /// `op`'s error, or one from waiting (see [`readable`](Async::readable)).
    pub async fn write_with<R>(&self, op: impl FnMut(&T) -> io::Result<R>) -> io::Result<R> {
        self.with(WRITE, op).await
    }

    async fn with<R>(
        &self,
        direction: usize,
        mut op: impl FnMut(&T) -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            if let Some(seen) = self.source.may_be_ready(direction) {
                match op(self.get_ref()) {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        self.source.mark_drained(direction, seen);
                    }
                    result => return result,
                }
            }
            WaitReady { io: self, direction, key: None, consume: false }.await?;
        }
    }

    /// Polls the non-blocking `op` (the engine of the `AsyncRead` /
    /// `AsyncWrite` impls). `len` is the buffer length of a pipe's or
    /// stream's read or write: a shorter transfer may prove the direction
    /// drained (see `Source::short_transfer`).
    #[inline]
    pub(crate) fn poll_op(
        &self,
        direction: usize,
        len: Option<usize>,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<usize>,
    ) -> Poll<io::Result<usize>> {
        self.poll_transfer(direction, cx, |io| {
            let n = op(io)?;
            Ok(len.map_or(Transfer::proving_nothing(n), |len| Transfer::asked(n, len)))
        })
    }

    /// [`poll_op`](Self::poll_op) for an operation that says itself whether
    /// it proved the direction drained (a stream read through the
    /// read-ahead buffer asks the kernel for more than the caller's
    /// buffer holds).
    pub(crate) fn poll_transfer(
        &self,
        direction: usize,
        cx: &mut Context<'_>,
        mut op: impl FnMut(&T) -> io::Result<Transfer>,
    ) -> Poll<io::Result<usize>> {
        loop {
            if let Some(seen) = self.source.may_be_ready(direction) {
                match op(self.get_ref()) {
                    Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                        self.source.mark_drained(direction, seen);
                    }
                    Ok(Transfer { n, short }) => {
                        if short {
                            self.source.short_transfer(direction, seen);
                        }
                        return Poll::Ready(Ok(n));
                    }
                    Err(error) => return Poll::Ready(Err(error)),
                }
            }
            ready!(self.source.poll_ready(direction, self.fd(), None, false, cx))?;
        }
    }

    /// A connection the loop's driver accepted for this listener (see
    /// `Source::accept`), or `None`: accept from the socket.
    pub(crate) fn accept_from_driver(&self) -> Option<io::Result<std::os::fd::OwnedFd>> {
        self.source.accept(self.fd())
    }

    /// A stream socket's read from bytes already in user space (see
    /// `Source::stream_read`), or `None`: read the socket.
    #[inline]
    pub(crate) fn stream_read(&self, buf: &mut [u8]) -> Option<io::Result<Transfer>> {
        self.source.stream_read(self.fd(), buf)
    }

    /// A stream socket's read of the socket itself, small buffers through
    /// the read-ahead buffer (see `Source::read_socket`).
    #[inline]
    pub(crate) fn read_socket(&self, buf: &mut [u8]) -> io::Result<Transfer> {
        self.source.read_socket(self.fd(), buf)
    }

    /// A stream socket's write into its driver's write-behind buffer (see
    /// `Source::stream_write`), or `None`: write the socket.
    #[inline]
    pub(crate) fn stream_write(&self, bufs: &[io::IoSlice<'_>]) -> Option<io::Result<usize>> {
        self.source.stream_write(self.fd(), bufs)
    }

    /// A stream socket's flush: ready once every byte written is out of
    /// user space (at once where writes go straight to the socket), with
    /// the error of a write-behind send that failed.
    pub(crate) fn poll_stream_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.source.stream_flush(self.fd()) {
            None => return Poll::Ready(Ok(())),
            Some(Err(error)) if error.kind() == io::ErrorKind::WouldBlock => {}
            Some(done) => return Poll::Ready(done),
        }
        let flushed = self.poll_op(WRITE, None, cx, |_| {
            self.source.stream_flush(self.fd()).unwrap_or(Ok(())).map(|()| 0)
        });
        flushed.map_ok(drop)
    }

    /// Leaves a stream socket's write-side shutdown to its driver, which
    /// does it once the bytes it holds are out: `false` if the caller
    /// should shut it down now.
    pub(crate) fn defer_shutdown(&self) -> bool {
        self.source.defer_shutdown(self.fd())
    }

    /// Forgets readiness seen so far: the next wait in `direction` waits
    /// for a new event (a connect in progress, say).
    pub(crate) fn expect_event(&self, direction: usize) {
        self.source.expect_event(direction);
    }

    /// Holds reads back after an operation that will keep failing until
    /// something changes (an `accept` out of descriptors): the next read
    /// waits, without polling, for a readiness event, for this loop's next
    /// close of a descriptor, or for [`ReadResume::resume`] on the handle
    /// returned.
    pub(crate) fn hold_reads(&self) -> ReadResume {
        self.source.expect_event(READ);
        self.source.make_ready_on_next_close(READ);
        ReadResume(Arc::downgrade(&self.source))
    }

    /// Waiting on this object no longer keeps the loop alive: Node's
    /// `socket.unref()`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::net::TcpListener;
    /// use jsloop::io::Async;
    ///
    /// jsloop::run(async {
    ///     let listener = Async::new(TcpListener::bind("127.0.0.1:0").unwrap()).unwrap();
    ///     listener.unref();
    ///     jsloop::spawn(async move {
    ///         // Nobody connects: without `unref` this would keep `run` going.
    ///         let _ = listener.read_with(|l| l.accept()).await;
    ///     });
    /// });
    /// ```
    pub fn unref(&self) -> &Self {
        self.source.set_refd(false);
        self
    }

    /// Waiting on this object keeps the loop alive again (the default):
    /// Node's `socket.ref()`.
    pub fn ref_(&self) -> &Self {
        self.source.set_refd(true);
        self
    }

    /// Whether waiting on this object keeps the loop alive.
    pub fn has_ref(&self) -> bool {
        self.source.is_refd()
    }
}

impl<T: AsFd> Drop for Async<T> {
    fn drop(&mut self) {
        if let Some(io) = &self.io {
            self.source.deregister(io.as_fd());
            // `io` closes right after this (for the owning types), before any
            // woken task runs: a listener out of descriptors may retry.
            self.source.closing();
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for Async<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Async").field(&self.io).finish()
    }
}

/// Ends an [`Async::hold_reads`]; does nothing once the object is gone.
pub(crate) struct ReadResume(Weak<Source>);

impl ReadResume {
    /// Lets reads be tried again (their waiters are woken).
    pub(crate) fn resume(&self) {
        if let Some(source) = self.0.upgrade() {
            source.make_ready(READ);
        }
    }
}

/// Waits for a direction's ready mark; takes its waker out when dropped.
struct WaitReady<'a, T: AsFd> {
    io: &'a Async<T>,
    direction: usize,
    key: Option<ListenerKey>,
    /// Clears the mark when done (`readable()`), or leaves it for the
    /// operation that follows (`read_with`).
    consume: bool,
}

impl<T: AsFd> Future for WaitReady<'_, T> {
    type Output = io::Result<()>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let source = &this.io.source;
        let key = Some(&mut this.key);
        ready!(source.poll_ready(this.direction, this.io.fd(), key, this.consume, cx))?;
        if let Some(key) = this.key.take() {
            source.remove_waiter(this.direction, key);
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsFd> Drop for WaitReady<'_, T> {
    fn drop(&mut self) {
        if let Some(key) = self.key {
            self.io.source.remove_waiter(self.direction, key);
        }
    }
}

/// A public future that waits for one direction: [`Readable`], [`Writable`].
macro_rules! ready_future {
    ($name:ident, $doc:literal) => {
        #[doc = $doc]
        #[must_use = "futures do nothing unless awaited"]
        pub struct $name<'a, T: AsFd>(WaitReady<'a, T>);

        impl<T: AsFd> Future for $name<'_, T> {
            type Output = io::Result<()>;

            fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                Pin::new(&mut self.0).poll(cx)
            }
        }

        impl<T: AsFd> fmt::Debug for $name<'_, T> {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(stringify!($name))
            }
        }
    };
}

ready_future!(Readable, "The future of [`Async::readable`].");
ready_future!(Writable, "The future of [`Async::writable`].");

impl<T: AsFd> AsyncRead for Async<T>
where
    for<'a> &'a T: Read,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_op(READ, None, cx, |mut io| io.read(buf))
    }
}

impl<T: AsFd> AsyncWrite for Async<T>
where
    for<'a> &'a T: Write,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_op(WRITE, None, cx, |mut io| io.write(buf))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.poll_op(WRITE, None, cx, |mut io| io.write_vectored(bufs))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_op(WRITE, None, cx, |mut io| io.flush().map(|()| 0)).map_ok(drop)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}
