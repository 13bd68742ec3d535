//! Why a signal was aborted: JS's `signal.reason`.

use std::error::Error;
use std::fmt;
use std::sync::Arc;

/// Why a signal was aborted: `signal.reason` in JS, and the error an
/// [`abortable`](crate::abortable) future fails with.
///
/// It is the default `AbortError` ("This operation was aborted"), the
/// `TimeoutError` of [`AbortSignal::timeout`](crate::AbortSignal::timeout),
/// or any error (a string will do) given to
/// [`abort`](crate::AbortController::abort). Clones are cheap.
///
/// # Examples
///
/// ```
/// use jsloop::abort::AbortReason;
///
/// assert_eq!(AbortReason::default().to_string(), "This operation was aborted");
/// assert_eq!(AbortReason::from("stop").to_string(), "stop");
/// let io = AbortReason::new(std::io::Error::other("disk gone"));
/// assert!(io.downcast_ref::<std::io::Error>().is_some());
/// ```
#[derive(Clone, Default)]
pub struct AbortReason {
    repr: Repr,
}

#[derive(Clone, Default)]
enum Repr {
    #[default]
    Aborted,
    TimedOut,
    Custom(Arc<dyn Error + Send + Sync>),
}

impl AbortReason {
    /// A reason carrying `error`.
    pub fn new(error: impl Into<Box<dyn Error + Send + Sync>>) -> Self {
        AbortReason { repr: Repr::Custom(Arc::from(error.into())) }
    }

    /// The reason of a signal from [`AbortSignal::timeout`](crate::AbortSignal::timeout):
    /// JS's `TimeoutError`.
    ///
    /// # Examples
    ///
    /// ```
    /// let reason = jsloop::abort::AbortReason::timed_out();
    /// assert!(reason.is_timeout());
    /// ```
    pub fn timed_out() -> Self {
        AbortReason { repr: Repr::TimedOut }
    }

    /// Whether this is the timeout reason.
    pub fn is_timeout(&self) -> bool {
        matches!(self.repr, Repr::TimedOut)
    }

    /// The error given to [`AbortReason::new`], if it is an `E`.
    pub fn downcast_ref<E: Error + 'static>(&self) -> Option<&E> {
        match &self.repr {
            Repr::Custom(error) => error.downcast_ref(),
            Repr::Aborted | Repr::TimedOut => None,
        }
    }
}

impl From<&str> for AbortReason {
    fn from(message: &str) -> Self {
        AbortReason::new(message)
    }
}

impl From<String> for AbortReason {
    fn from(message: String) -> Self {
        AbortReason::new(message)
    }
}

impl fmt::Display for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("This operation was aborted"),
            Repr::TimedOut => f.write_str("The operation was aborted due to timeout"),
            Repr::Custom(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl fmt::Debug for AbortReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Aborted => f.write_str("AbortReason(AbortError)"),
            Repr::TimedOut => f.write_str("AbortReason(TimeoutError)"),
            Repr::Custom(error) => f.debug_tuple("AbortReason").field(error).finish(),
        }
    }
}

impl Error for AbortReason {}
