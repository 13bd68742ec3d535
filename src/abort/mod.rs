//! JavaScript's cooperative cancellation: `AbortController` and
//! `AbortSignal`.
//!
//! A controller owns a signal; [`AbortController::abort`] marks it aborted
//! with a [`AbortReason`] and runs its listeners synchronously, in the order
//! they were added, before it returns (as `dispatchEvent` does). Work that
//! takes a signal checks it or listens to it; [`abortable`] does that for any
//! future, and dropping the future is what cancels it (a `sleep`'s timer, a
//! pending read, a `JoinHandle`'s wait).
//!
//! Signals belong to the loop thread, like the JS objects (they are `!Send`);
//! to abort from another thread, settle a [`Promise`](crate::promise::Promise)
//! there and abort in a reaction.
//!
//! ```
//! use std::time::Duration;
//! use jsloop::{abortable, time::sleep, AbortController};
//!
//! jsloop::run(async {
//!     let controller = AbortController::new();
//!     let signal = controller.signal();
//!     signal.add_listener(|reason| println!("aborted: {reason}"));
//!     jsloop::set_timeout(Duration::from_millis(5), move || controller.abort("user left"));
//!     let slow = abortable(sleep(Duration::from_secs(60)), &signal).await;
//!     assert_eq!(slow.unwrap_err().to_string(), "user left");
//! });
//! ```

mod abortable;
mod controller;
mod reason;
mod signal;

pub use abortable::{Abortable, abortable};
pub use controller::AbortController;
pub use reason::AbortReason;
pub use signal::{AbortSignal, Aborted, ListenerId};
