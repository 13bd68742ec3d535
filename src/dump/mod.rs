//! Task dumps: every live task, what state it is in and what it waits on,
//! on demand (`process.report` / tokio's task dumps, for this loop).
//!
//! [`Handle::dump`](crate::Handle::dump) (or [`Runtime::dump`](crate::Runtime::dump))
//! takes a [`TaskDump`] on the loop thread: from the main future, inside a
//! task's poll (that task shows as [running](TaskState::Running)), from a
//! callback, or before and after `run`. A [`DumpHandle`] asks from any
//! other thread; the loop answers in its next poll phase, as one macrotask.
//!
//! A dump only reads: it never polls a future, wakes a task or calls user
//! code, and it never panics, whatever the loop is in the middle of (a
//! queue being changed right now is left out of that dump instead).
//!
//! What a task waits on is found by looking where its waker sits:
//!
//! | [`WaitingOn`] | found as |
//! |---|---|
//! | [`Timer`](WaitingOn::Timer) | a `sleep` (or `timeout`, `interval`) entry in the timer wheel that names the task or holds its waker |
//! | [`Socket`](WaitingOn::Socket) | its waker among a socket's readers or writers |
//! | [`PoolJob`](WaitingOn::PoolJob) | the task is the one [`spawn_blocking`](crate::spawn_blocking) made to wait for its job |
//! | [`JoinHandle`](WaitingOn::JoinHandle) | its waker awaits another task's `JoinHandle` |
//! | [`Promise`](WaitingOn::Promise) | the task is a promise reaction (`then`, `catch`, `finally`) |
//!
//! A waker the loop cannot see — inside a combinator's child waker, in a
//! channel, in a promise (a task `await`ing a [`Promise`](crate::promise::Promise)
//! directly: promises keep no list the loop could scan) — leaves the task
//! waiting on something unknown. Matching wakers to tasks costs a
//! comparison per waiting task and parked waker: a dump of a hundred
//! thousand tasks takes a while, and is meant for diagnosis, not for a loop.
//!
//! How old a task is and how often it was polled is kept only with
//! [`Builder::track_tasks`](crate::Builder::track_tasks): the task header
//! does not grow for it, and without tracking the loop pays nothing.
//!
//! ```
//! use std::time::Duration;
//! use jsloop::dump::{TaskState, WaitingOn};
//!
//! let rt = jsloop::Runtime::builder().track_tasks(true).build()?;
//! let handle = rt.handle();
//! rt.block_on(async move {
//!     let sleeper = jsloop::spawn(jsloop::time::sleep(Duration::from_secs(60)));
//!     jsloop::yield_now().await; // let it start
//!     let dump = handle.dump();
//!     println!("{dump}");
//!     let task = dump.task(sleeper.id()).unwrap();
//!     assert_eq!(task.state(), TaskState::Waiting);
//!     assert!(matches!(task.waiting_on(), Some(WaitingOn::Timer { .. })));
//!     assert_eq!(task.polls(), Some(1));
//!     sleeper.abort();
//! });
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::os::fd::RawFd;
use std::panic::Location;
use std::time::Duration;

use crate::task::TaskId;
use crate::time::Instant;

mod handle;
pub(crate) mod scan;
pub(crate) mod tracker;

pub use handle::DumpHandle;

/// A snapshot of a runtime's live tasks, sorted by id.
///
/// `Display` prints an aligned table, one row per task, and a line of
/// counts. It is `Send`, so a [`DumpHandle`] can carry it to another
/// thread.
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::new()?;
/// rt.spawn(async {});
/// let dump = rt.dump(); // before `run`: the task waits for its first poll
/// assert_eq!(dump.tasks().len(), 1);
/// let table = dump.to_string();
/// assert!(table.starts_with("task"));
/// assert!(table.ends_with("1 task: 0 running, 1 queued, 0 waiting"));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TaskDump {
    tasks: Vec<TaskInfo>,
    taken_at: Instant,
}

