//! How the loop notices that a child exited: a poll-phase event, never a
//! timer.
//!
//! On Linux, a pidfd (`pidfd_open`, Linux 5.3) registered on the loop's
//! poller: it becomes readable when the child exits, and that readiness
//! event is the poll-phase macrotask in whose checkpoint the waiting task
//! resumes. Elsewhere (or where pidfds are refused: an old kernel, a
//! seccomp filter) a subscription to `SIGCHLD` through the loop's signal
//! driver: each delivery wakes every watch of the loop, and each checks
//! whether *its* child is the one that exited (`waitpid` on its pid,
//! never `waitpid(-1)`, which would reap children that are not ours). That
//! subscription is made before the child is spawned, so an exit cannot
//! slip in between.
//!
//! The first event is always awaited, even for a child that exited at
//! once: its exit is seen in a poll phase, as Node reports every exit.

use std::io;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::task::{Context, Poll};

#[cfg(target_os = "linux")]
use crate::io::Async;
use crate::process::signal::{self, Signal, SignalKind};

/// A child's exit, as the loop will notice it.
pub(crate) enum ExitWatch {
    #[cfg(target_os = "linux")]
    Pidfd(Async<OwnedFd>),
    Sigchld(Signal),
}

/// What to watch a child with, chosen before it is spawned.
pub(crate) enum Prepared {
    #[cfg(target_os = "linux")]
    Pidfd,
    Sigchld(Signal),
}

impl ExitWatch {
    /// Readies the watch of a child about to be spawned.
    ///
    /// # Errors
    ///
    /// If `SIGCHLD` cannot be listened for (out of descriptors).
    pub(crate) fn prepare() -> io::Result<Prepared> {
        #[cfg(target_os = "linux")]
        if pidfd::supported() {
            return Ok(Prepared::Pidfd);
        }
        Ok(Prepared::Sigchld(signal::signal(SignalKind::child())?))
    }

    /// Waits for the next event that may mean the child exited (then ask
    /// `try_wait`). Dropping the future stops the wait.
    ///
    /// # Errors
    ///
    /// If the runtime the child was spawned on is gone.
    pub(crate) async fn event(&mut self) -> io::Result<()> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(pidfd) => pidfd.readable().await,
            ExitWatch::Sigchld(sigchld) => sigchld.recv().await.ok_or_else(Signal::runtime_gone),
        }
    }

    /// [`event`](ExitWatch::event) for a watcher with no future to keep
    /// (a dropped child being reaped).
    pub(crate) fn poll_event(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(pidfd) => pidfd.poll_readable(cx),
            ExitWatch::Sigchld(sigchld) => {
                sigchld.poll_recv(cx).map(|came| came.ok_or_else(Signal::runtime_gone))
            }
        }
    }

    /// Waiting no longer keeps the loop alive (a child nobody holds).
    pub(crate) fn unref(&self) {
        match self {
            #[cfg(target_os = "linux")]
            ExitWatch::Pidfd(pidfd) => {
                pidfd.unref();
            }
            ExitWatch::Sigchld(sigchld) => sigchld.set_refd(false),
        }
    }
}

impl Prepared {
    /// Starts watching the spawned child `pid`.
    ///
    /// # Errors
    ///
    /// If its pidfd cannot be opened or registered (out of descriptors).
    pub(crate) fn watch(self, pid: u32) -> io::Result<ExitWatch> {
        match self {
            #[cfg(target_os = "linux")]
            Prepared::Pidfd => pidfd::open(pid).map(ExitWatch::Pidfd),
            Prepared::Sigchld(sigchld) => Ok(ExitWatch::Sigchld(sigchld)),
        }
    }
}

#[cfg(target_os = "linux")]
mod pidfd {
    use std::io;
    use std::os::fd::OwnedFd;
    use std::sync::OnceLock;

    use rustix::io::Errno;
    use rustix::process::{Pid, PidfdFlags, pidfd_open};

    use crate::io::Async;
    use crate::io::source::READ;

    /// Whether this kernel hands out pidfds (asked once per process).
    pub(super) fn supported() -> bool {
        #[cfg(test)]
        if super::tests::FORCE_SIGCHLD.with(std::cell::Cell::get) {
            return false;
        }
        static SUPPORTED: OnceLock<bool> = OnceLock::new();
        *SUPPORTED.get_or_init(|| {
            // ENOSYS: before Linux 5.3; EPERM: a seccomp filter says no.
            !matches!(
                pidfd_open(rustix::process::getpid(), PidfdFlags::empty()),
                Err(Errno::NOSYS | Errno::PERM)
            )
        })
    }

    /// The pidfd of child `pid`, on the loop's poller. The child is not
    /// reaped yet (its `Child` owns it), so the pid is still its own.
    pub(super) fn open(pid: u32) -> io::Result<Async<OwnedFd>> {
        let pid = i32::try_from(pid).ok().and_then(Pid::from_raw).ok_or_else(|| {
            io::Error::new(io::ErrorKind::InvalidInput, format!("{pid} is not a process id"))
        })?;
        let pidfd = Async::new(pidfd_open(pid, PidfdFlags::empty())?)?;
        // A new source counts as ready; the exit must come as an event.
        pidfd.expect_event(READ);
        Ok(pidfd)
    }
}

#[cfg(all(test, target_os = "linux"))]
pub(crate) mod tests {
    use std::cell::Cell;

    thread_local! {
        /// Watch children through `SIGCHLD` on this thread even where
        /// pidfds work: the other unixes' path, tested on Linux.
        pub(crate) static FORCE_SIGCHLD: Cell<bool> = const { Cell::new(false) };
    }

    #[test]
    #[cfg(not(miri))]
    fn the_sigchld_watch_sees_each_exit_and_reaps_dropped_children() {
        use std::time::{Duration, Instant};

        use crate::process::Command;

        FORCE_SIGCHLD.with(|force| force.set(true));
        crate::run(async {
            // Several children exiting together: one SIGCHLD may stand for
            // all of them, and each watch checks its own.
            let children: Vec<_> = (0..20)
                .map(|code| {
                    Command::new("sh").args(["-c", &format!("exit {code}")]).spawn().unwrap()
                })
                .collect();
            for (code, mut child) in children.into_iter().enumerate() {
                assert_eq!(child.wait().await.unwrap().code(), Some(code as i32));
            }
            // A dropped child is reaped by the loop once it exits.
            let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
            let stat = format!("/proc/{}/stat", child.id());
            drop(child);
            let start = Instant::now();
            while std::path::Path::new(&stat).exists() {
                assert!(start.elapsed() < Duration::from_secs(20), "not reaped");
                crate::time::sleep(Duration::from_millis(10)).await;
            }
        });
        FORCE_SIGCHLD.with(|force| force.set(false));
    }
}
