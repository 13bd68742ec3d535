//! The trace recorder: an observer of the loop (`src/loop_observers.rs`) and of
//! the worker pool (`src/pool.rs`) that keeps the last N events in a ring.
//!
//! Everything is recorded as it *ends* — a slice once its duration is
//! known — so a ring that drops its oldest events never holds half a
//! slice, and an enclosing slice (a phase, an iteration) outlives the
//! items inside it. The ring sits behind a mutex because the pool's
//! workers record their jobs into it from their own threads; the loop's
//! half-open slices and the arrows waiting for their poll stay in cells,
//! on the loop thread.

use std::cell::{Cell, RefCell};
use std::collections::{HashMap, VecDeque};
use std::io;
use std::panic::Location;
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::Trace;
use crate::event_loop::Core;
use crate::loop_observers::LoopObserver;
use crate::metrics::{Phase, Work};
use crate::microtask::Microtask;
use crate::pool::JobObserver;
use crate::task::TaskId;
use crate::task::raw::TaskRef;

/// One recorded event. Times are nanoseconds since the recorder was made.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Event {
    /// Loop iteration number `n`.
    Iteration { n: u64, span: Span },
    /// A phase of the loop (or the main script).
    Phase { phase: Phase, span: Span },
    /// Blocked in the poller, for at most `timeout` (`None`: until woken).
    Idle { timeout: Option<Duration>, span: Span },
    /// A callback or task poll.
    Item { work: Work, span: Span },
    /// An arrow leaves the item running at `at`: it queued something.
    FlowStart { id: u64, at: u64 },
    /// The arrow arrives at the item running at `at`: what was queued ran.
    FlowEnd { id: u64, at: u64 },
    /// The queues' depths at `at` (a phase boundary).
    Depths { at: u64, depths: QueueDepths },
    /// A `spawn_blocking` job on pool worker `worker` (see `Trace::workers`).
    Job { worker: usize, location: &'static Location<'static>, span: Span },
}

/// A slice's start and duration, in nanoseconds.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Span {
    pub(crate) start: u64,
    pub(crate) duration: u64,
}

impl Span {
    /// A moment strictly inside the slice (for any duration over 1 ns),
    /// where an arrow binds to it rather than to its neighbour.
    fn middle(self) -> u64 {
        self.start + self.duration / 2
    }
}

/// The queue depths a counter sample shows.
#[derive(Clone, Copy, Debug)]
pub(crate) struct QueueDepths {
    pub(crate) microtasks: usize,
    pub(crate) immediates: usize,
    pub(crate) timers: usize,
    pub(crate) tasks: usize,
}

/// The ring and what the workers share with the loop.
struct TraceBuffer {
    /// Time zero of every event.
    origin: Instant,
    ring: Mutex<EventRing>,
}

struct EventRing {
    events: VecDeque<Event>,
    capacity: usize,
    /// Events dropped to make room since the last take.
    dropped: u64,
    /// The pool threads seen so far, in order: a job's `worker` indexes
    /// this. Kept across takes, so a worker keeps its track.
    workers: Vec<(ThreadId, String)>,
}

impl EventRing {
    /// Keeps `event`, dropping the oldest if the ring is full.
    fn push(&mut self, event: Event) {
        if self.events.len() == self.capacity {
            self.events.pop_front();
            self.dropped += 1;
        }
        self.events.push_back(event);
    }

    /// The index of the worker thread `thread`, known from now on.
    fn worker(&mut self, thread: &thread::Thread) -> usize {
        let id = thread.id();
        if let Some(index) = self.workers.iter().position(|(known, _)| *known == id) {
            return index;
        }
        let name = thread.name().map_or_else(|| format!("{id:?}"), str::to_owned);
        self.workers.push((id, name));
        self.workers.len() - 1
    }
}

impl TraceBuffer {
    fn lock(&self) -> MutexGuard<'_, EventRing> {
        // A panic while holding the lock cannot leave the ring inconsistent
        // (each push is whole), so a poisoned lock is still good.
        self.ring.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn nanos(&self, at: Instant) -> u64 {
        at.saturating_duration_since(self.origin).as_nanos() as u64
    }

    fn span(&self, started: Instant, ended: Instant) -> Span {
        let start = self.nanos(started);
        Span { start, duration: self.nanos(ended).saturating_sub(start) }
    }
}

/// The pool's side: jobs recorded on the worker that ran them.
impl JobObserver for TraceBuffer {
    fn job_ran(&self, location: &'static Location<'static>, started: Instant, ended: Instant) {
        let span = self.span(started, ended);
        let mut ring = self.lock();
        let worker = ring.worker(&thread::current());
        ring.push(Event::Job { worker, location, span });
    }
}

/// What a queued ring entry will run: the poll of a task (or of the main
/// future), found again by its id when it runs.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum QueuedPoll {
    Main,
    Task(TaskId),
}

/// Arrows that left their item and wait for the poll or callback they
/// point to.
#[derive(Default)]
struct PendingFlows {
    last_id: u64,
    polls: HashMap<QueuedPoll, u64>,
    /// Microtask callbacks have no id: they run in the order they were
    /// queued, so the oldest waiting one is the next to run. (One queued
    /// outside any item, unseen here, could take its place if it was
    /// queued at the same place: the arrow then points to its twin.)
    callbacks: VecDeque<(&'static Location<'static>, u64)>,
}

