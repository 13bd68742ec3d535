//! Stops the build on a target jsloop does not support, with one clear
//! message, sets `cfg(jsloop_tsan)` when the crate is built under
//! ThreadSanitizer, and `cfg(jsloop_uring)` where the io_uring driver
//! builds.
//!
//! jsloop's poll phase, sockets, pipes, child processes and signals are
//! built on Unix file descriptors. On another target the crate would fail
//! with a wall of unresolved `std::os::fd` and `rustix` errors; a build
//! script sees the target's cfgs (`CARGO_CFG_*`) and can say why first.
//!
//! `cfg(sanitize = "thread")` is unstable (it needs `#![feature(cfg_sanitize)]`
//! and so cannot appear in a crate that builds on stable), but build scripts
//! see every target cfg as `CARGO_CFG_*`, unstable ones included. So a build
//! with `-Zsanitizer=thread`, or for a `*-gnutsan` target, gets
//! `jsloop_tsan` on stable and nightly alike, with no flag to remember: the
//! task cell's last release then uses the `Acquire` load TSan understands
//! instead of the fence it does not (`src/task/raw.rs`).
//! crossbeam-utils and getrandom detect their sanitizers the same way.
//!
//! `jsloop_uring`: Linux on an architecture the `io-uring` crate ships
//! kernel bindings for (the same list as the target dependency in
//! Cargo.toml); elsewhere `IoDriver::IoUring` is a clear `Unsupported`.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var_os("CARGO_CFG_UNIX").is_none() {
        let target = std::env::var("TARGET").unwrap_or_default();
        panic!(
            "jsloop supports Unix targets only (Linux is tested; macOS and the BSDs are \
             written for), and `{target}` is not one: its event loop is built on Unix file \
             descriptors (epoll / kqueue, pidfds, signal handlers)"
        );
    }
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let uring_arch = ["x86_64", "aarch64", "riscv64", "loongarch64", "powerpc64"];
    if os == "linux" && uring_arch.contains(&arch.as_str()) {
        println!("cargo:rustc-cfg=jsloop_uring");
    }
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if sanitizers.split(',').any(|s| s == "thread") {
        println!("cargo:rustc-cfg=jsloop_tsan");
    }
}
