//! `jsloop::process`: Node's `process` around the loop — what happens when
//! the loop runs dry or the program exits, other programs run as children,
//! and signals.
//!
//! Where each part enters the loop: before-exit listeners run when the loop
//! has emptied, before `run` returns; a child's exit and a signal are
//! poll-phase macrotasks, each with its checkpoint.
