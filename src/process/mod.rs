//! `jsloop::process`: Node's `process` around the loop — what happens when
//! the loop runs dry or the program exits, other programs run as children,
//! and signals.
//!
//! Where each part enters the loop: before-exit listeners run when the loop
//! has emptied, before `run` returns, as one macrotask with its checkpoint;
//! [`exit`] ends the loop from inside whatever runs; exit listeners run
//! once, at the end. A child's exit ([`Child::wait`]) and a signal
//! ([`signal`], [`on_signal`], [`ctrl_c`]) are poll-phase macrotasks, each
//! with its checkpoint.
//!
//! # Examples
//!
//! ```
//! use jsloop::process;
//!
//! let code = process::catch_exit(|| {
//!     jsloop::run(async {
//!         process::on_before_exit(|code| println!("the loop ran dry (code {code})"));
//!         process::on_exit(|code| println!("exiting with {code}"));
//!         jsloop::set_timeout(std::time::Duration::from_millis(1), || process::exit(3));
//!     })
//! });
//! assert_eq!(code, Err(3)); // `exit` skipped the before-exit listeners
//! ```

mod lifecycle;

pub(crate) use lifecycle::{Lifecycle, ProcessExit, finish_drive, resume_exit, rethrow_loop_exit};
pub use lifecycle::{catch_exit, exit, exit_code, on_before_exit, on_exit, set_exit_code};

// Unhandled rejections, reported at the end of a checkpoint.
mod rejections;
pub(crate) use rejections::{Rejections, rejection_handled_late, track_rejection};
pub use rejections::{
    UnhandledRejection, UnhandledRejections, on_rejection_handled, on_unhandled_rejection,
};

// Child processes and signals (the exit of a child and each signal are
// poll-phase macrotasks).
mod child;
mod loop_waker;
mod signal;
pub(crate) use child::Orphans;
pub use child::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
pub(crate) use signal::LoopSignals;
pub use signal::{
    CtrlC, NextSignal, Signal, SignalKind, SignalListener, ctrl_c, on_signal, signal,
};
