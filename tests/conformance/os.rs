//! The OS side of the child-process and signal scenarios (2NN):
//! `waitUntilZombie(pid)` and `process.kill(process.pid, signal)`.

use std::os::fd::AsFd;

use jsloop::process::SignalKind;
use rustix::event::{PollFd, PollFlags, poll};

use crate::log::busy_wait;

/// Spins until `/proc/<pid>/stat` says the child has exited (state `Z`:
/// exited, not reaped yet), then 5 ms more, as the scenarios do (Linux).
pub fn wait_until_zombie(pid: u32) {
    let path = format!("/proc/{pid}/stat");
    loop {
        let stat = std::fs::read_to_string(&path)
            .unwrap_or_else(|error| panic!("cannot read {path}: {error}"));
        // "pid (comm) S ...": the state follows the last ')'.
        let state = stat.rfind(')').and_then(|end| stat[end + 2..].chars().next());
        if state == Some('Z') {
            break;
        }
    }
    busy_wait(5);
}

/// Spins until the read end `pipe` reports that its last writer is gone.
///
/// In Node that is the child's exit. In this test binary another thread
/// may fork (to spawn node, or a child of another scenario) just while a
/// child's pipe is being made: that process holds the write end too until
/// it execs, and the hang-up comes only then.
pub fn wait_until_hung_up(pipe: impl AsFd) {
    let zero = rustix::event::Timespec { tv_sec: 0, tv_nsec: 0 };
    loop {
        let mut fds = [PollFd::new(&pipe, PollFlags::IN)];
        poll(&mut fds, Some(&zero)).expect("poll");
        if fds[0].revents().contains(PollFlags::HUP) {
            break;
        }
    }
}

/// `process.kill(process.pid, signal)` as the loop sees it in Node: the
/// handler has run (and written to the loop's wake pipe) when it returns.
///
/// Node's loop is the main thread, and Linux hands a signal sent to the
/// process to its main thread first, so Node takes it inside `kill`. Here
/// the loop runs on a test thread: a `kill` of the process would be taken
/// by the test harness's main thread a moment later, racing the loop. So
/// the signal goes to the loop's own thread.
pub fn raise_here(kind: SignalKind) {
    // SAFETY: `pthread_kill` of the calling thread, with a signal number
    // from `SignalKind`; the handler it runs is signal-hook-registry's,
    // installed by `on_signal`.
    let error = unsafe { libc::pthread_kill(libc::pthread_self(), kind.as_raw()) };
    assert_eq!(error, 0, "pthread_kill({kind}) failed");
}
