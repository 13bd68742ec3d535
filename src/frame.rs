//! The frame phase: the browser's rendering opportunity, for frame-paced
//! programs (`requestAnimationFrame`).
//!
//! Frames are due at fixed slots, `origin + k × period` (`Builder::
//! frame_rate`, 60 Hz by default). When a slot has come and at least one
//! callback is requested, the loop runs a *frame phase* right after the
//! check phase: the callbacks requested before the phase began, each
//! followed by a checkpoint, then the render step (`Builder::on_render`)
//! and its checkpoint. Every callback of a frame sees the same
//! [`FrameInfo`]: the slot's timestamp, the frame's number, and how many
//! slots went by unrendered while the loop was busy (`missed`: a late frame
//! runs once, never a burst of catch-up frames). A callback requested
//! during the phase waits for the next frame, as in browsers.
//!
//! A pending request keeps the loop alive and bounds the poll phase's
//! sleep like a timer deadline; with none requested the loop never wakes
//! for frames.
//!
//! # Examples
//!
//! ```
//! use jsloop::frame::request_animation_frame;
//!
//! let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
//! rt.run(async {
//!     request_animation_frame(|first| {
//!         request_animation_frame(move |second| {
//!             // One period (1/60 s) later, the next slot.
//!             assert_eq!(second.number(), first.number() + 1);
//!             assert_eq!(second.missed(), 0);
//!         });
//!     });
//! });
//! # Ok::<(), std::io::Error>(())
//! ```

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::pin::Pin;
use std::rc::{Rc, Weak};
use std::task::{Context, Poll, Waker};
use std::time::{Duration, Instant as StdInstant};

use crate::context;
use crate::event_loop::Core;
use crate::listeners::{ListenerKey, Listeners};
use crate::time::Instant;

/// The default frame rate, in frames per second.
pub(crate) const DEFAULT_RATE: u32 = 60;
/// The highest frame rate `Builder::frame_rate` accepts.
pub(crate) const MAX_RATE: u32 = 1_000;

/// `Builder::frame_rate`'s value, checked (`None`: the default).
pub(crate) fn checked_rate(rate: Option<u32>) -> std::io::Result<u32> {
    match rate.unwrap_or(DEFAULT_RATE) {
        rate @ 1..=MAX_RATE => Ok(rate),
        rate => Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!("frame_rate({rate}): a frame rate is 1 to {MAX_RATE} frames per second"),
        )),
    }
}

