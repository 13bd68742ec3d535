//! `jsloop::time::promises`: Node's `timers/promises` — a timer, an
//! immediate and an interval that settle promises instead of calling back.
//!
//! Each is an ordinary timer or immediate underneath: a promise timer shares
//! the timers phase (and the same-delay FIFO) with callback timers, and its
//! promise's reactions run in that timer's own checkpoint; the immediate
//! promise settles in the check phase, in queue order with callback
//! immediates. [`TimerOptions`] carries Node's `{ signal, ref }`: an
//! [`AbortSignal`] that rejects the promise with its reason, synchronously
//! inside `abort()`, and clears the timer; and `ref_(false)`, which lets the
//! loop end with the promise still pending (it then never settles).
//!
//! # Examples
//!
//! ```
//! use std::time::Duration;
//! use jsloop::time::promises;
//!
//! jsloop::run(async {
//!     let value = promises::set_timeout(Duration::from_millis(5), "done").await;
//!     assert_eq!(value.unwrap(), "done");
//!     promises::set_immediate(()).await.unwrap(); // one check phase later
//! });
//! ```

use std::cell::{Cell, RefCell};
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use crate::abort::{AbortReason, AbortSignal, ListenerId};
use crate::promise::Promise;
use crate::time::timers::Timer;

/// Node's `{ signal, ref }` options of the promise timers.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::promises::{self, TimerOptions};
///
/// jsloop::run(async {
///     let controller = jsloop::AbortController::new();
///     let options = TimerOptions::new().signal(&controller.signal());
///     let waiting = promises::set_timeout_with(Duration::from_secs(60), (), options);
///     controller.abort("not needed");
///     assert_eq!(waiting.await.unwrap_err().to_string(), "not needed");
/// });
/// ```
#[derive(Clone, Debug)]
pub struct TimerOptions {
    signal: Option<AbortSignal>,
    is_ref: bool,
}

impl Default for TimerOptions {
    fn default() -> Self {
        TimerOptions { signal: None, is_ref: true }
    }
}

impl TimerOptions {
    /// No signal, ref'd: the defaults.
    ///
    /// # Examples
    ///
    /// ```
    /// let options = jsloop::time::promises::TimerOptions::new();
    /// # drop(options);
    /// ```
    pub fn new() -> Self {
        TimerOptions::default()
    }

    /// `{ signal }`: aborting `signal` rejects the promise (or ends the
    /// interval) with its reason and clears the timer.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::time::promises::{self, TimerOptions};
    ///
    /// jsloop::run(async {
    ///     let options = TimerOptions::new().signal(&jsloop::AbortSignal::abort("early"));
    ///     // An aborted signal rejects at once.
    ///     assert!(promises::set_immediate_with((), options).await.is_err());
    /// });
    /// ```
    pub fn signal(mut self, signal: &AbortSignal) -> Self {
        self.signal = Some(signal.clone());
        self
    }

    /// `{ ref }`: with `false` the timer does not keep the loop alive (the
    /// default is `true`).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::promises::{self, TimerOptions};
    ///
    /// jsloop::run(async {
    ///     // `run` does not wait an hour: the promise just never settles.
    ///     let _ = promises::set_timeout_with(Duration::from_secs(3600), (), TimerOptions::new().ref_(false));
    /// });
    /// ```
    pub fn ref_(mut self, is_ref: bool) -> Self {
        self.is_ref = is_ref;
        self
    }
}

/// A promise the timer fulfils with `value` after `delay`:
/// `timersPromises.setTimeout(delay, value)`. The delay follows
/// [`set_timeout`](crate::set_timeout)'s rules.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
///
/// jsloop::run(async {
///     let late = jsloop::time::promises::set_timeout(Duration::from_millis(2), 7);
///     assert_eq!(late.await.unwrap(), 7);
/// });
/// ```
pub fn set_timeout<T: 'static>(delay: Duration, value: T) -> Promise<T, AbortReason> {
    set_timeout_with(delay, value, TimerOptions::new())
}

