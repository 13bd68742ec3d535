//! Read side: a loop's stdin, shared by every handle.
//!
//! A poller-served stdin (pipe, terminal, socket) is read when the poll
//! phase says it is readable; a pool-served one (a file, `/dev/null`) by a
//! job that reads at most what the caller asked for, so that a program run
//! as `(ours; cat) < file` leaves the rest of the file to `cat`. What a job
//! read beyond a later, smaller request waits for the next read, whichever
//! handle makes it.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use super::OwnPool;
use super::descriptor::{self, Descriptor, Route, StdStream};
use super::waiters::Waiters;
use crate::io::Async;
use crate::io::source::READ;
use crate::task::JoinHandle;

/// The most one pool job reads.
const CHUNK: usize = 64 * 1024;

/// A pool read: its buffer back, and how much of it was read.
type ReadJob = JoinHandle<(Vec<u8>, io::Result<usize>)>;

/// A loop's stdin.
pub(super) struct Input {
    source: Source,
    waiters: Waiters,
}

enum Source {
    Poller(Async<Descriptor>),
    Pool(PoolReader),
}

/// Stdin read on the pool.
struct PoolReader {
    fd: Arc<Descriptor>,
    pool: OwnPool,
    /// The read in flight, with its buffer.
    job: RefCell<Option<ReadJob>>,
    /// Bytes read and not yet handed out: `unread.0[unread.1..]`.
    unread: RefCell<(Vec<u8>, usize)>,
}

impl Input {
    /// The loop's stdin.
    ///
    /// # Errors
    ///
    /// If fd 0 is not open.
    pub(super) fn open() -> io::Result<Input> {
        let source = match descriptor::open(StdStream::Stdin)? {
            Route::Poller(io) => Source::Poller(io),
            Route::Pool(fd) => Source::Pool(PoolReader {
                fd: Arc::new(fd),
                pool: OwnPool::current(),
                job: RefCell::new(None),
                unread: RefCell::default(),
            }),
        };
        Ok(Input { source, waiters: Waiters::default() })
    }

    /// Whether a read waiting on the poller keeps the loop alive (a pool
    /// job in flight does until it returns, whatever this says).
    pub(super) fn set_refd(&self, refd: bool) {
        if let Source::Poller(io) = &self.source {
            if refd {
                io.ref_();
            } else {
                io.unref();
            }
        }
    }

    pub(super) fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        match &self.source {
            Source::Poller(io) => {
                self.waiters.poll(cx, |cx| io.poll_op(READ, None, cx, |fd| fd.read(buf)))
            }
            Source::Pool(pool) => pool.poll_read(cx, buf, &self.waiters),
        }
    }
}

impl PoolReader {
    fn poll_read(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [u8],
        waiters: &Waiters,
    ) -> Poll<io::Result<usize>> {
        if buf.is_empty() {
            return Poll::Ready(Ok(0));
        }
        if let Some(n) = self.hand_out(buf) {
            return Poll::Ready(Ok(n));
        }
        let mut job = self.job.borrow_mut();
        let handle = match &mut *job {
            Some(handle) => handle,
            None => job.insert(self.start(buf.len().min(CHUNK))?),
        };
        let (mut chunk, read) = ready!(waiters.poll(cx, |cx| Pin::new(handle).poll(cx)))?;
        *job = None;
        chunk.truncate(read?);
        *self.unread.borrow_mut() = (chunk, 0);
        // Nothing to hand out: the end of input.
        Poll::Ready(Ok(self.hand_out(buf).unwrap_or(0)))
    }

    /// Copies unread bytes into `buf`; `None` if there are none.
    fn hand_out(&self, buf: &mut [u8]) -> Option<usize> {
        let mut unread = self.unread.borrow_mut();
        let (data, start) = &mut *unread;
        let rest = data.get(*start..).filter(|rest| !rest.is_empty())?;
        let n = rest.len().min(buf.len());
        buf[..n].copy_from_slice(&rest[..n]);
        *start += n;
        Some(n)
    }

    /// Submits a job reading up to `len` bytes (into the last job's buffer).
    fn start(&self, len: usize) -> io::Result<ReadJob> {
        let mut chunk = std::mem::take(&mut self.unread.borrow_mut().0);
        chunk.resize(len, 0);
        let fd = self.fd.clone();
        self.pool.spawn(move || {
            let read = fd.read_blocking(&mut chunk);
            (chunk, read)
        })
    }
}
