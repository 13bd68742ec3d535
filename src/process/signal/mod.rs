//! Signals: [`signal`] streams, [`ctrl_c`] and [`on_signal`] listeners,
//! each delivery a poll-phase macrotask with its checkpoint.
//!
//! Two halves, as in tokio: `handler.rs` is what runs inside the OS signal
//! handler (signal-hook-registry's), which only flags the signal and writes
//! a byte to the listening loop's wake pipe; `driver.rs` is the loop's
//! side, which reads that pipe in the poll phase and hands each signal to
//! its streams and listeners. `stream.rs` and `listener.rs` are the public
//! faces; `kind.rs` names the signals.

mod driver;
mod handler;
mod kind;
mod listener;
mod stream;

pub(crate) use driver::LoopSignals;
pub(crate) use handler::Registration;
pub use kind::SignalKind;
pub use listener::{SignalListener, on_signal};
pub use stream::{CtrlC, NextSignal, Signal, ctrl_c, signal};
