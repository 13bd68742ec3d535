//! The stall watchdog: a thread that says so *while* the loop is stuck
//! ([`Builder::stall_watchdog`](crate::Builder::stall_watchdog)).
//!
//! A long-task report ([`Builder::on_long_task`](crate::Builder::on_long_task))
//! comes from the loop, after the slow callback returned; a callback that
//! never returns is never reported. The watchdog watches from another
//! thread instead. It watches the loop's progress points, which
//! `src/event_loop.rs` hands every observer (`src/loop_observers.rs`): the start
//! and end of every macrotask, microtask and task poll, and every phase
//! boundary. The loop is *stuck* when it has passed none of them for the
//! threshold while it was neither blocked in the poller (idle: waiting is
//! not being stuck) nor outside `run` / `block_on` (not running at all).
//! Then the watchdog reports what is running — the [`Work`] of the item in
//! progress and the phase — and once more when the loop moves on, with
//! the stall's whole length.
//!
//! How the two threads meet: at each progress point the loop swaps a new
//! *mark* into one atomic (a count of progress points, flagged while the
//! loop is idle or stopped, or runs an item); when an item starts it also
//! writes the item and its start into a small mutex-guarded position, and
//! when a phase starts, the phase. The watchdog wakes four times per
//! threshold and reads both; a mark that names an item started a threshold
//! ago (or, between items, one it has seen unchanged for a threshold) is a
//! stall, which it claims by flagging the mark with a compare-and-swap.
//! The loop's next swap sees the flag and notes when it moved on: the
//! return report. The loop never waits on the watchdog: the watchdog holds
//! the position's lock only to copy it or take the return from it, never
//! while its handler runs, and the loop never waits on the condition
//! variable the watchdog sleeps on (the runtime's drop only notifies it).
//!
//! Cost: nothing when off (no observer, no thread). When on, on top of the
//! clock reads the loop makes for any observer: per item two atomic swaps
//! and one uncontended lock/unlock pair; per phase boundary one swap (and
//! a lock when a phase starts); the clock is read only when a reported
//! stall ends. The watchdog thread wakes four times per threshold.

use std::cell::Cell;
use std::fmt;
use std::io;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::event_loop::Core;
use crate::loop_observers::LoopObserver;
use crate::metrics::{Phase, Work};

/// A report of the stall watchdog
/// ([`Builder::stall_watchdog_with`](crate::Builder::stall_watchdog_with)):
/// the loop has been stuck for the threshold or longer, or it moved on
/// again.
///
/// A stall gets two reports: one [`Stuck`](StallState::Stuck) while it
/// lasts, and one [`Returned`](StallState::Returned) after it, with the
/// stall's whole length.
///
/// # Examples
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use std::time::Duration;
/// use jsloop::metrics::{Stall, StallState, Work};
///
/// let stalls: Arc<Mutex<Vec<Stall>>> = Arc::default();
/// let rt = jsloop::Runtime::builder()
///     .stall_watchdog_with(Duration::from_millis(20), {
///         let stalls = stalls.clone();
///         move |stall| stalls.lock().unwrap().push(*stall)
///     })
///     .build()?;
/// rt.run(async {
///     jsloop::set_timeout(Duration::from_millis(1), || {
///         std::thread::sleep(Duration::from_millis(300)); // blocks the loop
///     });
/// });
/// // Dropping the runtime stops the watchdog, which makes the reports it
/// // still owes; its handler (and `stalls`' clone) is gone once it has.
/// drop(rt);
/// while Arc::strong_count(&stalls) > 1 {
///     std::thread::sleep(Duration::from_millis(1));
/// }
/// let stalls = stalls.lock().unwrap();
/// assert_eq!(stalls.len(), 2);
/// assert_eq!(stalls[0].state, StallState::Stuck); // reported during the sleep
/// assert!(matches!(stalls[0].work, Some(Work::Timeout(_))));
/// assert_eq!(stalls[1].state, StallState::Returned);
/// assert!(stalls[1].stuck_for >= Duration::from_millis(300));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stall {
    /// What was running: the item in progress (a task poll, with the task's
    /// id and spawn location, or a callback, with its kind and where it was
    /// registered). A long-task handler that blocks counts as its item.
    /// `None` when the loop was stuck in its own code between two items
    /// (say, a phase source handing out a huge batch of due work).
    pub work: Option<Work>,
    /// The phase it ran in (a microtask or task poll: the phase whose
    /// checkpoint it ran in).
    pub phase: Phase,
    /// How long the loop had made no progress: when
    /// [`Stuck`](StallState::Stuck), so far (at least the threshold); when
    /// [`Returned`](StallState::Returned), in all. An item's stall counts
    /// from the item's start; one between items from when the watchdog
    /// first saw the loop there (up to a quarter threshold late).
    pub stuck_for: Duration,
    /// Whether the loop is still stuck.
    pub state: StallState,
}