/// What every callback of one frame is told.
///
/// # Examples
///
/// ```
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run(async {
///     jsloop::frame::request_animation_frame(|frame| {
///         println!("frame {} at {:?}, {} missed", frame.number(), frame.timestamp(), frame.missed());
///     });
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameInfo {
    timestamp: Instant,
    number: u64,
    missed: u64,
}

impl FrameInfo {
    /// The frame's slot on the loop's clock: the same for every callback
    /// of the frame (the browser's `DOMHighResTimeStamp`).
    pub fn timestamp(&self) -> Instant {
        self.timestamp
    }

    /// The frame's number: 1 for the runtime's first frame, one more for
    /// each frame after.
    pub fn number(&self) -> u64 {
        self.number
    }

    /// How many frame slots passed, since this frame was first due,
    /// without a frame (the loop was busy): 0 for a frame on time.
    pub fn missed(&self) -> u64 {
        self.missed
    }
}

/// What the loop runs for a frame.
pub(crate) enum Request {
    /// `request_animation_frame`'s callback.
    Callback(Box<dyn FnOnce(FrameInfo)>),
    /// A [`Frames`] stream waiting for its next item.
    Stream(Rc<StreamSlot>),
}

/// The render step: run once per frame, after the frame's callbacks.
pub(crate) type RenderStep = Box<dyn FnMut(FrameInfo)>;

/// The loop's frame state.
///
/// A frame takes every request made so far out of `requests` at once, into
/// `running`, and the phase pops them off the front: one step per callback
/// (no search by key), while a `cancel` during the phase still finds a
/// callback of the same frame that has not run, by a binary search of
/// `running` (keys only grow, so both lists are sorted by key, and every
/// key in `running` is below every key in `requests`).
pub(crate) struct FrameQueue {
    /// Slot 0: the runtime's start.
    origin: StdInstant,
    /// Nanoseconds between slots.
    period_nanos: u128,
    /// The requests for the next frame.
    requests: RefCell<Listeners<Request>>,
    /// The frame being run: its requests not run yet (`None`: cancelled).
    running: RefCell<VecDeque<(ListenerKey, Option<Request>)>>,
    /// Requests neither run nor cancelled, in both lists: a count, so that
    /// the loop's liveness check and an iteration with no frame requested
    /// cost no borrow.
    pending: Cell<usize>,
    /// The slot the pending requests are due at (set by the first request
    /// made while none is pending).
    due: Cell<Option<u64>>,
    /// The slot of the last frame run.
    last_slot: Cell<Option<u64>>,
    /// Frames run so far.
    frames: Cell<u64>,
    render: RefCell<Option<RenderStep>>,
}

impl FrameQueue {
    pub(crate) fn new(origin: StdInstant, rate: u32, render: Option<RenderStep>) -> FrameQueue {
        FrameQueue {
            origin,
            period_nanos: 1_000_000_000 / u128::from(rate.max(1)),
            requests: RefCell::default(),
            running: RefCell::default(),
            pending: Cell::new(0),
            due: Cell::new(None),
            last_slot: Cell::new(None),
            frames: Cell::new(0),
            render: RefCell::new(render),
        }
    }

    fn slot_at(&self, now: StdInstant) -> u64 {
        let since = now.saturating_duration_since(self.origin).as_nanos();
        u64::try_from(since / self.period_nanos).unwrap_or(u64::MAX)
    }

    fn slot_time(&self, slot: u64) -> StdInstant {
        let nanos = self.period_nanos * u128::from(slot);
        let since = Duration::new(
            u64::try_from(nanos / 1_000_000_000).unwrap_or(u64::MAX),
            (nanos % 1_000_000_000) as u32,
        );
        self.origin.checked_add(since).unwrap_or(self.origin)
    }

    /// Queues `request` for the next frame: the first slot after `now`
    /// (and after the last frame's). `now` is read only for the first
    /// request while none is pending: the others share its slot.
    fn push(&self, request: Request, now: impl FnOnce() -> StdInstant) -> ListenerKey {
        if self.pending.get() == 0 {
            let next = self.slot_at(now()).saturating_add(1);
            let after_last = self.last_slot.get().map_or(0, |slot| slot.saturating_add(1));
            self.due.set(Some(next.max(after_last)));
        }
        self.pending.set(self.pending.get() + 1);
        self.requests.borrow_mut().add(request)
    }

    /// Takes a request back (cancelled): from the next frame's, or from
    /// the running frame's not run yet. `None` if it ran or was cancelled
    /// already.
    pub(crate) fn remove(&self, key: ListenerKey) -> Option<Request> {
        let in_running = self.running.borrow().back().is_some_and(|(last, _)| key <= *last);
        let request = if in_running {
            let mut running = self.running.borrow_mut();
            let index = running.binary_search_by_key(&key, |(key, _)| *key).ok()?;
            running[index].1.take()
        } else {
            self.requests.borrow_mut().remove(key)
        }?;
        self.pending.set(self.pending.get() - 1);
        Some(request)
    }

    /// Whether a request waits for a frame (it keeps the loop alive).
    pub(crate) fn has_pending(&self) -> bool {
        self.pending.get() != 0
    }

    /// When the next frame is due, if one is requested: the poll phase
    /// sleeps no longer than that.
    pub(crate) fn next_deadline(&self) -> Option<StdInstant> {
        if !self.has_pending() {
            return None;
        }
        self.due.get().map(|slot| self.slot_time(slot))
    }

    /// Starts the frame due now, if there is one: its info; the requests
    /// made so far become the frame's, for [`next_request`]
    /// (Self::next_request) to hand out (later ones wait for the next
    /// frame).
    pub(crate) fn take_due(&self, now: StdInstant) -> Option<FrameInfo> {
        if !self.has_pending() {
            return None;
        }
        let due = self.due.get()?;
        let slot = self.slot_at(now);
        if slot < due {
            return None;
        }
        // What is requested from here on is the next slot's.
        self.due.set(Some(slot.saturating_add(1)));
        self.last_slot.set(Some(slot));
        let number = self.frames.get() + 1;
        self.frames.set(number);
        let info = FrameInfo {
            timestamp: Instant::from_std(self.slot_time(slot)),
            number,
            missed: slot - due,
        };
        let (mut running, mut requests) = (self.running.borrow_mut(), self.requests.borrow_mut());
        if running.is_empty() {
            // The last frame's list, run empty, keeps its capacity for
            // the next frame's requests.
            let spare = Vec::from(std::mem::take(&mut *running));
            *running = VecDeque::from(requests.replace_entries(spare));
        } else {
            // Left by a panic that unwound out of the last frame phase:
            // they run first, as they were requested first.
            running.extend(requests.replace_entries(Vec::new()));
        }
        Some(info)
    }

    /// The running frame's next request, in the order they were made
    /// (one cancelled before its turn is skipped, as the browser's
    /// `cancelAnimationFrame` in the same frame); `None` once all ran.
    pub(crate) fn next_request(&self) -> Option<Request> {
        let mut running = self.running.borrow_mut();
        while let Some((_, request)) = running.pop_front() {
            if let Some(request) = request {
                self.pending.set(self.pending.get() - 1);
                return Some(request);
            }
        }
        None
    }

    /// Takes the render step out to run it (it may request frames, which
    /// borrows the queue); the turn puts it back when dropped.
    pub(crate) fn render_turn(&self) -> Option<RenderTurn<'_>> {
        let render = self.render.borrow_mut().take()?;
        Some(RenderTurn { frames: self, render: Some(render) })
    }
}

/// The render step, out of its [`FrameQueue`] while it runs. Dropping the
/// turn puts it back, also when its panic unwinds out of `run` (no
/// uncaught handler): the runtime stays usable, render step included.
pub(crate) struct RenderTurn<'a> {
    frames: &'a FrameQueue,
    render: Option<RenderStep>,
}

