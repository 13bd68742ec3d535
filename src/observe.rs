//! Batched observers: records queued by [`Observer::notify`] and handed to
//! one callback call per batch, as `MutationObserver` hands over its
//! mutation records.
//!
//! **Where it enters the loop.** At the microtask checkpoint. The first
//! [`notify`](Observer::notify) of a batch queues one microtask on the
//! ring, exactly as [`queue_microtask`](crate::queue_microtask) would;
//! later notifies only add their record to the batch. When that microtask's
//! turn comes (after the current synchronous code, in FIFO order with the
//! other microtasks), it takes the whole batch and calls the callback once
//! with it. A notify from inside the callback starts the next batch, whose
//! microtask still runs in the same checkpoint, after the callback returns.
//! This is the seeds' `queueMicrotask` batching pattern, ported here from
//! its JavaScript:
//!
//! ```text
//! let pendingUpdates = [];
//! function scheduleUpdate(update) {
//!   pendingUpdates.push(update);
//!   if (pendingUpdates.length === 1) {
//!     queueMicrotask(flushUpdates);   // only once, however often it is called
//!   }
//! }
//! function flushUpdates() {
//!   const batch = pendingUpdates.splice(0);
//!   for (const update of batch) update();
//! }
//! ```
//!
//! ```
//! use jsloop::observe::Observer;
//!
//! jsloop::run(async {
//!     let flush = Observer::new(|batch: Vec<Box<dyn FnOnce()>>, _: &Observer<_>| {
//!         println!("flush of {} update(s)", batch.len());
//!         for update in batch {
//!             update();
//!         }
//!     });
//!     let schedule_update = |update: Box<dyn FnOnce()>| flush.notify(update);
//!     schedule_update(Box::new(|| println!("element1 textContent = updated")));
//!     schedule_update(Box::new(|| println!("element2 color = red")));
//!     schedule_update(Box::new(|| println!("element3 class += active")));
//!     println!("three updates scheduled"); // printed first: the flush is a microtask
//! });
//! ```
//!
//! **Differences from the JavaScript.** A batch emptied by
//! [`take_records`](Observer::take_records) keeps its microtask: a record
//! notified afterwards joins it instead of queueing a second one (the
//! pattern above would queue another flush; `MutationObserver` does as
//! here), and a microtask that finds no records does not call the callback.
//! And [`disconnect`](Observer::disconnect) is for good: there is no
//! `observe()` to call again, so a notify after it is ignored.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::panic::Location;
use std::rc::Rc;

use crate::context;
use crate::microtask::{Microtask, located_at};

/// A batched observer: the records [`notify`](Observer::notify)ed in one
/// stretch of synchronous code reach its callback together, in one call,
/// at the next microtask checkpoint.
///
/// Clones are handles to the same observer (an `Rc` inside), so a clone
/// can go to every place that notifies. It lives on the loop's thread:
/// it is neither `Send` nor `Sync`.
///
/// The callback gets the observer itself as its second argument, so it
/// need not hold a clone; a callback that does hold one keeps the observer
/// alive forever (an `Rc` cycle). A batch already queued is delivered even
/// if every handle is dropped before its microtask runs.
///
/// # Examples
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
/// use jsloop::observe::Observer;
///
/// let calls = Rc::new(RefCell::new(Vec::new()));
/// let seen = calls.clone();
/// jsloop::run(async move {
///     let observer = Observer::new(move |records: Vec<u32>, _: &Observer<u32>| {
///         seen.borrow_mut().push(records);
///     });
///     observer.notify(1);
///     observer.notify(2);
///     observer.notify(3);
/// });
/// assert_eq!(*calls.borrow(), [vec![1, 2, 3]]);
/// ```
///
/// It cannot leave its thread:
///
/// ```compile_fail
/// let observer = jsloop::observe::Observer::new(|_: Vec<u8>, _: &_| {});
/// std::thread::spawn(move || observer.notify(1));
/// ```
pub struct Observer<R: 'static> {
    shared: Rc<Shared<R>>,
}

