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
    /// `None` slots with the generation of their last task, reused before
    /// the vector grows.
    free: Vec<(u32, u16)>,
}

impl TaskRegistry {
    /// Stores `task` and gives it its slot and generation (its id).
    pub(crate) fn insert(&mut self, task: TaskRef) {
        let header = task.header();
        if let Some((index, generation)) = self.free.pop() {
            self.slots[index as usize] = Some(task);
            header.slot.set(index);
            header.generation.set(generation.wrapping_add(1));
            return;
        }
        let index = u32::try_from(self.slots.len()).expect("jsloop: more than u32::MAX live tasks");
        self.slots.push(Some(task));
        header.slot.set(index);
    }

    /// Takes `task` out; its slot's next task gets the next generation.
    pub(crate) fn remove(&mut self, task: TaskRef) {
        let header = task.header();
        let index = header.slot.get();
        debug_assert!(self.slots[index as usize] == Some(task));
        self.slots[index as usize] = None;
        self.free.push((index, header.generation.get()));
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