/// Whether a [`Stall`] is still going on.
///
/// # Examples
///
/// ```
/// use jsloop::metrics::StallState;
///
/// let state = StallState::Stuck;
/// assert_ne!(state, StallState::Returned);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum StallState {
    /// The loop is stuck now; `stuck_for` is how long so far.
    Stuck,
    /// The stuck work returned (or the loop moved on) after `stuck_for`.
    Returned,
}

impl fmt::Display for Stall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.state {
            StallState::Stuck => {
                write!(f, "the loop has been stuck for {:.1?} in ", self.stuck_for)?
            }
            StallState::Returned => {
                write!(f, "the loop returned after being stuck for {:.1?} in ", self.stuck_for)?
            }
        }
        match &self.work {
            Some(work) => work.fmt(f)?,
            None => f.write_str("the loop itself, between callbacks")?,
        }
        write!(f, " ({} phase)", self.phase)
    }
}

/// What the watchdog does with a [`Stall`].
pub(crate) type StallHandler = Box<dyn Fn(&Stall) + Send>;

/// The default handler: one line on stderr.
pub(crate) fn print_stall(stall: &Stall) {
    eprintln!("jsloop: {stall}");
}

// The mark: a count of progress points, shifted left past three flags.
//
// Relaxed throughout: the mark is a value in itself, and the position it
// goes with has its own lock (the order of the two writes, argued at the
// hooks, is what ties them). A read-modify-write on the mark always sees
// its latest value, so the watchdog's claim fails if the loop moved on; a
// plain load may lag a swap by a moment, which at worst delays a report.

/// The loop is blocked in the poller or not running: nothing to watch.
const IDLE: u64 = 1;
/// The watchdog reported the stall that began at this mark.
const REPORTED: u64 = 2;
/// An item is in progress: the position's `item` is the one.
const IN_ITEM: u64 = 4;
const FLAG_BITS: u32 = 3;

/// What the loop tells the watchdog.
struct Watched {
    /// The loop's last progress point: its count and flags. The watchdog
    /// only ever adds `REPORTED`.
    mark: AtomicU64,
    /// What runs now, and when the reported stall ended.
    position: Mutex<Position>,
    /// Set when the runtime is gone; the watchdog sleeps on it.
    stopped: Mutex<bool>,
    wakeup: Condvar,
}

/// What the loop wrote last.
#[derive(Clone, Copy)]
struct Position {
    /// The last item started and when (valid while the mark has `IN_ITEM`).
    item: Option<(Work, Instant)>,
    /// The phase running (its last start).
    phase: Phase,
    /// When the loop passed its first progress point after the watchdog
    /// claimed a stall; the watchdog takes it.
    returned: Option<Instant>,
}

impl Watched {
    fn position(&self) -> MutexGuard<'_, Position> {
        // Nothing panics while holding it; a poisoned position is still whole.
        self.position.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Sleeps for `tick` or until the runtime is gone; false once it is.
    fn sleep(&self, tick: Duration) -> bool {
        let stopped = self.stopped.lock().unwrap_or_else(PoisonError::into_inner);
        let (stopped, _) = self
            .wakeup
            .wait_timeout_while(stopped, tick, |stopped| !*stopped)
            .unwrap_or_else(PoisonError::into_inner);
        !*stopped
    }
}

/// The loop's side of the watchdog: an observer, owned by the runtime.
/// Dropping it (with the runtime) stops the watchdog thread.
pub(crate) struct StallWatch {
    watched: Arc<Watched>,
    /// Progress points passed (loop thread only): each swap puts a new
    /// mark, so a claim on an old one fails.
    count: Cell<u64>,
}

impl StallWatch {
    /// Starts the watchdog thread.
    ///
    /// Fails with `InvalidInput` for a zero threshold (every instant would
    /// be a stall), or if the thread cannot be spawned.
    pub(crate) fn start(threshold: Duration, handler: StallHandler) -> io::Result<StallWatch> {
        if threshold.is_zero() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "jsloop: the stall watchdog's threshold must be above zero",
            ));
        }
        let watched = Arc::new(Watched {
            mark: AtomicU64::new(IDLE),
            position: Mutex::new(Position { item: None, phase: Phase::Script, returned: None }),
            stopped: Mutex::new(false),
            wakeup: Condvar::new(),
        });
        let watchdog = Watchdog {
            watched: watched.clone(),
            threshold,
            // A quarter: an item's stall is reported by 1.25 thresholds,
            // one between items (timed from the watchdog's first sight of
            // its mark) by 1.5. The floor keeps a tiny threshold from
            // spinning the thread.
            tick: (threshold / 4).max(Duration::from_millis(1)),
            handler,
            last: (IDLE, Instant::now()),
            reported: None,
        };
        // Detached: a handler that blocks must not block the runtime's drop.
        thread::Builder::new().name("jsloop-watchdog".to_owned()).spawn(move || watchdog.run())?;
        Ok(StallWatch { watched, count: Cell::new(0) })
    }

    /// The loop passed a progress point; `flags`: whether it now goes idle
    /// or runs an item.
    fn progress(&self, flags: u64) {
        let count = self.count.get() + 1;
        self.count.set(count);
        if self.watched.mark.swap(count << FLAG_BITS | flags, Relaxed) & REPORTED != 0 {
            // The reported stall ended here: only now is the clock read,
            // fresh (a long-task handler before this observer may have
            // blocked since the loop's own reading).
            self.watched.position().returned = Some(Instant::now());
        }
    }
}