/// [`set_timeout`] with `{ signal, ref }` options.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::promises::{self, TimerOptions};
///
/// jsloop::run(async {
///     let signal = jsloop::AbortSignal::timeout(Duration::from_millis(1));
///     let slow = promises::set_timeout_with(Duration::from_secs(60), (), TimerOptions::new().signal(&signal));
///     assert!(slow.await.unwrap_err().is_timeout());
/// });
/// ```
pub fn set_timeout_with<T: 'static>(
    delay: Duration,
    value: T,
    options: TimerOptions,
) -> Promise<T, AbortReason> {
    settle_once(options, value, |fire, is_ref| {
        let timer = crate::set_timeout(delay, fire);
        if !is_ref {
            timer.unref();
        }
        Box::new(move || timer.clear())
    })
}

/// A promise fulfilled with `value` in the check phase:
/// `timersPromises.setImmediate(value)`.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// jsloop::run(async {
///     jsloop::set_immediate(|| println!("1: queued first"));
///     let v = jsloop::time::promises::set_immediate("2: then the promise").await;
///     println!("{}", v.unwrap());
/// });
/// ```
pub fn set_immediate<T: 'static>(value: T) -> Promise<T, AbortReason> {
    set_immediate_with(value, TimerOptions::new())
}

/// [`set_immediate`] with `{ signal, ref }` options.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use jsloop::time::promises::{self, TimerOptions};
///
/// jsloop::run(async {
///     let controller = jsloop::AbortController::new();
///     let p = promises::set_immediate_with(1, TimerOptions::new().signal(&controller.signal()));
///     controller.abort("changed my mind");
///     assert_eq!(p.await.unwrap_err().to_string(), "changed my mind");
/// });
/// ```
pub fn set_immediate_with<T: 'static>(value: T, options: TimerOptions) -> Promise<T, AbortReason> {
    settle_once(options, value, |fire, is_ref| {
        let immediate = crate::set_immediate(fire);
        if !is_ref {
            immediate.unref();
        }
        Box::new(move || immediate.clear())
    })
}

/// A one-shot promise timer: `start` arms the timer or immediate with the
/// callback that fulfils the promise and returns how to cancel it; an abort
/// of the options' signal cancels it and rejects.
fn settle_once<T: 'static>(
    options: TimerOptions,
    value: T,
    start: impl FnOnce(Box<dyn FnOnce()>, bool) -> Box<dyn FnOnce()>,
) -> Promise<T, AbortReason> {
    crate::context::with_current(|_| ());
    let (promise, resolve, reject) = Promise::with_resolvers();
    if let Some(reason) = options.signal.as_ref().and_then(AbortSignal::reason) {
        reject(reason);
        return promise;
    }
    let watch = AbortWatch::default();
    let fired = watch.clone();
    let cancel = start(
        Box::new(move || {
            fired.stop();
            resolve(value);
        }),
        options.is_ref,
    );
    if let Some(signal) = options.signal {
        watch.start(&signal, move |reason| {
            cancel();
            reject(reason.clone());
        });
    }
    promise
}

/// The abort listener of one promise timer, removed once the timer fired.
#[derive(Clone, Default)]
struct AbortWatch(Rc<RefCell<Option<(AbortSignal, ListenerId)>>>);

impl AbortWatch {
    fn start(&self, signal: &AbortSignal, on_abort: impl FnOnce(&AbortReason) + 'static) {
        let id = signal.add_listener(on_abort);
        *self.0.borrow_mut() = Some((signal.clone(), id));
    }

    fn stop(&self) {
        if let Some((signal, id)) = self.0.borrow_mut().take() {
            signal.remove_listener(id);
        }
    }
}

/// An interval that yields `value` on every tick:
/// `timersPromises.setInterval(period, value)`, Node's async iterator as a
/// [`Stream`](futures_core::Stream) (`for await` is `while let Some(..) =
/// stream.next().await`).
///
/// Ticks the consumer has not taken yet are counted and handed out at once,
/// as Node's iterator does. Dropping the stream clears the interval (a
/// `break` out of `for await`).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
///
/// jsloop::run(async {
///     let mut ticks = jsloop::time::promises::set_interval(Duration::from_millis(2), "tick");
///     for _ in 0..3 {
///         assert_eq!(ticks.next().await.unwrap().unwrap(), "tick");
///     }
/// }); // the stream was dropped: the interval is cleared and `run` returns
/// ```
pub fn set_interval<T: Clone + 'static>(period: Duration, value: T) -> IntervalStream<T> {
    set_interval_with(period, value, TimerOptions::new())
}

