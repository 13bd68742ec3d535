//! Long tasks: a macrotask, microtask or task poll that held the loop for
//! longer than a threshold ([`Builder::on_long_task`](crate::Builder::on_long_task)).
//!
//! The loop only times its callbacks while a handler is set; otherwise each
//! one costs a single branch on whether to.

use std::fmt;
use std::panic::Location;
use std::time::Duration;

use crate::task::TaskId;

/// A phase of the loop, or the main script before it.
///
/// # Examples
///
/// ```
/// use jsloop::metrics::Phase;
///
/// assert_eq!(Phase::Check.to_string(), "check");
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Phase {
    /// The first poll of the main future of `run` / `block_on`, and its
    /// checkpoint.
    #[default]
    Script,
    /// Due timers and sleeps.
    Timers,
    /// Socket readiness, wakes from other threads, worker-pool completions.
    Poll,
    /// Immediates.
    Check,
    /// Animation-frame callbacks and the render step (`jsloop::frame`).
    Frame,
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Phase::Script => "script",
            Phase::Timers => "timers",
            Phase::Poll => "poll",
            Phase::Check => "check",
            Phase::Frame => "frame",
        })
    }
}

/// What the loop ran: a task poll, or a callback and where it was
/// registered.
///
/// # Examples
///
/// ```
/// use jsloop::metrics::Work;
///
/// let work = Work::Wake;
/// assert_eq!(work.to_string(), "a wake");
/// assert!(work.location().is_none());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Work {
    /// A poll of a spawned task.
    Task {
        /// The task ([`JoinHandle::id`](crate::JoinHandle::id)).
        id: TaskId,
        /// Where it was spawned.
        location: &'static Location<'static>,
    },
    /// A poll of the main future of `run` / `block_on`.
    Main,
    /// A `set_timeout` callback, and where it was set.
    Timeout(&'static Location<'static>),
    /// A `set_interval` callback, and where it was set.
    Interval(&'static Location<'static>),
    /// A `set_immediate` callback, and where it was set.
    Immediate(&'static Location<'static>),
    /// A `queue_microtask` callback, and where it was queued.
    Microtask(&'static Location<'static>),
    /// A `next_tick` callback, and where it was queued.
    NextTick(&'static Location<'static>),
    /// A waker the loop fired for a due sleep, a socket's readiness, a wake
    /// from another thread or a worker-pool completion (the woken task's
    /// poll is reported on its own).
    Wake,
    /// The before-exit listeners (`jsloop::process::on_before_exit`).
    BeforeExit,
    /// A `request_animation_frame` callback (or a `frames()` stream's
    /// wake), in the frame phase.
    AnimationFrame,
    /// The render step (`Builder::on_render`), at the end of a frame.
    Render,
}

impl Work {
    /// Where the task was spawned or the callback registered.
    ///
    /// # Examples
    ///
    /// ```
    /// assert!(jsloop::metrics::Work::Main.location().is_none());
    /// ```
    pub fn location(&self) -> Option<&'static Location<'static>> {
        match *self {
            Work::Task { location, .. }
            | Work::Timeout(location)
            | Work::Interval(location)
            | Work::Immediate(location)
            | Work::Microtask(location)
            | Work::NextTick(location) => Some(location),
            Work::Main | Work::Wake | Work::BeforeExit | Work::AnimationFrame | Work::Render => {
                None
            }
        }
    }
}

impl fmt::Display for Work {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Work::Task { id, location } => write!(f, "task {id} spawned at {location}"),
            Work::Main => f.write_str("the main future"),
            Work::Timeout(at) => write!(f, "a timeout set at {at}"),
            Work::Interval(at) => write!(f, "an interval set at {at}"),
            Work::Immediate(at) => write!(f, "an immediate set at {at}"),
            Work::Microtask(at) => write!(f, "a microtask queued at {at}"),
            Work::NextTick(at) => write!(f, "a next-tick queued at {at}"),
            Work::Wake => f.write_str("a wake"),
            Work::BeforeExit => f.write_str("the before-exit listeners"),
            Work::AnimationFrame => f.write_str("an animation-frame callback"),
            Work::Render => f.write_str("the render step"),
        }
    }
}

/// A callback or task poll that ran longer than the threshold of
/// [`Builder::on_long_task`](crate::Builder::on_long_task).
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use std::time::Duration;
/// use jsloop::metrics::{Phase, Work};
///
/// let seen = Rc::new(RefCell::new(Vec::new()));
/// let rt = jsloop::Runtime::builder()
///     .on_long_task(Duration::from_millis(20), {
///         let seen = seen.clone();
///         move |long| seen.borrow_mut().push((long.work, long.phase, long.duration))
///     })
///     .build()?;
/// rt.run(async {
///     jsloop::set_timeout(Duration::from_millis(1), || {
///         std::thread::sleep(Duration::from_millis(30)); // blocks the loop
///     });
/// });
/// let seen = seen.borrow();
/// assert_eq!(seen.len(), 1);
/// assert!(matches!(seen[0].0, Work::Timeout(_)));
/// assert_eq!(seen[0].1, Phase::Timers);
/// assert!(seen[0].2 >= Duration::from_millis(30));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LongTask {
    /// What ran.
    pub work: Work,
    /// For how long.
    pub duration: Duration,
    /// In which phase (a microtask or task poll: the phase whose
    /// checkpoint it ran in).
    pub phase: Phase,
}

impl fmt::Display for LongTask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ran for {:?} in the {} phase", self.work, self.duration, self.phase)
    }
}

/// The handler of long tasks and its threshold.
pub(crate) struct LongTaskWatch {
    pub(crate) threshold: Duration,
    pub(crate) handler: Box<dyn Fn(&LongTask)>,
}
