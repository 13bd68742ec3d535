//! Poll phase: children whose `Child` was dropped while they ran, reaped by
//! their loop when they exit.
//!
//! Each keeps its exit watch (`exit_watch.rs`), unref'd so that it does not
//! keep the loop alive (Node's `child.unref()`, and the default for a child
//! nobody waits for), with a [`loop_waker`] parked on it: the exit's
//! poll-phase event reaps the child (`waitpid` through `try_wait`) and
//! closes the watch, with no task involved. When the runtime is dropped
//! with orphans still running, they go to the process-wide reaper thread
//! (`reaper.rs`).

use std::cell::RefCell;
use std::process::Child;
use std::task::{Context, Poll};

use super::exit_watch::ExitWatch;
use super::reaper;
use crate::event_loop::Core;
use crate::process::loop_waker::loop_waker;

/// A running child nobody holds, and how its exit will be seen.
pub(crate) struct Orphan {
    pub(crate) process: Child,
    pub(crate) exit: ExitWatch,
}

/// The loop's orphans: a field of the loop's `Core` (empty unless a child
/// was dropped while it ran).
#[derive(Default)]
pub(crate) struct Orphans {
    /// By key; a reaped orphan leaves a hole for the next.
    slots: RefCell<Vec<Option<Orphan>>>,
}

impl Orphans {
    /// Takes `orphan` in: it is reaped when its exit event comes.
    pub(crate) fn adopt(&self, core: &Core, orphan: Orphan) {
        orphan.exit.unref();
        let mut slots = self.slots.borrow_mut();
        let key = match slots.iter().position(Option::is_none) {
            Some(key) => key,
            None => {
                slots.push(None);
                slots.len() - 1
            }
        };
        slots[key] = Some(orphan);
        drop(slots);
        self.watch(core, key);
    }

    /// Reaps orphan `key` if it exited; else parks a waker for its next
    /// exit event. (A waker of a reaped orphan whose key was reused only
    /// re-parks the new orphan's.)
    fn watch(&self, core: &Core, key: usize) {
        // Taken out while it is looked at: closing its watch (when reaped)
        // reaches the loop's sources, and must find this table unborrowed.
        let Some(mut orphan) = self.slots.borrow_mut().get_mut(key).and_then(Option::take) else {
            return;
        };
        let waker = loop_waker(core.id(), move |core| core.orphans.watch(core, key));
        let mut cx = Context::from_waker(&waker);
        loop {
            match orphan.exit.poll_event(&mut cx) {
                Poll::Pending => {
                    self.slots.borrow_mut()[key] = Some(orphan);
                    return;
                }
                Poll::Ready(Ok(())) => match orphan.process.try_wait() {
                    // Not this child's exit (a `SIGCHLD` of another one).
                    Ok(None) => continue,
                    // Reaped (or not ours to wait for any more).
                    Ok(Some(_)) | Err(_) => return,
                },
                Poll::Ready(Err(_)) => return reaper::adopt(orphan.process),
            }
        }
    }
}

impl Drop for Orphans {
    /// The runtime is being dropped: the reaper thread takes over.
    fn drop(&mut self) {
        for orphan in self.slots.get_mut().drain(..).flatten() {
            let Orphan { process, exit } = orphan;
            drop(exit);
            reaper::adopt(process);
        }
    }
}
