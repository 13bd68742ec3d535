//! `KeepAlive`: a liveness guard for threads that will wake the loop later.

use std::fmt;
use std::sync::Arc;

use crate::context;
use crate::remote::Shared;

/// Keeps the loop alive while it exists, like a ref'd libuv handle.
///
/// A pending task does not keep [`run`](crate::run) going. A thread of
/// yours that will wake a task later (finish a computation, deliver a
/// message) should hold a `KeepAlive` until it has done so. It is `Send`,
/// `Sync` and cheap to clone; dropping the last one lets the loop end.
///
/// # Examples
///
/// ```
///
/// jsloop::run(async {
///     let (tx, rx) = futures::channel::oneshot::channel();
///     let guard = jsloop::keep_alive();
///     std::thread::spawn(move || {
///         tx.send(42).unwrap();
///         drop(guard);
///     });
///     assert_eq!(rx.await.unwrap(), 42);
/// });
/// ```
pub struct KeepAlive {
    shared: Arc<Shared>,
}

/// A [`KeepAlive`] guard for the runtime running on this thread.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let result = Rc::new(Cell::new(0));
/// jsloop::run({
///     let result = result.clone();
///     async move {
///         let (tx, rx) = futures::channel::oneshot::channel();
///         let guard = jsloop::keep_alive();
///         std::thread::spawn(move || {
///             tx.send((1..=100).sum::<u64>()).unwrap(); // work off the loop thread
///             drop(guard); // the loop may end once it has seen the wake
///         });
///         // The script ends here; the guard keeps `run` going for this task.
///         jsloop::spawn(async move { result.set(rx.await.unwrap()) });
///     }
/// });
/// assert_eq!(result.get(), 5050);
/// ```
pub fn keep_alive() -> KeepAlive {
    context::with_current(|core| KeepAlive::new(core.shared.clone()))
}

impl KeepAlive {
    pub(crate) fn new(shared: Arc<Shared>) -> KeepAlive {
        shared.keep_alive.acquire();
        KeepAlive { shared }
    }
}

impl Clone for KeepAlive {
    fn clone(&self) -> KeepAlive {
        KeepAlive::new(self.shared.clone())
    }
}

impl Drop for KeepAlive {
    fn drop(&mut self) {
        self.shared.keep_alive.release(&self.shared.poller);
    }
}

impl fmt::Debug for KeepAlive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeepAlive").field("runtime", &self.shared.id).finish()
    }
}
