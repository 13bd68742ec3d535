//! Poll phase: a waker that runs a loop-side watcher instead of a task.
//!
//! A readiness event wakes the wakers parked on its source, inside the
//! poll-phase macrotask that dispatches it. Parking one of these there makes
//! that event run `on_wake` on the loop, with no task in between: the signal
//! pipe's reader delivers signals this way, and a child nobody holds any
//! more is reaped this way. No task means nothing for `run`'s "tasks still
//! pending" report or a task dump to show, and nothing that keeps a loop
//! alive unless the source is ref'd.
//!
//! Only the loop wakes these (its sources live on the loop thread); a wake
//! from anywhere else, or after the runtime stopped running, does nothing.

use std::sync::Arc;
use std::task::{Wake, Waker};

use crate::context;
use crate::event_loop::Core;

/// A waker that runs `on_wake` on runtime `runtime_id` when woken there.
pub(crate) fn loop_waker(
    runtime_id: u32,
    on_wake: impl Fn(&Core) + Send + Sync + 'static,
) -> Waker {
    Waker::from(Arc::new(LoopWake { runtime_id, on_wake }))
}

struct LoopWake<F> {
    runtime_id: u32,
    on_wake: F,
}

impl<F: Fn(&Core) + Send + Sync + 'static> Wake for LoopWake<F> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        context::with_core_of(self.runtime_id, |core| (self.on_wake)(core));
    }
}
