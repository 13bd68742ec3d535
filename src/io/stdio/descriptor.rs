//! Where a standard stream is served: the poll phase (pipes, terminals,
//! sockets) or the worker pool (files and the rest), and why jsloop never
//! sets `O_NONBLOCK` on the descriptor it was given.
//!
//! Descriptors 0, 1 and 2 point at an *open file description* the parent
//! shell, and every other process started on the same terminal or pipe,
//! share; its `O_NONBLOCK` flag is shared with it. Set on a terminal, it
//! makes the next program run from that shell, or a `cat` running beside
//! us, fail with `EAGAIN` — the reason libuv's `uv_tty_init` reopens
//! terminals. So each stream gets a descriptor of jsloop's own:
//!
//! - a pipe, a FIFO or a terminal is *reopened* through `/proc/self/fd/N`
//!   (Linux): the same pipe or terminal under a description of its own,
//!   opened non-blocking, served by the poller. (libuv reopens terminals
//!   the same way and sets the flag on the shared description of a pipe;
//!   reopening the pipe spares its other users too.)
//! - a socket is served by the poller on a duplicate of the descriptor,
//!   each call made with `MSG_DONTWAIT`, so no flag changes at all.
//! - everything else is read and written by blocking calls on the worker
//!   pool, as libuv serves files: regular files, block devices,
//!   `/dev/null` and other character devices (which epoll refuses), and a
//!   pipe or terminal that cannot be reopened (another user's pipe, no
//!   `/proc`, systems other than Linux, a pty master, whose path would
//!   open a new pty) or that the poller refuses.

use std::fs::File;
use std::io::{self, IsTerminal, Read, Write};
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::event::{PollFd, PollFlags};
use rustix::fs::FileType;
use rustix::net::{RecvFlags, SendFlags};

use crate::io::Async;

/// One of the three standard streams.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum StdStream {
    Stdin,
    Stdout,
    Stderr,
}

impl StdStream {
    /// Its name in error messages.
    pub(super) fn name(self) -> &'static str {
        match self {
            StdStream::Stdin => "stdin (fd 0)",
            StdStream::Stdout => "stdout (fd 1)",
            StdStream::Stderr => "stderr (fd 2)",
        }
    }

    /// A descriptor of our own on the stream's shared description (closing
    /// it leaves fd 0, 1 or 2 open).
    fn duplicate(self) -> io::Result<OwnedFd> {
        match self {
            StdStream::Stdin => io::stdin().as_fd().try_clone_to_owned(),
            StdStream::Stdout => io::stdout().as_fd().try_clone_to_owned(),
            StdStream::Stderr => io::stderr().as_fd().try_clone_to_owned(),
        }
    }
}

/// How a stream is served.
pub(super) enum Route {
    /// Registered with the loop's poller; its operations never block.
    Poller(Async<Descriptor>),
    /// Served by blocking calls on the worker pool.
    Pool(Descriptor),
}

/// A standard stream's descriptor of jsloop's own: a private reopen, or a
/// duplicate that shares the parent's description (and its flags).
pub(super) struct Descriptor {
    file: File,
    /// Reads and writes go through `recv` / `send` with `MSG_DONTWAIT`.
    socket: bool,
}

impl Descriptor {
    /// One `read` (`recv` on a socket, which never waits).
    pub(super) fn read(&self, buf: &mut [u8]) -> io::Result<usize> {
        if self.socket {
            Ok(rustix::net::recv(&self.file, buf, RecvFlags::DONTWAIT)?.0)
        } else {
            (&self.file).read(buf)
        }
    }

    /// One `write` (`send` on a socket, which never waits nor raises
    /// `SIGPIPE`).
    pub(super) fn write(&self, data: &[u8]) -> io::Result<usize> {
        if self.socket {
            Ok(rustix::net::send(&self.file, data, SEND_FLAGS)?)
        } else {
            (&self.file).write(data)
        }
    }

    /// A read that waits for data, even on a non-blocking description
    /// (a parent may hand us one): the pool's reads.
    pub(super) fn read_blocking(&self, buf: &mut [u8]) -> io::Result<usize> {
        self.waiting(PollFlags::IN, || self.read(buf))
    }

