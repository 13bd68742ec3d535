//! I/O on the loop's poller: [`Async<T>`] makes any file descriptor async.
//!
//! Readiness comes from the OS poller the loop already sleeps in during its
//! poll phase. Each readiness event wakes the tasks waiting on that socket
//! (through the microtask ring), and the loop runs a checkpoint after each
//! event, where Node runs one after each I/O callback. The socket types of
//! [`net`](crate::net) are built on [`Async<T>`]. With the `hyper` feature,
//! [`HyperIo`] runs hyper 1.x over them.
//!
//! # Standard streams
//!
//! [`stdin`], [`stdout`] and [`stderr`] are the process's standard streams
//! as `futures-io` streams, served as libuv serves Node's `process.stdin`
//! and `process.stdout`: pipes, terminals and sockets in the poll phase,
//! files on the worker pool. Each hands out a handle to the current loop's
//! one stream of its kind, however many handles there are: bytes leave in
//! the order they were written and are read once, whichever handle does it.
//! A task waiting to read or write keeps the loop alive, as a pending read
//! or write keeps Node running — for stdin, only while some [`Stdin`]
//! handle (or a reader wrapping one) still exists, so a read given up on
//! does not hold `run` once its handle is dropped.
//!
//! **How a descriptor is reached.** A pipe, FIFO or terminal is reopened
//! (through `/proc/self/fd/N`, on Linux) to get a non-blocking descriptor
//! of jsloop's own, served by the poller; a socket is served by the poller
//! with `MSG_DONTWAIT` on each call; regular files, `/dev/null` and the
//! rest get blocking calls on the worker pool, and so does a pipe or
//! terminal that cannot be reopened (on other systems, say). The
//! `O_NONBLOCK` flag of the descriptor the process was given is never
//! touched: the parent shell and its other children share it, and a
//! terminal left non-blocking breaks the next program run in it. So
//! `println!` and `std::io::stdout()` keep working beside these handles,
//! on fd 1 as it was; each side has its own buffer, and both write out at
//! the end of a line.
//!
//! **Buffering.** [`Stdout`] is line-buffered, like Rust's own: a write
//! that ends a line returns once the line has reached the descriptor, and a
//! partial line waits for more. [`Stderr`] is not buffered. What is still
//! buffered is written out by a [flush](futures_io::AsyncWrite::poll_flush),
//! before [`run`](crate::run) and [`block_on`](crate::block_on) return, when
//! the runtime is dropped, and by [`flush_stdio`] — the call to make before
//! [`std::process::exit`], which skips all of that.
//!
//! **Errors.** A write to a pipe nobody reads fails with `BrokenPipe`, and
//! the process lives on: a Rust `main` ignores `SIGPIPE`, and sockets are
//! written with `MSG_NOSIGNAL` anyway. A pool-served stdout returns a write
//! once its bytes are queued for the pool, so its errors come back from the
//! next write or flush. A stream whose descriptor is not open fails every
//! operation with an error that names it.
//!
//! ```
//! use futures_lite::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use futures_lite::StreamExt;
//!
//! jsloop::run(async {
//!     // A `cat` that numbers lines (here stdin is whatever the test gets,
//!     // so it stops after a millisecond without input).
//!     let mut lines = BufReader::new(jsloop::io::stdin()).lines();
//!     let mut out = jsloop::io::stdout();
//!     let mut n = 0;
//!     let wait = std::time::Duration::from_millis(1);
//!     while let Ok(Some(line)) = jsloop::time::timeout(wait, lines.next()).await {
//!         n += 1;
//!         out.write_all(format!("{n}: {}\n", line?).as_bytes()).await?;
//!     }
//!     out.write_all(b"done\n").await
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod async_fd;
#[cfg(feature = "hyper")]
mod hyper_io;
#[cfg(feature = "hyper")]
mod hyper_timer;
pub(crate) mod marks;
pub(crate) mod source;
pub(crate) mod stdio;

pub use async_fd::{Async, Readable, Writable};
#[cfg(feature = "hyper")]
pub use hyper_io::{HyperExecutor, HyperIo};
#[cfg(feature = "hyper")]
pub use hyper_timer::HyperTimer;
pub use stdio::{Stderr, Stdin, Stdout, flush_stdio, stderr, stdin, stdout};
