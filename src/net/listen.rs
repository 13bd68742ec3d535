//! How a TCP listener's socket is made: the options set between `socket`
//! and `bind` (`SO_REUSEADDR`, `SO_REUSEPORT`, `IPV6_V6ONLY`) and the
//! `listen` backlog, for [`TcpListener::builder`] and
//! [`TcpListener::bind_reuseport`].
//!
//! `SO_REUSEPORT` is what a thread-per-core server is built on: each loop
//! binds its own listener to the same port and the kernel spreads the
//! incoming connections over them, so no loop hands connections to
//! another. The defaults are those of [`TcpListener::bind`] (which is
//! `std::net::TcpListener::bind`): `SO_REUSEADDR` on, `SO_REUSEPORT` off,
//! `IPV6_V6ONLY` left as the OS has it, a backlog of 128.

use std::io;
use std::net::{self, SocketAddr};
use std::os::fd::AsFd;

use rustix::net::{AddressFamily, SocketFlags, SocketType, sockopt};

use super::TcpListener;
use super::addr::{ToSocketAddrs, each_addr};

/// The backlog `std::net::TcpListener::bind` passes to `listen` on Linux,
/// the BSDs and macOS, and so the one [`TcpListener::bind`] uses.
const DEFAULT_BACKLOG: u32 = 128;

/// Options for a [`TcpListener`], set before it binds: made by
/// [`TcpListener::builder`], finished by [`bind`](TcpListenerBuilder::bind)
/// (on the loop) or [`bind_std`](TcpListenerBuilder::bind_std) (anywhere,
/// for a listener to hand to another thread's loop).
///
/// The defaults are exactly what [`TcpListener::bind`] does:
/// `reuse_address(true)`, `reuse_port(false)`, `backlog(128)`, and
/// `IPV6_V6ONLY` as the OS has it.
///
/// # Examples
///
/// ```
/// use jsloop::net::TcpListener;
///
/// jsloop::block_on(async {
///     let listener = TcpListener::builder().backlog(1024).bind("127.0.0.1:0").await?;
///     assert!(listener.local_addr()?.port() != 0);
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub struct TcpListenerBuilder {
    reuse_address: bool,
    reuse_port: bool,
    /// `None`: leave `IPV6_V6ONLY` as the OS sets it (Linux: the
    /// `net.ipv6.bindv6only` sysctl, off by default).
    only_v6: Option<bool>,
    backlog: u32,
}

impl Default for TcpListenerBuilder {
    /// The settings of [`TcpListener::bind`]; the same as
    /// [`TcpListener::builder`].
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListenerBuilder;
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListenerBuilder::default().bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    fn default() -> TcpListenerBuilder {
        TcpListenerBuilder {
            reuse_address: true,
            reuse_port: false,
            only_v6: None,
            backlog: DEFAULT_BACKLOG,
        }
    }
}

