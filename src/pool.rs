//! Poll phase, worker side: the worker pool that plays the browser's Web
//! APIs / libuv's threadpool.
//!
//! [`spawn_blocking`] sends a job to a fixed set of threads (4 by default,
//! like `UV_THREADPOOL_SIZE`; started on first use) over a crossbeam
//! channel. A finished job goes back through the runtime's remote queue —
//! one poller notify per batch — and the loop delivers it in the poll phase,
//! a macrotask followed by a checkpoint, as Node runs an `fs` callback. Until
//! then the job keeps the loop alive.
//!
//! The job's result reaches its [`JoinHandle`] through a small task that
//! waits for the delivery, so a blocking job is awaited, aborted and
//! reported exactly like any task: a panicking job gives a `JoinError` (the
//! worker survives), and aborting a job that has not started means it never
//! runs.

use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::panic::{AssertUnwindSafe, Location, catch_unwind, resume_unwind};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::context;
use crate::remote::{RemoteEvent, Shared};
use crate::task::JoinHandle;

/// The pool size when neither the builder nor the environment sets one.
pub(crate) const DEFAULT_SIZE: usize = 4;
/// The largest pool libuv accepts (`UV_THREADPOOL_SIZE` is capped the same).
pub(crate) const MAX_SIZE: usize = 1024;
/// The environment variable that sets the default pool size.
pub(crate) const SIZE_VAR: &str = "JSLOOP_THREADPOOL_SIZE";

/// A queued job: its shared slot, which holds the closure until a worker
/// takes it and then its result. One allocation per job, made and (almost
/// always) freed on the loop thread, so the loop's allocator cache stays warm.
type Job = Arc<dyn RunJob>;

/// A worker's view of a job.
trait RunJob: Send + Sync {
    /// Runs the closure (unless the job was cancelled) and stores the
    /// result.
    fn execute(&self);
    /// Reports the finished job to the loop.
    fn report(self: Arc<Self>, shared: &Shared);
}

/// Watches the jobs a pool runs: the trace's worker tracks
/// (`Builder::trace`). Without one, jobs are not timed.
pub(crate) trait JobObserver: Send + Sync {
    /// The job `spawn_blocking` was called for at `location` ran on the
    /// current (worker) thread from `started` to `ended`.
    fn job_ran(&self, location: &'static Location<'static>, started: Instant, ended: Instant);
}

/// The runtime's worker pool; loop thread only.
pub(crate) struct WorkerPool {
    size: usize,
    /// Admits slow jobs (DNS lookups) to at most half the pool.
    pub(crate) slow_work: Arc<SlowWorkGate>,
    /// Where finished jobs are reported.
    shared: Arc<Shared>,
    /// Started on first use.
    started: RefCell<Option<Started>>,
    /// Jobs submitted and not yet delivered: they keep the loop alive.
    in_flight: Cell<usize>,
    /// Jobs submitted and delivered so far (`jsloop::metrics`).
    submitted: Cell<u64>,
    delivered: Cell<u64>,
    /// How long `Runtime` drop waits for running jobs.
    shutdown_wait: Cell<Duration>,
    /// Set once, when the runtime is built with a trace: each job is then
    /// wrapped in an [`ObservedJob`].
    job_observer: OnceCell<Arc<dyn JobObserver>>,
}

struct Started {
    jobs: Sender<Job>,
    workers: Vec<thread::JoinHandle<()>>,
    /// Set on shutdown: queued jobs are skipped, never run.
    stopping: Arc<AtomicBool>,
}

/// Finds the pool size: the builder's, else `JSLOOP_THREADPOOL_SIZE`, else 4.
pub(crate) fn pool_size(configured: Option<usize>) -> io::Result<usize> {
    let size = match configured {
        Some(size) => size,
        None => match std::env::var(SIZE_VAR) {
            Ok(value) => value.trim().parse::<usize>().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!("{SIZE_VAR}={value:?} is not a thread count"),
                )
            })?,
            Err(_) => DEFAULT_SIZE,
        },
    };
    if size == 0 {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "jsloop: the worker pool needs at least one thread (worker_threads(0))",
        ));
    }
    Ok(size.min(MAX_SIZE))
}

