//! Poll phase or pool: the loop's standard streams — the public handles,
//! the one stream of each kind a loop keeps ([`LoopStdio`], a field of
//! `Core`), and the flush before `run` / `block_on` return.
//!
//! The rules a user sees are in the doc of [`jsloop::io`](crate::io); how
//! each kind of descriptor is served, and why jsloop never sets
//! `O_NONBLOCK` on the one it was given, in `descriptor.rs`.

mod descriptor;
mod input;
mod output;
mod pool_writer;
mod waiters;

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll};

use futures_io::{AsyncRead, AsyncWrite};

use self::descriptor::StdStream;
use self::input::Input;
use self::output::Output;
use crate::context;
use crate::pool::spawn_blocking;
use crate::task::JoinHandle;

/// A loop's standard streams, each opened on first use (Core's `stdio`).
#[derive(Default)]
pub(crate) struct LoopStdio {
    stdin: RefCell<Option<Rc<Input>>>,
    stdout: RefCell<Option<Rc<Output>>>,
    stderr: RefCell<Option<Rc<Output>>>,
}

impl LoopStdio {
    fn stdin(&self) -> io::Result<Rc<Input>> {
        shared(&self.stdin, Input::open)
    }

    fn output(&self, stream: StdStream) -> io::Result<Rc<Output>> {
        let slot = if stream == StdStream::Stdout { &self.stdout } else { &self.stderr };
        shared(slot, || Output::open(stream))
    }

    /// Writes out what stdout and stderr hold buffered, blocking the
    /// thread until it is written: at the end of `run` / `block_on`, and
    /// for a process about to exit. The first error, if any (both are
    /// flushed regardless).
    pub(crate) fn flush_blocking(&self) -> io::Result<()> {
        let stdout = self.stdout.borrow().clone();
        let stderr = self.stderr.borrow().clone();
        let stdout = stdout.map_or(Ok(()), |output| output.flush_blocking());
        let stderr = stderr.map_or(Ok(()), |output| output.flush_blocking());
        stdout.and(stderr)
    }
}

/// The stream in `slot`, opened now if this is its first use.
fn shared<T>(
    slot: &RefCell<Option<Rc<T>>>,
    open: impl FnOnce() -> io::Result<T>,
) -> io::Result<Rc<T>> {
    if let Some(stream) = &*slot.borrow() {
        return Ok(stream.clone());
    }
    let stream = Rc::new(open()?);
    *slot.borrow_mut() = Some(stream.clone());
    Ok(stream)
}

/// The worker pool of the runtime a pool-served stream was opened in: its
/// handles may outlive that runtime, or be polled outside its loop.
struct OwnPool {
    runtime_id: u32,
}

impl OwnPool {
    fn current() -> OwnPool {
        OwnPool { runtime_id: context::with_current(|core| core.id()) }
    }

    fn spawn<T: Send + 'static>(
        &self,
        job: impl FnOnce() -> T + Send + 'static,
    ) -> io::Result<JoinHandle<T>> {
        if context::try_with_current(|core| core.id()) != Some(self.runtime_id) {
            return Err(io::Error::other(
                "jsloop: a stdio handle was used outside the loop it was made in",
            ));
        }
        Ok(spawn_blocking(job))
    }
}

/// A stream that could not be opened: every operation returns why.
struct Unavailable {
    kind: io::ErrorKind,
    message: String,
}

impl Unavailable {
    fn error(&self) -> io::Error {
        io::Error::new(self.kind, self.message.clone())
    }
}

/// A handle's stream, or why there is none.
type Opened<T> = Result<Rc<T>, Unavailable>;

fn opened<T>(opening: io::Result<Rc<T>>) -> Opened<T> {
    opening.map_err(|error| Unavailable { kind: error.kind(), message: error.to_string() })
}

fn open_stream<T>(stream: &Opened<T>) -> io::Result<&T> {
    stream.as_deref().map_err(Unavailable::error)
}

/// A handle to the current loop's standard input: `process.stdin`.
///
/// Implements [`AsyncRead`]; wrap it in a `BufReader` (futures-lite's or
/// futures') to read lines. End of input reads as `Ok(0)`, at once for
/// `/dev/null`. A read that waits keeps the loop alive while some `Stdin`
/// handle exists: one given up on (dropped by a timeout, say) holds `run`
/// until input comes or the last handle is dropped (on the pool, as for a
/// file, until the job's read returns).
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncReadExt;
///
/// jsloop::block_on(async {
///     // Stdin is whatever the test runs with: read for a millisecond at most.
///     let mut buf = [0; 1024];
///     let wait = std::time::Duration::from_millis(1);
///     match jsloop::time::timeout(wait, jsloop::io::stdin().read(&mut buf)).await {
///         Ok(Ok(0)) => println!("end of input"),
///         Ok(read) => println!("read {} bytes", read?),
///         Err(_) => println!("no input yet"),
///     }
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Stdin(Opened<Input>);