impl TaskDump {
    /// Every live task, sorted by id.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let a = rt.spawn(async {});
    /// let b = rt.spawn(async {});
    /// let ids: Vec<_> = rt.dump().tasks().iter().map(|task| task.id()).collect();
    /// assert_eq!(ids, [a.id(), b.id()]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn tasks(&self) -> &[TaskInfo] {
        &self.tasks
    }

    /// The task with this id, if it was live when the dump was taken.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let task = rt.spawn(async {});
    /// assert!(rt.dump().task(task.id()).is_some());
    /// rt.block_on(async {});
    /// assert!(task.is_finished());
    /// assert!(rt.dump().task(task.id()).is_none());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn task(&self, id: TaskId) -> Option<&TaskInfo> {
        let index = self.tasks.binary_search_by_key(&id, |task| task.id).ok()?;
        Some(&self.tasks[index])
    }

    /// How many tasks are in `state`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::dump::TaskState;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// rt.spawn(async {});
    /// assert_eq!(rt.dump().count(TaskState::Queued), 1);
    /// assert_eq!(rt.dump().count(TaskState::Running), 0);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn count(&self, state: TaskState) -> usize {
        self.tasks.iter().filter(|task| task.state == state).count()
    }

    /// When the dump was taken, on the loop's clock (virtual with
    /// [`Builder::virtual_time`](crate::Builder::virtual_time)): a timer's
    /// deadline is this plus its [`remaining`](WaitingOn::Timer) time.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::dump::WaitingOn;
    /// use jsloop::time::Instant;
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let deadline = Instant::now() + Duration::from_secs(5);
    ///     let sleeper = jsloop::spawn(jsloop::time::sleep_until(deadline));
    ///     jsloop::yield_now().await;
    ///     let dump = handle.dump();
    ///     let Some(WaitingOn::Timer { remaining, .. }) = dump.task(sleeper.id()).unwrap().waiting_on()
    ///     else {
    ///         panic!("not waiting on its timer");
    ///     };
    ///     assert_eq!(dump.taken_at() + *remaining, deadline);
    ///     sleeper.abort();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn taken_at(&self) -> Instant {
        self.taken_at
    }
}

/// One task in a [`TaskDump`].
///
/// # Examples
///
/// ```
/// use jsloop::dump::TaskState;
///
/// let rt = jsloop::Runtime::new()?;
/// let task = rt.spawn(async {});
/// let dump = rt.dump();
/// let info = &dump.tasks()[0];
/// assert_eq!(info.id(), task.id());
/// assert_eq!(info.state(), TaskState::Queued);
/// assert_eq!(info.location().line(), line!() - 5);
/// assert!(info.waiting_on().is_none());
/// assert_eq!(info.polls(), None); // no tracking
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct TaskInfo {
    id: TaskId,
    location: &'static Location<'static>,
    state: TaskState,
    /// What it waits on, the most telling first (see `WaitingOn::rank`).
    waiting_on: Vec<WaitingOn>,
    age: Option<Duration>,
    polls: Option<u64>,
}

