//! What TCP and Unix stream sockets share: the `futures-io` impls (also on
//! `&stream`, so one task can read while another writes), the owned halves
//! of `into_split`, and the non-blocking connect.

use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};
use rustix::net::addr::SocketAddrArg;
use rustix::net::{AddressFamily, SocketFlags, SocketType};

use crate::io::Async;

/// A connected stream socket (TCP or Unix).
pub trait StreamSocket: sealed::Sealed {
    #[doc(hidden)]
    fn shutdown_socket(&self, how: Shutdown) -> io::Result<()>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// `AsyncRead` / `AsyncWrite` for a stream type and for `&` it, through its
/// `inner: Async<std type>`. A transfer shorter than what was asked of the
/// kernel can prove the socket drained, which spares the syscall that would
/// only say `WouldBlock` (see `Source::short_transfer`); reads into a small
/// buffer ask for more than it holds, to find out (`Source::read_socket`).
macro_rules! stream_impls {
    ($stream:ident, $addr:ty) => {
        impl $stream {
            /// The peer's address.
            ///
            /// # Errors
            ///
            /// The OS's (`NotConnected` once the peer is gone, for instance).
            pub fn peer_addr(&self) -> std::io::Result<$addr> {
                self.inner.get_ref().peer_addr()
            }

            /// Shuts the read side, the write side or both down. A task
            /// waiting to read on this stream then reads EOF (`Ok(0)`).
            /// Where writes go through the io_uring driver's write-behind
            /// buffer, the write side shuts down once the bytes written
            /// before are out (the peer reads them, then EOF); writes after
            /// it fail with `BrokenPipe`.
            ///
            /// # Errors
            ///
            /// The OS's (`NotConnected` if the peer already reset it, for
            /// instance).
            pub fn shutdown(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                use std::net::Shutdown;
                if how != Shutdown::Read && self.inner.defer_shutdown() {
                    return match how {
                        Shutdown::Both => self.inner.get_ref().shutdown(Shutdown::Read),
                        _ => Ok(()),
                    };
                }
                self.inner.get_ref().shutdown(how)
            }
        }

        impl futures_io::AsyncRead for &$stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                let inner = &self.inner;
                inner.poll_transfer(crate::io::source::READ, cx, |_| match inner.stream_read(buf) {
                    Some(result) => result,
                    None => inner.read_socket(buf),
                })
            }
        }

        impl futures_io::AsyncWrite for &$stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write;
                let len = buf.len();
                let inner = &self.inner;
                inner.poll_op(crate::io::source::WRITE, Some(len), cx, |mut io| {
                    match inner.stream_write(&[std::io::IoSlice::new(buf)]) {
                        Some(result) => result,
                        None => io.write(buf),
                    }
                })
            }

            /// All of `bufs` in one `writev`.
            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                use std::io::Write;
                let len = bufs.iter().map(|buf| buf.len()).sum();
                let inner = &self.inner;
                inner.poll_op(crate::io::source::WRITE, Some(len), cx, |mut io| {
                    match inner.stream_write(bufs) {
                        Some(result) => result,
                        None => io.write_vectored(bufs),
                    }
                })
            }

            /// Waits until every byte written is out of user space: at
            /// once where writes go straight to the socket; with the
            /// io_uring driver's write-behind, until its sends took them
            /// (the error of one that failed, if one did).
            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                self.inner.poll_stream_flush(cx)
            }

            /// Flushes, then shuts the write side down (the peer reads
            /// EOF). A connection the peer already tore down
            /// (`NotConnected`) counts as closed.
            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::task::ready!(self.inner.poll_stream_flush(cx))?;
                std::task::Poll::Ready(match self.shutdown(std::net::Shutdown::Write) {
                    Err(error) if error.kind() == std::io::ErrorKind::NotConnected => Ok(()),
                    result => result,
                })
            }
        }

        impl futures_io::AsyncRead for $stream {
            fn poll_read(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &mut [u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_read(cx, buf)
            }
        }

        impl futures_io::AsyncWrite for $stream {
            fn poll_write(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                buf: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
                bufs: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut &*self).poll_write_vectored(cx, bufs)
            }

            fn poll_flush(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_flush(cx)
            }

            fn poll_close(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut &*self).poll_close(cx)
            }
        }

        impl crate::net::stream::sealed::Sealed for $stream {}

        impl crate::net::stream::StreamSocket for $stream {
            fn shutdown_socket(&self, how: std::net::Shutdown) -> std::io::Result<()> {
                self.shutdown(how)
            }
        }
    };
}

