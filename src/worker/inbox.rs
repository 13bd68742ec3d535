//! Poll phase, cross-thread side of a message port: its inbox.
//!
//! Any thread posts into a port's [`Inbox`]; the loop that owns the port
//! takes the messages out in its poll phase. The `notified` flag keeps the
//! announcements to one per batch, as [`RemoteQueue`](crate::remote::RemoteQueue)
//! does for wakes: the poster that sets it tells the loop, and the loop
//! clears it *before* starting the batch, so a post racing with the start
//! is either in this batch or announces the next one.
//!
//! Two queues, so the posters and the loop do not share a lock per
//! message: posters push to `posted`, and starting a batch moves all of it
//! (a swap of two `VecDeque`s, allocations kept) to `batch`, which the loop
//! then takes from under a lock of its own, on a cache line of its own.
//! Everything in `batch` is older than everything in `posted`.

use std::collections::VecDeque;

use crate::sync::{self, AtomicBool, Mutex, Ordering};

/// The messages posted to one port and not yet taken, and whether the
/// channel is closed.
#[derive(Debug)]
pub struct Inbox<T> {
    /// What posters pushed since the loop last started a batch.
    posted: Mutex<VecDeque<T>>,
    /// Set by the first post (or close) after the loop last started a
    /// batch; whoever sets it announces the port to the loop. Written once
    /// per batch and read per message by both sides: off `posted`'s line,
    /// so those reads hit.
    notified: CachePadded<AtomicBool>,
    /// Either end closed: posting fails, and once both queues are drained
    /// the receiver's stream ends. Written under `posted`'s lock and read
    /// there by `post`; the loop reads it without the lock once per batch
    /// (`is_finished`: an open channel costs no lock), which is why it is
    /// an atomic beside `notified`, also written once.
    closed: AtomicBool,
    /// The batch being delivered (and what earlier batches left, when no
    /// receiver was ready): the loop's lock, touched by a poster only at
    /// `close` and by `receive_message_on_port`. Locked before `posted`
    /// where both are held.
    batch: CachePadded<Batch<T>>,
}

/// A cache line of its own (128 bytes: x86 prefetches lines in pairs), so
/// what one thread writes often does not evict what the other reads.
#[derive(Debug)]
#[repr(align(128))]
struct CachePadded<T>(T);

impl<T> std::ops::Deref for CachePadded<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

/// The loop's half of the inbox.
#[derive(Debug)]
struct Batch<T> {
    messages: Mutex<VecDeque<T>>,
    /// `!messages.is_empty()`, stored under the lock at each change: the
    /// loop asks per message whether one is left without taking the lock.
    /// Only the loop adds to `messages`, so on its thread a `true` is stale
    /// only if another thread took the message meanwhile, as a locked read
    /// could be a moment later.
    queued: AtomicBool,
}

impl<T> Batch<T> {
    /// Runs `f` on the batch under its lock, then republishes `queued`.
    fn with<R>(&self, f: impl FnOnce(&mut VecDeque<T>) -> R) -> R {
        let mut messages = sync::lock(&self.messages);
        let result = f(&mut messages);
        self.queued.store(!messages.is_empty(), Ordering::Relaxed);
        result
    }
}

impl<T> Default for Inbox<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T> Inbox<T> {
    /// An empty, open inbox.
    pub fn new() -> Self {
        Inbox {
            posted: Mutex::new(VecDeque::new()),
            notified: CachePadded(AtomicBool::new(false)),
            closed: AtomicBool::new(false),
            batch: CachePadded(Batch {
                messages: Mutex::new(VecDeque::new()),
                queued: AtomicBool::new(false),
            }),
        }
    }

    /// Queues `message`; gives it back if the channel is closed. The
    /// caller then announces the port ([`mark_notified`](Self::mark_notified)),
    /// once it knows which loop to tell: the push comes first, so a loop
    /// binding the port meanwhile either sees the message or is seen.
    pub fn post(&self, message: T) -> Result<(), T> {
        let mut posted = sync::lock(&self.posted);
        // Under the lock `close` stores it under: no push after a close.
        if self.closed.load(Ordering::Relaxed) {
            return Err(message);
        }
        posted.push_back(message);
        Ok(())
    }

    /// Closes the channel at this inbox; with `discard`, drops what is
    /// queued (the receiving port itself was closed).
    pub fn close(&self, discard: bool) {
        let mut messages = {
            let mut posted = sync::lock(&self.posted);
            self.closed.store(true, Ordering::Release);
            if discard { std::mem::take(&mut *posted) } else { VecDeque::new() }
        };
        if discard {
            // A batch started meanwhile moved them here: dropped as well.
            self.batch.with(|batch| messages.append(batch));
        }
        // Dropped outside the locks: a message's drop may post again.
        drop(messages);
    }

    /// Sets the flag; `true` if it was clear: the caller announces the
    /// port to its loop, and later posts of this batch do not.
    pub fn mark_notified(&self) -> bool {
        !self.notified.swap(true, Ordering::AcqRel)
    }

    /// `true` while the flag is set: the batch is announced. A poster may
    /// skip [`mark_notified`](Self::mark_notified) on it (a load keeps the
    /// flag's cache line shared during a burst, where a swap per post would
    /// pull it over each time): its message was pushed under the lock that
    /// `start_batch` takes after clearing the flag, so if this load still
    /// saw the flag set, that start has not moved the queue yet and takes
    /// the message along.
    pub fn is_notified(&self) -> bool {
        self.notified.load(Ordering::Acquire)
    }

    /// Loop side: starts a batch (what was posted until now joins what
    /// earlier batches left) and says how many messages it holds.
    /// Clearing the flag is a read-modify-write with `Acquire`: a poster
    /// that found it set returned without announcing, and its message (or
    /// its `unref`) must be seen here.
    pub fn start_batch(&self) -> usize {
        self.notified.swap(false, Ordering::AcqRel);
        self.batch.with(|batch| {
            let mut posted = sync::lock(&self.posted);
            if batch.is_empty() {
                std::mem::swap(batch, &mut *posted);
            } else {
                batch.append(&mut *posted);
            }
            batch.len()
        })
    }

    /// Takes the oldest message.
    pub fn take(&self) -> Option<T> {
        self.batch.with(|batch| batch.pop_front().or_else(|| sync::lock(&self.posted).pop_front()))
    }

    /// `true` while a message is queued. Asked on the loop's thread (or
    /// before any loop has the port), where `batch`'s flag is exact but
    /// for another thread's `receive_message_on_port` taking a message
    /// meanwhile (a locked read could be a moment later): only the loop
    /// adds to `batch`. So the batch costs a load, and only `posted` a lock.
    pub fn has_messages(&self) -> bool {
        self.batch.queued.load(Ordering::Relaxed) || !sync::lock(&self.posted).is_empty()
    }

    /// `true` once the channel is closed (messages may still be queued).
    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }

    /// `true` once the channel is closed and nothing is left to take. An
    /// open channel answers with a load (the loop asks once per batch).
    pub fn is_finished(&self) -> bool {
        self.is_closed()
            && self.batch.with(|batch| {
                let posted = sync::lock(&self.posted);
                posted.is_empty() && batch.is_empty()
            })
    }
}