impl TaskInfo {
    /// The task's id ([`JoinHandle::id`](crate::JoinHandle::id)).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let task = rt.spawn(async {});
    /// assert_eq!(rt.dump().tasks()[0].id(), task.id());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Where the task was spawned (for a promise reaction, where `then` was
    /// called; for a [`spawn_blocking`](crate::spawn_blocking) job, where
    /// that was called).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// rt.spawn(async {});
    /// assert!(rt.dump().tasks()[0].location().file().ends_with(".rs"));
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// Whether the task is queued, running or waiting.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::dump::TaskState;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// let task = rt.spawn(async move {
    ///     // Dumped from inside its own poll.
    ///     let dump = handle.dump();
    ///     dump.tasks()[0].state()
    /// });
    /// assert_eq!(rt.block_on(task).unwrap(), TaskState::Running);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// What a [waiting](TaskState::Waiting) task waits on, where the loop
    /// can tell (the most telling of [`waiting_on_all`](TaskInfo::waiting_on_all));
    /// `None` if it cannot, and for a queued or running task.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::dump::WaitingOn;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let inner = jsloop::spawn(std::future::pending::<()>());
    ///     let inner_id = inner.id();
    ///     let outer = jsloop::spawn(inner);
    ///     jsloop::yield_now().await;
    ///     let dump = handle.dump();
    ///     assert_eq!(dump.task(inner_id).unwrap().waiting_on(), None); // unknown
    ///     assert_eq!(
    ///         dump.task(outer.id()).unwrap().waiting_on(),
    ///         Some(&WaitingOn::JoinHandle { task: inner_id }),
    ///     );
    ///     outer.abort();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn waiting_on(&self) -> Option<&WaitingOn> {
        self.waiting_on.first()
    }

    /// Everything a waiting task was found waiting on, the most telling
    /// first: a socket or job before the timer of a `timeout` around it.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::dump::WaitingOn;
    ///
    /// let rt = jsloop::Runtime::new()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let job = jsloop::spawn_blocking(|| std::thread::sleep(Duration::from_millis(50)));
    ///     let waiter = jsloop::spawn(jsloop::time::timeout(Duration::from_secs(60), job));
    ///     jsloop::yield_now().await;
    ///     let dump = handle.dump();
    ///     let waits = dump.task(waiter.id()).unwrap().waiting_on_all();
    ///     assert!(matches!(waits, [WaitingOn::JoinHandle { .. }, WaitingOn::Timer { .. }]));
    ///     waiter.await.unwrap().unwrap().unwrap();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn waiting_on_all(&self) -> &[WaitingOn] {
        &self.waiting_on
    }

    /// Time since the task's first poll began (zero if it has not been
    /// polled yet), in real time; `None` unless the runtime was built with
    /// [`Builder::track_tasks`](crate::Builder::track_tasks).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().track_tasks(true).build()?;
    /// rt.spawn(async {});
    /// assert_eq!(rt.dump().tasks()[0].age(), Some(std::time::Duration::ZERO));
    ///
    /// let untracked = jsloop::Runtime::new()?;
    /// untracked.spawn(async {});
    /// assert_eq!(untracked.dump().tasks()[0].age(), None);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn age(&self) -> Option<Duration> {
        self.age
    }

    /// How many times the loop has started polling the task, a poll in
    /// progress included; `None` unless the runtime was built with
    /// [`Builder::track_tasks`](crate::Builder::track_tasks). The first
    /// poll of [`spawn_now`](crate::spawn_now) (and of a
    /// [`Promise::spawn`](crate::promise::Promise::spawn) body) runs on its
    /// caller's stack, as part of the caller's work, and is not counted.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().track_tasks(true).build()?;
    /// let handle = rt.handle();
    /// rt.block_on(async move {
    ///     let task = jsloop::spawn(async {
    ///         jsloop::yield_now().await; // poll 1
    ///         std::future::pending::<()>().await // poll 2, and for good
    ///     });
    ///     jsloop::yield_to_loop().await;
    ///     assert_eq!(handle.dump().task(task.id()).unwrap().polls(), Some(2));
    ///     task.abort();
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn polls(&self) -> Option<u64> {
        self.polls
    }
}

/// Where a task is in the loop's schedule.
///
/// # Examples
///
/// ```
/// use jsloop::dump::TaskState;
///
/// assert_eq!(TaskState::Waiting.to_string(), "waiting");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Due to be polled: on the microtask ring, deferred to the check phase
    /// by the progress rule, or woken from another thread for the next
    /// poll phase.
    Queued,
    /// Being polled right now: the dump was taken inside its poll (or
    /// inside a task it polls with [`spawn_now`](crate::spawn_now)).
    Running,
    /// Waiting for a wake; see [`TaskInfo::waiting_on`].
    Waiting,
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TaskState::Queued => "queued",
            TaskState::Running => "running",
            TaskState::Waiting => "waiting",
        })
    }
}

