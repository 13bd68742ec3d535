//! `jsloop::worker`: Node's `worker_threads`: more event loops on other
//! threads, each single-threaded with its own timers, poll and check phases,
//! and the message ports between loops.
//!
//! [`Worker::spawn`] starts a loop on a new thread and runs the future its
//! closure builds there with [`run`](crate::run)'s Node semantics: the
//! worker ends when its loop is idle, and its parent learns how through
//! [`Worker::exit`]; [`Worker::spawn_with_port`] also joins the two loops
//! by a message channel (the worker's `parentPort`). A [`MessageChannel`]
//! gives two entangled [`MessagePort`]s: posting works from any thread and
//! never blocks; the receiving port's loop delivers each message in its
//! poll phase as its own macrotask, with a microtask checkpoint after it,
//! as Node does.
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
mod thread;

pub(crate) use loop_ports::LoopPorts;
pub use port::{MessageChannel, MessagePort, PostError, Recv, receive_message_on_port};
pub(crate) use receiver::PortDelivery;
pub(crate) use thread::Terminated;
pub use thread::{Worker, WorkerBuilder, WorkerError, WorkerExit};
