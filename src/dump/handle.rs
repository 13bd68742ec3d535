//! Task dumps from other threads: a [`DumpHandle`] asks the loop through
//! its remote queue, and the loop answers in its next poll phase.
//!
//! The question is a `RemoteEvent::Call` carrying the sending half of a
//! channel. If the runtime is gone, or shuts down before its loop gets to
//! the question, the event is dropped unrun, which closes the channel: the
//! asker learns at once that no answer will come.

use std::io;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::{TaskDump, scan};
use crate::context;
use crate::remote::{self, RemoteEvent};

/// How often a waiting asker checks that the runtime still exists (it may
/// have been dropped while the question was on its way into the queue).
const LIVENESS_CHECK: Duration = Duration::from_millis(50);

/// Takes [`TaskDump`]s of one runtime from any thread: `Send + Sync +
/// Clone`, made by [`Runtime::dump_handle`](crate::Runtime::dump_handle) or
/// [`Handle::dump_handle`](crate::Handle::dump_handle).
///
/// The loop answers in its next poll phase, as one macrotask: a loop busy
/// in a long callback answers once that callback returns, and a loop that
/// is not running (no `run` / `block_on` in progress) answers when it next
/// runs. Asked on the loop's own thread while the loop runs (inside a task
/// or callback), the handle takes the dump at once, as
/// [`Handle::dump`](crate::Handle::dump) does.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::new()?;
/// rt.spawn(async { jsloop::time::sleep(Duration::from_millis(1)).await });
/// let dumps = rt.dump_handle();
/// let guard = rt.keep_alive(); // the loop runs until the watcher has its answer
/// let watcher = std::thread::spawn(move || {
///     let dump = dumps.dump();
///     drop(guard);
///     dump
/// });
/// rt.run(async {});
/// let dump = watcher.join().unwrap()?;
/// println!("{dump}");
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct DumpHandle {
    runtime_id: u32,
    /// The thread the runtime lives on (a `Runtime` is `!Send`).
    loop_thread: ThreadId,
}

impl DumpHandle {
    /// A handle to the runtime `runtime_id`, made on its thread.
    pub(crate) fn new(runtime_id: u32) -> DumpHandle {
        DumpHandle { runtime_id, loop_thread: thread::current().id() }
    }

    /// Takes a dump, waiting as long as it takes for the loop to answer.
    ///
    /// # Errors
    ///
    /// - `NotConnected` if the runtime has been dropped (at once), or is
    ///   dropped before its loop answers;
    /// - `WouldBlock` if called on the runtime's own thread while its loop
    ///   is not running: nothing could answer (use
    ///   [`Runtime::dump`](crate::Runtime::dump) there).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?;
    /// let dumps = rt.dump_handle();
    /// drop(rt);
    /// let error = std::thread::spawn(move || dumps.dump()).join().unwrap().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::NotConnected);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump(&self) -> io::Result<TaskDump> {
        self.ask(None)
    }

    /// Takes a dump, waiting at most `timeout` for the loop to answer.
    ///
    /// # Errors
    ///
    /// `TimedOut` if the loop did not answer in time (it is not running, or
    /// is stuck in a callback); otherwise as [`dump`](DumpHandle::dump).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// let rt = jsloop::Runtime::new()?; // built, never run
    /// let dumps = rt.dump_handle();
    /// let asked = std::thread::spawn(move || dumps.dump_timeout(Duration::from_millis(20)));
    /// let error = asked.join().unwrap().unwrap_err();
    /// assert_eq!(error.kind(), std::io::ErrorKind::TimedOut);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dump_timeout(&self, timeout: Duration) -> io::Result<TaskDump> {
        self.ask(Some(timeout))
    }

    fn ask(&self, timeout: Option<Duration>) -> io::Result<TaskDump> {
        if let Some(dump) = context::with_core_of(self.runtime_id, scan::take) {
            return Ok(dump);
        }
        if thread::current().id() == self.loop_thread {
            return Err(io::Error::new(
                io::ErrorKind::WouldBlock,
                "jsloop: DumpHandle::dump on the runtime's own thread while its loop is not \
                 running would wait forever; use Runtime::dump or Handle::dump there",
            ));
        }
        let (answer, answered) = mpsc::sync_channel(1);
        let question = move |core: &_| {
            // The asker may have given up (timed out): then nobody reads it.
            let _ = answer.send(scan::take(core));
        };
        remote::deliver(self.runtime_id, RemoteEvent::Call(Box::new(question)));
        let give_up = timeout.and_then(|timeout| Instant::now().checked_add(timeout));
        loop {
            let wait = give_up
                .map_or(LIVENESS_CHECK, |at| at.saturating_duration_since(Instant::now()))
                .min(LIVENESS_CHECK);
            match answered.recv_timeout(wait) {
                Ok(dump) => return Ok(dump),
                Err(RecvTimeoutError::Disconnected) => return Err(runtime_gone()),
                Err(RecvTimeoutError::Timeout) => {
                    if remote::lookup(self.runtime_id).is_none() {
                        return Err(runtime_gone());
                    }
                    if give_up.is_some_and(|at| Instant::now() >= at) {
                        return Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            format!(
                                "jsloop: the loop did not answer the task dump within {:?} (it \
                                 is not running, or is busy in a callback)",
                                timeout.unwrap_or_default()
                            ),
                        ));
                    }
                }
            }
        }
    }
}

fn runtime_gone() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "jsloop: the runtime to dump has been dropped, so no loop will answer",
    )
}
