//! `SignalKind`: which signal to listen for (tokio's type, by that name).

use std::fmt;

use rustix::process::Signal as Raw;

/// A signal to listen for with [`signal`](crate::process::signal),
/// [`on_signal`](crate::process::on_signal): a signal number, with
/// constructors for the usual ones.
///
/// # Examples
///
/// ```
/// use jsloop::process::SignalKind;
///
/// assert_eq!(SignalKind::interrupt().as_raw(), 2); // SIGINT on Linux
/// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
/// assert_eq!(format!("{:?}", SignalKind::hangup()), "SIGHUP");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SignalKind(i32);

/// The names `Debug` and error messages use.
const NAMES: &[(Raw, &str)] = &[
    (Raw::HUP, "SIGHUP"),
    (Raw::INT, "SIGINT"),
    (Raw::QUIT, "SIGQUIT"),
    (Raw::ILL, "SIGILL"),
    (Raw::TRAP, "SIGTRAP"),
    (Raw::ABORT, "SIGABRT"),
    (Raw::BUS, "SIGBUS"),
    (Raw::FPE, "SIGFPE"),
    (Raw::KILL, "SIGKILL"),
    (Raw::USR1, "SIGUSR1"),
    (Raw::SEGV, "SIGSEGV"),
    (Raw::USR2, "SIGUSR2"),
    (Raw::PIPE, "SIGPIPE"),
    (Raw::ALARM, "SIGALRM"),
    (Raw::TERM, "SIGTERM"),
    (Raw::CHILD, "SIGCHLD"),
    (Raw::CONT, "SIGCONT"),
    (Raw::STOP, "SIGSTOP"),
    (Raw::TSTP, "SIGTSTP"),
    (Raw::WINCH, "SIGWINCH"),
];

impl SignalKind {
    /// The signal numbered `signum` (no check here: listening for a number
    /// that is no signal fails then, with the OS's `EINVAL`).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(SignalKind::from_raw(10).as_raw(), 10);
    /// ```
    pub const fn from_raw(signum: i32) -> SignalKind {
        SignalKind(signum)
    }

    /// The signal's number.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(SignalKind::terminate().as_raw(), 15);
    /// ```
    pub const fn as_raw(self) -> i32 {
        self.0
    }

    /// `SIGINT`: Ctrl-C in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(jsloop::process::SignalKind::interrupt().as_raw(), 2);
    /// ```
    pub const fn interrupt() -> SignalKind {
        SignalKind(Raw::INT.as_raw())
    }

    /// `SIGTERM`: the polite request to end (what `kill` sends by default).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(jsloop::process::SignalKind::terminate().as_raw(), 15);
    /// ```
    pub const fn terminate() -> SignalKind {
        SignalKind(Raw::TERM.as_raw())
    }

    /// `SIGHUP`: the terminal went away (daemons often reload on it).
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(jsloop::process::SignalKind::hangup().as_raw(), 1);
    /// ```
    pub const fn hangup() -> SignalKind {
        SignalKind(Raw::HUP.as_raw())
    }

    /// `SIGQUIT`: Ctrl-\ in a terminal.
    ///
    /// # Examples
    ///
    /// ```
    /// assert_eq!(jsloop::process::SignalKind::quit().as_raw(), 3);
    /// ```
    pub const fn quit() -> SignalKind {
        SignalKind(Raw::QUIT.as_raw())
    }

    /// `SIGCHLD`: a child process stopped or ended.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(format!("{:?}", SignalKind::child()), "SIGCHLD");
    /// ```
    pub const fn child() -> SignalKind {
        SignalKind(Raw::CHILD.as_raw())
    }

    /// `SIGUSR1`, free for the program's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(format!("{:?}", SignalKind::user_defined1()), "SIGUSR1");
    /// ```
    pub const fn user_defined1() -> SignalKind {
        SignalKind(Raw::USR1.as_raw())
    }

    /// `SIGUSR2`, free for the program's own use.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(format!("{:?}", SignalKind::user_defined2()), "SIGUSR2");
    /// ```
    pub const fn user_defined2() -> SignalKind {
        SignalKind(Raw::USR2.as_raw())
    }

    /// `SIGWINCH`: the terminal's size changed.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::process::SignalKind;
    ///
    /// assert_eq!(format!("{:?}", SignalKind::window_change()), "SIGWINCH");
    /// ```
    pub const fn window_change() -> SignalKind {
        SignalKind(Raw::WINCH.as_raw())
    }

    /// The signal's name (`SIGINT`), if it is one of the usual ones.
    pub(crate) fn name(self) -> Option<&'static str> {
        NAMES.iter().find(|(raw, _)| raw.as_raw() == self.0).map(|(_, name)| *name)
    }
}

impl fmt::Debug for SignalKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => f.write_str(name),
            None => write!(f, "SignalKind({})", self.0),
        }
    }
}

impl fmt::Display for SignalKind {
    /// `SIGINT (signal 2)`: the name and number error messages show.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.name() {
            Some(name) => write!(f, "{name} (signal {})", self.0),
            None => write!(f, "signal {}", self.0),
        }
    }
}
