//! Test-time control of a runtime built with virtual time: `pause`,
//! `resume` and `advance` (tokio's `test-util` shape), on the loop's clock
//! (`clock.rs`).
//!
//! A virtual-time runtime starts paused: its clock stands still while
//! callbacks run, and when the loop would sleep until a timer with nothing
//! real in flight, it jumps to that timer's deadline. Something real in
//! flight — a worker-pool job, a task waiting on a socket, a child or a
//! signal, a `KeepAlive` held by another thread, a port waiting for
//! messages — is waited for in real time instead, and the clock moves by
//! the time that took, so `timeout(d, fs::read(p))` times out only if the
//! read really takes `d`.

use std::time::Duration;

use crate::context;

/// Stops the virtual clock where it is: it moves again only by jumps to the
/// next timer when the loop is idle, by real waits, and by [`advance`].
/// A virtual-time runtime starts paused; this undoes [`resume`].
///
/// # Panics
///
/// Outside a runtime, and on a runtime without virtual time
/// ([`Builder::virtual_time`](crate::Builder::virtual_time)).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{self, Instant};
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     time::resume();
///     time::pause();
///     let start = Instant::now();
///     std::thread::sleep(Duration::from_millis(5));
///     assert_eq!(Instant::now(), start, "a paused clock stands still");
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn pause() {
    with_virtual_clock("pause", |clock| clock.pause());
}

/// Lets the virtual clock run at real speed from where it is, until
/// [`pause`].
///
/// # Panics
///
/// As [`pause`].
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{self, Instant};
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     time::resume();
///     let start = Instant::now();
///     std::thread::sleep(Duration::from_millis(5));
///     assert!(Instant::now() >= start + Duration::from_millis(5));
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn resume() {
    with_virtual_clock("resume", |clock| clock.resume());
}

/// Moves the virtual clock forward by `by` and waits for the loop's next
/// timers phase, so that every timer due by then has fired. A clock moved
/// past the end of time stops one millisecond short of it
/// (`Duration::MAX` fires every timer).
///
/// # Panics
///
/// As [`pause`]; the panic happens when `advance` is called, not awaited.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use std::time::Duration;
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let fired = Rc::new(Cell::new(false));
///     let f = fired.clone();
///     jsloop::set_timeout(Duration::from_secs(60), move || f.set(true));
///     jsloop::time::advance(Duration::from_secs(59)).await;
///     assert!(!fired.get());
///     jsloop::time::advance(Duration::from_secs(1)).await;
///     assert!(fired.get());
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn advance(by: Duration) -> impl std::future::Future<Output = ()> {
    let iteration = with_virtual_clock("advance", |clock| {
        clock.advance(by);
        clock.is_virtual()
    });
    async move {
        // The next iteration's timers phase fires what is due; the check
        // phase after it resumes us.
        while context::with_current(|core| core.metrics.iterations.get()) <= iteration {
            crate::yield_to_loop().await;
        }
    }
}

/// Runs `f` on the current runtime's clock; `f` says whether it is
/// virtual. Returns the loop's iteration count.
fn with_virtual_clock(name: &str, f: impl FnOnce(&super::clock::Clock) -> bool) -> u64 {
    let (is_virtual, iteration) =
        context::with_current(|core| (f(&core.clock), core.metrics.iterations.get()));
    assert!(
        is_virtual,
        "jsloop::time::{name}: this runtime's time is real; build it with \
         `Builder::virtual_time(true)` to control time"
    );
    iteration
}