    /// Writes all of `data`, waiting for room: the pool's writes, and the
    /// flush before `run` returns or the process exits.
    pub(super) fn write_all_blocking(&self, mut data: &[u8]) -> io::Result<()> {
        while !data.is_empty() {
            match self.waiting(PollFlags::OUT, || self.write(data))? {
                0 => return Err(io::ErrorKind::WriteZero.into()),
                n => data = &data[n..],
            }
        }
        Ok(())
    }

    /// Runs `op` until it stops saying `WouldBlock` (or `Interrupted`),
    /// sleeping in `poll(2)` for `events` in between.
    fn waiting<R>(
        &self,
        events: PollFlags,
        mut op: impl FnMut() -> io::Result<R>,
    ) -> io::Result<R> {
        loop {
            match op() {
                Err(error) if error.kind() == io::ErrorKind::WouldBlock => {
                    let mut fds = [PollFd::new(&self.file, events)];
                    match rustix::event::poll(&mut fds, None) {
                        Ok(_) | Err(rustix::io::Errno::INTR) => {}
                        Err(error) => return Err(error.into()),
                    }
                }
                Err(error) if error.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }
}

impl AsFd for Descriptor {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.file.as_fd()
    }
}

#[cfg(any(target_os = "linux", target_os = "android"))]
const SEND_FLAGS: SendFlags = SendFlags::DONTWAIT.union(SendFlags::NOSIGNAL);
#[cfg(not(any(target_os = "linux", target_os = "android")))]
const SEND_FLAGS: SendFlags = SendFlags::DONTWAIT;

/// Finds the route for `stream` (see the module doc).
///
/// # Errors
///
/// If the stream's descriptor is not open (or cannot be duplicated), with
/// the stream named in the message.
pub(super) fn open(stream: StdStream) -> io::Result<Route> {
    let named = |error: io::Error| {
        io::Error::new(error.kind(), format!("jsloop: {} cannot be used: {error}", stream.name()))
    };
    let shared = stream.duplicate().map_err(named)?;
    let stat = rustix::fs::fstat(&shared).map_err(|error| named(error.into()))?;
    let file_type = FileType::from_raw_mode(stat.st_mode);
    let shared = Descriptor { file: File::from(shared), socket: file_type == FileType::Socket };
    let own = match file_type {
        FileType::Socket => {
            shared.file.try_clone().ok().map(|file| Descriptor { file, socket: true })
        }
        FileType::Fifo => reopen(&shared.file, stream),
        FileType::CharacterDevice if shared.file.is_terminal() => reopen(&shared.file, stream),
        _ => None,
    };
    Ok(match own.map(Async::registered) {
        Some(Ok(io)) => Route::Poller(io),
        // The poller refused it: the pool serves the shared (blocking) one.
        Some(Err(_)) | None => Route::Pool(shared),
    })
}

/// The same pipe or terminal under a description of our own, non-blocking.
#[cfg(any(target_os = "linux", target_os = "android"))]
fn reopen(shared: &File, stream: StdStream) -> Option<Descriptor> {
    use rustix::fs::{Mode, OFlags};
    use std::os::fd::AsRawFd;

    // `ptsname` answers only for a pty master, whose path is `/dev/ptmx`:
    // opening that would make a new pty, not reach this one.
    if shared.is_terminal() && rustix::pty::ptsname(shared, Vec::new()).is_ok() {
        return None;
    }
    let access = if stream == StdStream::Stdin { OFlags::RDONLY } else { OFlags::WRONLY };
    // NONBLOCK keeps the open itself from waiting too: a FIFO opened for
    // writing with no reader left fails at once (ENXIO), and the pool gets
    // it (its writes then fail with `BrokenPipe`). NOCTTY: a terminal
    // reopened must not become the controlling one.
    let flags = access | OFlags::NONBLOCK | OFlags::CLOEXEC | OFlags::NOCTTY;
    let path = format!("/proc/self/fd/{}", shared.as_raw_fd());
    let file = File::from(rustix::fs::open(path, flags, Mode::empty()).ok()?);
    Some(Descriptor { file, socket: false })
}

/// Without `/proc/self/fd` there is no reopening a pipe: the pool serves it.
#[cfg(not(any(target_os = "linux", target_os = "android")))]
fn reopen(_shared: &File, _stream: StdStream) -> Option<Descriptor> {
    None
}
