//! The pair of listeners a helper ([`once`](super::once), [`on`](super::on))
//! registers, one for the event and one for `'error'`: whichever ends the
//! helper's wait removes both, as Node's `events.once` and `events.on` do.

use std::cell::Cell;
use std::rc::Rc;

use super::emitter::{EventEmitter, ListenerId, WeakEmitter};

pub(super) struct Subscription<T, E> {
    /// Weak: the listeners hold the subscription, and the emitter holds
    /// the listeners.
    emitter: WeakEmitter<T, E>,
    /// `None` before both are registered, and once removed.
    ids: Cell<Option<[ListenerId; 2]>>,
}

impl<T, E> Subscription<T, E> {
    pub(super) fn new(emitter: &EventEmitter<T, E>) -> Rc<Self> {
        Rc::new(Subscription { emitter: emitter.downgrade(), ids: Cell::new(None) })
    }

    /// Records the two listeners, once registered.
    pub(super) fn set(&self, event: ListenerId, error: ListenerId) {
        self.ids.set(Some([event, error]));
    }

    /// Removes both listeners (a no-op the second time, or if the emitter
    /// is gone).
    pub(super) fn cancel(&self) {
        for id in self.ids.take().into_iter().flatten() {
            self.emitter.off(id);
        }
    }
}