impl WorkerPool {
    pub(crate) fn new(size: usize, shared: Arc<Shared>) -> WorkerPool {
        WorkerPool {
            slow_work: Arc::new(SlowWorkGate::new((size / 2).max(1))),
            size,
            shared,
            started: RefCell::new(None),
            in_flight: Cell::new(0),
            submitted: Cell::new(0),
            delivered: Cell::new(0),
            shutdown_wait: Cell::new(Duration::ZERO),
            job_observer: OnceCell::new(),
        }
    }

    /// Times every job from now on for `observer` (before the first job).
    pub(crate) fn observe_jobs(&self, observer: Arc<dyn JobObserver>) {
        // Only the builder sets it, once.
        let _ = self.job_observer.set(observer);
    }

    /// Jobs submitted, in flight and delivered.
    pub(crate) fn job_counts(&self) -> (u64, u64, u64) {
        (self.submitted.get(), self.in_flight.get() as u64, self.delivered.get())
    }

    pub(crate) fn has_in_flight(&self) -> bool {
        self.in_flight.get() != 0
    }

    /// Queues `job` (`spawn_blocking` was called at `location`), starting
    /// the threads on first use.
    fn submit(&self, job: Job, location: &'static Location<'static>) -> io::Result<()> {
        let job: Job = match self.job_observer.get() {
            None => job,
            Some(observer) => Arc::new(ObservedJob { job, location, observer: observer.clone() }),
        };
        let mut started = self.started.borrow_mut();
        if started.is_none() {
            *started = Some(self.start()?);
        }
        let jobs = &started.as_ref().expect("started above").jobs;
        jobs.send(job).map_err(|_| io::Error::other("jsloop: the worker pool has shut down"))?;
        self.in_flight.set(self.in_flight.get() + 1);
        self.submitted.set(self.submitted.get() + 1);
        Ok(())
    }

    fn start(&self) -> io::Result<Started> {
        let (jobs, queue) = crossbeam_channel::unbounded::<Job>();
        let stopping = Arc::new(AtomicBool::new(false));
        let mut workers = Vec::with_capacity(self.size);
        for n in 0..self.size {
            let (queue, stopping, shared) = (queue.clone(), stopping.clone(), self.shared.clone());
            let worker = thread::Builder::new()
                .name(format!("jsloop-worker-{n}"))
                .spawn(move || work(&queue, &shared, &stopping))?;
            workers.push(worker);
        }
        Ok(Started { jobs, workers, stopping })
    }

    /// A finished job reached the loop (poll phase).
    pub(crate) fn delivered(&self, completion: &dyn Completion) {
        self.in_flight.set(self.in_flight.get() - 1);
        self.delivered.set(self.delivered.get() + 1);
        if let Some(waker) = completion.deliver() {
            waker.wake();
        }
    }

    pub(crate) fn set_shutdown_wait(&self, wait: Duration) {
        self.shutdown_wait.set(wait);
    }

    /// Stops the pool: queued jobs never run, idle workers are joined, and
    /// running jobs get up to the shutdown wait to finish; after that their
    /// threads are left to finish on their own (their results are dropped).
    pub(crate) fn shut_down(&self) {
        let Some(started) = self.started.borrow_mut().take() else { return };
        started.stopping.store(true, Ordering::Release);
        drop(started.jobs);
        // Idle workers get a moment to notice the closed channel even when
        // running jobs get no wait at all.
        let give_up = Instant::now() + self.shutdown_wait.get().max(IDLE_EXIT);
        // Idle workers see the closed channel (after skipping what is
        // queued) and exit at once; a busy one exits when its job returns.
        let mut workers = started.workers;
        loop {
            let (done, running): (Vec<_>, Vec<_>) =
                workers.into_iter().partition(|w| w.is_finished());
            for worker in done {
                let _ = worker.join();
            }
            workers = running;
            if workers.is_empty() || Instant::now() >= give_up {
                break;
            }
            thread::sleep(Duration::from_millis(1));
        }
        // Whatever still runs is detached: dropping a `JoinHandle` does that.
    }
}

