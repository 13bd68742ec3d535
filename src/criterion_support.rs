//! criterion's `AsyncExecutor` for jsloop (feature `criterion`), so
//! `b.to_async(&rt)` benchmarks async code on the loop.
//!
//! ```
//! use criterion::Criterion;
//!
//! fn bench_yield(c: &mut Criterion) {
//!     let rt = jsloop::Runtime::new().unwrap();
//!     c.bench_function("yield_now", |b| b.to_async(&rt).iter(|| jsloop::yield_now()));
//! }
//! # let mut c = Criterion::default().sample_size(10)
//! #     .warm_up_time(std::time::Duration::from_millis(1))
//! #     .measurement_time(std::time::Duration::from_millis(5));
//! # bench_yield(&mut c);
//! ```

use std::future::Future;

use criterion::async_executor::AsyncExecutor;

use crate::Runtime;

/// Each iteration batch runs in [`Runtime::block_on`].
impl AsyncExecutor for Runtime {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        Runtime::block_on(self, future)
    }
}

/// Each iteration batch runs in [`Runtime::block_on`].
impl AsyncExecutor for &Runtime {
    fn block_on<T>(&self, future: impl Future<Output = T>) -> T {
        Runtime::block_on(self, future)
    }
}