pub(crate) use stream_impls;

/// The read half of a stream from `into_split`; it can move to another task.
pub struct ReadHalf<S> {
    stream: Arc<S>,
}

/// The write half of a stream from `into_split`. Dropping it shuts the
/// write side down, so the peer reads EOF.
pub struct WriteHalf<S: StreamSocket> {
    stream: Arc<S>,
}

/// Splits `stream` into halves that share it.
pub(crate) fn into_split<S: StreamSocket>(stream: S) -> (ReadHalf<S>, WriteHalf<S>) {
    let stream = Arc::new(stream);
    (ReadHalf { stream: stream.clone() }, WriteHalf { stream })
}

impl<S> ReadHalf<S> {
    /// The stream both halves share.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S: StreamSocket> WriteHalf<S> {
    /// The stream both halves share.
    pub fn stream(&self) -> &S {
        &self.stream
    }
}

impl<S> AsyncRead for ReadHalf<S>
where
    for<'a> &'a S: AsyncRead,
{
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_read(cx, buf)
    }
}

impl<S: StreamSocket> AsyncWrite for WriteHalf<S>
where
    for<'a> &'a S: AsyncWrite,
{
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut &*self.stream).poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.stream).poll_flush(cx)
    }

    fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut &*self.stream).poll_close(cx)
    }
}

impl<S: StreamSocket> Drop for WriteHalf<S> {
    fn drop(&mut self) {
        // Already shut down, or the peer is gone: nothing left to tell it.
        let _ = self.stream.shutdown_socket(Shutdown::Write);
    }
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(&self.stream).finish()
    }
}

impl<S: StreamSocket + fmt::Debug> fmt::Debug for WriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(&self.stream).finish()
    }
}

/// Connects a new non-blocking stream socket to `addr`: through the driver
/// where it connects sockets (io_uring's `CONNECT`), else by starting the
/// connect, waiting until the socket is writable, then reading the outcome
/// (`SO_ERROR`).
pub(crate) async fn connect<T>(
    family: AddressFamily,
    addr: &impl SocketAddrArg,
) -> io::Result<Async<T>>
where
    T: From<OwnedFd> + std::os::fd::AsFd,
{
    let flags = SocketFlags::NONBLOCK | SocketFlags::CLOEXEC;
    let fd = rustix::net::socket_with(family, SocketType::STREAM, flags, None)?;
    let socket = match Async::connecting(T::from(fd), &addr.as_any())? {
        Ok(socket) => socket,
        Err(io) => match rustix::net::connect(&io, addr) {
            Ok(()) => return Async::registered(io),
            Err(rustix::io::Errno::INPROGRESS) => Async::registered(io)?,
            Err(errno) => return Err(errno.into()),
        },
    };
    // A new socket starts out "ready": make `writable` wait for the event
    // that ends the connect, and check that it did end (an event can be
    // spurious).
    loop {
        socket.expect_event(crate::io::source::WRITE);
        socket.writable().await?;
        match socket.connect_outcome() {
            Some(Poll::Ready(outcome)) => return outcome.map(|()| socket),
            Some(Poll::Pending) => continue,
            // The socket's own connect, or the driver's from a loop it
            // left meanwhile.
            None => {}
        }
        rustix::net::sockopt::socket_error(socket.get_ref())??;
        match rustix::net::getpeername(socket.get_ref()) {
            Ok(_) => return Ok(socket),
            Err(rustix::io::Errno::NOTCONN) if !has_hung_up(socket.get_ref())? => continue,
            Err(rustix::io::Errno::NOTCONN) => {
                return Err(io::Error::new(
                    io::ErrorKind::NotConnected,
                    "jsloop: the connect failed, and the socket no longer says why",
                ));
            }
            Err(errno) => return Err(errno.into()),
        }
    }
}

/// Whether a socket that is not connected has ended (a failed connect,
/// whose error was read already) rather than still connecting: only the
/// former reports a hang-up.
fn has_hung_up(socket: &impl std::os::fd::AsFd) -> io::Result<bool> {
    use rustix::event::{PollFd, PollFlags};
    let mut fds = [PollFd::new(socket, PollFlags::OUT)];
    rustix::event::poll(&mut fds, Some(&rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 }))?;
    Ok(fds[0].revents().contains(PollFlags::HUP))
}
