//! `AbortController`: the side that aborts.

use super::{AbortReason, AbortSignal};

/// Owns an [`AbortSignal`] and aborts it: JS's `AbortController`.
///
/// # Examples
///
/// ```
/// use jsloop::AbortController;
///
/// let controller = AbortController::new();
/// let signal = controller.signal();
/// signal.add_listener(|reason| println!("listener: {reason}"));
/// controller.abort("stop"); // the listener runs before `abort` returns
/// assert_eq!(signal.reason().unwrap().to_string(), "stop");
/// controller.abort("again"); // aborting again does nothing
/// assert_eq!(signal.reason().unwrap().to_string(), "stop");
/// ```
#[derive(Clone, Debug, Default)]
pub struct AbortController {
    signal: AbortSignal,
}

impl AbortController {
    /// A controller with a fresh signal.
    pub fn new() -> Self {
        AbortController::default()
    }

    /// The controller's signal (a handle; clones are the same signal).
    pub fn signal(&self) -> AbortSignal {
        self.signal.clone()
    }

    /// Aborts the signal with `reason` (`AbortReason::default()` is JS's
    /// argument-less `abort()`): sets it, then runs the listeners in the
    /// order they were added, before returning. Aborting an aborted signal
    /// does nothing.
    ///
    /// # Panics
    ///
    /// If a listener panics, the others still run; then the first panic
    /// resumes here.
    pub fn abort(&self, reason: impl Into<AbortReason>) {
        self.signal.dispatch(reason.into());
    }
}
