//! Sets `cfg(jsloop_tsan)` when the crate is built under ThreadSanitizer.
//!
//! `cfg(sanitize = "thread")` is unstable (it needs `#![feature(cfg_sanitize)]`
//! and so cannot appear in a crate that builds on stable), but build scripts
//! see every target cfg as `CARGO_CFG_*`, unstable ones included. So a build
//! with `-Zsanitizer=thread`, or for a `*-gnutsan` target, gets
//! `jsloop_tsan` on stable and nightly alike, with no flag to remember: the
//! task cell's last release then uses the `Acquire` load TSan understands
//! instead of the fence it does not (`src/task/raw.rs`).
//! crossbeam-utils and getrandom detect their sanitizers the same way.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let sanitizers = std::env::var("CARGO_CFG_SANITIZE").unwrap_or_default();
    if sanitizers.split(',').any(|s| s == "thread") {
        println!("cargo:rustc-cfg=jsloop_tsan");
    }
}
