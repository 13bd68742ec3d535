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
//!
//! Every socket, and the halves of a split stream, is `Send + Sync`, as
//! tokio's are: it can move to another thread or loop and keeps working,
//! its readiness following the loop that waits on it (see
//! [`Async`](crate::io::Async#across-threads)). So crates that need `Send`
//! I/O, such as hyper-util's pooled `Client` or `async-h1`, run on jsloop:
//!
//! ```
//! use futures::{AsyncReadExt, AsyncWriteExt};
//! use jsloop::net::{TcpListener, TcpStream};
//!
//! jsloop::block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await?;
//!     let mut client = TcpStream::connect(listener.local_addr()?).await?;
//!     let (server, _) = listener.accept().await?;
//!     // The accepted socket moves to a loop on another thread.
//!     let worker = std::thread::spawn(move || {
//!         jsloop::block_on(async move {
//!             let mut server = server;
//!             server.write_all(b"from another loop").await
//!         })
//!     });
//!     let mut text = String::new();
//!     client.read_to_string(&mut text).await?;
//!     assert_eq!(text, "from another loop");
//!     worker.join().unwrap()
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```

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
