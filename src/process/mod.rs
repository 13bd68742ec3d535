//! `jsloop::process`: Node's `process` around the loop — what happens when
//! the loop runs dry or the program exits, other programs run as children,
//! and signals.
//!
//! Where each part enters the loop: before-exit listeners run when the loop
//! has emptied, before `run` returns; a child's exit and a signal are
//! poll-phase macrotasks, each with its checkpoint.

mod lifecycle;

pub use lifecycle::{catch_exit, exit, exit_code, on_before_exit, on_exit, set_exit_code};
pub(crate) use lifecycle::{finish_drive, resume_exit, rethrow_loop_exit, Lifecycle, ProcessExit};
