//! Timers: Node's `setTimeout` / `setInterval`, and Rust-flavoured timer
//! futures, all on one hierarchical timer wheel fired in the timers phase.

pub(crate) mod clock;
mod control;
mod instant;
mod interval;
pub mod promises;
mod sleep;
mod timer_lists;
pub(crate) mod timers;
pub(crate) mod wheel;

pub use control::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{interval, interval_at, Interval, MissedTickBehavior};
pub use sleep::{sleep, sleep_until, timeout, timeout_at, Elapsed, Sleep, Timeout};
pub use timers::{
    clear_interval, clear_timeout, set_interval, set_timeout, Refreshable, TimeoutCallback, Timer,
};
