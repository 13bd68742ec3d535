//! Poll phase, cross-thread side of a message port: its inbox.
//!
//! Any thread posts into a port's [`Inbox`]; the loop that owns the port
//! takes the messages out in its poll phase. The `notified` flag keeps the
//! announcements to one per batch, as [`RemoteQueue`](crate::remote::RemoteQueue)
//! does for wakes: the poster that sets it tells the loop, and the loop
//! clears it *before* counting the batch, so a post racing with the count is
//! either in this batch or announces the next one.

use std::collections::VecDeque;

use crate::sync::{self, AtomicBool, Mutex, Ordering};

/// The messages posted to one port and not yet taken, and whether the
/// channel is closed.
#[derive(Debug)]
pub struct Inbox<T> {
    state: Mutex<InboxState<T>>,
    /// Set by the first post (or close) after the loop last started a
    /// batch; whoever sets it announces the port to the loop.
    notified: AtomicBool,
}

#[derive(Debug)]
struct InboxState<T> {
    messages: VecDeque<T>,
    /// Either end closed: posting fails, and once `messages` is drained the
    /// receiver's stream ends.
    closed: bool,
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
            state: Mutex::new(InboxState { messages: VecDeque::new(), closed: false }),
            notified: AtomicBool::new(false),
        }
    }

    /// Queues `message`; gives it back if the channel is closed. The
    /// caller then announces the port ([`mark_notified`](Self::mark_notified)),
    /// once it knows which loop to tell: the push comes first, so a loop
    /// binding the port meanwhile either sees the message or is seen.
    pub fn post(&self, message: T) -> Result<(), T> {
        let mut state = sync::lock(&self.state);
        if state.closed {
            return Err(message);
        }
        state.messages.push_back(message);
        Ok(())
    }

    /// Closes the channel at this inbox; with `discard`, drops what is
    /// queued (the receiving port itself was closed).
    pub fn close(&self, discard: bool) {
        let messages = {
            let mut state = sync::lock(&self.state);
            state.closed = true;
            if discard {
                std::mem::take(&mut state.messages)
            } else {
                VecDeque::new()
            }
        };
        // Dropped outside the lock: a message's drop may post again.
        drop(messages);
    }

    /// Sets the flag; `true` if it was clear: the caller announces the
    /// port to its loop, and later posts of this batch do not.
    pub fn mark_notified(&self) -> bool {
        !self.notified.swap(true, Ordering::AcqRel)
    }

    /// Loop side: starts a batch and says how many messages it holds.
    /// Clearing the flag is a read-modify-write with `Acquire`: a poster
    /// that found it set returned without announcing, and its message must
    /// be counted here.
    pub fn start_batch(&self) -> usize {
        self.notified.swap(false, Ordering::AcqRel);
        sync::lock(&self.state).messages.len()
    }

    /// Takes the oldest message.
    pub fn take(&self) -> Option<T> {
        sync::lock(&self.state).messages.pop_front()
    }

    /// `true` while a message is queued.
    pub fn has_messages(&self) -> bool {
        !sync::lock(&self.state).messages.is_empty()
    }

    /// `true` once the channel is closed (messages may still be queued).
    pub fn is_closed(&self) -> bool {
        sync::lock(&self.state).closed
    }

    /// `true` once the channel is closed and nothing is left to take.
    pub fn is_finished(&self) -> bool {
        let state = sync::lock(&self.state);
        state.closed && state.messages.is_empty()
    }
}