/// How long shutdown gives idle workers to notice the closed channel.
const IDLE_EXIT: Duration = Duration::from_millis(50);

/// A worker thread: runs jobs until the pool's channel closes.
fn work(queue: &Receiver<Job>, shared: &Shared, stopping: &AtomicBool) {
    while let Ok(job) = queue.recv() {
        // Shutting down: a queued job is dropped unrun.
        if !stopping.load(Ordering::Acquire) {
            job.execute();
            job.report(shared);
        }
    }
}

/// A job timed for a [`JobObserver`]: the time is taken on the worker and
/// recorded before the loop hears of the job, so a trace taken after its
/// result arrived has it.
struct ObservedJob {
    job: Job,
    location: &'static Location<'static>,
    observer: Arc<dyn JobObserver>,
}

impl RunJob for ObservedJob {
    fn execute(&self) {
        let started = Instant::now();
        self.job.execute();
        self.observer.job_ran(self.location, started, Instant::now());
    }

    fn report(self: Arc<Self>, shared: &Shared) {
        self.job.clone().report(shared);
    }
}

/// The loop's side of a finished job, type-erased for the remote queue.
pub(crate) trait Completion: Send + Sync {
    /// Marks the result delivered; returns the waiting task's waker.
    fn deliver(&self) -> Option<Waker>;
}

/// One job, shared by the worker and the waiting task: the closure, then
/// its result.
struct JobSlot<F, T> {
    state: Mutex<SlotState<F, T>>,
    /// The waiting task was aborted (or the runtime dropped): do not run.
    cancelled: AtomicBool,
}

struct SlotState<F, T> {
    /// The closure, until a worker takes it.
    work: Option<F>,
    result: Option<thread::Result<T>>,
    /// The loop delivered the completion: only now may the task see it, so
    /// a result never arrives before the poll phase, however fast the job.
    delivered: bool,
    waker: Option<Waker>,
}

impl<F, T> JobSlot<F, T> {
    fn lock(&self) -> std::sync::MutexGuard<'_, SlotState<F, T>> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<F, T> RunJob for JobSlot<F, T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    fn execute(&self) {
        let work = self.lock().work.take();
        let result = match work {
            Some(work) if !self.cancelled.load(Ordering::Acquire) => {
                Some(catch_unwind(AssertUnwindSafe(work)))
            }
            _ => None,
        };
        self.lock().result = result;
    }

    fn report(self: Arc<Self>, shared: &Shared) {
        shared.push(RemoteEvent::JobDone(self));
    }
}

impl<F: Send, T: Send> Completion for JobSlot<F, T> {
    fn deliver(&self) -> Option<Waker> {
        let mut state = self.lock();
        state.delivered = true;
        state.waker.take()
    }
}

/// The task that waits for a job's delivery and hands over its result.
struct WaitForJob<F, T> {
    slot: Arc<JobSlot<F, T>>,
}

impl<F, T> Future for WaitForJob<F, T> {
    type Output = T;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<T> {
        let mut state = self.slot.lock();
        if state.delivered {
            match state.result.take() {
                Some(Ok(value)) => return Poll::Ready(value),
                // Re-raised inside the task: its `JoinHandle` reports it.
                Some(Err(payload)) => {
                    drop(state);
                    resume_unwind(payload)
                }
                None => unreachable!("jsloop: a delivered job has a result"),
            }
        }
        match &state.waker {
            Some(waker) if waker.will_wake(cx.waker()) => {}
            _ => state.waker = Some(cx.waker().clone()),
        }
        Poll::Pending
    }
}

/// The type name of a job's waiting task, with placeholder generics: task
/// dumps recognise a task waiting on a worker-pool job by its future's type.
pub(crate) fn job_waiter_type_name() -> &'static str {
    std::any::type_name::<WaitForJob<(), ()>>()
}

impl<F, T> Drop for WaitForJob<F, T> {
    fn drop(&mut self) {
        // Aborted (or the runtime is going away): a job not yet started
        // will not start.
        self.slot.cancelled.store(true, Ordering::Release);
    }
}

