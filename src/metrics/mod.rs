//! `jsloop::metrics`: what the loop can tell about itself.
//!
//! Always on, at the cost of a few counter increments and clock reads per
//! loop iteration: [`event_loop_utilization`] (Node's
//! `performance.eventLoopUtilization()`) and [`stats`] (a [`LoopStats`]
//! snapshot). [`LongTask`] reports, from
//! [`Builder::on_long_task`](crate::Builder::on_long_task), name the
//! [`Work`] that held the loop; [`Stall`] reports, from
//! [`Builder::stall_watchdog`](crate::Builder::stall_watchdog), name it
//! while it still holds the loop. Off until asked for:
//! [`monitor_event_loop_delay`] (Node's `perf_hooks.monitorEventLoopDelay`).
//!
//! The loop (`src/event_loop.rs`) feeds all of it; this module only keeps
//! the counts.

use std::cell::Cell;
use std::time::Duration;

use crate::context;
use crate::time::clock::monotonic_nanos;

mod delay;
mod long_task;
pub use crate::watchdog::{Stall, StallState};
pub use delay::{EventLoopDelay, monitor_event_loop_delay};
pub(crate) use long_task::LongTaskWatch;
pub use long_task::{LongTask, Phase, Work};

/// How busy the loop has been: Node's `EventLoopUtilization`.
///
/// `idle` is the time the loop spent blocked in the poller waiting for
/// something to happen; `active` is the rest of the time the loop ran (from
/// the first iteration after the main script, as Node counts from its
/// `loopStart`, in every `run` / `block_on` call so far); `utilization` is
/// `active / (idle + active)`, 0 before the loop has run.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::metrics::{event_loop_utilization, utilization_since};
///
/// jsloop::block_on(async {
///     let start = event_loop_utilization();
///     jsloop::time::sleep(Duration::from_millis(20)).await; // mostly idle
///     let delta = utilization_since(&start);
///     assert!(delta.idle + delta.active >= Duration::from_millis(10));
///     assert!((0.0..=1.0).contains(&delta.utilization));
/// });
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct EventLoopUtilization {
    /// Time blocked in the poller.
    pub idle: Duration,
    /// Time the loop ran and was not blocked.
    pub active: Duration,
    /// `active / (idle + active)`; 0 when both are zero.
    pub utilization: f64,
}

impl EventLoopUtilization {
    fn new(idle: Duration, active: Duration) -> EventLoopUtilization {
        let total = (idle + active).as_secs_f64();
        let utilization = if total > 0.0 { active.as_secs_f64() / total } else { 0.0 };
        EventLoopUtilization { idle, active, utilization }
    }

    /// The utilization between `earlier` and `self`: Node's
    /// `eventLoopUtilization(util2, util1)`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::metrics::event_loop_utilization;
    ///
    /// jsloop::block_on(async {
    ///     let a = event_loop_utilization();
    ///     let b = event_loop_utilization();
    ///     let delta = b.since(&a);
    ///     assert!(delta.active <= b.active);
    /// });
    /// ```
    pub fn since(&self, earlier: &EventLoopUtilization) -> EventLoopUtilization {
        EventLoopUtilization::new(
            self.idle.saturating_sub(earlier.idle),
            self.active.saturating_sub(earlier.active),
        )
    }
}

/// The current runtime's utilization so far: Node's
/// `performance.eventLoopUtilization()`.
///
/// # Panics
///
/// Panics outside a runtime (use [`Runtime::stats`](crate::Runtime::stats)
/// there).
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let elu = jsloop::metrics::event_loop_utilization();
///     assert!(elu.utilization <= 1.0);
/// });
/// ```
pub fn event_loop_utilization() -> EventLoopUtilization {
    context::with_current(|core| core.metrics.utilization())
}

/// The utilization since `earlier`: Node's
/// `performance.eventLoopUtilization(earlier)`.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// use jsloop::metrics::{event_loop_utilization, utilization_since};
///
/// jsloop::block_on(async {
///     let start = event_loop_utilization();
///     jsloop::yield_to_loop().await;
///     let delta = utilization_since(&start);
///     assert!(delta.utilization >= 0.0);
/// });
/// ```
pub fn utilization_since(earlier: &EventLoopUtilization) -> EventLoopUtilization {
    event_loop_utilization().since(earlier)
}

/// A snapshot of the current runtime's counters.
///
/// # Panics
///
/// Panics outside a runtime (use [`Runtime::stats`](crate::Runtime::stats)
/// there).
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     jsloop::spawn(async {}).await.unwrap();
///     let stats = jsloop::metrics::stats();
///     assert_eq!(stats.tasks_spawned, 1);
///     assert_eq!(stats.tasks_alive, 0);
/// });
/// ```
pub fn stats() -> LoopStats {
    context::with_current(|core| core.stats())
}

