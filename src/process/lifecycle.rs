//! The loop's end, as Node's `process` sees it: `beforeExit` listeners run
//! each time the loop has emptied (before `run` returns, and the loop goes
//! on if they queued work), `exit(code)` ends the loop at once from inside
//! any callback, `exit` listeners run once at the end, and the exit code.
//!
//! `exit` unwinds with a private payload, so no frame of the callback that
//! called it runs on. Every place that catches panics on the loop thread
//! (callbacks under an uncaught handler, task polls, promise reactions) lets
//! that payload through (`rethrow_loop_exit`); the runtime's `run` /
//! `block_on` catch it last, and end the process, or the worker, or return
//! to [`catch_exit`].

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::context;
use crate::event_loop::Core;

/// What `exit` unwinds with: the code it was called with.
pub(crate) struct ProcessExit(pub(crate) i32);

/// A before-exit listener: it gets the exit code.
type BeforeExitListener = Box<dyn FnMut(i32)>;
/// An exit listener: it gets the exit code, once.
type ExitListener = Box<dyn FnOnce(i32)>;

/// One loop's before-exit and exit listeners and its exit code.
#[derive(Default)]
pub(crate) struct Lifecycle {
    before_exit: RefCell<Vec<BeforeExitListener>>,
    /// Run once, in registration order, when `run` ends or `exit` is called.
    on_exit: RefCell<Vec<ExitListener>>,
    /// Node's `process.exitCode` (`exit(code)` sets it too; its listeners
    /// may change it once more).
    exit_code: Cell<i32>,
    /// `exit` was called: the loop is unwinding.
    exiting: Cell<bool>,
}

impl Lifecycle {
    pub(crate) fn exit_code(&self) -> i32 {
        self.exit_code.get()
    }

    /// `true` once `exit` was called on this loop.
    #[inline]
    pub(crate) fn is_exiting(&self) -> bool {
        self.exiting.get()
    }

    pub(crate) fn has_before_exit_listeners(&self) -> bool {
        !self.before_exit.borrow().is_empty()
    }

    /// Calls the before-exit listeners with the exit code (Node's
    /// `process.emit('beforeExit', process.exitCode)`). Listeners added
    /// meanwhile wait for the next time.
    pub(crate) fn emit_before_exit(&self) {
        let mut listeners = std::mem::take(&mut *self.before_exit.borrow_mut());
        for listener in &mut listeners {
            listener(self.exit_code());
        }
        restore_listeners(&self.before_exit, listeners);
    }

    /// Calls the exit listeners once, with `code`; later calls find none.
    pub(crate) fn emit_exit(&self, code: i32) {
        loop {
            let next = {
                let mut listeners = self.on_exit.borrow_mut();
                (!listeners.is_empty()).then(|| listeners.remove(0))
            };
            let Some(listener) = next else { break };
            listener(code);
        }
    }
}

/// Puts listeners taken out to be called back in front of the ones added
/// while they ran; `true` if any was called.
pub(super) fn restore_listeners<L>(listeners: &RefCell<Vec<L>>, called: Vec<L>) -> bool {
    let any = !called.is_empty();
    let mut current = listeners.borrow_mut();
    let added = std::mem::replace(&mut *current, called);
    current.extend(added);
    any
}

/// The runtime's answer to how a `run` / `block_on` ended: the output, or
/// the loop's exit carried on (to `catch_exit`, a worker's thread, or the
/// process's end), or the panic, after the exit listeners (code 1, as
/// Node's for an uncaught exception). Buffered stdout / stderr output is
/// written first, whichever way it ends (an error has nobody to go to).
pub(crate) fn finish_drive<T>(core: &Core, outcome: std::thread::Result<T>, run: bool) -> T {
    let ended = finish_run(core, outcome, run);
    let _ = core.stdio.flush_blocking();
    match ended {
        Ok(output) => output,
        Err(payload) => match payload.downcast::<ProcessExit>() {
            Ok(exit) => end_with_exit(exit.0),
            Err(payload) => resume_unwind(payload),
        },
    }
}

/// The exit listeners of a `run` that ended, normally or by a panic; what
/// is left to do after them.
fn finish_run<T>(
    core: &Core,
    outcome: std::thread::Result<T>,
    run: bool,
) -> std::thread::Result<T> {
    match outcome {
        Ok(output) => {
            if run {
                // A listener may call `exit` (or panic): that ends it too.
                catch_unwind(AssertUnwindSafe(|| {
                    core.process.emit_exit(core.process.exit_code())
                }))?;
            }
            Ok(output)
        }
        Err(payload) => {
            let exited = payload.is::<ProcessExit>() || payload.is::<crate::worker::Terminated>();
            if run && !exited {
                core.process.exit_code.set(1);
                // A listener's own panic or exit replaces this one.
                catch_unwind(AssertUnwindSafe(|| core.process.emit_exit(1)))?;
            }
            Err(payload)
        }
    }
}

thread_local! {
    /// How many `catch_exit` calls are active on this thread.
    static CATCHING: Cell<usize> = const { Cell::new(0) };
}

/// After `exit`'s listeners ran: back to `catch_exit` if one is active,
/// else the process ends with `code`.
fn end_with_exit(code: i32) -> ! {
    if CATCHING.with(Cell::get) > 0 {
        resume_unwind(Box::new(ProcessExit(code)));
    }
    std::process::exit(code)
}

/// A payload that ends the loop (`exit`, `Worker::terminate`) is never a
/// callback's panic: it keeps unwinding past every catch on the loop thread.
#[inline]
pub(crate) fn rethrow_loop_exit(payload: Box<dyn Any + Send>) -> Box<dyn Any + Send> {
    if payload.is::<ProcessExit>() || payload.is::<crate::worker::Terminated>() {
        resume_unwind(payload);
    }
    payload
}

