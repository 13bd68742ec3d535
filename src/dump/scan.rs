//! Taking a task dump: a read-only walk over the loop's state.
//!
//! Each queue is borrowed only while it is looked at, with `try_borrow`: a
//! dump may be taken inside a task's poll or a callback, where the loop (or
//! a foreign waker's `clone`) may be in the middle of changing one. No user
//! code runs during the walk: wakers are only compared (`will_wake`), never
//! cloned, woken or dropped, so no task can finish and free its cell while
//! the dump holds a pointer to it.

use std::task::Waker;
use std::time::Duration;

use super::{Interest, TaskDump, TaskInfo, TaskState, WaitingOn};
use crate::event_loop::Core;
use crate::io::source::READ;
use crate::pool::job_waiter_type_name;
use crate::promise::reaction_type_name;
use crate::task::awaiters;
use crate::task::raw::{RUNNING, SCHEDULED, TaskRef};
use crate::time::Instant;
use crate::time::timers::TimerEntry;

/// Takes a dump of `core`'s live tasks (loop thread).
pub(crate) fn take(core: &Core) -> TaskDump {
    let taken_at = core.clock.now();
    let tasks: Vec<TaskRef> = match core.tasks.try_borrow() {
        Ok(registry) => registry.iter().collect(),
        Err(_) => Vec::new(),
    };
    let mut scan = Scan::new(core, tasks);
    scan.join_handles();
    scan.timers(core);
    scan.sockets(core);
    let mut infos = scan.infos;
    for info in &mut infos {
        info.waiting_on.sort_by_key(WaitingOn::rank);
    }
    infos.sort_by_key(|info| info.id);
    TaskDump { tasks: infos, taken_at: Instant::from_std(taken_at) }
}

/// The dump being built: the tasks, and what has been found of each.
struct Scan {
    tasks: Vec<TaskRef>,
    infos: Vec<TaskInfo>,
    /// `(index, task)` of the waiting tasks, whose wakers are looked for.
    waiting: Vec<(usize, TaskRef)>,
}

impl Scan {
    fn new(core: &Core, tasks: Vec<TaskRef>) -> Scan {
        let now = std::time::Instant::now();
        let observers = core.observers();
        let job_waiter = job_waiter_type_name();
        let reaction = reaction_type_name();
        let mut waiting = Vec::new();
        let infos = tasks
            .iter()
            .enumerate()
            .map(|(index, &task)| {
                let id = task.id();
                let state = state_of(task);
                let mut waiting_on = Vec::new();
                if state == TaskState::Waiting {
                    waiting.push((index, task));
                    let type_name = task.type_name();
                    if same_generic_type(type_name, job_waiter) {
                        waiting_on.push(WaitingOn::PoolJob);
                    } else if same_generic_type(type_name, reaction) {
                        waiting_on.push(WaitingOn::Promise);
                    }
                }
                let polls = observers.and_then(|observers| observers.task_polls(id));
                TaskInfo {
                    id,
                    location: task.location(),
                    state,
                    waiting_on,
                    age: polls.map(|polls| {
                        polls
                            .first
                            .map_or(Duration::ZERO, |first| now.saturating_duration_since(first))
                    }),
                    polls: polls.map(|polls| polls.count),
                }
            })
            .collect();
        Scan { tasks, infos, waiting }
    }

    /// The waiting task whose own waker `waker` is (one comparison per
    /// waiting task: wakers cannot be hashed).
    fn owner_of(&self, waker: &Waker) -> Option<usize> {
        self.waiting
            .iter()
            .find(|(_, task)| task.with_waker(|own| own.will_wake(waker)))
            .map(|&(index, _)| index)
    }

    /// The index of a waiting task named directly (a timer entry's). The
    /// registry lists tasks in slot order, so `waiting` is sorted by slot;
    /// the pointer check rejects a finished task whose slot went to another.
    fn waiting_index(&self, task: TaskRef) -> Option<usize> {
        let slot = task.id().slot();
        let at =
            self.waiting.binary_search_by_key(&slot, |(_, waiting)| waiting.id().slot()).ok()?;
        let (index, waiting) = self.waiting[at];
        (waiting == task).then_some(index)
    }

