//! Socket addresses to bind or connect to: literal ones at once, host
//! names through [`lookup_host`](super::lookup_host) on the worker pool.

use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};

use super::lookup_host;

mod sealed {
    pub trait Sealed {}
}

/// What [`TcpListener::bind`](super::TcpListener::bind),
/// [`TcpStream::connect`](super::TcpStream::connect) and
/// [`UdpSocket::bind`](super::UdpSocket::bind) accept: a `SocketAddr` (or
/// its parts), or a `"host:port"` / `(host, port)` whose host name is
/// resolved on the worker pool, never on the loop thread.
pub trait ToSocketAddrs: sealed::Sealed {
    #[doc(hidden)]
    fn resolve(self) -> impl Future<Output = io::Result<Vec<SocketAddr>>>;
}

macro_rules! literal_addrs {
    ($($ty:ty => |$v:ident| $addr:expr_2021),+ $(,)?) => {$(
        impl sealed::Sealed for $ty {}
        impl ToSocketAddrs for $ty {
            async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
                let $v = self;
                Ok(vec![SocketAddr::from($addr)])
            }
        }
    )+};
}

literal_addrs! {
    SocketAddr => |a| a,
    SocketAddrV4 => |a| a,
    SocketAddrV6 => |a| a,
    (IpAddr, u16) => |a| a,
    (Ipv4Addr, u16) => |a| a,
    (Ipv6Addr, u16) => |a| a,
}

impl sealed::Sealed for &[SocketAddr] {}
impl ToSocketAddrs for &[SocketAddr] {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        Ok(self.to_vec())
    }
}

impl sealed::Sealed for &str {}
impl ToSocketAddrs for &str {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        match self.parse::<SocketAddr>() {
            Ok(addr) => Ok(vec![addr]),
            Err(_) => lookup_host(self).await,
        }
    }
}

impl sealed::Sealed for String {}
impl ToSocketAddrs for String {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        self.as_str().resolve().await
    }
}

impl sealed::Sealed for &String {}
impl ToSocketAddrs for &String {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        self.as_str().resolve().await
    }
}

impl sealed::Sealed for (&str, u16) {}
impl ToSocketAddrs for (&str, u16) {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        let (host, port) = self;
        match host.parse::<IpAddr>() {
            Ok(ip) => Ok(vec![SocketAddr::new(ip, port)]),
            Err(_) => lookup_host(format!("{host}:{port}")).await,
        }
    }
}

impl sealed::Sealed for (String, u16) {}
impl ToSocketAddrs for (String, u16) {
    async fn resolve(self) -> io::Result<Vec<SocketAddr>> {
        (self.0.as_str(), self.1).resolve().await
    }
}

/// Runs `attempt` on each address in turn: the first success, else the
/// last error (or one saying there was no address).
pub(crate) async fn each_addr<T, F, Fut>(addrs: impl ToSocketAddrs, mut attempt: F) -> io::Result<T>
where
    F: FnMut(SocketAddr) -> Fut,
    Fut: Future<Output = io::Result<T>>,
{
    let mut last_error = None;
    for addr in addrs.resolve().await? {
        match attempt(addr).await {
            Ok(value) => return Ok(value),
            Err(error) => last_error = Some(error),
        }
    }
    Err(last_error.unwrap_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "could not resolve to any address")
    }))
}