/// What every handle of one observer shares. Neither `RefCell` is
/// borrowed while user code runs, except `callback` during its own call,
/// which nothing else touches: so a notify, a `take_records` or a
/// `disconnect` from inside the callback, or from a record's `Drop`, finds
/// them free, and a panicking callback leaves them free too.
struct Shared<R: 'static> {
    /// The batch being gathered: records notified since the last delivery
    /// or `take_records`.
    records: RefCell<Vec<R>>,
    /// A delivery microtask is on the ring and has not started: a notify
    /// joins its batch instead of queueing another.
    delivery_queued: Cell<bool>,
    /// Cleared for good by `disconnect`: notifies are ignored after it.
    connected: Cell<bool>,
    callback: RefCell<Box<BatchCallback<R>>>,
    /// Where the observer was made: what long-task reports and the trace
    /// name as the delivery microtask's origin.
    location: &'static Location<'static>,
}

impl<R: 'static> Observer<R> {
    /// An observer that calls `callback` with each batch of records, and
    /// with itself (to notify, take records or disconnect from inside).
    ///
    /// `MutationObserver`'s constructor; nothing is queued until the first
    /// [`notify`](Observer::notify). It can be made outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::observe::Observer;
    ///
    /// let log = Observer::new(|lines: Vec<String>, _: &Observer<String>| {
    ///     println!("{}", lines.join("\n"));
    /// });
    /// assert!(log.is_connected());
    /// ```
    #[track_caller]
    pub fn new(callback: impl FnMut(Vec<R>, &Observer<R>) + 'static) -> Observer<R> {
        Observer {
            shared: Rc::new(Shared {
                records: RefCell::new(Vec::new()),
                delivery_queued: Cell::new(false),
                connected: Cell::new(true),
                callback: RefCell::new(Box::new(callback)),
                location: Location::caller(),
            }),
        }
    }

    /// Adds `record` to the current batch; the first record of a batch
    /// queues the one microtask that delivers it.
    ///
    /// Records reach the callback in the order they were notified. A
    /// notify from inside the callback goes into the next batch: a new
    /// microtask, run in the same checkpoint once the callback returns.
    /// After [`disconnect`](Observer::disconnect) the record is dropped.
    ///
    /// # Panics
    ///
    /// Panics outside a runtime, as [`queue_microtask`](crate::queue_microtask)
    /// does (disconnected or not). A panic inside the callback is the
    /// delivery microtask's: it propagates out of `run` / `block_on`, unless
    /// the runtime was built with
    /// [`Builder::on_uncaught_panic`](crate::Builder::on_uncaught_panic),
    /// and then the observer goes on working, with that batch lost.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::observe::Observer;
    ///
    /// jsloop::run(async {
    ///     let observer = Observer::new(|records: Vec<&str>, this: &Observer<&str>| {
    ///         println!("batch {records:?}");
    ///         if records == ["a", "b"] {
    ///             this.notify("c"); // the next batch, in this same checkpoint
    ///         }
    ///     });
    ///     jsloop::queue_microtask(|| println!("a microtask queued first"));
    ///     observer.notify("a"); // queues the delivery
    ///     observer.notify("b"); // joins it
    ///     // prints: a microtask queued first, batch ["a", "b"], batch ["c"]
    /// });
    /// ```
    pub fn notify(&self, record: R) {
        context::with_current(|core| {
            let shared = &*self.shared;
            if !shared.connected.get() {
                return;
            }
            shared.records.borrow_mut().push(record);
            if !shared.delivery_queued.replace(true) {
                let delivery = Delivery { observer: Some(self.clone()) };
                let callback = located_at(shared.location, move || delivery.run());
                core.microtasks.push(Microtask::Callback(callback));
            }
        });
    }

    /// Takes the records of the batch not yet delivered, in notify order:
    /// `MutationObserver.takeRecords()`.
    ///
    /// The batch's microtask still runs, but finds nothing to deliver and
    /// does not call the callback (unless records are notified before it
    /// runs: they join it). Works outside a runtime too.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::observe::Observer;
    ///
    /// jsloop::run(async {
    ///     let observer = Observer::new(|_: Vec<u32>, _: &Observer<u32>| {
    ///         unreachable!("the batch was taken");
    ///     });
    ///     observer.notify(1);
    ///     observer.notify(2);
    ///     assert_eq!(observer.take_records(), [1, 2]);
    /// });
    /// ```
    pub fn take_records(&self) -> Vec<R> {
        self.shared.records.take()
    }

    /// Stops the observer for good: drops the records not yet delivered,
    /// and every later [`notify`](Observer::notify) is ignored, so the
    /// callback is not called again. `MutationObserver.disconnect()`,
    /// except that there is no `observe()` to start it again: make a new
    /// observer for that.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::observe::Observer;
    ///
    /// jsloop::run(async {
    ///     let observer = Observer::new(|_: Vec<u32>, _: &Observer<u32>| {
    ///         unreachable!("disconnected before any delivery");
    ///     });
    ///     observer.notify(1);
    ///     observer.disconnect();
    ///     observer.notify(2);
    ///     assert!(!observer.is_connected());
    ///     assert!(observer.take_records().is_empty());
    /// });
    /// ```
    pub fn disconnect(&self) {
        self.shared.connected.set(false);
        // Taken before dropped, so a record whose `Drop` notifies finds the
        // batch free (and is ignored).
        drop(self.shared.records.take());
    }

    /// Whether the observer still takes records: until
    /// [`disconnect`](Observer::disconnect).
    ///
    /// # Examples
    ///
    /// ```
    /// let observer = jsloop::observe::Observer::new(|_: Vec<()>, _: &_| {});
    /// assert!(observer.is_connected());
    /// observer.disconnect();
    /// assert!(!observer.is_connected());
    /// ```
    pub fn is_connected(&self) -> bool {
        self.shared.connected.get()
    }

    /// Runs the callback with the batch gathered so far, if there is one.
    fn deliver(&self) {
        let shared = &*self.shared;
        // Cleared before the callback runs, so that a notify inside it
        // queues the next batch's microtask rather than joining this one.
        shared.delivery_queued.set(false);
        let batch = shared.records.take();
        if batch.is_empty() {
            return;
        }
        let mut callback = shared.callback.borrow_mut();
        callback(batch, self);
    }
}