    /// Tasks awaiting another task's `JoinHandle`: the awaited task's entry
    /// in the awaiters' table holds their waker.
    fn join_handles(&mut self) {
        for index in 0..self.tasks.len() {
            let awaited = self.tasks[index];
            let owner = awaiters::inspect(awaited, |waker| self.owner_of(waker)).flatten();
            if let Some(owner) = owner {
                self.infos[owner].waiting_on.push(WaitingOn::JoinHandle { task: awaited.id() });
            }
        }
    }

    /// Sleeps in the timer queue; a task with several keeps the earliest.
    fn timers(&mut self, core: &Core) {
        let mut found = Vec::new();
        core.timers.visit(|deadline, entry| {
            let owner = match entry {
                TimerEntry::Task(timer) => self.waiting_index(timer.task()),
                TimerEntry::Wake(waker) => self.owner_of(waker),
                TimerEntry::List(_) => None,
            };
            if let Some(owner) = owner {
                found.push((owner, deadline));
            }
        });
        for (owner, deadline) in found {
            // Past the end of what an `Instant` can say: as good as never.
            let remaining = deadline.map_or(Duration::ZERO, |tick| {
                core.clock.until(tick, None).unwrap_or(Duration::MAX)
            });
            let waits = &mut self.infos[owner].waiting_on;
            match waits.iter_mut().find_map(|wait| match wait {
                WaitingOn::Timer { remaining } => Some(remaining),
                _ => None,
            }) {
                Some(earliest) => *earliest = (*earliest).min(remaining),
                None => waits.push(WaitingOn::Timer { remaining }),
            }
        }
    }

    /// Readers and writers of sockets; both directions of one socket merge.
    fn sockets(&mut self, core: &Core) {
        let mut found = Vec::new();
        core.io.visit_waiters(|fd, direction, waker| {
            if let Some(owner) = self.owner_of(waker) {
                let interest = if direction == READ { Interest::Read } else { Interest::Write };
                found.push((owner, fd, interest));
            }
        });
        for (owner, fd, interest) in found {
            let waits = &mut self.infos[owner].waiting_on;
            let same_socket = waits.iter_mut().find_map(|wait| match wait {
                WaitingOn::Socket { fd: known, interest } if *known == fd => Some(interest),
                _ => None,
            });
            match same_socket {
                Some(known) => *known = known.with(interest),
                None => waits.push(WaitingOn::Socket { fd, interest }),
            }
        }
    }
}

/// Running if being polled, queued if due to be (the ring, the check
/// phase's deferred wakes, the remote queue), else waiting.
fn state_of(task: TaskRef) -> TaskState {
    let flags = task.header().flags.get();
    if flags & RUNNING != 0 {
        TaskState::Running
    } else if flags & SCHEDULED != 0 || task.is_remote_queued() {
        TaskState::Queued
    } else {
        TaskState::Waiting
    }
}

/// Whether `name` is the generic type `example` names, whatever its
/// generic arguments: `a::B<C, D>` against `a::B<(), ()>`.
fn same_generic_type(name: &str, example: &str) -> bool {
    let base = example.find('<').map_or(example, |end| &example[..=end]);
    name.starts_with(base)
}

#[cfg(test)]
mod tests {
    use super::same_generic_type;

    #[test]
    fn generic_types_match_whatever_their_arguments() {
        let example = "jsloop::pool::WaitForJob<(), ()>";
        assert!(same_generic_type("jsloop::pool::WaitForJob<x::{{closure}}, i32>", example));
        assert!(!same_generic_type("jsloop::pool::WaitForJobs<i32>", example));
        assert!(!same_generic_type("jsloop::pool::Other<i32>", example));
    }
}
