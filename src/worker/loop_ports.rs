//! Poll phase, loop side of message ports: what the loop keeps for each
//! port bound to it (listener, waiting receiver, close listeners) and how
//! many of them keep it alive.
//!
//! A port's listener is `!Send`, so it cannot live in the port (which may
//! cross threads); it lives here, in the loop that owns the port, keyed by
//! the port's id. Nothing here is touched unless a port is bound to the
//! loop, so a loop without ports pays one `Cell` read in `is_alive`.

use std::any::Any;
use std::cell::{Cell, RefCell};
use std::task::Waker;

use crate::int_map::IntMap;

/// The ports bound to one loop.
#[derive(Default)]
pub(crate) struct LoopPorts {
    /// Bound ports with a listener or a waiting receiver, and ref'd: while
    /// non-zero the loop stays alive (a ref'd libuv handle).
    refs: Cell<usize>,
    /// Per port id, what the loop holds for it; removed once the port's
    /// close has been delivered.
    pub(super) slots: RefCell<IntMap<PortSlot>>,
}

impl LoopPorts {
    /// `true` while a bound port keeps the loop alive.
    #[inline]
    pub(crate) fn keep_alive(&self) -> bool {
        self.refs.get() != 0
    }

    /// Counts `slot` in or out of the loop's refs as `wants` says.
    pub(super) fn set_counted(&self, slot: &mut PortSlot, wants: bool) {
        if slot.counted != wants {
            slot.counted = wants;
            self.refs.set(if wants { self.refs.get() + 1 } else { self.refs.get() - 1 });
        }
    }
}

/// The loop's half of one bound port.
#[derive(Default)]
pub(super) struct PortSlot {
    /// The `on_message` listener, a `Box<dyn FnMut(T)>` (taken out while it
    /// runs, so it may touch its own port).
    pub(super) listener: Option<Box<dyn Any>>,
    /// A listener is attached (also while it runs and `listener` is empty).
    pub(super) listening: bool,
    /// The task waiting in `recv` / the stream.
    pub(super) waiter: Option<Waker>,
    /// Deliveries made to the waiting receiver and not yet taken: each
    /// lets `recv` take one message from the inbox (no copy of it here, so
    /// no allocation per message).
    pub(super) permits: usize,
    /// `on_close` listeners, run once when the close is delivered.
    pub(super) on_close: Vec<Box<dyn FnOnce()>>,
    /// Counted in [`LoopPorts::refs`].
    counted: bool,
}
