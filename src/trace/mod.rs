//! `jsloop::trace`: a recording of what the loop ran, for Perfetto and
//! `chrome://tracing`.
//!
//! Built with [`Builder::trace`](crate::Builder::trace), a runtime records
//! its loop into a ring of the last N events; without it nothing is
//! recorded and nothing costs (the recorder is one of the loop's observers,
//! which the loop skips with one branch while there are none).
//! [`Runtime::take_trace`](crate::Runtime::take_trace) — or
//! [`write_chrome_json`] from inside the loop — hands the recording over as
//! a [`Trace`], which writes Chrome's Trace Event JSON. Open the file at
//! <https://ui.perfetto.dev> (**Open trace file**) or in `chrome://tracing`.
//!
//! What the trace shows:
//!
//! - the **event loop** track: each iteration, inside it each phase
//!   (`timers`, `poll`, `check`; the main script's `script` phase stands
//!   alone before the first), inside those every callback and task poll,
//!   named by its [`Work`](crate::metrics::Work) (a task's id and spawn
//!   location, a callback's kind and where it was registered; both again
//!   in the slice's arguments), and the poll phase's wait in the poller as
//!   an `idle` slice;
//! - **arrows** from the item that queued a microtask, woke a task or
//!   spawned one to the callback or task poll that this caused. A socket's
//!   readiness or a pool job's completion wakes its task from an `a wake`
//!   slice of the poll phase. A sleep that ends (the timers phase queues
//!   its task itself), a wake from another thread and a next-tick (not on
//!   the microtask ring) have none;
//! - **queue depths** as counters, sampled as the main script starts and
//!   as each phase ends: the microtask ring, the immediates queued for the
//!   check phase, the timers in the wheel and the tasks alive;
//! - a track per **worker-pool thread**, its `spawn_blocking` (and `fs`)
//!   jobs as slices named by where `spawn_blocking` was called.
//!
//! Timestamps count from the moment the runtime was built, so the traces
//! taken one after the other from one runtime line up.
//!
//! ```
//! let rt = jsloop::Runtime::builder().trace().build()?;
//! rt.run(async {
//!     jsloop::set_immediate(|| {});
//!     jsloop::spawn_blocking(|| 6 * 7).await.unwrap();
//! });
//! let trace = rt.take_trace();
//! assert!(!trace.is_empty());
//! let path = std::env::temp_dir().join("jsloop-trace-doc.json");
//! trace.save(&path)?; // open it at https://ui.perfetto.dev
//! # std::fs::remove_file(&path)?;
//! # Ok::<(), std::io::Error>(())
//! ```

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::context;
use crate::event_loop::Core;

mod chrome;
mod recorder;

use recorder::Event;
pub(crate) use recorder::TraceRecorder;

/// How many events [`Builder::trace`](crate::Builder::trace) keeps: the
/// last 65,536 (a few MiB).
///
/// # Examples
///
/// ```
/// // The same ring as `trace()`:
/// let rt = jsloop::Runtime::builder()
///     .trace_capacity(jsloop::trace::DEFAULT_CAPACITY)
///     .build()?;
/// rt.run(async {});
/// assert!(rt.take_trace().len() <= jsloop::trace::DEFAULT_CAPACITY);
/// # Ok::<(), std::io::Error>(())
/// ```
pub const DEFAULT_CAPACITY: usize = 1 << 16;

/// What a runtime recorded between two takes: its loop's slices, arrows,
/// queue-depth samples and worker-pool jobs, oldest first.
///
/// Taken from a runtime built with [`Builder::trace`](crate::Builder::trace)
/// by [`Runtime::take_trace`](crate::Runtime::take_trace); written as
/// Chrome Trace Event JSON by [`write_chrome_json`](Trace::write_chrome_json)
/// or [`save`](Trace::save).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::builder().trace().build()?;
/// rt.run(async {
///     jsloop::set_timeout(Duration::from_millis(1), || {});
/// });
/// let trace = rt.take_trace();
/// assert!(trace.len() > 0);
/// assert_eq!(trace.dropped(), 0);
/// assert!(rt.take_trace().is_empty()); // taken: the ring starts over
///
/// let mut json = Vec::new();
/// trace.write_chrome_json(&mut json)?;
/// assert!(json.starts_with(b"{\"traceEvents\":["));
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Default)]
pub struct Trace {
    events: Vec<Event>,
    dropped: u64,
    /// The worker threads' names: worker `n`'s jobs are on track `n`.
    workers: Vec<String>,
}