impl RenderTurn<'_> {
    pub(crate) fn run(&mut self, info: FrameInfo) {
        if let Some(render) = &mut self.render {
            render(info);
        }
    }
}

impl Drop for RenderTurn<'_> {
    fn drop(&mut self) {
        *self.frames.render.borrow_mut() = self.render.take();
    }
}

impl Request {
    /// Runs the request for the frame `info` (on the loop thread).
    pub(crate) fn run(self, info: FrameInfo) {
        match self {
            Request::Callback(callback) => callback(info),
            Request::Stream(slot) => slot.deliver(info),
        }
    }
}

/// A frame callback waiting for its frame; [`cancel`](FrameRequest::cancel)
/// takes it back.
///
/// Frames belong to the loop thread: a request cannot move to another
/// thread (nor can `request_animation_frame` be called from one, which has
/// no runtime):
///
/// ```compile_fail
/// jsloop::run(async {
///     let request = jsloop::frame::request_animation_frame(|_| {});
///     std::thread::spawn(move || request.cancel()); // `FrameRequest` is not `Send`
/// });
/// ```
#[derive(Clone)]
pub struct FrameRequest {
    core: Weak<Core>,
    key: ListenerKey,
}

impl FrameRequest {
    /// Takes the callback back if its frame has not run it yet (the
    /// browser's `cancelAnimationFrame`); a no-op after it ran, or once the
    /// runtime is gone.
    ///
    /// # Examples
    ///
    /// ```
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.run(async {
    ///     let request = jsloop::frame::request_animation_frame(|_| unreachable!());
    ///     request.cancel(); // nothing requested: the loop ends at once
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn cancel(&self) {
        if let Some(core) = self.core.upgrade() {
            drop(core.frames.remove(self.key));
        }
    }
}

impl fmt::Debug for FrameRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameRequest").finish_non_exhaustive()
    }
}

