//! Port of `25-queuemicrotask-batching.js`: `queue_microtask` batching
//! (scheduleUpdate / flushUpdates): one flush after the macrotask, in FIFO
//! position among other microtasks; updates scheduled during the flush start
//! a new batch in the same checkpoint; a timer's batch flushes before the
//! next timer.

use std::cell::RefCell;
use std::time::Duration;

use jsloop::{queue_microtask, set_timeout};

type Update = Box<dyn FnOnce()>;

// The script's top-level `let pendingUpdates = [];`.
thread_local! {
    static PENDING_UPDATES: RefCell<Vec<Update>> = const { RefCell::new(Vec::new()) };
}

fn schedule_update(update: impl FnOnce() + 'static) {
    let len = PENDING_UPDATES.with_borrow_mut(|pending| {
        pending.push(Box::new(update));
        pending.len()
    });
    if len == 1 {
        // Only schedule the flush once, even if called many times
        queue_microtask(flush_updates);
    }
}

fn flush_updates() {
    // pendingUpdates.splice(0)
    let batch = PENDING_UPDATES.take();
    out!("flush of {} update(s)", batch.len());
    for update in batch {
        update();
    }
}

pub fn main() {
    jsloop::run(async {
        // let pendingUpdates = [];
        PENDING_UPDATES.take();
        // Promise.resolve().then(...)
        queue_microtask(|| out!("microtask queued before the batch"));
        schedule_update(|| out!("element1 textContent = updated"));
        schedule_update(|| {
            out!("element2 color = red");
            schedule_update(|| out!("update scheduled during the flush"));
        });
        schedule_update(|| out!("element3 class += active"));
        queue_microtask(|| out!("microtask queued after the batch"));
        out!("three updates scheduled");

        set_timeout(Duration::from_millis(5), || {
            out!("timer 1");
            schedule_update(|| out!("timer update a"));
            schedule_update(|| out!("timer update b"));
        });
        set_timeout(Duration::from_millis(5), || out!("timer 2"));
    });
}
