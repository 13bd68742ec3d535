//! The event loop itself: the loop's state ([`Core`]) and one iteration.
//!
//! ```text
//!  run(main) ──► main's first poll (the script) ──► checkpoint
//!                 │
//!                 ▼
//!   ┌──► timers phase   due timers, Node's list order ──────────┐
//!   │    poll phase     sleep in the poller; socket readiness,  │ a checkpoint
//!   │                   remote wakes, worker-pool completions   │
//!   │    check phase    immediates queued before the phase      │ after each
//!   │    frame phase    when a frame slot came and a frame is   │
//!   │                   requested: its callbacks, the render    │
//!   └─── while alive ◄──────────────────────────────────────────┘
//! ```
//!
//! Alive means: a ref'd timer, a ref'd immediate, a queued (next-tick /
//! microtask / remote) item, a worker-pool job in flight, a task waiting on
//! a ref'd socket, a ref'd message port with a listener or a waiting
//! receiver, a requested animation frame, or a `KeepAlive` guard. A pending task alone
//! does not keep the loop alive, just as a JS promise nothing will settle
//! does not keep Node running. `run` checks it before each iteration and
//! again after the timers phase, where libuv checks it.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::{AssertUnwindSafe, Location, catch_unwind};
use std::pin::{Pin, pin};
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use crate::context;
use crate::frame::{FrameQueue, RenderStep};
use crate::immediate::{DueImmediate, ImmediateQueue};
use crate::io::source::IoSources;
use crate::io::stdio::LoopStdio;
use crate::loop_observers::Observers;
use crate::metrics::{LoopCounters, LoopStats, Phase, Work, add, bump};
use crate::microtask::{Callback, Microtask, MicrotaskQueues};
use crate::pool::WorkerPool;
use crate::process::{Lifecycle, Rejections, finish_drive, rethrow_loop_exit};
use crate::progress::WakeBudget;
use crate::remote::{self, RemoteEvent, Shared};
use crate::sync::QueuedFlag;
use crate::task::CellCache;
use crate::task::raw::TaskRef;
use crate::task::registry::TaskRegistry;
use crate::time::clock::Clock;
use crate::time::timers::{DueTimer, TimerQueue};
use crate::worker::{LoopPorts, PortDelivery};

/// A handler for panics escaping callbacks: Node's `uncaughtException`.
pub(crate) type PanicHandler = Box<dyn Fn(Box<dyn Any + Send>)>;

/// Everything the loop owns, on the loop thread.
pub(crate) struct Core {
    /// The runtime's id (a copy of `shared.id`, one pointer hop closer for
    /// the same-thread wake check).
    id: u32,
    /// The part other threads reach: id, poller, remote queue, keep-alives.
    pub(crate) shared: Arc<Shared>,
    /// The next-tick queue and the microtask ring.
    pub(crate) microtasks: MicrotaskQueues,
    /// Every task whose future still exists.
    pub(crate) tasks: RefCell<TaskRegistry>,
    /// Freed task-cell memory kept for the next spawn.
    pub(crate) cells: CellCache,
    /// The task whose poll is running (innermost, for `spawn_now`).
    pub(crate) current_task: Cell<Option<TaskRef>>,
    /// The timer wheel.
    pub(crate) timers: TimerQueue,
    /// The check-phase queue.
    pub(crate) immediates: ImmediateQueue,
    /// The frame phase's requests and pacing (`jsloop::frame`).
    pub(crate) frames: FrameQueue,
    /// The worker pool (`spawn_blocking`).
    pub(crate) pool: WorkerPool,
    /// Sockets registered with the poller.
    pub(crate) io: IoSources,
    /// The loop's clock and cached `now`.
    pub(crate) clock: Clock,
    /// Takes panics from callbacks instead of letting them unwind out of
    /// `run` / `block_on`.
    panic_handler: Option<PanicHandler>,
    /// Set once the runtime is dropped: nothing runs any more.
    shut_down: Cell<bool>,
    /// `Builder::warnings`: report tasks left pending when `run` returns.
    warnings: bool,
    /// Remote events taken in the poll phase and not yet run.
    remote_events: RefCell<VecDeque<RemoteEvent>>,
    /// The loop's counters (`jsloop::metrics`).
    pub(crate) metrics: LoopCounters,
    /// Long-task reports, trace, watchdog (`src/loop_observers.rs`): while any is
    /// installed, the loop times every callback.
    pub(crate) observers: Option<Observers>,
    /// A weak handle to this core, for timers and sleeps to find it later.
    weak_self: Weak<Core>,
    /// Message ports bound to this loop (`jsloop::worker`).
    pub(crate) ports: LoopPorts,
    /// Before-exit and exit listeners, the exit code (`jsloop::process`).
    pub(crate) process: Lifecycle,
    /// Rejected promises nothing handles yet, reported at the end of a
    /// checkpoint (`jsloop::process::on_unhandled_rejection`).
    pub(crate) rejections: Rejections,
    /// The loop's stdin, stdout and stderr (`jsloop::io::stdin`, ...),
    /// opened on first use.
    pub(crate) stdio: LoopStdio,
    /// Children dropped while running, reaped when they exit
    /// (`jsloop::process`).
    pub(crate) orphans: crate::process::Orphans,
    /// The loop's signal listeners (`jsloop::process::signal`).
    pub(crate) signals: crate::process::LoopSignals,
}

