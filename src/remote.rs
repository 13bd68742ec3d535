//! Poll phase, cross-thread side: the remote queue and runtime lookup.
//!
//! Anything another thread hands to the loop — a task woken off-thread, a
//! wake of the main future, a dropped `KeepAlive` — is pushed onto the
//! runtime's [`RemoteQueue`] and the poller is notified. The loop drains the
//! queue in its poll phase, one macrotask (with its checkpoint) per event.
//!
//! Tasks do not hold a pointer to their runtime: they hold its `u32` id, and
//! a remote wake looks the runtime up in a global table. So a spawn costs no
//! atomic reference count on the runtime, and a wake after the runtime is
//! gone finds nothing and does nothing.

use std::collections::VecDeque;
use std::ptr::NonNull;
use std::sync::{Arc, Weak};

use crate::io::source::SharedIo;
use crate::reactor::Poller;
use crate::sync::{self, AtomicBool, AtomicUsize, Mutex, Ordering, StopRequest};
use crate::task::raw::{self, Header, TaskRef};

/// Something another thread asks the loop to do.
pub(crate) enum RemoteEvent {
    /// A task was woken off the loop thread.
    Wake(RemoteTask),
    /// The main future (`run` / `block_on`) was woken off the loop thread.
    WakeMain,
    /// A worker-pool job finished.
    JobDone(std::sync::Arc<dyn crate::pool::Completion>),
    /// Another thread asked the loop to run this in its poll phase (a task
    /// dump, for one). Dropping it unrun (the runtime shut down) is how the
    /// asker learns there is no loop to answer.
    Call(Box<dyn FnOnce(&crate::event_loop::Core) + Send>),
    /// A message port has a new batch of messages (or was closed, or
    /// unref'd from another thread): one event per batch.
    Port(Arc<dyn crate::worker::PortDelivery>),
}

impl std::fmt::Debug for RemoteEvent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RemoteEvent::Wake(task) => f.debug_tuple("Wake").field(task).finish(),
            RemoteEvent::WakeMain => f.write_str("WakeMain"),
            RemoteEvent::JobDone(_) => f.write_str("JobDone"),
            RemoteEvent::Call(_) => f.write_str("Call"),
            RemoteEvent::Port(_) => f.write_str("Port"),
        }
    }
}

/// A task reference that may cross threads: it owns one reference count of
/// the cell and touches only its atomic state until the loop takes it.
#[derive(Debug)]
pub(crate) struct RemoteTask(NonNull<Header>);

// SAFETY: a `RemoteTask` only reads the immutable runtime id and updates the
// atomic reference count from other threads; the loop-side fields and the
// future are reached only through `into_local`, which runs on the loop thread
// (the loop is the only consumer of the remote queue).
unsafe impl Send for RemoteTask {}

impl RemoteTask {
    /// # Safety
    /// The caller gives this value one reference on the live cell `ptr`.
    pub(crate) unsafe fn new(ptr: NonNull<Header>) -> Self {
        RemoteTask(ptr)
    }

    /// Called by the loop: clears the remote-queued mark, so later wakes
    /// queue the task again, and hands back a loop-side reference. The cell
    /// stays alive until `self` is dropped.
    pub(crate) fn task(&self) -> TaskRef {
        // SAFETY: `self` owns a reference, so the cell is alive.
        unsafe { raw::clear_remote_queued(self.0) };
        TaskRef::from_ptr(self.0)
    }
}

impl Drop for RemoteTask {
    fn drop(&mut self) {
        // SAFETY: `self` owns exactly one reference and is gone after this.
        unsafe { raw::release(self.0) }
    }
}

/// The queue other threads push to, and the flag that keeps notifies to one
/// per batch.
#[derive(Debug)]
pub struct RemoteQueue<T> {
    items: Mutex<VecDeque<T>>,
    /// Set by the first push after the loop last drained; the pusher that
    /// sets it notifies the poller. The loop clears it *before* draining, so
    /// a push racing with the drain either is drained now or notifies again.
    notified: AtomicBool,
}

impl<T> Default for RemoteQueue<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> RemoteQueue<T> {
    /// An empty queue.
    pub fn new() -> Self {
        RemoteQueue { items: Mutex::new(VecDeque::new()), notified: AtomicBool::new(false) }
    }

    /// Queues `item` and makes sure the loop wakes up to see it.
    pub fn push(&self, item: T, poller: &Poller) {
        sync::lock(&self.items).push_back(item);
        if !self.notified.swap(true, Ordering::AcqRel) {
            poller.notify();
        }
    }

    /// Moves every queued item into `into` (loop thread). When `into` is
    /// empty, as it is at almost every poll phase, the two buffers trade
    /// places under the lock instead of the items being copied: the
    /// pushers get `into`'s spare capacity, so neither side allocates.
    pub fn drain_into(&self, into: &mut VecDeque<T>) {
        self.notified.store(false, Ordering::SeqCst);
        if into.is_empty() {
            std::mem::swap(into, &mut *sync::lock(&self.items));
        } else {
            into.extend(sync::lock(&self.items).drain(..));
        }
    }

    /// `true` if something was pushed since the last drain.
    pub fn has_pending(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }
}

/// The live [`KeepAlive`](crate::KeepAlive) guards of one runtime.
#[derive(Debug, Default)]
pub struct GuardCount(AtomicUsize);

impl GuardCount {
    /// A guard was made.
    pub fn acquire(&self) {
        self.0.fetch_add(1, Ordering::AcqRel);
    }

