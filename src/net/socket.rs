//! What every socket type shares, written once: its local address,
//! `unref` / `ref_` (whether waiting on it keeps the loop alive), `Debug`,
//! the listeners' `Listener` impl and the datagram sockets' `send` / `recv`.
//! Each type wraps an `inner: Async<std type>`.

/// `local_addr`, `unref`, `ref_` and `Debug` for a socket type whose local
/// address is an `$addr`.
macro_rules! socket_handle {
    ($socket:ident, $addr:ty) => {
        impl $socket {
            /// The local address.
            ///
            /// # Errors
            ///
            /// The OS's.
            pub fn local_addr(&self) -> std::io::Result<$addr> {
                self.inner.get_ref().local_addr()
            }

            /// Waiting on this socket no longer keeps the loop alive: Node's
            /// `unref()`.
            pub fn unref(&self) -> &Self {
                self.inner.unref();
                self
            }

            /// Waiting on this socket keeps the loop alive again (the
            /// default): Node's `ref()`.
            pub fn ref_(&self) -> &Self {
                self.inner.ref_();
                self
            }
        }

        impl std::fmt::Debug for $socket {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.debug_struct(stringify!($socket))
                    .field("local_addr", &self.local_addr().ok())
                    .finish()
            }
        }
    };
}

/// `Listener` (for `incoming()`) for a listener accepting `$stream`s.
macro_rules! listener {
    ($listener:ident, $stream:ident) => {
        impl crate::net::incoming::sealed::Sealed for $listener {}

        impl crate::net::incoming::Listener for $listener {
            type Connection = $stream;

            fn accept_connection(
                &self,
            ) -> std::pin::Pin<Box<dyn std::future::Future<Output = std::io::Result<$stream>> + '_>>
            {
                Box::pin(async { Ok(self.accept().await?.0) })
            }
        }
    };
}

/// `send` / `recv` with the connected peer, for a datagram socket.
macro_rules! connected_datagrams {
    ($socket:ident) => {
        impl $socket {
            /// Sends a datagram to the connected peer.
            ///
            /// # Errors
            ///
            /// `NotConnected` before `connect`; the OS's otherwise
            /// (`ConnectionRefused` once the peer is known to be gone, for
            /// instance).
            pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
                self.inner.write_with(|socket| socket.send(buf)).await
            }

            /// Receives a datagram from the connected peer. A datagram
            /// longer than `buf` is truncated.
            ///
            /// # Errors
            ///
            /// As for `send`.
            pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
                self.inner.read_with(|socket| socket.recv(buf)).await
            }
        }
    };
}

pub(crate) use {connected_datagrams, listener, socket_handle};
