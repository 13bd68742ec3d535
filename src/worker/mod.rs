//! `jsloop::worker`: Node's `worker_threads`, more loops on other threads
//! and the ports between them.
//!
//! For now this is the ports: a [`MessageChannel`] gives two entangled
//! [`MessagePort`]s. Posting works from any thread and never blocks; the
//! receiving port's loop delivers each message in its poll phase as its own
//! macrotask, with a microtask checkpoint after it, as Node does.
//!
//! # Examples
//!
//! ```
//! use jsloop::worker::MessageChannel;
//!
//! jsloop::run(async {
//!     let MessageChannel { port1, port2 } = MessageChannel::new();
//!     let worker = std::thread::spawn(move || {
//!         port1.post_message(6 * 7).unwrap();
//!     });
//!     assert_eq!(port2.recv().await, Some(42));
//!     worker.join().unwrap();
//! });
//! ```

pub(crate) mod inbox;
mod loop_ports;
mod port;
mod receiver;

pub(crate) use loop_ports::LoopPorts;
pub use port::{receive_message_on_port, MessageChannel, MessagePort, PostError, Recv};
pub(crate) use receiver::PortDelivery;