/// What a waiting task waits on (see the [module docs](self) for how each
/// is found).
///
/// # Examples
///
/// ```
/// use jsloop::dump::WaitingOn;
///
/// assert_eq!(WaitingOn::PoolJob.to_string(), "a worker-pool job");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WaitingOn {
    /// A `sleep` (or `timeout`, `interval` tick) in the timer wheel.
    Timer {
        /// Time left until its deadline when the dump was taken (zero if
        /// it is due): the deadline is [`taken_at`](TaskDump::taken_at)
        /// plus this, to within the time the dump took (exactly, with
        /// virtual time).
        remaining: Duration,
    },
    /// Readiness of a socket (any [`io::Async`](crate::io::Async)
    /// descriptor).
    Socket {
        /// The socket's file descriptor.
        fd: RawFd,
        /// The directions waited for.
        interest: Interest,
    },
    /// A [`spawn_blocking`](crate::spawn_blocking) job on the worker pool:
    /// the task is the one that waits for the job's result.
    PoolJob,
    /// Another task's [`JoinHandle`](crate::JoinHandle).
    JoinHandle {
        /// The task awaited.
        task: TaskId,
    },
    /// A [`Promise`](crate::promise::Promise): the task is a reaction
    /// (`then`, `catch`, `finally`) waiting for it to settle.
    Promise,
}

impl WaitingOn {
    /// The order `waiting_on_all` lists waits in: what the task is for
    /// before the timer that may cut it short.
    fn rank(&self) -> u8 {
        match self {
            WaitingOn::Socket { .. } => 0,
            WaitingOn::PoolJob => 1,
            WaitingOn::JoinHandle { .. } => 2,
            WaitingOn::Promise => 3,
            WaitingOn::Timer { .. } => 4,
        }
    }
}

impl fmt::Display for WaitingOn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WaitingOn::Timer { remaining } if remaining.is_zero() => {
                f.write_str("a timer, due now")
            }
            WaitingOn::Timer { remaining } => write!(f, "a timer due in {remaining:.1?}"),
            WaitingOn::Socket { fd, interest } => write!(f, "socket fd {fd} ({interest})"),
            WaitingOn::PoolJob => f.write_str("a worker-pool job"),
            WaitingOn::JoinHandle { task } => write!(f, "the JoinHandle of task {task}"),
            WaitingOn::Promise => f.write_str("a promise"),
        }
    }
}

/// The directions a task waits for on a socket.
///
/// # Examples
///
/// ```
/// use jsloop::dump::Interest;
///
/// assert_eq!(Interest::ReadWrite.to_string(), "read, write");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interest {
    /// To read (or accept).
    Read,
    /// To write (or finish connecting).
    Write,
    /// Both.
    ReadWrite,
}

impl Interest {
    /// `self` plus the other direction's interest, if any.
    fn with(self, other: Interest) -> Interest {
        if self == other { self } else { Interest::ReadWrite }
    }
}

impl fmt::Display for Interest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Interest::Read => "read",
            Interest::Write => "write",
            Interest::ReadWrite => "read, write",
        })
    }
}

impl fmt::Display for TaskDump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let dash = || "-".to_owned();
        let header =
            ["task", "state", "age", "polls", "spawned at", "waiting on"].map(str::to_owned);
        let rows: Vec<[String; 6]> = self
            .tasks
            .iter()
            .map(|task| {
                let waiting_on = match (task.state, task.waiting_on.is_empty()) {
                    (TaskState::Waiting, true) => "unknown".to_owned(),
                    (_, true) => dash(),
                    (_, false) => {
                        let waits: Vec<String> =
                            task.waiting_on.iter().map(|w| w.to_string()).collect();
                        waits.join(", ")
                    }
                };
                [
                    task.id.to_string(),
                    task.state.to_string(),
                    task.age.map_or_else(dash, |age| format!("{age:.1?}")),
                    task.polls.map_or_else(dash, |polls| polls.to_string()),
                    task.location.to_string(),
                    waiting_on,
                ]
            })
            .collect();
        let mut widths = header.clone().map(|column| column.chars().count());
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        for row in std::iter::once(&header).chain(&rows) {
            let (last, columns) = row.split_last().expect("six columns");
            for (cell, width) in columns.iter().zip(widths) {
                write!(f, "{cell:<width$}  ")?;
            }
            writeln!(f, "{last}")?;
        }
        let total = self.tasks.len();
        write!(
            f,
            "{total} task{}: {} running, {} queued, {} waiting",
            if total == 1 { "" } else { "s" },
            self.count(TaskState::Running),
            self.count(TaskState::Queued),
            self.count(TaskState::Waiting),
        )
    }
}