impl Trace {
    /// How many events were recorded: a slice (an iteration, a phase, a
    /// callback or task poll, an idle wait, a pool job), one end of an
    /// arrow, or one sample of the queue depths.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace().build()?;
    /// rt.run(async {});
    /// // The script phase, its main poll, two queue-depth samples.
    /// assert_eq!(rt.take_trace().len(), 4);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.events.len()
    }

    /// Nothing was recorded (or the runtime does not trace).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::new()?; // no `trace()`
    /// rt.run(async { jsloop::set_immediate(|| {}); });
    /// assert!(rt.take_trace().is_empty());
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.events.is_empty()
    }

    /// How many older events the ring dropped to keep these (it keeps the
    /// last [`trace_capacity`](crate::Builder::trace_capacity) events).
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace_capacity(10).build()?;
    /// rt.run(async {
    ///     for _ in 0..100 {
    ///         jsloop::queue_microtask(|| {});
    ///     }
    /// });
    /// let trace = rt.take_trace();
    /// assert_eq!(trace.len(), 10);
    /// assert!(trace.dropped() > 100);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Writes the trace as Chrome Trace Event JSON
    /// (`{"traceEvents":[...],"displayTimeUnit":"ms"}`), the format
    /// <https://ui.perfetto.dev> and `chrome://tracing` open. The writer is
    /// buffered here.
    ///
    /// Complete (`"X"`) slices, so a ring that dropped its oldest events
    /// never leaves a slice half open; an arrow whose other end was dropped
    /// (or has not happened yet) is left out. The number of dropped events
    /// is in `otherData.dropped_events`.
    ///
    /// # Errors
    ///
    /// The writer's errors.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace().build()?;
    /// rt.run(async { jsloop::spawn(async {}).await.unwrap() });
    /// let mut json = Vec::new();
    /// rt.take_trace().write_chrome_json(&mut json)?;
    /// let json = String::from_utf8(json).unwrap();
    /// assert!(json.contains("\"ph\":\"X\""));
    /// assert!(json.contains("\"ph\":\"s\"")); // main spawned the task: an arrow
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn write_chrome_json(&self, out: impl Write) -> io::Result<()> {
        let mut out = BufWriter::new(out);
        chrome::write(self, &mut out)?;
        out.flush()
    }

    /// Writes the trace to the file at `path` (created or truncated), as
    /// [`write_chrome_json`](Trace::write_chrome_json) does.
    ///
    /// # Errors
    ///
    /// Creating or writing the file.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().trace().build()?;
    /// rt.run(async {});
    /// let path = std::env::temp_dir().join("jsloop-trace-save.json");
    /// rt.take_trace().save(&path)?;
    /// assert!(std::fs::read_to_string(&path)?.starts_with("{\"traceEvents\":["));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn save(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.write_chrome_json(File::create(path)?)
    }
}

impl fmt::Debug for Trace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Trace")
            .field("events", &self.events.len())
            .field("dropped", &self.dropped)
            .field("workers", &self.workers)
            .finish()
    }
}

/// Takes the current runtime's trace (what it recorded so far; the ring
/// starts over) and writes it to the file at `path` as Chrome Trace Event
/// JSON: [`Runtime::take_trace`](crate::Runtime::take_trace) and
/// [`Trace::save`] from inside the loop.
///
/// The file is written on the loop thread, which blocks meanwhile (that
/// time shows in the next trace, as part of the calling callback or poll).
/// The iteration, phase and item running now are not in this trace yet:
/// they end after it was taken, and are recorded into the next.
///
/// # Errors
///
/// [`io::ErrorKind::Unsupported`] if the runtime was built without
/// [`Builder::trace`](crate::Builder::trace) (no file is written); the
/// file's errors.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// let path = std::env::temp_dir().join("jsloop-trace-inside.json");
/// let rt = jsloop::Runtime::builder().trace().build()?;
/// rt.run({
///     let path = path.clone();
///     async move {
///         jsloop::time::sleep(Duration::from_millis(20)).await; // idle
///         jsloop::trace::write_chrome_json(&path).unwrap();
///     }
/// });
/// assert!(std::fs::read_to_string(&path)?.contains("\"idle\""));
/// # std::fs::remove_file(&path)?;
///
/// // Without `trace()`:
/// let error = jsloop::block_on(async { jsloop::trace::write_chrome_json(&path) }).unwrap_err();
/// assert_eq!(error.kind(), std::io::ErrorKind::Unsupported);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn write_chrome_json(path: impl AsRef<Path>) -> io::Result<()> {
    let trace = context::with_current(Core::take_trace).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::Unsupported,
            "jsloop::trace::write_chrome_json: this runtime does not record a trace (build it \
             with `Builder::trace()`)",
        )
    })?;
    trace.save(path)
}

impl Core {
    /// What the trace recorder holds, taken; `None` without one.
    pub(crate) fn take_trace(&self) -> Option<Trace> {
        self.observers.as_ref()?.find::<TraceRecorder>().map(TraceRecorder::take)
    }
}
