//! `Child`: a running child process, its pipes, and the wait for its exit.

use std::fmt;
use std::future::{Future, poll_fn};
use std::io;
use std::pin::pin;
use std::process::{ExitStatus, Output};
use std::task::Poll;

use super::exit_watch::ExitWatch;
use super::orphans::Orphan;
use super::pipes::{ChildStderr, ChildStdin, ChildStdout, read_to_end};
use super::reaper;
use crate::context;
use crate::process::SignalKind;

/// A child process spawned by [`Command::spawn`](super::Command::spawn)
/// (`child_process.spawn`'s `ChildProcess`, with tokio's API).
///
/// Its exit is noticed in a poll phase (a pidfd on Linux, `SIGCHLD`
/// elsewhere; never a timer), and a task awaiting [`wait`](Child::wait),
/// [`status`](super::Command::status) or [`output`](super::Command::output)
/// resumes in that event's checkpoint. While such a wait is pending the
/// child keeps the loop alive; a child nobody waits for does not.
///
/// Dropping a `Child` never leaves a zombie. With
/// [`kill_on_drop(true)`](super::Command::kill_on_drop) it is killed
/// (`SIGKILL`) first; by default it keeps running. Either way it is reaped
/// when it exits: by its loop, in the background (without keeping the loop
/// alive), or, once the runtime is gone, by a process-wide `jsloop-reaper`
/// thread that wakes on `SIGCHLD`.
///
/// Like every jsloop handle it belongs to the loop thread (`!Send`).
///
/// # Examples
///
/// ```
/// use jsloop::process::Command;
///
/// jsloop::block_on(async {
///     let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn()?;
///     let status = child.wait().await?;
///     assert_eq!(status.code(), Some(3));
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Child {
    /// The child's stdin, if it was piped: take it to write to the child.
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was piped: take it to read from the child.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was piped: take it to read from the child.
    pub stderr: Option<ChildStderr>,
    /// `None` only once handed over (in `drop`).
    watched: Option<Orphan>,
    /// Known once the child has been reaped.
    status: Option<ExitStatus>,
    /// The runtime the exit watch is registered with.
    runtime_id: u32,
    kill_on_drop: bool,
}

impl Child {
    /// The spawned `process`, its pipes registered with the loop. If that
    /// fails, the child is killed and reaped, and the error returned.
    pub(crate) fn new(
        mut process: std::process::Child,
        exit: ExitWatch,
        kill_on_drop: bool,
    ) -> io::Result<Child> {
        let (stdin, stdout, stderr) =
            (process.stdin.take(), process.stdout.take(), process.stderr.take());
        let mut child = Child {
            stdin: None,
            stdout: None,
            stderr: None,
            watched: Some(Orphan { process, exit }),
            status: None,
            runtime_id: context::with_current(|core| core.id()),
            // Until it is complete: a half-made child is not left running.
            kill_on_drop: true,
        };
        child.stdin = stdin.map(ChildStdin::new).transpose()?;
        child.stdout = stdout.map(ChildStdout::new).transpose()?;
        child.stderr = stderr.map(ChildStderr::new).transpose()?;
        child.kill_on_drop = kill_on_drop;
        Ok(child)
    }

    fn watched(&mut self) -> &mut Orphan {
        self.watched.as_mut().expect("a `Child` is watched until it is dropped")
    }

    /// The child's process id. Once it has been reaped (its exit status is
    /// known), the OS may give the id to another process.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.id() > 0);
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn id(&self) -> u32 {
        self.watched.as_ref().expect("a `Child` is watched until it is dropped").process.id()
    }

