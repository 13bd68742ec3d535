//! Write side: a loop's stdout or stderr, one buffer for every handle.
//!
//! Stdout is line-buffered, as Rust's own is: a write that ends a line
//! returns once everything through its last newline has reached the
//! descriptor, and a partial line waits in the buffer. Stderr is not
//! buffered: a write returns once its bytes reached the descriptor. Either
//! way output leaves in the order it was written, whichever handle wrote
//! it, and a write as big as the buffer goes straight through. What is
//! still buffered is written out by a flush, before `run` / `block_on`
//! return, by [`flush_stdio`](super::flush_stdio) and when the loop's
//! stream is dropped.
//!
//! A poller-served stream writes from this buffer, waiting for
//! writability in the poll phase; a pool-served one hands it to
//! [`PoolWriter`] instead.

use std::cell::RefCell;
use std::io;
use std::task::{Context, Poll, ready};

use super::descriptor::{self, Descriptor, Route, StdStream};
use super::pool_writer::PoolWriter;
use super::waiters::Waiters;
use crate::io::Async;
use crate::io::source::WRITE;

/// What a write may leave buffered without a newline (`BufWriter`'s size).
pub(super) const CAPACITY: usize = 8 * 1024;

/// A loop's stdout or stderr.
pub(super) struct Output {
    stream: StdStream,
    sink: Sink,
    waiters: Waiters,
}

enum Sink {
    Poller {
        io: Async<Descriptor>,
        /// Bytes written to the stream and not yet to the descriptor.
        buffer: RefCell<Vec<u8>>,
    },
    Pool(PoolWriter),
}

impl Output {
    /// The loop's `stream` (stdout or stderr).
    ///
    /// # Errors
    ///
    /// If the descriptor is not open.
    pub(super) fn open(stream: StdStream) -> io::Result<Output> {
        let sink = match descriptor::open(stream)? {
            Route::Poller(io) => Sink::Poller { io, buffer: RefCell::default() },
            Route::Pool(fd) => Sink::Pool(PoolWriter::new(fd)),
        };
        Ok(Output { stream, sink, waiters: Waiters::default() })
    }

    /// How many of `data`'s first bytes must reach the descriptor before
    /// the write returns (see the module doc).
    fn write_through(&self, data: &[u8]) -> usize {
        if self.stream == StdStream::Stderr || data.len() >= CAPACITY {
            data.len()
        } else {
            data.iter().rposition(|&byte| byte == b'\n').map_or(0, |last| last + 1)
        }
    }

    pub(super) fn poll_write(&self, cx: &mut Context<'_>, data: &[u8]) -> Poll<io::Result<usize>> {
        let through = self.write_through(data);
        let (io, buffer) = match &self.sink {
            Sink::Pool(pool) => return pool.poll_write(cx, data, through > 0, &self.waiters),
            Sink::Poller { io, buffer } => (io, buffer),
        };
        // Earlier bytes first; nothing of `data` is taken before that (a
        // pending write is polled again with the same bytes).
        if through > 0 || buffer.borrow().len() + data.len() > CAPACITY {
            ready!(self.poll_drain(cx, io, buffer))?;
        }
        if through > 0 {
            let data = &data[..through];
            return self.waiters.poll(cx, |cx| io.poll_op(WRITE, None, cx, |fd| fd.write(data)));
        }
        buffer.borrow_mut().extend_from_slice(data);
        Poll::Ready(Ok(data.len()))
    }

    pub(super) fn poll_flush(&self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match &self.sink {
            Sink::Poller { io, buffer } => self.poll_drain(cx, io, buffer),
            Sink::Pool(pool) => pool.poll_flush(cx, &self.waiters),
        }
    }

    /// Writes the buffer out, waiting for writability. A write error drops
    /// what was buffered: the descriptor refused it, and nothing retries.
    fn poll_drain(
        &self,
        cx: &mut Context<'_>,
        io: &Async<Descriptor>,
        buffer: &RefCell<Vec<u8>>,
    ) -> Poll<io::Result<()>> {
        let mut buffer = buffer.borrow_mut();
        while !buffer.is_empty() {
            let written =
                self.waiters.poll(cx, |cx| io.poll_op(WRITE, None, cx, |fd| fd.write(&buffer)));
            match ready!(written) {
                Ok(0) => return Poll::Ready(Err(io::ErrorKind::WriteZero.into())),
                Ok(n) => drop(buffer.drain(..n)),
                Err(error) => {
                    buffer.clear();
                    return Poll::Ready(Err(error));
                }
            }
        }
        Poll::Ready(Ok(()))
    }

    /// Writes out everything buffered, blocking this thread until it is
    /// written (the loop is not running, or is about to exit).
    pub(super) fn flush_blocking(&self) -> io::Result<()> {
        match &self.sink {
            Sink::Poller { io, buffer } => {
                let buffered = std::mem::take(&mut *buffer.borrow_mut());
                io.get_ref().write_all_blocking(&buffered)
            }
            Sink::Pool(pool) => pool.flush_blocking(),
        }
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        // Nobody is left to report an error to, as at a process's exit.
        let _ = self.flush_blocking();
    }
}
