//! `jsloop::worker`: Node's `worker_threads`: more event loops on other
//! threads, each single-threaded, each with its own timers, poll and check
//! phases.
//!
//! [`Worker::spawn`] starts a loop on a new thread and runs the future its
//! closure builds there with [`run`](crate::run)'s Node semantics: the
//! worker ends when its loop is idle, and its parent learns how through
//! [`Worker::exit`].

mod thread;

pub(crate) use thread::Terminated;
pub use thread::{Worker, WorkerBuilder, WorkerError, WorkerExit};