/// [`set_interval`] with `{ signal, ref }` options. An abort ends the
/// stream with `Err(reason)` (then `None`), waking a consumer that waits.
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use futures::StreamExt;
/// use jsloop::time::promises::{self, TimerOptions};
///
/// jsloop::run(async {
///     let controller = jsloop::AbortController::new();
///     let options = TimerOptions::new().signal(&controller.signal());
///     let mut ticks = promises::set_interval_with(Duration::from_millis(2), 1, options);
///     assert_eq!(ticks.next().await.unwrap().unwrap(), 1);
///     controller.abort("enough");
///     assert_eq!(ticks.next().await.unwrap().unwrap_err().to_string(), "enough");
///     assert!(ticks.next().await.is_none());
/// });
/// ```
pub fn set_interval_with<T: Clone + 'static>(
    period: Duration,
    value: T,
    options: TimerOptions,
) -> IntervalStream<T> {
    crate::context::with_current(|_| ());
    let state = Rc::new(IntervalState {
        ticks: Cell::new(0),
        aborted: RefCell::new(options.signal.as_ref().and_then(AbortSignal::reason)),
        ended: Cell::new(false),
        waker: RefCell::new(None),
    });
    let watch = AbortWatch::default();
    let mut timer = None;
    if state.aborted.borrow().is_none() {
        let ticked = state.clone();
        let interval = crate::set_interval(period, move || {
            ticked.ticks.set(ticked.ticks.get() + 1);
            ticked.wake();
        });
        if !options.is_ref {
            interval.unref();
        }
        if let Some(signal) = &options.signal {
            let (aborted, interval) = (state.clone(), interval.clone());
            watch.start(signal, move |reason| {
                interval.clear();
                *aborted.aborted.borrow_mut() = Some(reason.clone());
                aborted.wake();
            });
        }
        timer = Some(interval);
    }
    IntervalStream { state, value, timer, watch }
}

struct IntervalState {
    /// Ticks not handed out yet.
    ticks: Cell<u64>,
    /// The signal's reason, until the stream hands it out.
    aborted: RefCell<Option<AbortReason>>,
    /// The abort was handed out: the stream is over.
    ended: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl IntervalState {
    fn wake(&self) {
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// The stream of [`set_interval`]: `Ok(value)` per tick, `Err(reason)` once
/// if its signal is aborted, then `None`.
#[must_use = "streams do nothing unless polled"]
pub struct IntervalStream<T> {
    state: Rc<IntervalState>,
    value: T,
    timer: Option<Timer>,
    watch: AbortWatch,
}

impl<T: Clone> futures_core::Stream for IntervalStream<T> {
    type Item = Result<T, AbortReason>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let state = &self.state;
        if state.ended.get() {
            return Poll::Ready(None);
        }
        if let Some(reason) = state.aborted.borrow_mut().take() {
            state.ended.set(true);
            return Poll::Ready(Some(Err(reason)));
        }
        if state.ticks.get() > 0 {
            state.ticks.set(state.ticks.get() - 1);
            return Poll::Ready(Some(Ok(self.value.clone())));
        }
        *state.waker.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }
}

impl<T> Drop for IntervalStream<T> {
    fn drop(&mut self) {
        if let Some(timer) = &self.timer {
            timer.clear();
        }
        self.watch.stop();
    }
}

impl<T> std::fmt::Debug for IntervalStream<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IntervalStream")
            .field("ticks_waiting", &self.state.ticks.get())
            .field("ended", &self.state.ended.get())
            .finish()
    }
}

/// Node's `timersPromises.scheduler`: `wait(delay)` and `yield_now()`.
pub mod scheduler {
    use super::*;

    /// `scheduler.wait(delay)`: a promise fulfilled after `delay`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    ///
    /// jsloop::run(async {
    ///     jsloop::time::promises::scheduler::wait(Duration::from_millis(1)).await.unwrap();
    /// });
    /// ```
    pub fn wait(delay: Duration) -> Promise<(), AbortReason> {
        set_timeout(delay, ())
    }

    /// `scheduler.yield()`: a promise fulfilled in the check phase, letting
    /// the timers and I/O run first.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// jsloop::run(async {
    ///     jsloop::time::promises::scheduler::yield_now().await.unwrap();
    /// });
    /// ```
    pub fn yield_now() -> Promise<(), AbortReason> {
        set_immediate(())
    }
}