    /// A guard was dropped; the last one wakes the loop, which may be
    /// asleep waiting for exactly this, to re-check whether it is alive.
    pub fn release(&self, poller: &Poller) {
        if self.0.fetch_sub(1, Ordering::AcqRel) == 1 {
            poller.notify();
        }
    }

    /// `true` while a guard lives or a remote event waits in `queue`.
    ///
    /// The count is read first: a thread wakes a task and then drops its
    /// guard, so a count of zero (read with `Acquire`) guarantees that the
    /// queue read after it sees that wake. Read the other way round, the
    /// wake could land between the two reads and the loop would end with
    /// it unseen.
    pub fn alive_with<T>(&self, queue: &RemoteQueue<T>) -> bool {
        self.0.load(Ordering::Acquire) != 0 || queue.has_pending()
    }
}

/// The part of a runtime other threads can reach.
#[derive(Debug)]
pub(crate) struct Shared {
    /// The runtime's id, as stored in its tasks.
    pub(crate) id: u32,
    /// The tag of the thread the runtime lives on (`context::thread_tag`),
    /// the only thread that touches its tasks' loop-side fields.
    pub(crate) home: usize,
    /// The poller the loop sleeps in during the poll phase.
    pub(crate) poller: Poller,
    /// Wakes and completions from other threads.
    pub(crate) queue: RemoteQueue<RemoteEvent>,
    /// Live `KeepAlive` guards: while non-zero the loop stays alive.
    pub(crate) keep_alive: GuardCount,
    /// `Worker::terminate` was called: the loop stops at its next
    /// macrotask boundary (`Core::stop_if_terminated`).
    pub(crate) terminating: StopRequest,
    /// What sockets on any thread update: the loop's I/O liveness count,
    /// the keys they gave up (`io::source`).
    pub(crate) io: SharedIo,
}

impl Shared {
    /// Asks the loop to stop at its next macrotask boundary, waking it if
    /// it sleeps in the poller.
    pub(crate) fn request_terminate(&self) {
        self.terminating.request(&self.poller);
    }

    /// Creates the shared half of a new runtime and lists it in the table.
    pub(crate) fn register(poller: Poller) -> Arc<Shared> {
        // The id is taken under the table's lock, so ids enter the table in
        // ascending order, as `lookup`'s binary search needs: taken before
        // the lock, two threads could push theirs out of order, and a live
        // runtime would not be found (its remote wakes dropped).
        let mut table = lock_table();
        let id = table.next_id;
        assert!(id != u32::MAX, "jsloop: too many runtimes created in this process");
        table.next_id = id + 1;
        let shared = Arc::new(Shared {
            id,
            // A runtime is `!Send`: it lives on the thread that builds it.
            home: crate::context::thread_tag(),
            poller,
            queue: RemoteQueue::new(),
            keep_alive: GuardCount::default(),
            terminating: StopRequest::default(),
            io: SharedIo::default(),
        });
        table.live.push((id, Arc::downgrade(&shared)));
        shared
    }

    /// Takes the runtime out of the table: from now on remote wakes of its
    /// tasks are no-ops. Called after the runtime shut down, so whoever
    /// finds it gone (the table's mutex orders this before their lookup)
    /// knows the loop is done with its task cells.
    pub(crate) fn unregister(&self) {
        let table = &mut lock_table().live;
        if let Ok(index) = table.binary_search_by_key(&self.id, |(id, _)| *id) {
            table.remove(index);
        }
    }

    pub(crate) fn push(&self, event: RemoteEvent) {
        self.queue.push(event, &self.poller);
    }
}

/// Live runtimes by id, and the next id to hand out.
struct RuntimeTable {
    /// Ascending by id: `register` takes an id and pushes it under one lock.
    live: Vec<(u32, Weak<Shared>)>,
    /// Runtime ids are never reused, so a stale waker cannot reach a newer
    /// runtime.
    next_id: u32,
}

static RUNTIMES: std::sync::Mutex<RuntimeTable> =
    std::sync::Mutex::new(RuntimeTable { live: Vec::new(), next_id: 1 });

fn lock_table() -> std::sync::MutexGuard<'static, RuntimeTable> {
    RUNTIMES.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Finds runtime `id` if it still exists.
pub(crate) fn lookup(id: u32) -> Option<Arc<Shared>> {
    let table = &lock_table().live;
    let index = table.binary_search_by_key(&id, |(id, _)| *id).ok()?;
    table[index].1.upgrade()
}

/// Hands `event` to runtime `id`; drops it if the runtime is gone.
pub(crate) fn deliver(id: u32, event: RemoteEvent) {
    if let Some(shared) = lookup(id) {
        shared.push(event);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtimes_created_on_many_threads_at_once_can_all_be_found() {
        // Threads racing to register: each runtime must be found while it
        // lives (else its remote wakes are dropped), and the table stays
        // sorted for the lookups after.
        let rounds = if cfg!(miri) { 20 } else { 2000 };
        let threads: Vec<_> = (0..4)
            .map(|_| {
                std::thread::spawn(move || {
                    for _ in 0..rounds {
                        let shared =
                            Shared::register(Poller::with_driver(crate::IoDriver::Epoll).unwrap());
                        assert!(lookup(shared.id).is_some(), "runtime {} not found", shared.id);
                        shared.unregister();
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().unwrap();
        }
        let table = &lock_table().live;
        assert!(table.windows(2).all(|w| w[0].0 < w[1].0), "table out of order");
    }
}
