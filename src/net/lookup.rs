//! `lookup_host`: `getaddrinfo` (std's `ToSocketAddrs`) on the worker pool.

use std::io;
use std::net::{SocketAddr, ToSocketAddrs};

use crate::context;

/// Resolves `host` — `"name:port"` or `"ip:port"` — to socket addresses, on
/// the worker pool: Node's `dns.lookup`.
///
/// Lookups can be slow, so at most half the pool's threads (at least one)
/// run them at once; the rest wait their turn in order, and `fs` work keeps
/// flowing meanwhile.
///
/// # Errors
///
/// The resolver's error (e.g. an unknown name, or a missing port), with the
/// host in its message.
///
/// # Panics
///
/// Panics outside a runtime.
///
/// # Examples
///
/// ```
/// jsloop::block_on(async {
///     let addrs = jsloop::net::lookup_host("127.0.0.1:8080").await?;
///     assert_eq!(addrs, ["127.0.0.1:8080".parse().unwrap()]);
///     assert!(jsloop::net::lookup_host("no port here").await.is_err());
///     Ok::<(), std::io::Error>(())
/// })?;
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn lookup_host(host: impl Into<String>) -> io::Result<Vec<SocketAddr>> {
    let host = host.into();
    let gate = context::with_current(|core| core.pool.slow_work.clone());
    let _permit = gate.admit().await;
    let name = host.clone();
    let resolved = crate::spawn_blocking(move || name.to_socket_addrs().map(Iterator::collect))
        .await
        .map_err(io::Error::from)?;
    resolved.map_err(|error| io::Error::new(error.kind(), format!("{error}, getaddrinfo '{host}'")))
}