/// Runs `callback` in the next frame (the browser's
/// `requestAnimationFrame`); see the [module docs](self) for where frames
/// sit in the loop.
///
/// # Panics
///
/// Outside a runtime: "no jsloop runtime is running on this thread".
///
/// # Examples
///
/// ```
/// use std::cell::Cell;
/// use std::rc::Rc;
///
/// let stamps = Rc::new(Cell::new([None, None]));
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.run({
///     let stamps = stamps.clone();
///     async move {
///         for i in 0..2 {
///             let stamps = stamps.clone();
///             jsloop::frame::request_animation_frame(move |frame| {
///                 let mut seen = stamps.get();
///                 seen[i] = Some(frame.timestamp());
///                 stamps.set(seen);
///             });
///         }
///     }
/// });
/// let [a, b] = stamps.get();
/// assert_eq!(a, b); // one timestamp per frame
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn request_animation_frame(callback: impl FnOnce(FrameInfo) + 'static) -> FrameRequest {
    context::with_current(|core| {
        let key = core.frames.push(Request::Callback(Box::new(callback)), || core.clock.now());
        FrameRequest { core: core.weak(), key }
    })
}

/// The browser's `cancelAnimationFrame`: [`FrameRequest::cancel`].
///
/// # Examples
///
/// ```
/// use jsloop::frame::{cancel_animation_frame, request_animation_frame};
///
/// jsloop::run(async {
///     let request = request_animation_frame(|_| unreachable!());
///     cancel_animation_frame(&request);
/// });
/// ```
pub fn cancel_animation_frame(request: &FrameRequest) {
    request.cancel();
}

/// Where a [`Frames`] stream's next frame lands.
#[derive(Default)]
pub(crate) struct StreamSlot {
    frame: Cell<Option<FrameInfo>>,
    waker: RefCell<Option<Waker>>,
}

impl StreamSlot {
    fn deliver(&self, info: FrameInfo) {
        self.frame.set(Some(info));
        if let Some(waker) = self.waker.borrow_mut().take() {
            waker.wake();
        }
    }
}

/// Frames as a [`Stream`](futures_core::Stream), for `async` render loops:
/// each item is a frame's [`FrameInfo`], with the same pacing as
/// [`request_animation_frame`] (a pending `next()` is a request).
///
/// # Panics
///
/// Outside a runtime.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// rt.block_on(async {
///     let mut frames = jsloop::frame::frames();
///     let first = frames.next().await.unwrap();
///     let second = frames.next().await.unwrap();
///     assert_eq!(second.number(), first.number() + 1);
/// });
/// # Ok::<(), std::io::Error>(())
/// ```
pub fn frames() -> Frames {
    context::with_current(|core| Frames { core: core.weak(), request: None })
}

/// The stream of [`frames`].
#[must_use = "streams do nothing unless polled"]
pub struct Frames {
    core: Weak<Core>,
    /// The request waiting for the next frame, and where it lands.
    request: Option<(ListenerKey, Rc<StreamSlot>)>,
}

impl futures_core::Stream for Frames {
    type Item = FrameInfo;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<FrameInfo>> {
        let Some(core) = self.core.upgrade() else { return Poll::Ready(None) };
        if let Some((_, slot)) = &self.request {
            if let Some(info) = slot.frame.take() {
                self.request = None;
                return Poll::Ready(Some(info));
            }
            slot.waker.borrow_mut().replace(cx.waker().clone());
            return Poll::Pending;
        }
        let slot = Rc::new(StreamSlot::default());
        *slot.waker.borrow_mut() = Some(cx.waker().clone());
        let key = core.frames.push(Request::Stream(slot.clone()), || core.clock.now());
        self.request = Some((key, slot));
        Poll::Pending
    }
}

impl Drop for Frames {
    fn drop(&mut self) {
        if let (Some((key, slot)), Some(core)) = (&self.request, self.core.upgrade()) {
            if slot.frame.get().is_none() {
                drop(core.frames.remove(*key));
            }
        }
    }
}

impl fmt::Debug for Frames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Frames").finish_non_exhaustive()
    }
}