    /// Waits for the child to exit and reaps it; first drops
    /// [`stdin`](Child::stdin), so that a child reading it to its end is
    /// not left waiting for us.
    ///
    /// The exit is noticed in a poll phase, and the waiting task resumes
    /// in that event's checkpoint, even if the child had exited already.
    /// While pending, it keeps the loop alive. Dropping the future stops
    /// the wait (the child is not killed). Once the status is known, every
    /// later `wait` returns it at once.
    ///
    /// # Errors
    ///
    /// If the runtime the child was spawned on is gone, or the OS's
    /// `waitpid` fails.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("true").spawn()?;
    ///     assert!(child.wait().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        loop {
            if let Some(status) = self.status {
                return Ok(status);
            }
            self.watched().exit.event().await?;
            self.status = self.watched().process.try_wait()?;
        }
    }

    /// The exit status if the child has exited (reaping it), `None` if it
    /// still runs; never waits. This asks the OS now (`waitpid` with
    /// `WNOHANG`), unlike [`wait`](Child::wait), which waits for the
    /// poll phase to see the exit.
    ///
    /// # Errors
    ///
    /// The OS's `waitpid` error.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("sleep").arg("10").kill_on_drop(true).spawn()?;
    ///     assert_eq!(child.try_wait()?, None); // still sleeping
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if self.status.is_none() {
            self.status = self.watched().process.try_wait()?;
        }
        Ok(self.status)
    }

    /// Sends `SIGKILL` to the child (std's `Child::kill`); does not wait:
    /// [`wait`](Child::wait) then gives the status, which says the child
    /// was killed by signal 9. `Ok(())` if the child had already exited.
    ///
    /// # Errors
    ///
    /// The OS's `kill` error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("sleep").arg("10").spawn()?;
    ///     child.kill()?;
    ///     assert_eq!(child.wait().await?.signal(), Some(9));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill(&mut self) -> io::Result<()> {
        if self.status.is_some() {
            // Reaped: the id may be someone else's now.
            return Ok(());
        }
        self.watched().process.kill()
    }

    /// Sends `signal` to the child: Node's `child.kill(signal)` (`kill` is
    /// this with `SIGKILL`). Does not wait; `Ok(())` if the child was
    /// already reaped (its id may be someone else's by now). A child that
    /// has exited but was not reaped yet is still ours, so the id is safe
    /// to signal until [`wait`](Child::wait) or
    /// [`try_wait`](Child::try_wait) has seen the exit.
    ///
    /// # Errors
    ///
    /// `InvalidInput` for a signal number that names no signal (realtime
    /// signals included); the OS's `kill` error.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::ExitStatusExt;
    /// use jsloop::process::{Command, SignalKind};
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("sleep").arg("10").spawn()?;
    ///     child.signal(SignalKind::terminate())?;
    ///     assert_eq!(child.wait().await?.signal(), Some(15));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn signal(&mut self, signal: SignalKind) -> io::Result<()> {
        let Some(raw) = rustix::process::Signal::from_named_raw(signal.as_raw()) else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("jsloop: {signal:?} is not a signal a child can be sent"),
            ));
        };
        if self.status.is_some() {
            return Ok(());
        }
        let pid = rustix::process::Pid::from_raw(self.id() as i32)
            .expect("a running child's id is a positive pid");
        rustix::process::kill_process(pid, raw).map_err(io::Error::from)
    }

    /// Waits for the child to exit, collecting everything it writes to its
    /// piped stdout and stderr (a pipe that is not piped gives nothing);
    /// [`stdin`](Child::stdin) is dropped first. Both pipes are read at
    /// once, so a child filling one while we wait on the other cannot
    /// deadlock.
    ///
    /// # Errors
    ///
    /// A read error, or one of [`wait`](Child::wait)'s.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()?;
    ///     let output = child.wait_with_output().await?;
    ///     assert_eq!((&output.stdout[..], &output.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let mut stdout = pin!(read_to_end(self.stdout.take()));
        let mut stderr = pin!(read_to_end(self.stderr.take()));
        let (mut out, mut err) = (None, None);
        poll_fn(|cx| {
            // Each is polled until it is done, never after.
            if out.is_none() {
                if let Poll::Ready(read) = stdout.as_mut().poll(cx) {
                    out = Some(read);
                }
            }
            if err.is_none() {
                if let Poll::Ready(read) = stderr.as_mut().poll(cx) {
                    err = Some(read);
                }
            }
            if out.is_some() && err.is_some() { Poll::Ready(()) } else { Poll::Pending }
        })
        .await;
        let (stdout, stderr) = (out.expect("read to its end")?, err.expect("read to its end")?);
        let status = self.wait().await?;
        Ok(Output { status, stdout, stderr })
    }
}

impl Drop for Child {
    /// Kills the child first if `kill_on_drop` says so; then leaves it to
    /// be reaped when it exits (see the type's doc).
    fn drop(&mut self) {
        let Some(mut orphan) = self.watched.take() else { return };
        if self.status.is_some() {
            return;
        }
        if self.kill_on_drop {
            let _ = orphan.process.kill();
        }
        if !matches!(orphan.process.try_wait(), Ok(None)) {
            return; // Reaped now, or not ours to wait for.
        }
        let mut orphan = Some(orphan);
        context::with_core_of(self.runtime_id, |core| {
            if !core.is_shut_down() {
                core.orphans.adopt(core, orphan.take().expect("taken once"));
            }
        });
        if let Some(orphan) = orphan {
            // No running loop to watch it: the reaper thread will.
            let Orphan { process, exit } = orphan;
            drop(exit);
            reaper::adopt(process);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pid = self.watched.as_ref().map(|watched| watched.process.id());
        f.debug_struct("Child")
            .field("pid", &pid)
            .field("status", &self.status)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .finish_non_exhaustive()
    }
}
