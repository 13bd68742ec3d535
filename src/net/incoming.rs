//! `incoming()`: a listener's connections as a `Stream`, Node's
//! `server.on('connection')`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{ready, Context, Poll};

use futures_core::Stream;

type Accepting<'a, C> = Pin<Box<dyn Future<Output = io::Result<C>> + 'a>>;

/// A listening socket ([`TcpListener`](super::TcpListener),
/// [`UnixListener`](super::UnixListener)).
pub trait Listener: sealed::Sealed {
    /// The connection type it accepts.
    type Connection;

    #[doc(hidden)]
    fn accept_connection(&self) -> Accepting<'_, Self::Connection>;
}

pub(crate) mod sealed {
    pub trait Sealed {}
}

/// The stream of a listener's `incoming()`: each connection as it comes.
/// It never ends; an accept error is an item, and the stream goes on.
#[must_use = "streams do nothing unless polled"]
pub struct Incoming<'a, L: Listener> {
    listener: &'a L,
    accepting: Option<Accepting<'a, L::Connection>>,
}

impl<'a, L: Listener> Incoming<'a, L> {
    pub(crate) fn new(listener: &'a L) -> Self {
        Incoming { listener, accepting: None }
    }
}

impl<L: Listener> Stream for Incoming<'_, L> {
    type Item = io::Result<L::Connection>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let listener = self.listener;
        let accepting = self.accepting.get_or_insert_with(|| listener.accept_connection());
        let accepted = ready!(accepting.as_mut().poll(cx));
        self.accepting = None;
        Poll::Ready(Some(accepted))
    }
}

impl<L: Listener + fmt::Debug> fmt::Debug for Incoming<'_, L> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Incoming").field("listener", self.listener).finish()
    }
}