// A hook writes the position *before* it swaps the mark: a watchdog that
// read the mark and then copied the position copied that write or a later
// one, and if later, its claim on the mark fails.
impl LoopObserver for StallWatch {
    fn loop_stopped(&self, _core: &Core, _at: Instant) {
        self.progress(IDLE);
    }

    fn phase_started(&self, _core: &Core, phase: Phase, _at: Instant) {
        self.watched.position().phase = phase;
        self.progress(0);
    }

    fn phase_ended(&self, _core: &Core, _phase: Phase, _at: Instant) {
        self.progress(0);
    }

    fn poll_waiting(&self, _core: &Core, _timeout: Option<Duration>, _at: Instant) {
        self.progress(IDLE);
    }

    fn poll_woke(&self, _core: &Core, _at: Instant) {
        self.progress(0);
    }

    fn item_started(&self, _core: &Core, work: &Work, at: Instant) {
        self.watched.position().item = Some((*work, at));
        self.progress(IN_ITEM);
    }

    fn item_ended(&self, _core: &Core, _work: &Work, _started: Instant, _ended: Instant) {
        // No lock: without `IN_ITEM` the watchdog ignores the stale item.
        self.progress(0);
    }
}

impl Drop for StallWatch {
    fn drop(&mut self) {
        *self.watched.stopped.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.watched.wakeup.notify_one();
    }
}

/// The watchdog thread's state.
struct Watchdog {
    watched: Arc<Watched>,
    threshold: Duration,
    /// How often it looks.
    tick: Duration,
    handler: StallHandler,
    /// The mark it saw last, and when it first saw it: between items, the
    /// loop has made no progress since then.
    last: (u64, Instant),
    /// The stall reported stuck and not yet returned: what ran, in which
    /// phase, and since when.
    reported: Option<(Option<Work>, Phase, Instant)>,
}

impl Watchdog {
    fn run(mut self) {
        while self.watched.sleep(self.tick) {
            if self.reported.is_some() {
                self.look_for_return();
            } else {
                self.look_for_stall();
            }
        }
        // The runtime is gone; the loop stopped before that, which ended
        // any stall, so its report is still due.
        self.look_for_return();
    }

    fn look_for_stall(&mut self) {
        let now = Instant::now();
        let mark = self.watched.mark.load(Relaxed);
        if mark != self.last.0 {
            self.last = (mark, now);
        }
        // A flagged mark is idle, or the stall just reported: the loop's
        // swap that ended it may not be visible here yet.
        if mark & (IDLE | REPORTED) != 0 {
            return;
        }
        let position = *self.watched.position();
        let (work, since) = match position.item {
            Some((work, started)) if mark & IN_ITEM != 0 => (Some(work), started),
            _ => (None, self.last.1),
        };
        let stuck_for = now.saturating_duration_since(since);
        if stuck_for < self.threshold {
            return;
        }
        // The claim fails if the loop passed a progress point since `mark`.
        if self.watched.mark.compare_exchange(mark, mark | REPORTED, Relaxed, Relaxed).is_ok() {
            self.reported = Some((work, position.phase, since));
            self.report(work, position.phase, stuck_for, StallState::Stuck);
        }
    }

    fn look_for_return(&mut self) {
        let Some((work, phase, since)) = self.reported else { return };
        // Set once per claim, by the loop's first progress point after it.
        let Some(returned) = self.watched.position().returned.take() else { return };
        self.reported = None;
        self.report(work, phase, returned.saturating_duration_since(since), StallState::Returned);
    }

    /// Calls the handler, without any lock held. A panic in it is printed
    /// and the watchdog goes on: the loop it watches is not at fault.
    fn report(&self, work: Option<Work>, phase: Phase, stuck_for: Duration, state: StallState) {
        let stall = Stall { work, phase, stuck_for, state };
        if catch_unwind(AssertUnwindSafe(|| (self.handler)(&stall))).is_err() {
            eprintln!(
                "jsloop: the stall watchdog's handler panicked on \"{stall}\"; the watchdog goes on"
            );
        }
    }
}
