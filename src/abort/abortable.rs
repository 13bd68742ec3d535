//! `abortable`: any future, stopped by a signal.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use pin_project_lite::pin_project;

use super::signal::AbortWait;
use super::{AbortReason, AbortSignal};

/// Runs `future` until `signal` aborts: `Ok(output)` if it finishes first,
/// `Err(reason)` if the signal fires first (or had already fired: the
/// future is then never polled). On abort the future is dropped at once,
/// which is what cancels it: a `sleep` drops its timer, a `JoinHandle`
/// detaches (abort the task itself with `JoinHandle::abort` in a
/// listener, or spawn the abortable future instead).
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::{abortable, time::sleep, AbortController};
///
/// jsloop::run(async {
///     let controller = AbortController::new();
///     let signal = controller.signal();
///     // The task's work stops when the signal fires.
///     let task = jsloop::spawn(abortable(
///         async {
///             sleep(Duration::from_secs(60)).await;
///             "finished"
///         },
///         &signal,
///     ));
///     jsloop::set_timeout(Duration::from_millis(1), move || controller.abort("cancelled"));
///     let outcome = task.await.unwrap();
///     assert_eq!(outcome.unwrap_err().to_string(), "cancelled");
/// });
/// ```
pub fn abortable<F: Future>(future: F, signal: &AbortSignal) -> Abortable<F> {
    Abortable { future: Some(future), waiting: AbortWait::new(signal) }
}

pin_project! {
    /// The future of [`abortable`].
    #[must_use = "futures do nothing unless awaited"]
    pub struct Abortable<F> {
        #[pin]
        future: Option<F>,
        waiting: AbortWait,
    }
}

impl<F: Future> Future for Abortable<F> {
    type Output = Result<F::Output, AbortReason>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let mut this = self.project();
        if let Poll::Ready(reason) = this.waiting.poll(cx) {
            this.future.set(None);
            return Poll::Ready(Err(reason));
        }
        let future =
            this.future.as_mut().as_pin_mut().expect("`Abortable` polled after completion");
        let output = std::task::ready!(future.poll(cx));
        this.future.set(None);
        Poll::Ready(Ok(output))
    }
}

impl<F> fmt::Debug for Abortable<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Abortable").finish_non_exhaustive()
    }
}