/// What the callback is: called with each batch and the observer.
type BatchCallback<R> = dyn FnMut(Vec<R>, &Observer<R>);

/// The delivery microtask's payload. Dropped unrun (the runtime shut down
/// with it on the ring), it clears `delivery_queued`, so the records it
/// leaves behind are delivered by whichever runtime the next notify runs
/// in, instead of waiting forever on a microtask that is gone.
struct Delivery<R: 'static> {
    /// `None` once run: the flag belongs to the next batch by then.
    observer: Option<Observer<R>>,
}

impl<R: 'static> Delivery<R> {
    fn run(mut self) {
        if let Some(observer) = self.observer.take() {
            observer.deliver();
        }
    }
}

impl<R: 'static> Drop for Delivery<R> {
    fn drop(&mut self) {
        if let Some(observer) = &self.observer {
            observer.shared.delivery_queued.set(false);
        }
    }
}

impl<R: 'static> Clone for Observer<R> {
    fn clone(&self) -> Observer<R> {
        Observer { shared: self.shared.clone() }
    }
}

impl<R: 'static> fmt::Debug for Observer<R> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Observer")
            .field("queued_records", &self.shared.records.borrow().len())
            .field("delivery_queued", &self.shared.delivery_queued.get())
            .field("connected", &self.shared.connected.get())
            .field("made_at", &self.shared.location)
            .finish_non_exhaustive()
    }
}
