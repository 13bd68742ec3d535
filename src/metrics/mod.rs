//! `jsloop::metrics`: what the loop can tell about itself.

mod delay;

pub use delay::{monitor_event_loop_delay, EventLoopDelay};
