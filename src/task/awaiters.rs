//! The awaiters of live tasks: the waker of whoever awaits a pending task's
//! `JoinHandle`, woken when the task settles (`Core::settle`).
//!
//! Kept beside the cells, not in them: at any moment few of the live tasks
//! have a handle being awaited (a million pending tasks are mostly detached,
//! or their handles sit in a `Vec`), so a word in every cell would cost
//! every task 8 bytes for the few that use it. The table is a thread-local
//! map keyed by cell address: an awaiter exists only while its task is
//! `LIVE`, and a live task is touched only on its loop's thread (its home,
//! also between `run`s, when no `Core` is current), so that thread's map is
//! the only one that can hold it. The cell's `AWAITED` flag says whether an
//! entry exists, so that settling a task nobody awaits costs no lookup.
//!
//! Invariant: an entry for a cell exists exactly while that task is `LIVE`
//! with `AWAITED` set; whoever clears `LIVE` ([`Core::settle`]) or gives up
//! the handle ([`release_hold`]) takes the entry first.
//!
//! [`Core::settle`]: crate::event_loop::Core
//! [`release_hold`]: super::join

use std::cell::RefCell;
use std::collections::hash_map::Entry;
use std::hash::BuildHasherDefault;
use std::mem;
use std::task::Waker;

use super::raw::{AWAITED, LIVE, TaskRef};
use crate::int_map::IntMap;

thread_local! {
    /// The awaiters of this thread's live tasks, by cell address (the task
    /// kept beside its waker, for [`awaited_by`]).
    static AWAITERS: RefCell<IntMap<(TaskRef, Waker)>> =
        const { RefCell::new(IntMap::with_hasher(BuildHasherDefault::new())) };
}

fn key(task: TaskRef) -> u64 {
    task.as_ptr().as_ptr().addr() as u64
}

/// Makes `waker` the awaiter of `task`, a live task of this thread's loop:
/// keeps the stored one if it wakes the same task (no clone), else stores
/// a clone.
pub(crate) fn register(task: TaskRef, waker: &Waker) {
    let header = task.header();
    debug_assert!(header.flags.get() & LIVE != 0, "jsloop: an awaiter for a finished task");
    header.flags.set(header.flags.get() | AWAITED);
    let replaced = AWAITERS.with_borrow_mut(|awaiters| match awaiters.entry(key(task)) {
        Entry::Occupied(entry) if entry.get().1.will_wake(waker) => None,
        Entry::Occupied(mut entry) => Some(mem::replace(&mut entry.get_mut().1, waker.clone())),
        Entry::Vacant(entry) => {
            entry.insert((task, waker.clone()));
            None
        }
    });
    // Dropped outside the borrow: a waker's drop may run anything.
    drop(replaced);
}

/// Makes `waker` the awaiter of `task`, a live task of this thread's loop,
/// dropping the one it replaces.
pub(crate) fn replace(task: TaskRef, waker: Waker) {
    let header = task.header();
    debug_assert!(header.flags.get() & LIVE != 0, "jsloop: an awaiter for a finished task");
    header.flags.set(header.flags.get() | AWAITED);
    let replaced = AWAITERS.with_borrow_mut(|awaiters| awaiters.insert(key(task), (task, waker)));
    drop(replaced);
}

/// Takes `task`'s awaiter out, if it has one. Inline: every finished task
/// with a handle asks, and most have none (the flag says so).
#[inline]
pub(crate) fn take(task: TaskRef) -> Option<Waker> {
    let header = task.header();
    let flags = header.flags.get();
    if flags & AWAITED == 0 {
        return None;
    }
    header.flags.set(flags & !AWAITED);
    take_entry(task)
}

#[inline(never)]
fn take_entry(task: TaskRef) -> Option<Waker> {
    // The map is gone only while the thread exits (a runtime kept in a
    // thread-local dropped after it): its destructor dropped the waker.
    let entry = AWAITERS.try_with(|awaiters| awaiters.borrow_mut().remove(&key(task)));
    entry.ok().flatten().map(|(_, waker)| waker)
}

/// Runs `f` on `task`'s awaiter, if it has one (task dumps). `f` must not
/// reach the table itself.
pub(crate) fn inspect<R>(task: TaskRef, f: impl FnOnce(&Waker) -> R) -> Option<R> {
    if task.header().flags.get() & AWAITED == 0 {
        return None;
    }
    AWAITERS.with_borrow(|awaiters| awaiters.get(&key(task)).map(|(_, waker)| f(waker)))
}