/// Counts and times of a runtime's loop since it was built.
///
/// The times are real time (also under virtual time). A phase's time
/// includes the checkpoints after its macrotasks; `checkpoint_time` is
/// measured on its own only while the loop times every callback (an
/// observer is installed: [`Builder::on_long_task`](crate::Builder::on_long_task),
/// a trace, the stall watchdog or task tracking), because that needs two
/// clock reads per macrotask.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::new()?;
/// rt.block_on(async {
///     jsloop::set_timeout(Duration::from_millis(1), || {});
///     jsloop::set_immediate(|| {});
///     jsloop::queue_microtask(|| {});
/// });
/// rt.run(async {});
/// let stats = rt.stats();
/// assert!(stats.iterations >= 1);
/// assert_eq!(stats.timers_fired, 1);
/// assert_eq!(stats.macrotasks.check, 1);
/// assert_eq!(stats.microtasks, 1);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoopStats {
    /// Loop iterations (timers, poll, check) run.
    pub iterations: u64,
    /// Time in each phase, its checkpoints included. A timers or check
    /// phase that ran nothing is not timed on its own: the moment it took
    /// to look counts to the phase after it.
    pub phase_time: PerPhase<Duration>,
    /// Time blocked in the poller (the `idle` of
    /// [`EventLoopUtilization`]); not part of `phase_time.poll`.
    pub idle_time: Duration,
    /// Time in microtask checkpoints, when measured (see the type's docs).
    pub checkpoint_time: Option<Duration>,
    /// Macrotasks run in each phase (`script` is the main futures' first
    /// polls).
    pub macrotasks: PerPhase<u64>,
    /// `queue_microtask` callbacks run.
    pub microtasks: u64,
    /// `next_tick` callbacks run.
    pub next_ticks: u64,
    /// Tasks spawned.
    pub tasks_spawned: u64,
    /// Tasks whose future still exists.
    pub tasks_alive: u64,
    /// Task polls (the main future's included).
    pub task_polls: u64,
    /// Timers armed (`set_timeout`, `set_interval` ticks, sleeps).
    pub timers_armed: u64,
    /// Timers that fired (the timers phase's macrotasks).
    pub timers_fired: u64,
    /// Socket readiness events dispatched.
    pub io_events: u64,
    /// Wakes that came from other threads.
    pub remote_wakes: u64,
    /// Worker-pool jobs submitted.
    pub pool_jobs_queued: u64,
    /// Worker-pool jobs submitted and not yet delivered.
    pub pool_jobs_in_flight: u64,
    /// Worker-pool jobs whose completion the loop delivered.
    pub pool_jobs_done: u64,
}

/// One value per phase of the loop.
///
/// # Examples
///
/// ```
/// let stats = jsloop::Runtime::new()?.stats();
/// let jsloop::metrics::PerPhase { script, timers, poll, check, frame } = stats.macrotasks;
/// assert_eq!(script + timers + poll + check + frame, 0);
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PerPhase<T> {
    /// The main script: the first poll of the main future.
    pub script: T,
    /// The timers phase.
    pub timers: T,
    /// The poll phase (I/O, remote wakes, pool completions).
    pub poll: T,
    /// The check phase (immediates).
    pub check: T,
    /// The frame phase (animation-frame callbacks, the render step).
    pub frame: T,
}

/// The loop's counters (loop thread only): plain cells, bumped by
/// `src/event_loop.rs` and the queues.
#[derive(Default)]
pub(crate) struct LoopCounters {
    pub(crate) iterations: Cell<u64>,
    /// The phase running now (what a long-task report says).
    pub(crate) phase: Cell<Phase>,
    phase_nanos: [Cell<u64>; PHASES],
    idle_nanos: Cell<u64>,
    pub(crate) checkpoint_nanos: Cell<u64>,
    /// Where the current phase's time started counting, in
    /// `monotonic_nanos` (`None` outside a loop turn: between `run` calls
    /// nothing is counted). Integers: the loop charges half a dozen spans
    /// a turn, and an `Instant` subtraction costs some 45 instructions.
    mark: Cell<Option<u64>>,
    /// A macrotask ran since the last charge: a timers or check phase
    /// without one is not worth a clock read (`end_phase`), and without
    /// one the last reading still stands for now (`reading_if_nothing_ran`).
    ran: Cell<bool>,
    macrotasks: [Cell<u64>; PHASES],
    pub(crate) microtasks: Cell<u64>,
    pub(crate) next_ticks: Cell<u64>,
    pub(crate) tasks_spawned: Cell<u64>,
    pub(crate) task_polls: Cell<u64>,
    pub(crate) io_events: Cell<u64>,
    pub(crate) remote_wakes: Cell<u64>,
}