impl TcpListenerBuilder {
    /// Sets `SO_REUSEPORT` (default off): several listeners, in this
    /// process or others of the same user, can then bind the same address
    /// and port if every one of them sets it, and the kernel spreads new
    /// connections over them (Linux hashes each connection's addresses and
    /// ports to pick one; FreeBSD and macOS allow the shared bind but do not
    /// balance). One listener per loop this way is how a thread-per-core
    /// server spreads its connections, as glommio and monoio servers do.
    ///
    /// Available on Linux, Android, the BSDs and macOS; elsewhere (Solaris,
    /// illumos, Cygwin) `reuse_port(true)` makes the bind fail with
    /// `io::ErrorKind::Unsupported`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     let reuse_port = TcpListener::builder().reuse_port(true);
    ///     let first = reuse_port.bind("127.0.0.1:0").await?;
    ///     let second = reuse_port.bind(first.local_addr()?).await?;
    ///     assert_eq!(first.local_addr()?, second.local_addr()?);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuse_port(mut self, reuse_port: bool) -> TcpListenerBuilder {
        self.reuse_port = reuse_port;
        self
    }

    /// Sets `SO_REUSEADDR` (default on, as `std` and so
    /// [`TcpListener::bind`] set it): the port can be bound again while
    /// connections of an earlier listener on it linger in `TIME_WAIT`, so a
    /// restarted server need not wait for them. It does not let two
    /// listeners share a port; [`reuse_port`](TcpListenerBuilder::reuse_port)
    /// does.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::builder().reuse_address(false).bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn reuse_address(mut self, reuse_address: bool) -> TcpListenerBuilder {
        self.reuse_address = reuse_address;
        self
    }

    /// Sets `IPV6_V6ONLY` on an IPv6 listener: `true` accepts IPv6
    /// connections only, `false` also IPv4 ones (as IPv4-mapped addresses)
    /// when bound to `::`. Unset, the OS default stays (on Linux the
    /// `net.ipv6.bindv6only` sysctl, normally `false`), as with
    /// [`TcpListener::bind`]. It matters for `::` only: a listener on one
    /// IPv6 address (`::1`, say) can take IPv6 connections only, and Linux
    /// marks it IPv6-only whatever was set. Ignored for IPv4 addresses, so
    /// one builder serves a host name that resolves to both kinds.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     // Binds 127.0.0.1: the option is for IPv6 sockets only.
    ///     let listener = TcpListener::builder().only_v6(true).bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.is_ipv4());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn only_v6(mut self, only_v6: bool) -> TcpListenerBuilder {
        self.only_v6 = Some(only_v6);
        self
    }

    /// Sets the `listen` backlog: how many connections the kernel queues
    /// for `accept` (default 128, what [`TcpListener::bind`] passes). The
    /// kernel caps it, on Linux at the `net.core.somaxconn` sysctl (4096 on
    /// recent kernels); values above `i32::MAX` are passed as `i32::MAX`.
    /// A busy server that accepts in bursts wants it larger, so
    /// connections arriving while the loop runs other work wait instead of
    /// being refused.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::builder().backlog(4096).bind("127.0.0.1:0").await?;
    ///     assert!(listener.local_addr()?.port() != 0);
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn backlog(mut self, backlog: u32) -> TcpListenerBuilder {
        self.backlog = backlog;
        self
    }

    /// Binds to `addr` (the first of its addresses that works, host names
    /// resolved on the worker pool, as [`TcpListener::bind`] does) with
    /// these options, and listens.
    ///
    /// # Errors
    ///
    /// As [`TcpListener::bind`]: `AddrInUse` if the address is taken
    /// (with `reuse_port(true)`: taken by a socket that did not set
    /// `SO_REUSEPORT` too, or by another user's); `Unsupported` for
    /// `reuse_port(true)` where the OS has no `SO_REUSEPORT`.
    ///
    /// # Panics
    ///
    /// Outside a runtime.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// jsloop::block_on(async {
    ///     let listener = TcpListener::builder().reuse_port(true).bind(("localhost", 0)).await?;
    ///     assert!(listener.local_addr()?.ip().is_loopback());
    ///     Ok::<(), std::io::Error>(())
    /// })?;
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub async fn bind(self, addr: impl ToSocketAddrs) -> io::Result<TcpListener> {
        each_addr(addr, |addr| async move { TcpListener::from_std(self.bind_std(addr)?) }).await
    }

    /// Binds a standard-library listener to `addr` with these options, and
    /// listens; no runtime is needed. The listener is in blocking mode, as
    /// `std::net::TcpListener::bind` makes it; [`TcpListener::from_std`]
    /// takes it onto a loop. It is `Send`: a thread-per-core server can
    /// bind each listener up front, so a taken port fails at start-up, and
    /// hand one to each loop's thread.
    ///
    /// # Errors
    ///
    /// As for [`bind`](TcpListenerBuilder::bind).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::net::TcpListener;
    ///
    /// let reuse_port = TcpListener::builder().reuse_port(true);
    /// let first = reuse_port.bind_std("127.0.0.1:0".parse().unwrap())?;
    /// let second = reuse_port.bind_std(first.local_addr()?)?;
    /// let loops: Vec<_> = [first, second]
    ///     .into_iter()
    ///     .map(|std_listener| {
    ///         std::thread::spawn(move || {
    ///             jsloop::block_on(async move {
    ///                 let listener = TcpListener::from_std(std_listener)?;
    ///                 listener.local_addr()
    ///             })
    ///         })
    ///     })
    ///     .collect();
    /// let ports: Vec<u16> = loops.into_iter().map(|t| t.join().unwrap().unwrap().port()).collect();
    /// assert_eq!(ports[0], ports[1]);
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn bind_std(self, addr: SocketAddr) -> io::Result<net::TcpListener> {
        let family = if addr.is_ipv4() { AddressFamily::INET } else { AddressFamily::INET6 };
        let socket =
            rustix::net::socket_with(family, SocketType::STREAM, SocketFlags::CLOEXEC, None)?;
        sockopt::set_socket_reuseaddr(&socket, self.reuse_address)?;
        if self.reuse_port {
            set_reuse_port(&socket)?;
        }
        if let (Some(only_v6), true) = (self.only_v6, addr.is_ipv6()) {
            sockopt::set_ipv6_v6only(&socket, only_v6)?;
        }
        rustix::net::bind(&socket, &addr)?;
        rustix::net::listen(&socket, i32::try_from(self.backlog).unwrap_or(i32::MAX))?;
        Ok(net::TcpListener::from(socket))
    }
}

// `SO_REUSEPORT` where rustix offers it (its own cfg), which is where the
// kernel has it: every Unix but Solaris, illumos and Cygwin.

#[cfg(not(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin")))]
fn set_reuse_port(socket: impl AsFd) -> io::Result<()> {
    Ok(sockopt::set_socket_reuseport(socket, true)?)
}

#[cfg(any(target_os = "solaris", target_os = "illumos", target_os = "cygwin"))]
fn set_reuse_port(_socket: impl AsFd) -> io::Result<()> {
    Err(io::Error::new(
        io::ErrorKind::Unsupported,
        "SO_REUSEPORT is not available on this target, so TcpListenerBuilder::reuse_port(true) cannot bind",
    ))
}