impl PendingFlows {
    /// An arrow to what `queued` will run.
    fn start(&mut self, queued: &Microtask) -> u64 {
        self.last_id += 1;
        let id = self.last_id;
        match queued {
            Microtask::Task(task) if *task == TaskRef::MAIN => {
                self.polls.insert(QueuedPoll::Main, id);
            }
            Microtask::Task(task) => {
                self.polls.insert(QueuedPoll::Task(task.id()), id);
            }
            Microtask::Callback(callback) => self.callbacks.push_back((callback.location(), id)),
        }
        id
    }

    /// The arrow that ends at `work`, which is about to run.
    fn end(&mut self, work: &Work) -> Option<u64> {
        match *work {
            Work::Main => self.polls.remove(&QueuedPoll::Main),
            Work::Task { id, .. } => self.polls.remove(&QueuedPoll::Task(id)),
            Work::Microtask(location) => match self.callbacks.front() {
                Some(&(queued_at, id)) if queued_at == location => {
                    self.callbacks.pop_front();
                    Some(id)
                }
                _ => None,
            },
            _ => None,
        }
    }
}

/// `Builder::trace` as an observer.
pub(crate) struct TraceRecorder {
    buffer: Arc<TraceBuffer>,
    /// The iteration running now: its number and start.
    iteration: Cell<Option<(u64, Instant)>>,
    /// When the phase running now started.
    phase: Cell<Option<Instant>>,
    /// The poller wait under way: its start and timeout.
    idle: Cell<Option<(Instant, Option<Duration>)>>,
    /// The microtask ring's length as the running item started: what it
    /// queues lies past it.
    ring_before_item: Cell<usize>,
    /// The arrow the running item ends.
    arriving: Cell<Option<u64>>,
    flows: RefCell<PendingFlows>,
}

impl TraceRecorder {
    /// A recorder keeping the last `capacity` events.
    pub(crate) fn new(capacity: usize) -> io::Result<TraceRecorder> {
        if capacity == 0 {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "jsloop: a trace needs room for at least one event (trace_capacity(0))",
            ));
        }
        let ring = EventRing { events: VecDeque::new(), capacity, dropped: 0, workers: Vec::new() };
        Ok(TraceRecorder {
            buffer: Arc::new(TraceBuffer { origin: Instant::now(), ring: Mutex::new(ring) }),
            iteration: Cell::new(None),
            phase: Cell::new(None),
            idle: Cell::new(None),
            ring_before_item: Cell::new(0),
            arriving: Cell::new(None),
            flows: RefCell::default(),
        })
    }

    /// What the worker pool records jobs into.
    pub(crate) fn job_observer(&self) -> Arc<dyn JobObserver> {
        self.buffer.clone()
    }

    /// Everything recorded so far; the ring starts over.
    pub(crate) fn take(&self) -> Trace {
        let mut ring = self.buffer.lock();
        Trace {
            events: std::mem::take(&mut ring.events).into(),
            dropped: std::mem::take(&mut ring.dropped),
            workers: ring.workers.iter().map(|(_, name)| name.clone()).collect(),
        }
    }

    fn record(&self, event: Event) {
        self.buffer.lock().push(event);
    }

    fn depths(&self, core: &Core, at: Instant) -> Event {
        let depths = QueueDepths {
            microtasks: core.microtasks.len(),
            immediates: core.immediates.queued(),
            timers: core.timers.len(),
            tasks: core.tasks.borrow().len(),
        };
        Event::Depths { at: self.buffer.nanos(at), depths }
    }
}

impl LoopObserver for TraceRecorder {
    fn iteration_started(&self, core: &Core, at: Instant) {
        self.iteration.set(Some((core.metrics.iterations.get(), at)));
    }

    fn iteration_ended(&self, _core: &Core, at: Instant) {
        if let Some((n, started)) = self.iteration.take() {
            self.record(Event::Iteration { n, span: self.buffer.span(started, at) });
        }
    }

    fn phase_started(&self, core: &Core, phase: Phase, at: Instant) {
        self.phase.set(Some(at));
        // Depths are sampled as each phase ends, which is where the next
        // begins (nothing runs between); a run's first sample is here.
        if phase == Phase::Script {
            self.record(self.depths(core, at));
        }
    }

    fn phase_ended(&self, core: &Core, phase: Phase, at: Instant) {
        let depths = self.depths(core, at);
        let mut ring = self.buffer.lock();
        if let Some(started) = self.phase.take() {
            ring.push(Event::Phase { phase, span: self.buffer.span(started, at) });
        }
        ring.push(depths);
    }

    fn poll_waiting(&self, _core: &Core, timeout: Option<Duration>, at: Instant) {
        self.idle.set(Some((at, timeout)));
    }

    fn poll_woke(&self, _core: &Core, at: Instant) {
        if let Some((started, timeout)) = self.idle.take() {
            self.record(Event::Idle { timeout, span: self.buffer.span(started, at) });
        }
    }

    fn item_started(&self, core: &Core, work: &Work, _at: Instant) {
        self.ring_before_item.set(core.microtasks.len());
        self.arriving.set(self.flows.borrow_mut().end(work));
    }

    fn item_ended(&self, core: &Core, work: &Work, started: Instant, ended: Instant) {
        let span = self.buffer.span(started, ended);
        let at = span.middle();
        let mut ring = self.buffer.lock();
        // The arrows before their item: when the ring drops its oldest
        // events, an arrow never outlives the slice it binds to.
        if let Some(id) = self.arriving.take() {
            ring.push(Event::FlowEnd { id, at });
        }
        let mut flows = self.flows.borrow_mut();
        core.microtasks.visit_from(self.ring_before_item.get(), |queued| {
            ring.push(Event::FlowStart { id: flows.start(queued), at });
        });
        ring.push(Event::Item { work: *work, span });
    }
}
