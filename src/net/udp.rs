//! UDP: `UdpSocket` on the loop's poller (Node's `dgram`).

use std::io;
use std::net::{self, SocketAddr};

use super::addr::{ToSocketAddrs, each_addr};
use super::socket::{connected_datagrams, socket_handle};
use crate::io::Async;

/// A UDP socket: `dgram.createSocket(..)`.
///
/// Waiting to receive keeps the loop alive unless
/// [`unref`](UdpSocket::unref)'d.
///
/// # Examples
///
/// ```
/// use jsloop::net::UdpSocket;
///
/// jsloop::block_on(async {
///     let a = UdpSocket::bind("127.0.0.1:0").await?;
///     let b = UdpSocket::bind("127.0.0.1:0").await?;
///     a.send_to(b"ping", b.local_addr()?).await?;
///     let mut buf = [0; 16];
///     let (n, from) = b.recv_from(&mut buf).await?;
///     assert_eq!((&buf[..n], from), (&b"ping"[..], a.local_addr()?));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct UdpSocket {
    inner: Async<net::UdpSocket>,
}

impl UdpSocket {
    /// Binds to `addr` (the first of its addresses that works).
    ///
    /// # Errors
    ///
    /// `AddrInUse` if taken, a resolver error, or the last address's error.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub async fn bind(addr: impl ToSocketAddrs) -> io::Result<UdpSocket> {
        each_addr(addr, |addr| async move { UdpSocket::from_std(net::UdpSocket::bind(addr)?) })
            .await
    }

    /// Wraps a socket from the standard library (made non-blocking).
    ///
    /// # Errors
    ///
    /// If it cannot be registered with the poller.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    pub fn from_std(socket: net::UdpSocket) -> io::Result<UdpSocket> {
        Ok(UdpSocket { inner: Async::new(socket)? })
    }

    /// Sends a datagram to `target`; returns the bytes sent.
    ///
    /// # Errors
    ///
    /// The OS's, or a resolver error.
    pub async fn send_to(&self, buf: &[u8], target: impl ToSocketAddrs) -> io::Result<usize> {
        each_addr(target, |addr| self.inner.write_with(move |s| s.send_to(buf, addr))).await
    }

    /// Receives a datagram; returns its length and sender. A datagram
    /// longer than `buf` is truncated.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        self.inner.read_with(|s| s.recv_from(buf)).await
    }

    /// Sets the default peer of [`send`](UdpSocket::send) and the only
    /// sender [`recv`](UdpSocket::recv) accepts.
    ///
    /// # Errors
    ///
    /// The OS's, or a resolver error.
    pub async fn connect(&self, addr: impl ToSocketAddrs) -> io::Result<()> {
        each_addr(addr, |addr| async move { self.inner.get_ref().connect(addr) }).await
    }

    /// The connected peer's address.
    ///
    /// # Errors
    ///
    /// `NotConnected` before [`connect`](UdpSocket::connect).
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.inner.get_ref().peer_addr()
    }

    /// Allows sending to broadcast addresses.
    ///
    /// # Errors
    ///
    /// The OS's.
    pub fn set_broadcast(&self, on: bool) -> io::Result<()> {
        self.inner.get_ref().set_broadcast(on)
    }
}

socket_handle!(UdpSocket, SocketAddr);
connected_datagrams!(UdpSocket);
