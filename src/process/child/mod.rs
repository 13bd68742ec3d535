//! Child processes: [`Command`] spawns a [`Child`] whose exit the loop
//! notices in its poll phase (Node's `child_process`, with tokio's API).
//!
//! - `command.rs`: the builder, and `spawn` / `output` / `status`.
//! - `child.rs`: the running child: `wait`, `try_wait`, `kill`, its pipes,
//!   and what dropping it does.
//! - `pipes.rs`: stdin / stdout / stderr as `futures-io` streams on the
//!   loop's poller.
//! - `exit_watch.rs`: how the exit is noticed (a pidfd on Linux, `SIGCHLD`
//!   elsewhere), always as a poll-phase event.
//! - `orphans.rs`: dropped children, reaped by their loop when they exit,
//!   without keeping it alive; `reaper.rs`: the thread that reaps those
//!   that outlive their runtime.

#[allow(clippy::module_inception)]
mod child;
mod command;
mod exit_watch;
mod orphans;
mod pipes;
mod reaper;

pub use child::Child;
pub use command::Command;
pub(crate) use orphans::Orphans;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
