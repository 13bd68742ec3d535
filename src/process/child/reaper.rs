//! Children that outlive their loop: one process-wide thread reaps them.
//!
//! A child dropped while it runs is reaped by its loop in the background
//! (`orphans.rs`). When there is no loop to do it — the runtime was
//! dropped first, or the `Child` is dropped off its loop — it goes here:
//! a thread named `jsloop-reaper`, started when the first such child
//! arrives and ended when none is left, calls `try_wait` on each of its
//! children whenever a `SIGCHLD` comes (through the same signal handler
//! machinery as `process::signal`, writing to the thread's own pipe) or a
//! new child arrives, and drops the ones that exited. So no child of a
//! jsloop program is left a zombie, whichever of it and its runtime goes
//! first. A child that never exits keeps the thread (blocked in `read`,
//! using no CPU) until the process ends.
//!
//! If the pipe or the thread cannot be made (out of descriptors or
//! threads), the child is left to the standard library's behaviour: it
//! stays a zombie until this process exits.

use std::io::Read;
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::process::Child;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use crate::process::signal::{Registration, SignalKind};

/// The children handed over, and whether the thread runs.
struct Reaper {
    children: Vec<Child>,
    running: bool,
}

static REAPER: Mutex<Reaper> = Mutex::new(Reaper { children: Vec::new(), running: false });

/// The thread's wake pipe (read end, blocking; write end, non-blocking)
/// and the `SIGCHLD` action writing to it, kept for the life of the
/// process.
struct WakePipe {
    reader: UnixStream,
    writer: Arc<OwnedFd>,
    _sigchld: Registration,
}

fn lock() -> MutexGuard<'static, Reaper> {
    REAPER.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn wake_pipe() -> Option<&'static WakePipe> {
    static PIPE: OnceLock<Option<WakePipe>> = OnceLock::new();
    PIPE.get_or_init(|| {
        let (reader, writer) = UnixStream::pair().ok()?;
        writer.set_nonblocking(true).ok()?;
        let writer = Arc::new(OwnedFd::from(writer));
        let sigchld = Registration::new(SignalKind::child(), writer.clone()).ok()?;
        Some(WakePipe { reader, writer, _sigchld: sigchld })
    })
    .as_ref()
}

/// Hands `child` (killed or not, not yet reaped) to the reaper thread.
pub(crate) fn adopt(mut child: Child) {
    if !matches!(child.try_wait(), Ok(None)) {
        return; // Reaped just now (or not ours to wait for).
    }
    let Some(pipe) = wake_pipe() else { return };
    let mut reaper = lock();
    reaper.children.push(child);
    if !reaper.running {
        let thread = std::thread::Builder::new()
            .name("jsloop-reaper".into())
            .stack_size(64 * 1024)
            .spawn(move || reap_until_none_left(pipe));
        // Not started: the next child handed over tries again.
        reaper.running = thread.is_ok();
    }
    drop(reaper);
    let _ = rustix::io::write(&*pipe.writer, &[1]);
}

/// The thread: reap what exited, then sleep until a `SIGCHLD` or a new
/// child, until no child is left.
fn reap_until_none_left(pipe: &WakePipe) {
    let mut buf = [0; 64];
    loop {
        {
            let mut reaper = lock();
            reaper.children.retain_mut(|child| matches!(child.try_wait(), Ok(None)));
            if reaper.children.is_empty() {
                reaper.running = false;
                return;
            }
        }
        // A `SIGCHLD` or a child arriving after the pass above left a byte:
        // this returns at once.
        match (&pipe.reader).read(&mut buf) {
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::Interrupted => {}
            Err(_) => {
                // The pipe broke: leave the rest as zombies (see the module doc).
                lock().running = false;
                return;
            }
        }
    }
}