/// A task's poll caught `exit` (it finished the task as aborted): unwind
/// on from the loop, now that the task's bookkeeping is done.
#[cold]
#[inline(never)]
pub(crate) fn resume_exit(core: &Core) -> ! {
    resume_unwind(Box::new(ProcessExit(core.process.exit_code())))
}

/// Adds a listener for the loop running out of work (Node's
/// `process.on('beforeExit', f)`): `run` calls it, with the exit code, each
/// time the loop has nothing left to do; if it queued work, the loop goes
/// on, and calls it again when it is empty again. Ticks, microtasks and
/// unref'd timers it queues do not revive the loop. Not called after
/// [`exit`], nor by `block_on` (which ends with its future).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let rounds = Rc::new(Cell::new(0));
/// jsloop::run({
///     let rounds = rounds.clone();
///     async move {
///         jsloop::process::on_before_exit(move |_code| {
///             rounds.set(rounds.get() + 1);
///             if rounds.get() < 3 {
///                 jsloop::set_immediate(|| {}); // keeps the loop going once more
///             }
///         });
///     }
/// });
/// assert_eq!(rounds.get(), 3);
/// ```
pub fn on_before_exit(listener: impl FnMut(i32) + 'static) {
    context::with_current(|core| core.process.before_exit.borrow_mut().push(Box::new(listener)));
}

/// Adds a listener for the loop's end (Node's `process.on('exit', f)`): it
/// runs once, with the exit code, when `run` returns, when [`exit`] is
/// called, or when a panic ends `run` (code 1). Work it queues never runs.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let seen = Rc::new(Cell::new(None));
/// jsloop::run({
///     let seen = seen.clone();
///     async move {
///         jsloop::process::set_exit_code(4);
///         jsloop::process::on_exit(move |code| seen.set(Some(code)));
///     }
/// });
/// assert_eq!(seen.get(), Some(4));
/// ```
pub fn on_exit(listener: impl FnOnce(i32) + 'static) {
    context::with_current(|core| core.process.on_exit.borrow_mut().push(Box::new(listener)));
}

/// The loop's exit code (Node's `process.exitCode`): 0 unless
/// [`set_exit_code`] or [`exit`] set it. A worker ends with it.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     assert_eq!(jsloop::process::exit_code(), 0);
///     jsloop::process::set_exit_code(2);
///     assert_eq!(jsloop::process::exit_code(), 2);
/// });
/// ```
pub fn exit_code() -> i32 {
    context::with_current(|core| core.process.exit_code())
}

/// Sets the loop's exit code (Node's `process.exitCode = code`), the code
/// the exit listeners get and a worker ends with.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::new()?;
/// rt.run(async { jsloop::process::set_exit_code(3) });
/// assert_eq!(rt.exit_code(), 3);
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn set_exit_code(code: i32) {
    context::with_current(|core| core.process.exit_code.set(code));
}

/// Ends the loop now (Node's `process.exit(code)`; JS's `process.exit()` is
/// `exit(exit_code())`): the rest of the calling callback does not run, nor
/// does any pending work, nor the before-exit listeners; the exit listeners
/// run with `code` (the loop then ends with the exit code they leave), then, on a worker's loop, the worker
/// ends with `code` ([`WorkerError::Exited`](crate::worker::WorkerError));
/// inside [`catch_exit`], `catch_exit` returns `Err(code)`; anywhere else
/// the process exits with `code`, as `std::process::exit` does. Called
/// outside a runtime, or again from an exit listener, it ends at once with
/// `code`.
///
/// # Examples
///
/// ```
/// let outcome = jsloop::process::catch_exit(|| {
///     jsloop::run(async {
///         jsloop::set_timeout(std::time::Duration::from_secs(10), || unreachable!());
///         jsloop::process::on_exit(|code| assert_eq!(code, 7));
///         jsloop::process::exit(7);
///     })
/// });
/// assert_eq!(outcome, Err(7));
/// ```
pub fn exit(code: i32) -> ! {
    let ended = context::try_with_current(|core| {
        let first = !core.process.exiting.replace(true);
        core.process.exit_code.set(code);
        if first {
            core.process.emit_exit(code);
        }
        // A listener may have set another code (Node exits with it).
        core.process.exit_code()
    });
    match ended {
        // Unwind out of the loop; `run` / `block_on` ends the rest.
        Some(code) => resume_unwind(Box::new(ProcessExit(code))),
        None => end_with_exit(code),
    }
}

/// Runs `f` (which runs a runtime) so that [`exit`] inside it returns here
/// with `Err(code)` instead of ending the process: for tests, and for
/// programs that run a loop as one part of their work.
///
/// # Examples
///
/// ```
/// let outcome = jsloop::process::catch_exit(|| jsloop::run(async { jsloop::process::exit(3) }));
/// assert_eq!(outcome, Err(3));
/// assert_eq!(jsloop::process::catch_exit(|| jsloop::run(async { 5 })), Ok(5));
/// ```
pub fn catch_exit<R>(f: impl FnOnce() -> R) -> Result<R, i32> {
    struct Catching;
    impl Drop for Catching {
        fn drop(&mut self) {
            CATCHING.with(|n| n.set(n.get() - 1));
        }
    }
    CATCHING.with(|n| n.set(n.get() + 1));
    let _catching = Catching;
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(output) => Ok(output),
        Err(payload) => match payload.downcast::<ProcessExit>() {
            Ok(exit) => Err(exit.0),
            Err(payload) => resume_unwind(payload),
        },
    }
}