/// `run` returns once the loop is idle; `block_on` as soon as main is done.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    Run,
    BlockOn,
}

/// The main future of `run` / `block_on`, polled from the microtask ring.
pub(crate) trait MainTask {
    fn poll_main(&mut self);
}

impl Core {
    // The builder's settings, each passed on once: a struct for them would
    // only repeat `Builder`'s fields.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        shared: Arc<Shared>,
        pool_size: usize,
        virtual_time: bool,
        panic_handler: Option<PanicHandler>,
        budget: WakeBudget,
        warnings: bool,
        observers: Option<Observers>,
        frames: (u32, Option<RenderStep>),
    ) -> Rc<Core> {
        let pool = WorkerPool::new(pool_size, shared.clone());
        let clock = Clock::new(virtual_time);
        let frames = FrameQueue::new(clock.now(), frames.0, frames.1);
        Rc::new_cyclic(|weak_self| Core {
            id: shared.id,
            shared,
            microtasks: MicrotaskQueues::new(budget),
            tasks: RefCell::default(),
            cells: CellCache::default(),
            current_task: Cell::new(None),
            timers: TimerQueue::default(),
            immediates: ImmediateQueue::default(),
            frames,
            pool,
            io: IoSources::default(),
            clock,
            panic_handler,
            shut_down: Cell::new(false),
            remote_events: RefCell::default(),
            warnings,
            metrics: LoopCounters::default(),
            observers,
            weak_self: weak_self.clone(),
            ports: LoopPorts::default(),
            process: Lifecycle::default(),
            rejections: Rejections::default(),
            stdio: LoopStdio::default(),
            orphans: Default::default(),
            signals: Default::default(),
        })
    }

    #[inline]
    pub(crate) fn id(&self) -> u32 {
        self.id
    }

    pub(crate) fn weak(&self) -> Weak<Core> {
        self.weak_self.clone()
    }

    pub(crate) fn is_shut_down(&self) -> bool {
        self.shut_down.get()
    }

    /// The installed observers (task dumps ask the task tracker among them).
    pub(crate) fn observers(&self) -> Option<&Observers> {
        self.observers.as_ref()
    }

    /// Runs a callback (timer, immediate, microtask, next-tick), handing a
    /// panic to the handler if there is one.
    #[inline(always)]
    pub(crate) fn invoke(&self, callback: impl FnOnce()) {
        match &self.panic_handler {
            None => callback(),
            Some(handler) => {
                if let Err(payload) = catch_unwind(AssertUnwindSafe(callback)) {
                    handler(rethrow_loop_exit(payload));
                }
            }
        }
    }

    /// Whether an uncaught handler (`Builder::on_uncaught_panic`) is set.
    pub(crate) fn has_uncaught_handler(&self) -> bool {
        self.panic_handler.is_some()
    }

    /// `Builder::warnings`: whether the loop says what it noticed on stderr.
    pub(crate) fn warns(&self) -> bool {
        self.warnings
    }

    /// A task panicked and nobody will read its `JoinHandle` (it was
    /// detached, or dropped unread): the uncaught handler gets the panic.
    /// Without a handler the loop goes on, as tokio's does (the panic hook
    /// printed the panic when it happened); at shutdown it is dropped.
    #[cold]
    #[inline(never)]
    pub(crate) fn unawaited_panic(&self, payload: Box<dyn Any + Send>) {
        if let (Some(handler), false) = (&self.panic_handler, self.is_shut_down()) {
            handler(payload);
        }
    }

    /// The loop's liveness rule (see the module doc).
    pub(crate) fn is_alive(&self) -> bool {
        self.real_work_in_flight()
            || self.timers.has_refs()
            || self.immediates.has_pending()
            || !self.microtasks.is_empty()
            || !self.remote_events.borrow().is_empty()
            || self.frames.has_pending()
    }

    /// Runs `future` as the main script and then the loop, per `mode`,
    /// and ends as `jsloop::process` says: exit listeners, or `exit`'s end.
    pub(crate) fn drive<F: Future>(&self, future: F, mode: Mode) -> F::Output {
        let _running = context::enter(self);
        let outcome = catch_unwind(AssertUnwindSafe(|| self.drive_loop(future, mode)));
        finish_drive(self, outcome, mode == Mode::Run)
    }

    fn drive_loop<F: Future>(&self, future: F, mode: Mode) -> F::Output {
        let wake = Arc::new(MainWake { runtime_id: self.id(), scheduled: QueuedFlag::new(false) });
        let mut main =
            Main { future: pin!(future), output: None, waker: Waker::from(wake.clone()), wake };
        let _counting = CountingTime::start(&self.metrics);
        let _observed = self.observers.as_ref().map(|observers| observers.loop_running(self));
        // The script is the first macrotask.
        self.enter_phase(Phase::Script);
        self.metrics.macrotask(Phase::Script);
        self.run_work(|| Work::Main, || main.poll_main());
        self.checkpoint(&mut main);
        self.end_phase(Phase::Script);
        loop {
            let done = main.output.is_some();
            if done && mode == Mode::BlockOn {
                break;
            }
            let alive = self.is_alive();
            if !alive {
                if done {
                    // Node's `beforeExit`: work its listeners queue revives
                    // the loop, and they are called again when it empties.
                    if mode == Mode::Run && self.process.has_before_exit_listeners() {
                        self.before_exit(&mut main);
                        if self.is_alive() {
                            continue;
                        }
                    }
                    if self.warnings {
                        self.warn_pending_tasks();
                    }
                    break;
                }
                // `block_on` waits for a wake from a waker someone else still
                // holds (tokio semantics); `run` ends like Node does.
                if mode == Mode::Run || !main.waker_held_elsewhere_after_all(self) {
                    panic!(
                        "jsloop::{}: the loop has nothing left to do but the main future is still \
                         pending, and nothing can wake it (Node exits here with an unsettled \
                         top-level await); a thread that will wake it later should hold a \
                         `jsloop::keep_alive()` guard",
                        if mode == Mode::Run { "run" } else { "block_on" }
                    );
                }
            }
            self.run_iteration(&mut main, mode);
        }
        // Writes queued on the ring this turn would otherwise wait for the
        // loop's next wait, and a socket kept after `block_on` may never
        // see one. Failing here changes nothing: a later turn retries.
        let _ = self.shared.poller.submit_queued();
        main.output.take().expect("main future finished")
    }

    /// The before-exit listeners, one macrotask with its checkpoint.
    #[cold]
    fn before_exit(&self, main: &mut dyn MainTask) {
        self.metrics.macrotask(Phase::Script);
        self.run_work(|| Work::BeforeExit, || self.invoke(|| self.process.emit_before_exit()));
        self.checkpoint(main);
    }

    /// One turn of the loop: timers, poll, check.
    fn run_iteration(&self, main: &mut Main<'_, impl Future>, mode: Mode) {
        self.stop_if_terminated();
        bump(&self.metrics.iterations);
        if let Some(observers) = &self.observers {
            observers.iteration_started(self);
        }
        self.run_phases(main, mode);
        if let Some(observers) = &self.observers {
            observers.iteration_ended(self);
        }
    }

    /// The phases of one iteration; `block_on` stops after the phase that
    /// finished main.
    fn run_phases(&self, main: &mut Main<'_, impl Future>, mode: Mode) {
        let stop = |main: &Main<'_, _>| mode == Mode::BlockOn && main.output.is_some();
        self.timers_phase(main);
        self.end_phase(Phase::Timers);
        if stop(main) {
            return;
        }
        // Liveness is checked again after the timers, as libuv's `uv_run`
        // does (since 1.45 it runs the timers at the end of an iteration,
        // right before its alive check): a loop the timers left with nothing
        // ref'd ends here, so an unref'd immediate they queued never runs.
        let alive = self.is_alive();
        if !alive && mode == Mode::Run {
            return;
        }
        // Only a loop with nothing left to do asks who holds main's waker.
        let main_wakeable = mode == Mode::BlockOn && !alive && main.waker_held_elsewhere(self);
        self.poll_phase(main, main_wakeable);
        self.end_phase(Phase::Poll);
        if stop(main) {
            return;
        }
        self.check_phase(main);
        self.end_phase(Phase::Check);
        self.frame_phase(main);
    }

    /// Runs every timer due at the loop's `now`, a checkpoint after each.
    fn timers_phase(&self, main: &mut dyn MainTask) {
        self.enter_phase(Phase::Timers);
        // The phase times' last reading, when no macrotask has run since
        // it, is this turn's `now`: only the loop's own looking came after
        // it, and a fresh read costs 20-30 ns on a VM. Never ahead of the
        // truth, so no timer fires early.
        let now = self.clock.now_ticks_at(self.metrics.reading_if_nothing_ran());
        if !self.timers.collect_due(now) {
            return;
        }
        while let Some(due) = self.timers.next_due(now, &self.clock) {
            self.metrics.macrotask(Phase::Timers);
            match due {
                DueTimer::Wake(waker) => self.run_work(|| Work::Wake, || waker.wake()),
                DueTimer::Task(entry) => self.schedule_task(entry.task()),
                DueTimer::Timeout(callback, at) => {
                    self.run_work(|| Work::Timeout(at), || self.invoke(callback));
                }
                DueTimer::Repeatable(mut due) => {
                    let at = due.location();
                    let work = if due.is_interval() { Work::Interval } else { Work::Timeout };
                    self.run_work(|| work(at), || self.invoke(&mut due.callback));
                    self.timers.rearm(due);
                }
            }
            self.checkpoint(main);
        }
    }

    /// Sleeps in the poller as long as nothing is due, then dispatches what
    /// other threads sent, a checkpoint after each.
    fn poll_phase(&self, main: &mut dyn MainTask, main_wakeable: bool) {
        self.enter_phase(Phase::Poll);
        let timeout = self.poll_timeout(main_wakeable);
        let may_block = timeout != Some(Duration::ZERO);
        if may_block {
            // Time blocked in the poller is idle time, not poll-phase time.
            self.metrics.end_phase(Phase::Poll);
            if let Some(observers) = &self.observers {
                observers.poll_waiting(self, timeout);
            }
        }
        let waited_since = (may_block && self.clock.is_paused()).then(Instant::now);
        if let Err(error) = self.shared.poller.wait(timeout) {
            panic!("jsloop: waiting on the poller failed: {error}");
        }
        if let Some(since) = waited_since {
            // Paused virtual time waited for something real: it moves by
            // the time that took (never past the deadline it waited for).
            let waited = since.elapsed();
            self.clock.advance(timeout.map_or(waited, |limit| waited.min(limit)));
        }
        self.stop_if_terminated();
        if may_block {
            self.metrics.end_idle();
            if let Some(observers) = &self.observers {
                observers.poll_woke(self);
            }
        }
        // I/O first, as libuv's poll phase runs I/O callbacks (the remote
        // queue is an I/O source too: its eventfd).
        // Both take their items one at a time from queues that outlive the
        // phase: a panic escaping a callback leaves the rest queued for the
        // next poll phase (no readiness edge, wake or completion is lost).
        self.io.take_events(&self.shared);
        while let Some(event) = self.io.next_event() {
            self.metrics.macrotask(Phase::Poll);
            bump(&self.metrics.io_events);
            self.run_work(|| Work::Wake, || self.io.dispatch(event, &self.shared));
            self.checkpoint(main);
        }
        self.shared.queue.drain_into(&mut *self.remote_events.borrow_mut());
        loop {
            let event = self.remote_events.borrow_mut().pop_front();
            let Some(event) = event else { break };
            if let RemoteEvent::Port(port) = event {
                self.port_batch(&*port, main);
                continue;
            }
            self.metrics.macrotask(Phase::Poll);
            match event {
                RemoteEvent::Wake(remote) => {
                    bump(&self.metrics.remote_wakes);
                    self.schedule_task(remote.task());
                }
                RemoteEvent::WakeMain => {
                    bump(&self.metrics.remote_wakes);
                    self.microtasks.push(Microtask::MAIN);
                }
                RemoteEvent::JobDone(completion) => {
                    self.run_work(|| Work::Wake, || self.pool.delivered(&*completion));
                }
                RemoteEvent::Call(call) => {
                    self.run_work(|| Work::Wake, || self.invoke(|| call(self)))
                }
                RemoteEvent::Port(_) => unreachable!("port batches are delivered above"),
            }
            self.checkpoint(main);
        }
    }

    /// A message port's batch: one macrotask per message queued when the
    /// poll phase reached the port, a checkpoint after each (Node's
    /// `MessagePort::OnMessage`). What those macrotasks post is the next
    /// batch, announced anew: a ping-pong between two ports lets the
    /// timers run. After the last message of a closed channel, its close.
    fn port_batch(&self, port: &dyn PortDelivery, main: &mut dyn MainTask) {
        for _ in 0..port.start_batch(self) {
            if !port.ready_for_next(self) {
                break;
            }
            self.metrics.macrotask(Phase::Poll);
            self.run_work(|| Work::Wake, || self.invoke(|| port.deliver_next(self)));
            self.checkpoint(main);
        }
        if port.close_due(self) {
            self.metrics.macrotask(Phase::Poll);
            self.run_work(|| Work::Wake, || self.invoke(|| port.deliver_close(self)));
            self.checkpoint(main);
        }
    }

    /// Runs the immediates queued before the phase began, a checkpoint
    /// after each.
    fn check_phase(&self, main: &mut dyn MainTask) {
        self.enter_phase(Phase::Check);
        for _ in 0..self.immediates.queued() {
            let Some(due) = self.immediates.pop() else { break };
            if !matches!(due, DueImmediate::Cleared) {
                self.metrics.macrotask(Phase::Check);
            }
            match due {
                DueImmediate::Callback(callback, at) => {
                    self.run_work(|| Work::Immediate(at), || self.invoke(callback));
                }
                DueImmediate::Wake(waker) => self.run_work(|| Work::Wake, || waker.wake()),
                DueImmediate::Deferred(task) => {
                    self.microtasks.budget.warn_once();
                    self.microtasks.push(Microtask::Task(task));
                }
                // A cleared immediate costs nothing, not even a checkpoint.
                DueImmediate::Cleared => continue,
            }
            self.checkpoint(main);
        }
    }

    /// Runs a frame if its slot has come and one is requested: the
    /// callbacks requested before now, a checkpoint after each, then the
    /// render step and its checkpoint (`src/frame.rs`).
    fn frame_phase(&self, main: &mut dyn MainTask) {
        if !self.frames.has_pending() {
            return;
        }
        let Some(info) = self.frames.take_due(self.clock.now()) else { return };
        self.enter_phase(Phase::Frame);
        while let Some(request) = self.frames.next_request() {
            self.metrics.macrotask(Phase::Frame);
            self.run_work(|| Work::AnimationFrame, || self.invoke(|| request.run(info)));
            self.checkpoint(main);
        }
        if let Some(mut render) = self.frames.render_turn() {
            self.metrics.macrotask(Phase::Frame);
            self.run_work(|| Work::Render, || self.invoke(|| render.run(info)));
            drop(render); // back in the queue before the checkpoint's code
            self.checkpoint(main);
        }
        self.end_phase(Phase::Frame);
    }

    /// The microtask checkpoint after a macrotask: next-ticks, then
    /// microtasks, until both queues are empty (`src/microtask.rs`).
    pub(crate) fn checkpoint(&self, main: &mut dyn MainTask) {
        // Whether to observe each item is decided once per checkpoint, not
        // per item: `OBSERVED` is a constant inside.
        if self.observers.is_some() {
            let start = Instant::now();
            self.run_checkpoint::<true>(main);
            add(&self.metrics.checkpoint_nanos, start.elapsed());
        } else {
            self.run_checkpoint::<false>(main);
        }
        // A macrotask boundary: where `Worker::terminate` takes effect.
        self.stop_if_terminated();
    }

    /// `Worker::terminate` asked this loop to stop: unwind out of `run` /
    /// `block_on` (the worker thread catches it and drops the runtime, and
    /// with it every task). Only loop frames are on the stack here.
    #[inline]
    fn stop_if_terminated(&self) {
        if self.shared.terminating.is_requested() {
            std::panic::resume_unwind(Box::new(crate::worker::Terminated));
        }
    }

    fn run_checkpoint<const OBSERVED: bool>(&self, main: &mut dyn MainTask) {
        loop {
            while let Some(tick) = self.microtasks.pop_next_tick() {
                bump(&self.metrics.next_ticks);
                self.run_callback::<OBSERVED>(tick, Work::NextTick);
            }
            while let Some(microtask) = self.microtasks.pop() {
                match microtask {
                    Microtask::Task(task) if task == TaskRef::MAIN => {
                        bump(&self.metrics.task_polls);
                        self.run_item::<OBSERVED>(|| Work::Main, || main.poll_main());
                    }
                    Microtask::Task(task) => {
                        bump(&self.metrics.task_polls);
                        self.run_item::<OBSERVED>(
                            || Work::Task { id: task.id(), location: task.location() },
                            || self.run_task(task),
                        );
                    }
                    Microtask::Callback(callback) => {
                        bump(&self.metrics.microtasks);
                        self.run_callback::<OBSERVED>(callback, Work::Microtask);
                    }
                }
            }
            if !self.microtasks.has_next_ticks() {
                // Node's processTicksAndRejections: what the rejection
                // listeners queue runs in this checkpoint too.
                if self.rejections.is_due() && self.report_rejections() {
                    continue;
                }
                self.microtasks.end_checkpoint();
                return;
            }
        }
    }

    /// A phase begins: long-task reports name it.
    fn enter_phase(&self, phase: Phase) {
        self.metrics.phase.set(phase);
        if let Some(observers) = &self.observers {
            observers.phase_started(self, phase);
        }
    }

    /// A phase ended: its time is counted.
    fn end_phase(&self, phase: Phase) {
        self.metrics.end_phase(phase);
        if let Some(observers) = &self.observers {
            observers.phase_ended(self, phase);
        }
    }

    /// Runs one callback or task poll: the one place the loop observes what
    /// it runs. Without observers this is a single branch; `work` names
    /// what runs and is only asked for when observed.
    #[inline(always)]
    fn run_work(&self, work: impl FnOnce() -> Work, body: impl FnOnce()) {
        self.run_item::<true>(work, body);
    }

    /// [`run_work`](Core::run_work) inside a checkpoint, where `OBSERVED`
    /// says whether observers may be installed (`false`: known to be none,
    /// so not even the branch remains).
    #[inline(always)]
    fn run_item<const OBSERVED: bool>(&self, work: impl FnOnce() -> Work, body: impl FnOnce()) {
        match &self.observers {
            Some(observers) if OBSERVED => observers.run_item(self, work(), body),
            _ => body(),
        }
    }

    /// [`run_item`](Core::run_item) for a next-tick or microtask callback,
    /// which knows where it was queued.
    #[inline(always)]
    fn run_callback<const OBSERVED: bool>(
        &self,
        callback: Callback,
        work: fn(&'static Location<'static>) -> Work,
    ) {
        match &self.observers {
            Some(observers) if OBSERVED => {
                let work = work(callback.location());
                observers.run_item(self, work, || self.invoke(|| callback.call()));
            }
            _ => self.invoke(|| callback.call()),
        }
    }

    /// A snapshot of the counters (`jsloop::metrics::stats`).
    pub(crate) fn stats(&self) -> LoopStats {
        let mut stats = self.metrics.stats(self.observers.is_some());
        stats.tasks_alive = self.tasks.borrow().len() as u64;
        stats.timers_armed = self.timers.armed();
        let (queued, in_flight, done) = self.pool.job_counts();
        stats.pool_jobs_queued = queued;
        stats.pool_jobs_in_flight = in_flight;
        stats.pool_jobs_done = done;
        stats
    }

    /// How long the poll phase may sleep: not at all if something is ready
    /// or the loop is no longer alive (libuv's `uv_backend_timeout`), else
    /// until the next timer, else until another thread wakes it.
    fn poll_timeout(&self, main_wakeable: bool) -> Option<Duration> {
        let ready = self.immediates.has_queued()
            || !self.microtasks.is_empty()
            || !self.remote_events.borrow().is_empty()
            || self.io.has_undispatched();
        if ready || !(self.is_alive() || main_wakeable) {
            return Some(Duration::ZERO);
        }
        // As in the timers phase: the loop's last reading, when no
        // macrotask has run since, stands for now (one read fewer per wait
        // with a timer pending).
        let until_timer = self
            .timers
            .next_deadline()
            .and_then(|deadline| self.clock.until(deadline, self.metrics.reading_if_nothing_ran()));
        // A requested frame's slot bounds the sleep like a timer deadline.
        let until_frame = self
            .frames
            .next_deadline()
            .map(|slot| slot.saturating_duration_since(self.clock.now()));
        let until_timer = match (until_timer, until_frame) {
            (Some(timer), Some(frame)) => Some(timer.min(frame)),
            (timer, frame) => timer.or(frame),
        };
        match until_timer {
            Some(wait) if self.clock.is_paused() && !self.real_work_in_flight() => {
                // Paused virtual time with nothing real to wait for: jump
                // to the deadline instead of sleeping.
                self.clock.advance(wait);
                Some(Duration::ZERO)
            }
            wait => wait,
        }
    }

    /// Work that real time, not the loop, finishes: a pool job, a task
    /// waiting on a ref'd socket (or child, or signal), a `KeepAlive` held
    /// by another thread, a port waiting for messages, bytes written to a
    /// socket that the driver is still sending (libuv's write requests). While there is some,
    /// paused virtual time does not jump: the loop waits for it in real
    /// time, and the clock moves by the time waited.
    fn real_work_in_flight(&self) -> bool {
        self.pool.has_in_flight()
            || self.shared.io.has_refs()
            || self.shared.keep_alive.alive_with(&self.shared.queue)
            || self.ports.keep_alive()
            || self.shared.poller.has_sends_in_flight()
    }

    /// `run` returns with spawned tasks still pending: say how many, and
    /// which.
    #[cold]
    fn warn_pending_tasks(&self) {
        let tasks = self.tasks.borrow();
        if tasks.len() == 0 {
            return;
        }
        let mut names: Vec<&str> = Vec::new();
        for task in tasks.iter() {
            if names.len() < 8 && !names.contains(&task.type_name()) {
                names.push(task.type_name());
            }
        }
        eprintln!(
            "jsloop: the loop has nothing left to do, but {} spawned task(s) are still pending, \
             waiting on something the loop does not track (hold a `jsloop::keep_alive()` guard \
             in the thread that will wake them): {}. `Builder::warnings(false)` silences this.",
            tasks.len(),
            names.join(", ")
        );
    }

    /// Queues the main future for a wake through its waker: budgeted like a
    /// task's wake (`Core::schedule_woken`).
    fn schedule_main_woken(&self) {
        if self.microtasks.budget.spend_wake() {
            self.microtasks.push(Microtask::MAIN);
        } else {
            self.wake_over_budget(TaskRef::MAIN);
        }
    }

    /// Drops everything the loop holds (runtime drop).
    pub(crate) fn shut_down(&self) {
        self.shut_down.set(true);
        self.cancel_all_tasks();
        self.pool.shut_down();
        let (ring, next_ticks) = self.microtasks.take_all();
        for microtask in ring {
            match microtask {
                Microtask::Task(task) if task != TaskRef::MAIN => self.unschedule_task(task),
                Microtask::Task(_) | Microtask::Callback(_) => {}
            }
        }
        drop(next_ticks);
        self.timers.clear();
        for task in self.immediates.clear() {
            if task != TaskRef::MAIN {
                self.unschedule_task(task);
            }
        }
        // Sockets that outlive the runtime: their waiters are told. Before
        // the queue's drain, which then drops the wakes this sends to the
        // loop's own (cancelled) tasks.
        self.io.shut_down(&self.shared);
        let mut events = self.remote_events.take();
        self.shared.queue.drain_into(&mut events);
        // Dropping queued remote wakes releases their task references.
        drop(events);
    }
}

