//! Poll phase, sleeping side: where the loop sleeps, and the sticky notify
//! that ends the sleep from any thread.
//!
//! A loop with sockets sleeps in its driver (`epoll_wait`, the ring's
//! wait), and a notify must reach it there: an eventfd write. A loop with
//! nothing registered and nothing in flight — a worker exchanging
//! messages, a loop waiting on timers and the pool — has no reason to be
//! in the driver at all, and sleeps on a futex instead: then a remote wake
//! is one `FUTEX_WAKE` and the `FUTEX_WAIT` it ends, the cheapest
//! hand-over between threads Linux has (the shape of a thread parker; a
//! tokio current-thread runtime without I/O sleeps the same way), against
//! an eventfd write and an `epoll_wait` whose wait queue it walks.
//!
//! One word says where the loop is, and `notify` acts on it: asleep on the
//! futex, wake it; in the driver, have the caller notify the driver;
//! running, leave the mark only, so the next wait returns at once (no
//! syscall at all for a notify that finds the loop awake).
//!
//! Off Linux, and under loom, the futex is a mutex and a condvar with the
//! futex's contract (sleep only while the word still holds the value; a
//! wake reaches every sleeper that checked before it). Under Miri and loom
//! the loop has no driver and sleeps in `stand_in`; loom models this park
//! on its own (`tests/loom.rs`).

use std::time::Duration;

use crate::sync::{AtomicU32, Ordering};

/// The loop is running (or between waits), and no notify came since.
const RUNNING: u32 = 0;
/// A notify came since the loop last woke: its next wait returns at once.
const NOTIFIED: u32 = 1;
/// The loop sleeps in its driver (or is about to): a notify must reach it
/// there.
const IN_DRIVER: u32 = 2;
/// The loop sleeps on the futex (or is about to).
const ON_FUTEX: u32 = 3;

/// Where the loop sleeps: the word and, where there is no futex, what
/// stands for one.
#[derive(Debug)]
pub struct Park {
    state: AtomicU32,
    #[cfg(any(jsloop_loom, not(target_os = "linux")))]
    futex: emulated::Futex,
}

/// Where the loop is about to sleep (`Park::settle`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Place {
    /// In the driver, which `notify`'s caller then notifies.
    Driver,
    /// On the futex, which `notify` wakes itself.
    Futex,
}

impl Default for Park {
    fn default() -> Self {
        Park::new()
    }
}

impl Park {
    /// A loop running, not notified.
    pub fn new() -> Park {
        Park {
            state: AtomicU32::new(RUNNING),
            #[cfg(any(jsloop_loom, not(target_os = "linux")))]
            futex: emulated::Futex::default(),
        }
    }

    /// The loop thread, before it sleeps at `place`: `false` if a notify
    /// came since it last woke (it must not sleep; the mark is consumed),
    /// `true` if it may sleep there, which it then does and ends with
    /// `woke`.
    pub fn settle(&self, place: Place) -> bool {
        let sleeping = match place {
            Place::Driver => IN_DRIVER,
            Place::Futex => ON_FUTEX,
        };
        // Only the loop sets anything but `NOTIFIED`: the word is either
        // `RUNNING` or that mark here.
        if self
            .state
            .compare_exchange(RUNNING, sleeping, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            return true;
        }
        self.woke();
        false
    }

    /// The loop thread, settled on the futex: sleeps until a notify or
    /// `timeout` (`None`: for ever). It may return early (a signal); the
    /// loop treats every return as a wake.
    ///
    /// # Errors
    /// The futex's own error, other than the ones that mean a wake
    /// (`EAGAIN`: a notify came first; `EINTR`; `ETIMEDOUT`): a futex
    /// refused (a seccomp profile, say) must not become a loop that spins.
    pub fn sleep_on_futex(&self, timeout: Option<Duration>) -> std::io::Result<()> {
        if timeout == Some(Duration::ZERO) {
            return Ok(());
        }
        #[cfg(all(target_os = "linux", not(jsloop_loom)))]
        {
            use rustix::thread::futex;
            // Longer than a `Timespec` holds: for ever, then.
            let timeout = timeout.and_then(|t| {
                Some(futex::Timespec {
                    tv_sec: i64::try_from(t.as_secs()).ok()?,
                    tv_nsec: t.subsec_nanos().into(),
                })
            });
            use rustix::io::Errno;
            match futex::wait(&self.state, futex::Flags::PRIVATE, ON_FUTEX, timeout.as_ref()) {
                Ok(()) | Err(Errno::AGAIN | Errno::INTR | Errno::TIMEDOUT) => Ok(()),
                Err(errno) => Err(errno.into()),
            }
        }
        #[cfg(any(jsloop_loom, not(target_os = "linux")))]
        {
            self.futex.wait(&self.state, ON_FUTEX, timeout);
            Ok(())
        }
    }

    /// The loop thread, after any sleep: it runs again. A read-modify-write
    /// with `Acquire`, so what a notifier published before its notify is
    /// seen by what the loop does next.
    pub fn woke(&self) {
        self.state.swap(RUNNING, Ordering::AcqRel);
    }

    /// Any thread: marks the loop notified, and wakes it if it sleeps on
    /// the futex. `true` if it sleeps in the driver: the caller notifies
    /// the driver.
    pub fn notify(&self) -> bool {
        match self.state.swap(NOTIFIED, Ordering::AcqRel) {
            ON_FUTEX => {
                #[cfg(all(target_os = "linux", not(jsloop_loom)))]
                {
                    use rustix::thread::futex;
                    // One sleeper at most: the loop thread.
                    let _ = futex::wake(&self.state, futex::Flags::PRIVATE, 1);
                }
                #[cfg(any(jsloop_loom, not(target_os = "linux")))]
                self.futex.wake();
                false
            }
            IN_DRIVER => true,
            _ => false,
        }
    }
}

/// A futex made of a mutex and a condvar, for where there is none (or it
/// cannot be run or modelled: Miri, loom).
#[cfg(any(jsloop_loom, not(target_os = "linux")))]
mod emulated {
    use std::time::Duration;

    use crate::sync::{self, AtomicU32, Condvar, Mutex, Ordering};

    #[derive(Debug, Default)]
    pub(super) struct Futex {
        lock: Mutex<()>,
        condvar: Condvar,
    }

    impl Futex {
        /// Sleeps while `word` holds `expected`, until `wake` or `timeout`.
        /// The check is made under the lock `wake` takes, so a waker that
        /// changed the word before it cannot be missed.
        pub(super) fn wait(&self, word: &AtomicU32, expected: u32, timeout: Option<Duration>) {
            let guard = sync::lock(&self.lock);
            if word.load(Ordering::Acquire) != expected {
                return;
            }
            match timeout {
                None => drop(self.condvar.wait(guard)),
                Some(timeout) => wait_timeout(&self.condvar, guard, timeout),
            }
        }

        /// Wakes the sleeper, if one checked the word before this.
        pub(super) fn wake(&self) {
            drop(sync::lock(&self.lock));
            self.condvar.notify_all();
        }
    }

    #[cfg(not(jsloop_loom))]
    fn wait_timeout(condvar: &Condvar, guard: sync::MutexGuardOf<'_, ()>, timeout: Duration) {
        drop(condvar.wait_timeout(guard, timeout));
    }

    #[cfg(jsloop_loom)]
    fn wait_timeout(_condvar: &Condvar, _guard: sync::MutexGuardOf<'_, ()>, _timeout: Duration) {
        // loom has no clock: a timed wait is modelled as an immediate
        // timeout.
    }
}
