//! `on_signal`: Node's `process.on('SIGINT', listener)`.

use std::cell::RefCell;
use std::fmt;
use std::io;
use std::rc::{Rc, Weak};

use super::SignalKind;
use super::driver::{Driver, Listener};
use crate::context;
use crate::listeners::ListenerKey;

/// Runs `listener` on every delivery of `kind` to the current loop, in the
/// poll phase: Node's `process.on(signal, listener)`.
///
/// The listeners of a signal run in the order they were added, all in the
/// delivery's macrotask (Node's synchronous `emit`); the checkpoint runs
/// after them, so a `next_tick` queued by a listener runs before the
/// loop's next macrotask. A listener alone does not keep the loop alive
/// (as in Node: a program with only a `SIGINT` listener ends when it has
/// nothing else to do); await a [`signal`](crate::process::signal) stream
/// or [`ctrl_c`](crate::process::ctrl_c) to wait for one. Deliveries
/// coalesce and outlive busy callbacks as described at
/// [`signal`](crate::process::signal), and listening turns the signal's
/// default action off for good, as described there.
///
/// The listener stays until [`SignalListener::remove`]; dropping the
/// handle keeps it (as a Node listener stays until `process.off`). A
/// panicking listener goes to the runtime's panic handler, or unwinds out
/// of the loop if there is none.
///
/// # Errors
///
/// As for [`signal`](crate::process::signal): `InvalidInput` for the
/// signals that cannot be listened for, the OS's error for a number that
/// is no signal.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
/// use jsloop::process::{on_signal, signal, SignalKind};
/// use rustix::process::{getpid, kill_process, Signal};
///
/// let seen = Rc::new(Cell::new(0));
/// jsloop::block_on({
///     let seen = seen.clone();
///     async move {
///         let _listener = on_signal(SignalKind::user_defined1(), move || seen.set(seen.get() + 1))?;
///         // (The listener alone would not keep the loop alive; this stream,
///         // awaited, does, and it resumes after the listener ran.)
///         let mut usr1 = signal(SignalKind::user_defined1())?;
///         kill_process(getpid(), Signal::USR1)?;
///         usr1.recv().await;
///         Ok::<(), std::io::Error>(())
///     }
/// })?;
/// assert_eq!(seen.get(), 1);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn on_signal(kind: SignalKind, listener: impl FnMut() + 'static) -> io::Result<SignalListener> {
    context::with_current(|core| {
        let driver = core.signals.driver(core)?;
        let listener: Listener = Rc::new(RefCell::new(listener));
        let key = driver.add_listener(kind, listener)?;
        Ok(SignalListener { driver: Rc::downgrade(&driver), kind, key })
    })
}

/// The handle of an [`on_signal`] listener: [`remove`](Self::remove) takes
/// it out (Node's `process.off`). Dropping the handle leaves the listener.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use jsloop::process::{on_signal, signal, SignalKind};
/// use rustix::process::{getpid, kill_process, Signal};
///
/// jsloop::block_on(async {
///     let mut usr1 = signal(SignalKind::user_defined1())?;
///     // Dropping the handle leaves the listener in place.
///     drop(on_signal(SignalKind::user_defined1(), || println!("got SIGUSR1"))?);
///     kill_process(getpid(), Signal::USR1)?;
///     usr1.next().await; // the listener ran in the same delivery
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct SignalListener {
    driver: Weak<Driver>,
    kind: SignalKind,
    key: ListenerKey,
}

impl SignalListener {
    /// Takes the listener out: it runs no more. Returns `false` if it was
    /// already gone (its runtime was dropped). Once a signal has no
    /// listener and no stream left on this loop, the loop stops listening
    /// for it.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::{on_signal, SignalKind};
    ///
    /// jsloop::block_on(async {
    ///     let listener = on_signal(SignalKind::user_defined2(), || println!("USR2"))?;
    ///     assert!(listener.remove());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn remove(self) -> bool {
        match self.driver.upgrade() {
            Some(driver) => driver.remove_listener(self.kind, self.key),
            None => false,
        }
    }

    /// The signal the listener listens for.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::{on_signal, SignalKind};
    ///
    /// jsloop::block_on(async {
    ///     let listener = on_signal(SignalKind::hangup(), || {})?;
    ///     assert_eq!(listener.kind(), SignalKind::hangup());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kind(&self) -> SignalKind {
        self.kind
    }
}

impl fmt::Debug for SignalListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignalListener").field("kind", &self.kind).finish_non_exhaustive()
    }
}