/// Counts loop time while a `run` / `block_on` call runs, however it ends.
struct CountingTime<'a>(&'a LoopCounters);

impl<'a> CountingTime<'a> {
    fn start(counters: &'a LoopCounters) -> CountingTime<'a> {
        counters.start_turn();
        CountingTime(counters)
    }
}

impl Drop for CountingTime<'_> {
    fn drop(&mut self) {
        self.0.stop();
    }
}

/// The main future of a `run` / `block_on` call, pinned on its stack.
struct Main<'a, F: Future> {
    future: Pin<&'a mut F>,
    output: Option<F::Output>,
    waker: Waker,
    wake: Arc<MainWake>,
}

impl<F: Future> Main<'_, F> {
    /// Someone who could still wake main holds a clone of its waker (see
    /// `Core::can_be_woken`: clones parked in the loop's own tasks do not
    /// count unless those tasks can be woken in turn).
    fn waker_held_elsewhere(&self, core: &Core) -> bool {
        // One count for `self.wake`, one for `self.waker`.
        core.can_be_woken(&self.waker, Arc::strong_count(&self.wake) - 2)
    }

    /// The loop looked idle; is main still wakeable? A thread may have woken
    /// main and dropped its clone between that look and this one: it
    /// queued the wake before dropping the clone, so once no clone is left,
    /// look at the loop again (the fence orders the reads after the
    /// clone-count read that saw the drop).
    fn waker_held_elsewhere_after_all(&self, core: &Core) -> bool {
        if self.waker_held_elsewhere(core) {
            return true;
        }
        std::sync::atomic::fence(Ordering::Acquire);
        core.is_alive()
    }
}

impl<F: Future> MainTask for Main<'_, F> {
    fn poll_main(&mut self) {
        if self.output.is_some() {
            return;
        }
        self.wake.scheduled.clear_for_poll();
        let mut cx = Context::from_waker(&self.waker);
        if let Poll::Ready(output) = self.future.as_mut().poll(&mut cx) {
            self.output = Some(output);
        }
    }
}

/// The main future's waker: queues `Microtask::MAIN` once per wake.
struct MainWake {
    runtime_id: u32,
    /// Already queued (locally or remotely) and not yet polled.
    scheduled: QueuedFlag,
}

impl Wake for MainWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if !self.scheduled.mark_queued() {
            return;
        }
        let local = context::with_core_of(self.runtime_id, Core::schedule_main_woken);
        if local.is_none() {
            remote::deliver(self.runtime_id, RemoteEvent::WakeMain);
        }
    }
}
