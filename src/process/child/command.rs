//! `Command`: a child process to spawn (std's builder, spawning onto the
//! loop).

use std::error::Error;
use std::ffi::OsStr;
use std::fmt;
use std::future::Future;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

use super::exit_watch::ExitWatch;
use super::{Child, reaper};
use crate::context;

/// A process to run: `std::process::Command`'s builder, whose
/// [`spawn`](Command::spawn) gives a [`Child`] watched by the loop (Node's
/// `child_process.spawn`, with tokio's API).
///
/// # Examples
///
/// ```
/// use jsloop::process::Command;
///
/// jsloop::block_on(async {
///     let output = Command::new("echo").args(["hello", "world"]).output().await?;
///     assert!(output.status.success());
///     assert_eq!(output.stdout, b"hello world\n");
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// The user chose stdin (else `output` makes it null, as std's does).
    stdin_set: bool,
}

impl Command {
    /// A command to run `program` (looked up in `PATH` if it has no `/`),
    /// with no arguments, this process's environment and working directory,
    /// and stdin, stdout and stderr inherited.
    ///
    /// # Examples
    ///
    /// ```
    /// let command = jsloop::process::Command::new("ls");
    /// assert_eq!(command.as_std().get_program(), "ls");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command { std: std::process::Command::new(program), kill_on_drop: false, stdin_set: false }
    }

    /// Adds an argument.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("echo").arg("-n").arg("hi").output().await?;
    ///     assert_eq!(output.stdout, b"hi");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds several arguments.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("sh").args(["-c", "echo $0", "zero"]).output().await?;
    ///     assert_eq!(output.stdout, b"zero\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("sh").args(["-c", "echo $GREETING"]).env("GREETING", "hi").output().await?;
    ///     assert_eq!(output.stdout, b"hi\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, value);
        self
    }

    /// Sets several environment variables for the child.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo $A$B"])
    ///         .envs([("A", "1"), ("B", "2")])
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"12\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from the child's environment.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("sh")
    ///         .args(["-c", "echo ${GONE-unset}"])
    ///         .env("GONE", "set")
    ///         .env_remove("GONE")
    ///         .output()
    ///         .await?;
    ///     assert_eq!(output.stdout, b"unset\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Gives the child an empty environment (variables set after this are
    /// still passed).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     // No PATH either: name the program by its path.
    ///     let output = Command::new("/bin/sh").args(["-c", "echo ${HOME-none}"]).env_clear().output().await?;
    ///     assert_eq!(output.stdout, b"none\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("pwd").current_dir("/").output().await?;
    ///     assert_eq!(output.stdout, b"/\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// What the child's stdin is: inherited (the default for
    /// [`spawn`](Command::spawn) and [`status`](Command::status)), null,
    /// or `Stdio::piped()` for a [`ChildStdin`](super::ChildStdin) to
    /// write to.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("cat").stdin(Stdio::piped()).spawn()?;
    ///     assert!(child.stdin.is_some());
    ///     child.wait().await?; // drops stdin first: cat reads EOF and ends
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// What the child's stdout is: inherited by default, or
    /// `Stdio::piped()` for a [`ChildStdout`](super::ChildStdout) to read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("echo").stdout(Stdio::null()).spawn()?;
    ///     assert!(child.stdout.is_none());
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self
    }

    /// What the child's stderr is: inherited by default, or
    /// `Stdio::piped()` for a [`ChildStderr`](super::ChildStderr) to read.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::process::Stdio;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut child = Command::new("true").stderr(Stdio::piped()).spawn()?;
    ///     assert!(child.stderr.is_some());
    ///     child.wait().await?;
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self
    }

    /// Whether dropping the [`Child`] kills it (`SIGKILL`) before it is
    /// reaped. Off by default: a dropped child keeps running, and is reaped
    /// in the background when it exits (see [`Child`]).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn()?;
    ///     drop(child); // killed now, reaped in the background
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The standard library's command inside, to read what is set.
    ///
    /// # Examples
    ///
    /// ```
    /// let mut command = jsloop::process::Command::new("echo");
    /// command.arg("hi");
    /// assert_eq!(command.as_std().get_args().collect::<Vec<_>>(), ["hi"]);
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The standard library's command inside, for what this type does not
    /// wrap (`std::os::unix::process::CommandExt`'s `uid`, `process_group`,
    /// ...).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let mut command = Command::new("true");
    ///     command.as_std_mut().process_group(0);
    ///     assert!(command.status().await?.success());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process; its exit will be noticed by the current loop.
    ///
    /// # Errors
    ///
    /// The error of the spawn, with its kind (`NotFound` for a program
    /// that does not exist, `PermissionDenied` for one that is not
    /// executable) and a message that names the program; or, rarely, an
    /// error registering the child's pipes or exit watch with the loop
    /// (the child is then killed and reaped).
    ///
    /// # Panics
    ///
    /// Outside a runtime: "no jsloop runtime is running on this thread"
    /// (before any process is started).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::io::ErrorKind;
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let error = Command::new("no-such-program-here").spawn().unwrap_err();
    ///     assert_eq!(error.kind(), ErrorKind::NotFound);
    ///     assert!(error.to_string().contains("no-such-program-here"));
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Checked before the fork: a child spawned here would have no loop.
        context::with_current(|_| ());
        let prepared = ExitWatch::prepare()?;
        let mut process = self.std.spawn().map_err(|error| {
            let program = self.std.get_program().to_string_lossy().into_owned();
            io::Error::new(error.kind(), SpawnError { program, error })
        })?;
        match prepared.watch(process.id()) {
            Ok(exit) => Child::new(process, exit, self.kill_on_drop),
            Err(error) => {
                let _ = process.kill();
                reaper::adopt(process);
                Err(error)
            }
        }
    }

    /// Spawns the process (now) and waits for it to exit, collecting its
    /// stdout and stderr. Like tokio's `output`, this makes stdout and
    /// stderr pipes, whatever they were set to; stdin is null unless it
    /// was set (as with std's `output`). Those settings stay on the
    /// command for later spawns.
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn)'s, or those of
    /// [`Child::wait_with_output`].
    ///
    /// # Panics
    ///
    /// Outside a runtime, as [`spawn`](Command::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let output = Command::new("sh").args(["-c", "echo to-err >&2; exit 1"]).output().await?;
    ///     assert_eq!(output.status.code(), Some(1));
    ///     assert_eq!(output.stderr, b"to-err\n");
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn output(&mut self) -> impl Future<Output = io::Result<Output>> + use<> {
        if !self.stdin_set {
            self.std.stdin(Stdio::null());
        }
        self.std.stdout(Stdio::piped());
        self.std.stderr(Stdio::piped());
        let child = self.spawn();
        async move { child?.wait_with_output().await }
    }

    /// Spawns the process (now) and waits for it to exit; stdin, stdout
    /// and stderr are inherited unless set. Dropping the future leaves the
    /// child to [`kill_on_drop`](Command::kill_on_drop), as dropping a
    /// [`Child`] does.
    ///
    /// # Errors
    ///
    /// [`spawn`](Command::spawn)'s, or [`Child::wait`]'s.
    ///
    /// # Panics
    ///
    /// Outside a runtime, as [`spawn`](Command::spawn).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::Command;
    ///
    /// jsloop::block_on(async {
    ///     let status = Command::new("sh").args(["-c", "exit 7"]).status().await?;
    ///     assert_eq!(status.code(), Some(7));
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn status(&mut self) -> impl Future<Output = io::Result<ExitStatus>> + use<> {
        let child = self.spawn();
        async move { child?.wait().await }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Command")
            .field("std", &self.std)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

/// A spawn that failed: std's error, with the program named.
#[derive(Debug)]
struct SpawnError {
    program: String,
    error: io::Error,
}

impl fmt::Display for SpawnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "cannot spawn `{}`: {}", self.program, self.error)
    }
}

impl Error for SpawnError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        Some(&self.error)
    }
}