/// Runs `f` on the worker pool: blocking work (file system, CPU-heavy
/// computation, a blocking library call) that must not stall the loop.
///
/// The result arrives in the poll phase, like a Node `fs` callback, and the
/// returned [`JoinHandle`] yields it. Aborting the handle before the job
/// starts means it never runs; a job that is running cannot be interrupted
/// (its result is dropped). A panicking job yields a
/// [`JoinError`](crate::JoinError) and its worker thread carries on. While a
/// job is queued or running, the loop stays alive.
///
/// # Panics
///
/// Panics outside a runtime, or if the pool's threads cannot be started.
///
/// # Examples
///
/// ```
/// let sum = jsloop::block_on(async {
///     jsloop::spawn_blocking(|| (1..=100u64).sum::<u64>()).await.unwrap()
/// });
/// assert_eq!(sum, 5050);
/// ```
#[track_caller]
pub fn spawn_blocking<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    let slot = Arc::new(JobSlot {
        state: Mutex::new(SlotState { work: Some(f), result: None, delivered: false, waker: None }),
        cancelled: AtomicBool::new(false),
    });
    let location = Location::caller();
    context::with_current(|core| {
        if let Err(error) = core.pool.submit(slot.clone(), location) {
            panic!("{error}");
        }
        core.spawn(WaitForJob { slot }, location)
    })
}

/// A FIFO admission gate for slow jobs: at most `limit` run at once, so
/// slow DNS lookups cannot occupy every worker (libuv caps its "slow I/O" the
/// same way). Behind a mutex because the lookups waiting in it are `Send`
/// futures, which may be dropped (their permit given back) on any thread.
pub(crate) struct SlowWorkGate {
    limit: usize,
    state: Mutex<GateState>,
}

#[derive(Default)]
struct GateState {
    running: usize,
    waiting: VecDeque<Waker>,
}

impl SlowWorkGate {
    pub(crate) fn new(limit: usize) -> SlowWorkGate {
        SlowWorkGate { limit, state: Mutex::default() }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, GateState> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Waits for a free place; the permit gives it back when dropped.
    pub(crate) async fn admit(self: Arc<Self>) -> SlowWorkPermit {
        let mut queued = false;
        std::future::poll_fn(|cx| {
            let mut state = self.state();
            // A newcomer does not overtake those already waiting.
            let may_enter = queued || state.waiting.is_empty();
            if state.running < self.limit && may_enter {
                state.running += 1;
                return Poll::Ready(());
            }
            state.waiting.push_back(cx.waker().clone());
            queued = true;
            Poll::Pending
        })
        .await;
        SlowWorkPermit { gate: self }
    }
}

/// A place among the running slow jobs.
pub(crate) struct SlowWorkPermit {
    gate: Arc<SlowWorkGate>,
}

impl Drop for SlowWorkPermit {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.gate.state();
            state.running -= 1;
            std::mem::take(&mut state.waiting)
        };
        // Wake every waiter, in order, outside the lock: the first to be
        // polled takes the place and the others queue again behind it.
        // (Waking only the first could pick a waiter already admitted after
        // a spurious wake, and leave the real next one asleep.)
        for waker in waiting {
            waker.wake();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::rc::Rc;

    #[test]
    fn the_slow_work_gate_admits_at_most_its_limit_in_order() {
        let order: Rc<RefCell<Vec<u32>>> = Rc::default();
        let peak = Rc::new(Cell::new(0));
        let rt = crate::Runtime::new().unwrap();
        rt.block_on({
            let (order, peak) = (order.clone(), peak.clone());
            async move {
                let gate = Arc::new(SlowWorkGate::new(2));
                let handles: Vec<_> = (0..6)
                    .map(|n| {
                        let (gate, order, peak) = (gate.clone(), order.clone(), peak.clone());
                        crate::spawn(async move {
                            let _permit = gate.clone().admit().await;
                            peak.set(peak.get().max(gate.state().running));
                            order.borrow_mut().push(n);
                            crate::yield_to_loop().await;
                        })
                    })
                    .collect();
                for handle in handles {
                    handle.await.unwrap();
                }
            }
        });
        assert_eq!(peak.get(), 2);
        assert_eq!(*order.borrow(), [0, 1, 2, 3, 4, 5]);
    }
}
