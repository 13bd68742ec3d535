//! Timers: Node's `setTimeout` / `setInterval`, and Rust-flavoured timer
//! futures, all on one hierarchical timer wheel fired in the timers phase.

pub(crate) mod clock;
mod control;
mod instant;
mod interval;
pub mod promises;
mod sleep;
mod timeout;
mod timer_lists;
pub(crate) mod timers;
pub(crate) mod wheel;

pub use control::{advance, pause, resume};
pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};
pub use timers::{
    Refreshable, TimeoutCallback, Timer, clear_interval, clear_timeout, set_interval, set_timeout,
};

/// The property tests' configuration: `cases` cases, and under Miri
/// `miri_cases`, without the regressions file (isolation forbids it) and
/// with the `XorShift` RNG (`ChaCha` alone takes minutes there).
#[cfg(test)]
fn property_config(cases: u32, miri_cases: u32) -> proptest::test_runner::Config {
    use proptest::test_runner::{Config, RngAlgorithm};
    let mut config = Config::with_cases(if cfg!(miri) { miri_cases } else { cases });
    if cfg!(miri) {
        config.failure_persistence = None;
        config.rng_algorithm = RngAlgorithm::XorShift;
    }
    config
}
