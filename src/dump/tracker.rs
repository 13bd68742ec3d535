//! Task tracking (`Builder::track_tasks`): when each task's first poll
//! began and how many polls it has had, for task dumps.
//!
//! The task header must not grow for it (memory per task is a benchmark),
//! so the tracker is a loop observer with a side table indexed by registry
//! slot. Each entry carries the full [`TaskId`]: a slot's next task has the
//! next generation, so a stale entry is recognised and started over.

use std::cell::RefCell;
use std::time::Instant;

use crate::event_loop::Core;
use crate::loop_observers::{LoopObserver, TaskPolls};
use crate::metrics::Work;
use crate::task::TaskId;

/// The observer `Builder::track_tasks(true)` installs.
#[derive(Debug, Default)]
pub(crate) struct TaskTracker {
    slots: RefCell<Vec<Option<Tracked>>>,
}

/// One task's record.
#[derive(Clone, Copy, Debug)]
struct Tracked {
    id: TaskId,
    polls: TaskPolls,
}

impl LoopObserver for TaskTracker {
    // Counted as a poll begins, so a dump taken inside a poll counts it.
    fn item_started(&self, _core: &Core, work: &Work, at: Instant) {
        let Work::Task { id, .. } = *work else { return };
        let Ok(mut slots) = self.slots.try_borrow_mut() else { return };
        let slot = id.slot();
        if slots.len() <= slot {
            slots.resize(slot + 1, None);
        }
        match &mut slots[slot] {
            Some(tracked) if tracked.id == id => tracked.polls.count += 1,
            entry => *entry = Some(Tracked { id, polls: TaskPolls { first: Some(at), count: 1 } }),
        }
    }

    fn task_polls(&self, id: TaskId) -> Option<TaskPolls> {
        let slots = self.slots.try_borrow().ok()?;
        let polls = match slots.get(id.slot()) {
            Some(Some(tracked)) if tracked.id == id => tracked.polls,
            // Tracked from the start: no record means no poll yet.
            _ => TaskPolls::default(),
        };
        Some(polls)
    }
}