/// The live tasks of runtime `runtime_id` whose awaiter would wake `waker`.
pub(crate) fn awaited_by(runtime_id: u32, waker: &Waker) -> Vec<TaskRef> {
    AWAITERS.with_borrow(|awaiters| {
        awaiters
            .values()
            .filter(|(task, awaiter)| {
                task.header().runtime_id == runtime_id && awaiter.will_wake(waker)
            })
            .map(|&(task, _)| task)
            .collect()
    })
}

#[cfg(test)]
mod tests {
    use std::future::{Future, poll_fn};
    use std::pin::pin;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::task::{Context, Poll, Wake, Waker};

    use super::AWAITERS;
    use crate::Runtime;

    fn entries() -> usize {
        AWAITERS.with_borrow(|awaiters| awaiters.len())
    }

    struct Count(AtomicUsize);

    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// A task that stays pending until the runtime drops it.
    fn pending_forever(rt: &Runtime) -> crate::JoinHandle<()> {
        rt.spawn(std::future::pending::<()>())
    }

    /// Awaiting a pending handle makes one entry, however often it is
    /// polled with the same waker; the task's end takes the entry and wakes
    /// the awaiter.
    #[test]
    fn an_entry_lives_from_the_first_pending_poll_to_the_settle() {
        let rt = Runtime::new().expect("runtime");
        rt.block_on(async {
            let (tx, rx) = crate::oneshot::channel::<u32>();
            let mut handle = pin!(crate::spawn(async move { rx.await.unwrap_or(0) }));
            for _ in 0..3 {
                poll_fn(|cx| {
                    assert!(handle.as_mut().poll(cx).is_pending());
                    Poll::Ready(())
                })
                .await;
            }
            assert_eq!(entries(), 1);
            tx.send(7);
            assert_eq!(handle.await.expect("task"), 7);
            assert_eq!(entries(), 0);
        });
    }

    /// A different waker replaces the stored one: only the latest awaiter
    /// is woken, and the replaced clone is dropped at once.
    #[test]
    fn a_new_waker_replaces_the_old_one() {
        let rt = Runtime::new().expect("runtime");
        let first = Arc::new(Count(AtomicUsize::new(0)));
        let second = Arc::new(Count(AtomicUsize::new(0)));
        let (tx, rx) = crate::oneshot::channel::<()>();
        let mut handle = Box::pin(rt.spawn(async move {
            let _ = rx.await;
        }));
        rt.block_on(async {
            for count in [&first, &second] {
                let waker = Waker::from(Arc::clone(count));
                let mut cx = Context::from_waker(&waker);
                assert!(handle.as_mut().poll(&mut cx).is_pending());
            }
            assert_eq!(Arc::strong_count(&first), 1, "the replaced waker was dropped");
            assert_eq!(entries(), 1);
            tx.send(());
            crate::yield_now().await;
        });
        assert_eq!(first.0.load(Ordering::Relaxed), 0);
        assert_eq!(second.0.load(Ordering::Relaxed), 1);
        assert_eq!(entries(), 0);
        assert!(rt.block_on(handle).is_ok());
    }

    /// A handle dropped while its task runs on takes its entry with it, and
    /// so does a runtime dropped with awaited tasks still pending: no waker
    /// outlives its task in the table.
    #[test]
    fn dropped_handles_and_runtimes_leave_no_entry() {
        let count = Arc::new(Count(AtomicUsize::new(0)));
        let waker = Waker::from(Arc::clone(&count));
        let mut cx = Context::from_waker(&waker);
        let rt = Runtime::new().expect("runtime");
        let mut dropped = Box::pin(pending_forever(&rt));
        let mut kept = Box::pin(pending_forever(&rt));
        rt.block_on(async {
            crate::yield_now().await;
            assert!(dropped.as_mut().poll(&mut cx).is_pending());
            assert!(kept.as_mut().poll(&mut cx).is_pending());
        });
        assert_eq!(entries(), 2);
        drop(dropped);
        assert_eq!(entries(), 1);
        drop(rt);
        assert_eq!(entries(), 0);
        // The runtime's end aborted the task and woke its awaiter.
        assert_eq!(count.0.load(Ordering::Relaxed), 1);
        assert!(kept.as_mut().poll(&mut cx).is_ready());
        drop(kept);
        assert_eq!(Arc::strong_count(&count), 2, "only `waker` itself is left");
    }
}