impl LoopCounters {
    /// Counts one macrotask of `phase`.
    #[inline]
    pub(crate) fn macrotask(&self, phase: Phase) {
        bump(&self.macrotasks[phase as usize]);
        self.ran.set(true);
    }

    /// A loop turn begins: time counts from now.
    pub(crate) fn start_turn(&self) {
        self.mark.set(Some(monotonic_nanos()));
    }

    /// The loop stopped turning (`run` / `block_on` returns).
    pub(crate) fn stop(&self) {
        self.mark.set(None);
    }

    /// The time since the last mark goes to `phase`. A timers or check
    /// phase that ran no macrotask reads no clock: its few nanoseconds of
    /// looking go to the next phase charged. That is two clock reads fewer
    /// per turn of a loop woken for one message, and the loop's total time
    /// (the utilization) is unchanged.
    pub(crate) fn end_phase(&self, phase: Phase) {
        if matches!(phase, Phase::Timers | Phase::Check) && !self.ran.get() {
            return;
        }
        self.charge(&self.phase_nanos[phase as usize]);
    }

    /// The clock reading the last phase was charged at, if no macrotask
    /// ran since (only the loop's own looking did): the timers phase's
    /// `now` and the poll phase's time to the next timer, without a read
    /// of their own. `None` outside a loop turn.
    #[inline]
    pub(crate) fn reading_if_nothing_ran(&self) -> Option<u64> {
        if self.ran.get() { None } else { self.mark.get() }
    }

    /// The time since the last mark was spent blocked in the poller.
    pub(crate) fn end_idle(&self) {
        self.charge(&self.idle_nanos);
    }

    fn charge(&self, bucket: &Cell<u64>) {
        if let Some(mark) = self.mark.get() {
            let now = monotonic_nanos();
            bucket.set(bucket.get().saturating_add(now.saturating_sub(mark)));
            self.mark.set(Some(now));
        }
        self.ran.set(false);
    }

    pub(crate) fn utilization(&self) -> EventLoopUtilization {
        let idle = nanos(&self.idle_nanos);
        let mut active: Duration = self.phase_nanos[1..].iter().map(nanos).sum();
        // The phase running now has not been charged yet (the main script
        // is not loop time, as in Node).
        if let (Some(mark), false) = (self.mark.get(), self.phase.get() == Phase::Script) {
            active += Duration::from_nanos(monotonic_nanos().saturating_sub(mark));
        }
        EventLoopUtilization::new(idle, active)
    }

    /// The counters' part of a [`LoopStats`]; the caller fills in what the
    /// queues know.
    pub(crate) fn stats(&self, checkpoints_timed: bool) -> LoopStats {
        let [script, timers, poll, check, frame] = self.macrotasks.each_ref().map(Cell::get);
        let time = self.phase_nanos.each_ref().map(nanos);
        LoopStats {
            iterations: self.iterations.get(),
            phase_time: PerPhase {
                script: time[0],
                timers: time[1],
                poll: time[2],
                check: time[3],
                frame: time[4],
            },
            idle_time: nanos(&self.idle_nanos),
            checkpoint_time: checkpoints_timed.then(|| nanos(&self.checkpoint_nanos)),
            macrotasks: PerPhase { script, timers, poll, check, frame },
            microtasks: self.microtasks.get(),
            next_ticks: self.next_ticks.get(),
            tasks_spawned: self.tasks_spawned.get(),
            task_polls: self.task_polls.get(),
            timers_fired: timers,
            io_events: self.io_events.get(),
            remote_wakes: self.remote_wakes.get(),
            ..LoopStats::default()
        }
    }
}

/// How many phases [`Phase`] names (the counters' array length).
const PHASES: usize = 5;

/// Adds one to a counter.
#[inline]
pub(crate) fn bump(counter: &Cell<u64>) {
    counter.set(counter.get() + 1);
}

/// Adds `duration` to a nanosecond counter.
pub(crate) fn add(counter: &Cell<u64>, duration: Duration) {
    counter.set(counter.get().saturating_add(duration.as_nanos() as u64));
}

fn nanos(counter: &Cell<u64>) -> Duration {
    Duration::from_nanos(counter.get())
}
