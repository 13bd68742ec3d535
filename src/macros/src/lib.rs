//! The attributes `#[jsloop::main]` and `#[jsloop::test]`: an `async fn`
//! run as the main script of a new jsloop runtime.
//!
//! Use them through `jsloop`, whose default `macros` feature re-exports
//! them (the expansion names `::jsloop`, so the crate must be a dependency
//! under that name).

mod expand;
mod options;

use proc_macro::TokenStream;

use crate::expand::{Kind, expand};

/// Runs an `async fn` as the main script of a new jsloop runtime: the
/// program's `main`, or any function that should drive a loop of its own.
///
/// ```
/// use std::time::Duration;
///
/// #[jsloop::main]
/// async fn main() {
///     jsloop::spawn(async {
///         jsloop::time::sleep(Duration::from_millis(10)).await;
///         println!("2 - the task, after the body completed");
///     });
///     println!("1 - main");
/// }
/// ```
///
/// The function becomes a plain `fn` with the same attributes, docs,
/// visibility, name and return type, whose body is (here with no options)
///
/// ```
/// # fn main() {
/// let body = async move {
///     // the function's body
/// };
/// let runtime = ::jsloop::Runtime::builder()
///     .build()
///     .unwrap_or_else(|error| panic!("jsloop: failed to build the runtime: {}", error));
/// runtime.run(body)
/// # }
/// ```
///
/// `Runtime::run` has Node's semantics: the function returns the body's
/// output once the body has completed *and* the loop has nothing left to
/// do (timers, immediates, pool jobs, sockets), as Node exits, so the task
/// above still prints. With the `block_on` option it returns as soon as
/// the body completes (tokio's semantics), and the runtime is dropped with
/// whatever was still pending.
///
/// # Options
///
/// Comma-separated, in any combination:
///
/// | option | effect |
/// |---|---|
/// | `block_on` | `.block_on(..)` instead of `.run(..)` |
/// | `virtual_time` | `.virtual_time(true)`: the clock stands still and jumps to the next timer when the loop is idle |
/// | `worker_threads = N` | `.worker_threads(N)`: the worker pool's size (`N` a positive integer literal) |
/// | `strict_microtasks` | `.strict_microtasks(true)`: Node's unbounded microtask checkpoint |
/// | `track_tasks` | `.track_tasks(true)`: task dumps with each task's polls and age |
///
/// The function may return anything `main` may (or, on another function,
/// anything at all); `?` and `return` work as in any `async fn`:
///
/// ```
/// #[jsloop::main(worker_threads = 2)]
/// async fn main() -> std::io::Result<()> {
///     let manifest = jsloop::fs::read_to_string("Cargo.toml").await?;
///     assert!(manifest.contains("jsloop-macros"));
///     Ok(())
/// }
/// ```
///
/// It must be `async`, and cannot take arguments or be generic, `const` or
/// `unsafe`; each of these is a compile error.
///
/// # Panics
///
/// If the runtime cannot be built (no OS poller, or without `worker_threads`
/// a `JSLOOP_THREADPOOL_SIZE` that is not a number): the message names
/// jsloop and the I/O error. Otherwise as `Runtime::run` (or
/// `Runtime::block_on`): with the body's panic, a callback's, or when the
/// loop runs out of work while the body is still pending.
#[proc_macro_attribute]
pub fn main(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Main, args.into(), item.into()).into()
}

/// Runs an `async fn` as a test, on a new jsloop runtime of its own.
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{sleep, Instant};
///
/// #[jsloop::test(virtual_time)]
/// async fn an_hour_passes_instantly() {
///     let start = Instant::now();
///     sleep(Duration::from_secs(3600)).await;
///     assert_eq!(start.elapsed(), Duration::from_secs(3600));
/// }
/// # fn main() {}
/// ```
///
/// expands to
///
/// ```
/// # use std::time::Duration;
/// # use jsloop::time::{sleep, Instant};
/// #[::core::prelude::v1::test]
/// fn an_hour_passes_instantly() {
///     let body = async move {
///         let start = Instant::now();
///         sleep(Duration::from_secs(3600)).await;
///         assert_eq!(start.elapsed(), Duration::from_secs(3600));
///     };
///     let runtime = ::jsloop::Runtime::builder()
///         .virtual_time(true)
///         .build()
///         .unwrap_or_else(|error| panic!("jsloop: failed to build the runtime: {}", error));
///     runtime.run(body)
/// }
/// # fn main() {}
/// ```
///
/// The options are [`main`](macro@main)'s, and so is the default of
/// `Runtime::run`: the test ends once the body has completed and the loop
/// is idle, so a timer or task the body left behind still runs, and its
/// panic fails the test. With `virtual_time` the clock starts paused and
/// jumps to the next timer whenever the loop is idle, so timer-heavy tests
/// take no real time.
///
/// The test may return what `#[test]` allows (`Result<(), E>`, any
/// `std::process::Termination`), and attributes written after
/// `#[jsloop::test]` apply as they do after `#[test]`:
///
/// ```
/// #[jsloop::test]
/// #[should_panic(expected = "an immediate after the body")]
/// async fn an_immediate_left_behind_still_runs() {
///     jsloop::set_immediate(|| panic!("an immediate after the body"));
/// }
///
/// #[jsloop::test(block_on, worker_threads = 1)]
/// async fn parses() -> Result<(), std::num::ParseIntError> {
///     let n: u32 = "42".parse()?;
///     assert_eq!(n, 42);
///     Ok(())
/// }
/// # fn main() {}
/// ```
///
/// The function must be `async`, and cannot take arguments, be generic,
/// `const` or `unsafe`, or carry a second `#[test]`.
#[proc_macro_attribute]
pub fn test(args: TokenStream, item: TokenStream) -> TokenStream {
    expand(Kind::Test, args.into(), item.into()).into()
}
