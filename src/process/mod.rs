//! `jsloop::process`: Node's `process` around the loop — what happens when
//! the loop runs dry or the program exits, other programs run as children,
//! and signals.
//!
//! Where each part enters the loop: before-exit listeners run when the loop
//! has emptied, before `run` returns; a child's exit and a signal are
//! poll-phase macrotasks, each with its checkpoint.

// Child processes and signals (the exit of a child and each signal are
// poll-phase macrotasks).
mod child;
mod loop_waker;
mod signal;
pub(crate) use child::Orphans;
pub use child::{Child, ChildStderr, ChildStdin, ChildStdout, Command};
pub(crate) use signal::LoopSignals;
pub use signal::{
    ctrl_c, on_signal, signal, CtrlC, NextSignal, Signal, SignalKind, SignalListener,
};
