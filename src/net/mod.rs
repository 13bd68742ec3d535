//! Networking on the loop's poller, Node's `net` and `dgram`: TCP
//! ([`TcpListener`], [`TcpStream`]), UDP ([`UdpSocket`]) and Unix sockets
//! ([`UnixListener`], [`UnixStream`], [`UnixDatagram`]); and name
//! resolution on the worker pool ([`lookup_host`]), as Node's `dns.lookup`
//! runs on libuv's threadpool.
//!
//! Readiness is delivered in the poll phase, a checkpoint after each event.
//! A socket with a task waiting on it keeps the loop alive unless it was
//! `unref`'d. The stream types implement `futures-io`'s `AsyncRead` and
//! `AsyncWrite` (also through `&`), so they plug into the futures
//! ecosystem.

mod accept;
mod addr;
mod incoming;
mod listen;
mod lookup;
mod socket;
mod stream;
mod tcp;
mod udp;
mod unix;

pub use addr::ToSocketAddrs;
pub use incoming::{Incoming, Listener};
pub use listen::TcpListenerBuilder;
pub use lookup::lookup_host;
pub use stream::{ReadHalf, StreamSocket, WriteHalf};
pub use tcp::{TcpListener, TcpStream};
pub use udp::UdpSocket;
pub use unix::{UnixDatagram, UnixListener, UnixStream};
