//! A child's piped stdin, stdout and stderr: non-blocking pipe ends on the
//! loop's poller, so a read or write that would block waits for a
//! poll-phase readiness event (the `io::Async` machinery sockets use).
//!
//! A task waiting on one keeps the loop alive, as an open stream does in
//! Node. A read after the child closed its end (exited, say) reads what
//! is left, then `Ok(0)`; a write after the child closed its stdin fails
//! with `BrokenPipe` (Rust programs ignore `SIGPIPE`, so that is an error,
//! not the end of this process).

use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use crate::io::Async;
use crate::io::source::{READ, WRITE};

/// One pipe end on the loop's poller.
struct Pipe(Async<OwnedFd>);

impl Pipe {
    fn new(end: impl Into<OwnedFd>) -> io::Result<Pipe> {
        Ok(Pipe(Async::new(end.into())?))
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        // The length lets a short read prove the pipe empty (no syscall
        // that would only say `WouldBlock`), as for sockets.
        let len = buf.len();
        self.0.poll_op(READ, Some(len), cx, |fd| Ok(rustix::io::read(fd, &mut *buf)?))
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        self.0.poll_op(WRITE, Some(buf.len()), cx, |fd| Ok(rustix::io::write(fd, buf)?))
    }

    fn fd(&self) -> BorrowedFd<'_> {
        self.0.get_ref().as_fd()
    }
}

/// Reads `pipe` to its end (nothing if there is no pipe).
pub(crate) async fn read_to_end(pipe: Option<impl AsyncRead + Unpin>) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let Some(mut pipe) = pipe else { return Ok(bytes) };
    let mut filled = 0;
    loop {
        if bytes.len() == filled {
            bytes.resize((filled * 2).max(8 * 1024), 0);
        }
        let n = std::future::poll_fn(|cx| Pin::new(&mut pipe).poll_read(cx, &mut bytes[filled..]))
            .await?;
        if n == 0 {
            bytes.truncate(filled);
            return Ok(bytes);
        }
        filled += n;
    }
}

/// What the three pipe types share: registering the end, and exposing
/// its descriptor.
macro_rules! pipe_type {
    ($(#[$attr:meta])* $name:ident($std:ty)) => {
        $(#[$attr])*
        pub struct $name(Pipe);

        impl $name {
            pub(crate) fn new(end: $std) -> io::Result<$name> {
                Pipe::new(end).map($name)
            }
        }

        impl AsFd for $name {
            fn as_fd(&self) -> BorrowedFd<'_> {
                self.0.fd()
            }
        }

        impl AsRawFd for $name {
            fn as_raw_fd(&self) -> RawFd {
                self.0.fd().as_raw_fd()
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_tuple(stringify!($name)).field(&self.0.fd().as_raw_fd()).finish()
            }
        }
    };
}

pipe_type! {
    /// The writing end of a child's stdin (`Stdio::piped()`): a
    /// `futures-io` [`AsyncWrite`]. Drop it to close the pipe: the child
    /// then reads EOF ([`Child::wait`](super::Child::wait) drops it first).
    /// A write after the child closed its stdin fails with `BrokenPipe`.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use futures::AsyncWriteExt;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn()?;
    ///     let mut stdin = child.stdin.take().expect("piped");
    ///     stdin.write_all(b"hello").await?;
    ///     drop(stdin); // EOF: cat ends
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!(output.stdout, b"hello");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ChildStdin(std::process::ChildStdin)
}

pipe_type! {
    /// The reading end of a child's stdout (`Stdio::piped()`): a
    /// `futures-io` [`AsyncRead`]; `Ok(0)` once the child closed it (it
    /// exited, say) and it is drained.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use futures::AsyncReadExt;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn()?;
    ///     let mut text = String::new();
    ///     child.stdout.take().expect("piped").read_to_string(&mut text).await?;
    ///     assert_eq!(text, "hi\n");
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ChildStdout(std::process::ChildStdout)
}

pipe_type! {
    /// The reading end of a child's stderr (`Stdio::piped()`): a
    /// `futures-io` [`AsyncRead`], as [`ChildStdout`] is.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use futures::AsyncReadExt;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child =
    ///         Command::new("sh").args(["-c", "echo oops >&2"]).stderr(Stdio::piped()).spawn()?;
    ///     let mut text = String::new();
    ///     child.stderr.take().expect("piped").read_to_string(&mut text).await?;
    ///     assert_eq!(text, "oops\n");
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    ChildStderr(std::process::ChildStderr)
}

impl AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // A pipe has no user-space buffer to flush.
        Poll::Ready(Ok(()))
    }

    /// Nothing to do: the pipe closes when the `ChildStdin` is dropped.
    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

/// `AsyncRead` for the reading ends, through the pipe they wrap.
macro_rules! async_read {
    ($($pipe:ty),*) => {$(
        impl AsyncRead for $pipe {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.0.poll_read(cx, buf)
            }
        }
    )*};
}

async_read!(ChildStdout, ChildStderr);
