//! Poll phase, worker side: stdout or stderr on a regular file, `/dev/null`
//! or anything else the poller does not serve, written by blocking calls on
//! the worker pool (`spawn_blocking`), as libuv writes files.
//!
//! The loop appends to an *outbox*; one job at a time writes it out,
//! taking whatever was appended while it wrote too, so the output keeps its
//! order whichever job writes it and however many handles wrote. A write
//! returns once its bytes are in the outbox; an error the job met is
//! returned by the next write or flush. The outbox is shared with the job
//! behind a mutex that is held only to append or take, never while the
//! job writes, so the loop never waits for the disk.

use std::cell::RefCell;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, ready};

use super::OwnPool;
use super::descriptor::Descriptor;
use super::waiters::Waiters;
use crate::task::JoinHandle;

/// How much output may wait for the pool before a write waits too.
const LIMIT: usize = 1 << 20;

/// A stream written on the pool; loop side.
pub(super) struct PoolWriter {
    outbox: Arc<Outbox>,
    pool: OwnPool,
    /// The job that writes the outbox now, if any: a flush waits for it.
    job: RefCell<Option<JoinHandle<()>>>,
}

/// The part the loop and the jobs share.
struct Outbox {
    state: Mutex<OutboxState>,
    /// Signalled when a job stops writing (for the blocking flush).
    job_ended: Condvar,
    fd: Descriptor,
}

struct OutboxState {
    /// Bytes written to the stream that no job has taken yet.
    pending: Vec<u8>,
    job: JobState,
    /// The error a job met, for the next write or flush to return.
    error: Option<io::Error>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum JobState {
    Idle,
    /// Submitted, not started: the blocking flush may write its bytes
    /// itself (the pool may never start it, if the runtime is shutting
    /// down), and the job then finds nothing left.
    Queued,
    /// Started: a blocking flush waits for it to end.
    Writing,
}

impl PoolWriter {
    pub(super) fn new(fd: Descriptor) -> PoolWriter {
        let state = OutboxState { pending: Vec::new(), job: JobState::Idle, error: None };
        PoolWriter {
            outbox: Arc::new(Outbox { state: Mutex::new(state), job_ended: Condvar::new(), fd }),
            pool: OwnPool::current(),
            job: RefCell::new(None),
        }
    }

    /// Appends `data`; hands the outbox to a job if `hand_off` (a line
    /// ended, or stderr) or if it holds a buffer's worth.
    pub(super) fn poll_write(
        &self,
        cx: &mut Context<'_>,
        data: &[u8],
        hand_off: bool,
        waiters: &Waiters,
    ) -> Poll<io::Result<usize>> {
        if self.outbox.lock().pending.len() >= LIMIT {
            ready!(self.poll_job(cx, waiters))?;
        }
        let mut state = self.outbox.lock();
        if let Some(error) = state.error.take() {
            return Poll::Ready(Err(error));
        }
        let before = state.pending.len();
        state.pending.extend_from_slice(data);
        if hand_off || state.pending.len() >= super::output::CAPACITY {
            if let Err(error) = self.start_job(&mut state) {
                state.pending.truncate(before);
                return Poll::Ready(Err(error));
            }
        }
        Poll::Ready(Ok(data.len()))
    }

    /// Waits until everything appended so far is written.
    pub(super) fn poll_flush(
        &self,
        cx: &mut Context<'_>,
        waiters: &Waiters,
    ) -> Poll<io::Result<()>> {
        self.start_job(&mut self.outbox.lock())?;
        ready!(self.poll_job(cx, waiters))?;
        Poll::Ready(self.outbox.lock().error.take().map_or(Ok(()), Err))
    }

    /// Writes out the outbox on this thread, after the job writing now.
    pub(super) fn flush_blocking(&self) -> io::Result<()> {
        let outbox = &*self.outbox;
        let mut state = outbox.lock();
        while state.job == JobState::Writing {
            state = outbox.job_ended.wait(state).unwrap_or_else(PoisonError::into_inner);
        }
        // The lock is held while writing: a queued job starts after, to
        // find nothing left.
        let pending = std::mem::take(&mut state.pending);
        let written = outbox.fd.write_all_blocking(&pending);
        state.error.take().map_or(written, Err)
    }

    /// Submits a job for the outbox, unless one will take it anyway or it
    /// is empty.
    fn start_job(&self, state: &mut OutboxState) -> io::Result<()> {
        if state.job != JobState::Idle || state.pending.is_empty() {
            return Ok(());
        }
        let outbox = self.outbox.clone();
        *self.job.borrow_mut() = Some(self.pool.spawn(move || outbox.write_out())?);
        state.job = JobState::Queued;
        Ok(())
    }

    /// Waits for the job submitted last, if any.
    fn poll_job(&self, cx: &mut Context<'_>, waiters: &Waiters) -> Poll<io::Result<()>> {
        let mut job = self.job.borrow_mut();
        let Some(handle) = job.as_mut() else { return Poll::Ready(Ok(())) };
        let ended = ready!(waiters.poll(cx, |cx| Pin::new(handle).poll(cx)));
        *job = None;
        Poll::Ready(ended.map_err(io::Error::from))
    }
}

impl Outbox {
    fn lock(&self) -> MutexGuard<'_, OutboxState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The job (a pool thread): writes until the outbox is empty.
    fn write_out(&self) {
        let mut state = self.lock();
        state.job = JobState::Writing;
        let mut chunk = Vec::new();
        loop {
            // Swapped, not copied: the two buffers take turns.
            std::mem::swap(&mut chunk, &mut state.pending);
            if chunk.is_empty() {
                break;
            }
            drop(state);
            let written = self.fd.write_all_blocking(&chunk);
            chunk.clear();
            state = self.lock();
            if let Err(error) = written {
                // What was appended meanwhile would meet the same fate.
                state.error = Some(error);
                state.pending.clear();
                break;
            }
        }
        state.job = JobState::Idle;
        self.job_ended.notify_all();
    }
}
