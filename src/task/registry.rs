//! The registry of live tasks: every task whose future still exists.
//!
//! A pending task may be referenced only by a waker stored inside another
//! pending task (a cycle), so reference counts alone would leak it when the
//! runtime is dropped. The registry is how `Runtime::drop` finds every
//! future to drop. A slab: O(1) insert and remove, and removing a task never
//! touches another task's cell.

use super::raw::TaskRef;

#[derive(Debug, Default)]
pub(crate) struct TaskRegistry {
    slots: Vec<Option<TaskRef>>,
    /// Indices of `None` slots, reused before the vector grows.
    free: Vec<u32>,
}

impl TaskRegistry {
    /// Stores `task`; returns its slot index.
    pub(crate) fn insert(&mut self, task: TaskRef) -> u32 {
        if let Some(index) = self.free.pop() {
            self.slots[index as usize] = Some(task);
            return index;
        }
        let index = u32::try_from(self.slots.len()).expect("jsloop: more than u32::MAX live tasks");
        self.slots.push(Some(task));
        index
    }

    pub(crate) fn remove(&mut self, index: u32) {
        debug_assert!(self.slots[index as usize].is_some());
        self.slots[index as usize] = None;
        self.free.push(index);
    }

    /// Empties the registry, returning every live task (shutdown).
    pub(crate) fn take_all(&mut self) -> Vec<TaskRef> {
        self.free.clear();
        self.slots.drain(..).flatten().collect()
    }

    /// Every live task.
    pub(crate) fn iter(&self) -> impl Iterator<Item = TaskRef> + '_ {
        self.slots.iter().flatten().copied()
    }

    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}
