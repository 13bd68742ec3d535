//! Observers of the loop: long-task reports, the trace, the stall watchdog
//! and task tracking all watch the same points of an iteration.
//!
//! `src/event_loop.rs` calls these hooks at phase boundaries, around its
//! poller wait and around every callback and task poll it runs. With no
//! observer installed the loop skips them all behind one `Option` check
//! (per checkpoint for the items inside it); with some, it reads the clock
//! around each item once and hands both instants to every observer.

use std::any::Any;
use std::time::{Duration, Instant};

use crate::event_loop::Core;
use crate::metrics::{LongTask, LongTaskWatch, Phase, Work};
use crate::task::TaskId;

/// One observer of the loop. Every hook has an empty default; all run on
/// the loop thread, in the order observers were installed.
pub(crate) trait LoopObserver: AsAny {
    /// `run` / `block_on` stopped driving the loop: it returned, or
    /// unwound with a panic. Until the next `phase_started(Script)` the
    /// loop is not running at all (neither busy nor idle in the poller).
    fn loop_stopped(&self, _core: &Core, _at: Instant) {}
    /// A loop iteration (timers, poll, check) begins.
    fn iteration_started(&self, _core: &Core, _at: Instant) {}
    /// It ended (also when `block_on` stops after a phase).
    fn iteration_ended(&self, _core: &Core, _at: Instant) {}
    /// A phase (or the main script) begins.
    fn phase_started(&self, _core: &Core, _phase: Phase, _at: Instant) {}
    /// It ended.
    fn phase_ended(&self, _core: &Core, _phase: Phase, _at: Instant) {}
    /// The loop is about to block in the poller for at most `timeout`
    /// (`None`: until woken). The loop is idle until `poll_woke`.
    fn poll_waiting(&self, _core: &Core, _timeout: Option<Duration>, _at: Instant) {}
    /// The poller returned.
    fn poll_woke(&self, _core: &Core, _at: Instant) {}
    /// `work` is about to run (a macrotask, a microtask or a task poll).
    /// The microtask ring's length here and at `item_ended`
    /// (`core.microtasks.len()`) brackets what `work` queued.
    fn item_started(&self, _core: &Core, _work: &Work, _at: Instant) {}
    /// `work` ran from `started` to `ended`.
    fn item_ended(&self, _core: &Core, _work: &Work, _started: Instant, _ended: Instant) {}
    /// Not a hook but a question a task dump asks: what this observer
    /// recorded of task `id`'s polls. The task tracker answers
    /// (`Builder::track_tasks`); the others know nothing.
    fn task_polls(&self, _id: TaskId) -> Option<TaskPolls> {
        None
    }
}

/// What the task tracker knows of one task's polls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct TaskPolls {
    /// When its first poll began (`None`: not polled yet).
    pub(crate) first: Option<Instant>,
    /// How many polls began, the one running included.
    pub(crate) count: u64,
}

/// Lets [`Observers::find`] reach an observer's own type (a supertrait,
/// since `dyn LoopObserver` cannot be upcast to `dyn Any` before Rust 1.86).
pub(crate) trait AsAny {
    fn as_any(&self) -> &dyn Any;
}

impl<T: Any> AsAny for T {
    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Every observer of one runtime.
pub(crate) struct Observers {
    list: Vec<Box<dyn LoopObserver>>,
}

impl Observers {
    /// The observers `Builder` collected; `None` if there are none, so the
    /// loop pays nothing.
    pub(crate) fn new(list: Vec<Box<dyn LoopObserver>>) -> Option<Observers> {
        (!list.is_empty()).then_some(Observers { list })
    }

    /// The installed observer of type `T` (the trace recorder, for
    /// `Runtime::take_trace`), if any.
    pub(crate) fn find<T: Any>(&self) -> Option<&T> {
        // `**`: the boxed observer, not the `Box` (itself `Any`).
        self.list.iter().find_map(|observer| (**observer).as_any().downcast_ref())
    }

    /// The loop starts: the guard tells every observer when it stops,
    /// however `drive` ends.
    pub(crate) fn loop_running<'a>(&'a self, core: &'a Core) -> LoopRunning<'a> {
        LoopRunning { observers: self, core }
    }

    pub(crate) fn iteration_started(&self, core: &Core) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.iteration_started(core, at));
    }

    pub(crate) fn iteration_ended(&self, core: &Core) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.iteration_ended(core, at));
    }

    pub(crate) fn phase_started(&self, core: &Core, phase: Phase) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.phase_started(core, phase, at));
    }

    pub(crate) fn phase_ended(&self, core: &Core, phase: Phase) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.phase_ended(core, phase, at));
    }

    pub(crate) fn poll_waiting(&self, core: &Core, timeout: Option<Duration>) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.poll_waiting(core, timeout, at));
    }

    pub(crate) fn poll_woke(&self, core: &Core) {
        let at = Instant::now();
        self.list.iter().for_each(|o| o.poll_woke(core, at));
    }

    /// The first observer's answer about task `id` (see
    /// [`LoopObserver::task_polls`]).
    pub(crate) fn task_polls(&self, id: TaskId) -> Option<TaskPolls> {
        self.list.iter().find_map(|o| o.task_polls(id))
    }

    /// Runs `body` as `work`, timed, between the item hooks.
    pub(crate) fn run_item(&self, core: &Core, work: Work, body: impl FnOnce()) {
        let started = Instant::now();
        self.list.iter().for_each(|o| o.item_started(core, &work, started));
        body();
        let ended = Instant::now();
        self.list.iter().for_each(|o| o.item_ended(core, &work, started, ended));
    }
}

/// Calls `loop_stopped` when dropped: when `drive` returns or unwinds.
pub(crate) struct LoopRunning<'a> {
    observers: &'a Observers,
    core: &'a Core,
}

impl Drop for LoopRunning<'_> {
    fn drop(&mut self) {
        let at = Instant::now();
        self.observers.list.iter().for_each(|o| o.loop_stopped(self.core, at));
    }
}

/// `Builder::on_long_task` as an observer.
impl LoopObserver for LongTaskWatch {
    fn item_ended(&self, core: &Core, work: &Work, started: Instant, ended: Instant) {
        let duration = ended.duration_since(started);
        if duration >= self.threshold {
            let report = LongTask { work: *work, duration, phase: core.metrics.phase.get() };
            // A handler that panics is an uncaught panic like any callback's.
            core.invoke(|| (self.handler)(&report));
        }
    }
}
