//! `incoming()`: a listener's connections as a `Stream`, Node's
//! `server.on('connection')`.

use std::fmt;
use std::future::Future;
use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

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
///
/// Out of descriptors (`EMFILE`), the error item comes at once and the next
/// item waits until a descriptor is freed or a short backoff runs out (see
/// "Out of descriptors" on [`TcpListener::accept`](super::TcpListener::accept)),
/// so a `while let Some(..) = incoming.next().await` loop that skips errors
/// does not spin.
///
/// # Examples
///
/// ```
/// use futures::StreamExt;
/// use jsloop::net::{Incoming, TcpListener, TcpStream};
///
/// jsloop::block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await?;
///     let addr = listener.local_addr()?;
///     let clients = [TcpStream::connect(addr).await?, TcpStream::connect(addr).await?];
///     let incoming: Incoming<'_, TcpListener> = listener.incoming();
///     let accepted: Vec<_> = incoming.take(clients.len()).collect().await;
///     assert!(accepted.iter().all(Result::is_ok));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
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