/// The current loop's standard input, shared by every [`Stdin`] handle;
/// opened on first use (see
/// [standard streams](crate::io#standard-streams)).
///
/// A descriptor 0 that is not open gives a handle whose reads fail with an
/// error naming it.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use futures_lite::io::{AsyncBufReadExt, BufReader};
///
/// jsloop::block_on(async {
///     let mut line = String::new();
///     let wait = std::time::Duration::from_millis(1);
///     let mut input = BufReader::new(jsloop::io::stdin());
///     if let Ok(read) = jsloop::time::timeout(wait, input.read_line(&mut line)).await {
///         read?;
///     }
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stdin() -> Stdin {
    let input = context::with_current(|core| core.stdio.stdin());
    if let Ok(input) = &input {
        input.set_refd(true);
    }
    Stdin(opened(input))
}

impl Drop for Stdin {
    fn drop(&mut self) {
        // The last handle (the loop holds the other reference): a read it
        // gave up on must not keep the loop alive.
        if let Ok(input) = &self.0 {
            if Rc::strong_count(input) <= 2 {
                input.set_refd(false);
            }
        }
    }
}

impl AsyncRead for Stdin {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        open_stream(&self.0)?.poll_read(cx, buf)
    }
}

impl fmt::Debug for Stdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Stdin").field("open", &self.0.is_ok()).finish_non_exhaustive()
    }
}

/// A handle type for one of the loop's output streams.
macro_rules! output_handle {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        pub struct $name(Opened<Output>);

        impl AsyncWrite for $name {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                open_stream(&self.0)?.poll_write(cx, buf)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                open_stream(&self.0)?.poll_flush(cx)
            }

            /// Flushes; the descriptor stays open (as `process.stdout.end()`
            /// leaves fd 1).
            fn poll_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                open_stream(&self.0)?.poll_flush(cx)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($name))
                    .field("open", &self.0.is_ok())
                    .finish_non_exhaustive()
            }
        }
    };
}

output_handle! {
    /// A handle to the current loop's standard output: `process.stdout`.
    ///
    /// Implements [`AsyncWrite`], line-buffered: a write returns once
    /// everything through its last newline has reached the descriptor,
    /// and a partial line waits for the rest, a flush, or the end of `run`.
    /// All handles of a loop share one buffer, so their output keeps the
    /// order it was written in.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// jsloop::run(async {
    ///     let mut out = jsloop::io::stdout();
    ///     out.write_all(b"hello, ").await?; // a partial line: buffered
    ///     // Another handle, the same buffer: "hello, world" in one line.
    ///     jsloop::io::stdout().write_all(b"world\n").await?;
    ///     out.write_all(b"no newline").await?;
    ///     out.flush().await
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    Stdout
}

output_handle! {
    /// A handle to the current loop's standard error: `process.stderr`.
    ///
    /// Implements [`AsyncWrite`], unbuffered: a write returns once its
    /// bytes have reached the descriptor (for a pool-served file: once
    /// they are queued for it), in the order written across all handles.
    ///
    /// # Examples
    ///
    /// ```
    /// use futures_lite::AsyncWriteExt;
    ///
    /// jsloop::run(async {
    ///     jsloop::io::stderr().write_all(b"warning: written at once\n").await
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    Stderr
}

/// The current loop's standard output, shared by every [`Stdout`] handle;
/// opened on first use (see
/// [standard streams](crate::io#standard-streams)).
///
/// A descriptor 1 that is not open gives a handle whose writes fail with
/// an error naming it.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncWriteExt;
///
/// jsloop::block_on(async {
///     let mut out = jsloop::io::stdout();
///     out.write_all(b"written before block_on returns\n").await?;
///     out.flush().await
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stdout() -> Stdout {
    Stdout(opened(context::with_current(|core| core.stdio.output(StdStream::Stdout))))
}

/// The current loop's standard error, shared by every [`Stderr`] handle;
/// opened on first use (see
/// [standard streams](crate::io#standard-streams)).
///
/// A descriptor 2 that is not open gives a handle whose writes fail with
/// an error naming it.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncWriteExt;
///
/// jsloop::block_on(async { jsloop::io::stderr().write_all(b"to stderr\n").await })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn stderr() -> Stderr {
    Stderr(opened(context::with_current(|core| core.stdio.output(StdStream::Stderr))))
}

/// Writes out everything the current loop's stdout and stderr hold
/// buffered, blocking the thread until it is written: the call to make
/// before [`std::process::exit`], which runs no destructors. (`run` and
/// `block_on` do it themselves before they return.) Outside a runtime
/// there is nothing to write.
///
/// # Errors
///
/// The first write error of either stream (both are written regardless).
///
/// # Examples
///
/// ```
/// use futures_lite::AsyncWriteExt;
///
/// jsloop::block_on(async {
///     jsloop::io::stdout().write_all(b"a partial line, written now").await?;
///     jsloop::io::flush_stdio()?;
///     // `std::process::exit(0)` here would lose nothing.
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn flush_stdio() -> io::Result<()> {
    context::try_with_current(|core| core.stdio.flush_blocking()).unwrap_or(Ok(()))
}
