//! Networking. For now: name resolution on the worker pool
//! ([`lookup_host`]), as Node's `dns.lookup` runs on libuv's threadpool.

mod lookup;

pub use lookup::lookup_host;
