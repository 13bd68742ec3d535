//! I/O on the loop's poller: [`Async<T>`] makes any file descriptor async.
//!
//! Readiness comes from the OS poller the loop already sleeps in during its
//! poll phase. Each readiness event wakes the tasks waiting on that socket
//! (through the microtask ring), and the loop runs a checkpoint after each
//! event, where Node runs one after each I/O callback. The socket types of
//! [`net`](crate::net) are built on [`Async<T>`]. With the `hyper` feature,
//! [`HyperIo`] runs hyper 1.x over them.

mod async_fd;
#[cfg(feature = "hyper")]
mod hyper_io;
pub(crate) mod source;

pub use async_fd::{Async, Readable, Writable};
#[cfg(feature = "hyper")]
pub use hyper_io::{HyperExecutor, HyperIo};
