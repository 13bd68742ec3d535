//! The combinators over tuples of up to 12 children of different types:
//! `promise::tuple::all((a, b, c))` gives `Result<(A, B, C), E>`.
//!
//! Same rules as the `IntoIterator` forms in [`promise`](crate::promise)
//! (each child has its own waker; short-circuits drop the pending
//! children), without boxing children into one type first. (They are
//! separate functions because Rust cannot tell a tuple from an iterable in
//! one signature.)
//!
//! ```
//! use jsloop::promise::{tuple, Promise};
//!
//! jsloop::block_on(async {
//!     let name = Promise::<_, String>::resolve("Ada");
//!     let age = async { Ok::<_, String>(36) };
//!     let (name, age) = tuple::all((name, age)).await?;
//!     assert_eq!(format!("{name} {age}"), "Ada 36");
//!     Ok::<(), String>(())
//! })
//! .unwrap();
//! ```

use std::future::{Future, IntoFuture};
use std::task::Poll;

use super::AggregateError;
use super::wake_set::WakeSet;

mod sealed {
    pub trait Sealed {}
}

/// A tuple of up to 12 futures with outputs `Result<_, E>`: what [`all`]
/// takes.
pub trait AllTuple<E>: sealed::Sealed {
    /// The tuple of the children's success values.
    type Values;

    #[doc(hidden)]
    fn all(self) -> impl Future<Output = Result<Self::Values, E>>;
}

/// A tuple of up to 12 futures: what [`all_settled`] takes.
pub trait AllSettledTuple: sealed::Sealed {
    /// The tuple of the children's outputs.
    type Outputs;

    #[doc(hidden)]
    fn all_settled(self) -> impl Future<Output = Self::Outputs>;
}

/// A tuple of up to 12 futures with one output type: what [`race`] takes.
pub trait RaceTuple: sealed::Sealed {
    /// The children's common output.
    type Output;

    #[doc(hidden)]
    fn race(self) -> impl Future<Output = Self::Output>;
}

/// A tuple of up to 12 futures with one output type `Result<T, E>`: what
/// [`any`] takes.
pub trait AnyTuple<E>: sealed::Sealed {
    /// The children's common success type.
    type Value;

    #[doc(hidden)]
    fn any(self) -> impl Future<Output = Result<Self::Value, AggregateError<E>>>;
}

/// `Promise.all` over a tuple: `Ok` with every value, in tuple order, or the
/// first `Err` as soon as it happens.
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::tuple;
///
/// jsloop::block_on(async {
///     let ok = tuple::all((ready(Ok::<_, ()>(1)), ready(Ok("two")))).await;
///     assert_eq!(ok, Ok((1, "two")));
///     let failed = tuple::all((ready(Ok(1)), ready(Err::<(), _>("no")))).await;
///     assert_eq!(failed, Err("no"));
/// });
/// ```
pub async fn all<T: AllTuple<E>, E>(children: T) -> Result<T::Values, E> {
    children.all().await
}

/// `Promise.allSettled` over a tuple: every child's output, in tuple order,
/// once all are done (for children returning `Result`s, every outcome).
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::tuple;
///
/// jsloop::block_on(async {
///     let outcomes = tuple::all_settled((ready(Ok::<_, &str>(1)), ready(Err::<bool, _>("no"))));
///     assert_eq!(outcomes.await, (Ok(1), Err("no")));
/// });
/// ```
pub async fn all_settled<T: AllSettledTuple>(children: T) -> T::Outputs {
    children.all_settled().await
}

/// `Promise.race` over a tuple: the first output; the others are dropped.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::{promise::tuple, time::sleep};
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// let winner = rt.block_on(tuple::race((
///     async {
///         sleep(Duration::from_millis(50)).await;
///         "slow"
///     },
///     async { "fast" },
/// )));
/// assert_eq!(winner, "fast");
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn race<T: RaceTuple>(children: T) -> T::Output {
    children.race().await
}

/// `Promise.any` over a tuple: the first success, or every error in tuple
/// order.
///
/// # Errors
///
/// [`AggregateError`] when every child fails.
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::tuple;
///
/// jsloop::block_on(async {
///     let first_ok = tuple::any((ready(Err("a")), async { Ok(2) })).await;
///     assert_eq!(first_ok, Ok(2));
///     let none = tuple::any((ready(Err::<(), _>("a")), ready(Err("b")))).await;
///     assert_eq!(none.unwrap_err().errors(), ["a", "b"]);
/// });
/// ```
pub async fn any<T: AnyTuple<E>, E>(children: T) -> Result<T::Value, AggregateError<E>> {
    children.any().await
}

/// The poll loop of a tuple combinator: polls the woken children (each
/// index is a literal, so each arm knows its child's type) and hands each
/// output to `$on_output!(state, index, output)`, which may end it.
macro_rules! drive {
    ($children:ident, $state:ident, $on_output:ident, $on_done:expr_2021, [$($idx:tt)+]) => {{
        let mut futures = ($(Some(Box::pin($children.$idx.into_future())),)+);
        let mut wakes = WakeSet::new([$($idx),+].len());
        let mut remaining = [$($idx),+].len();
        std::future::poll_fn(move |cx| {
            wakes.enter(cx);
            while let Some(index) = wakes.next() {
                match index {
                    $($idx => {
                        let Some(future) = futures.$idx.as_mut() else { continue };
                        if let Poll::Ready(output) = wakes.poll_child(index, future.as_mut()) {
                            futures.$idx = None;
                            remaining -= 1;
                            if let Some(done) = $on_output!($state, $idx, output) {
                                return Poll::Ready(done);
                            }
                        }
                    })+
                    _ => unreachable!("a tuple child index out of range"),
                }
            }
            if remaining == 0 {
                Poll::Ready($on_done)
            } else {
                Poll::Pending
            }
        })
        .await
    }};
}

macro_rules! keep_value_or_fail {
    ($values:ident, $idx:tt, $output:ident) => {
        match $output {
            Ok(value) => {
                $values.$idx = Some(value);
                None
            }
            Err(error) => Some(Err(error)),
        }
    };
}

macro_rules! keep_output {
    ($outputs:ident, $idx:tt, $output:ident) => {{
        $outputs.$idx = Some($output);
        None
    }};
}

macro_rules! first_output {
    ($_state:ident, $idx:tt, $output:ident) => {
        Some($output)
    };
}

macro_rules! first_value_or_keep_error {
    ($errors:ident, $idx:tt, $output:ident) => {
        match $output {
            Ok(value) => Some(Ok(value)),
            Err(error) => {
                $errors[$idx] = Some(error);
                None
            }
        }
    };
}

macro_rules! tuple_impls {
    ($($F:ident $T:ident $idx:tt),+) => {
        impl<$($F),+> sealed::Sealed for ($($F,)+) {}

        impl<E, $($F, $T),+> AllTuple<E> for ($($F,)+)
        where
            $($F: IntoFuture<Output = Result<$T, E>>),+
        {
            type Values = ($($T,)+);

            async fn all(self) -> Result<Self::Values, E> {
                let mut values = ($(None::<$T>,)+);
                drive!(
                    self,
                    values,
                    keep_value_or_fail,
                    Ok(($(values.$idx.take().expect("every child succeeded"),)+)),
                    [$($idx)+]
                )
            }
        }

        impl<$($F),+> AllSettledTuple for ($($F,)+)
        where
            $($F: IntoFuture),+
        {
            type Outputs = ($($F::Output,)+);

            async fn all_settled(self) -> Self::Outputs {
                let mut outputs = ($(None::<$F::Output>,)+);
                drive!(
                    self,
                    outputs,
                    keep_output,
                    ($(outputs.$idx.take().expect("every child finished"),)+),
                    [$($idx)+]
                )
            }
        }

        impl<O, $($F),+> RaceTuple for ($($F,)+)
        where
            $($F: IntoFuture<Output = O>),+
        {
            type Output = O;

            // The "all done" arm cannot be reached: the first output ends it.
            #[allow(unreachable_code)]
            async fn race(self) -> O {
                let _no_state = ();
                drive!(self, _no_state, first_output, unreachable!(), [$($idx)+])
            }
        }

        impl<V, E, $($F),+> AnyTuple<E> for ($($F,)+)
        where
            $($F: IntoFuture<Output = Result<V, E>>),+
        {
            type Value = V;

            async fn any(self) -> Result<V, AggregateError<E>> {
                let mut errors = [$({
                    let _ = $idx;
                    None::<E>
                }),+];
                drive!(
                    self,
                    errors,
                    first_value_or_keep_error,
                    Err(AggregateError::new(
                        errors.iter_mut().map(|error| error.take().expect("every child failed")).collect(),
                    )),
                    [$($idx)+]
                )
            }
        }
    };
}

tuple_impls!(F0 T0 0);
tuple_impls!(F0 T0 0, F1 T1 1);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6, F7 T7 7);
tuple_impls!(F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6, F7 T7 7, F8 T8 8);
tuple_impls!(
    F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6, F7 T7 7, F8 T8 8, F9 T9 9
);
tuple_impls!(
    F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6, F7 T7 7, F8 T8 8, F9 T9 9,
    F10 T10 10
);
tuple_impls!(
    F0 T0 0, F1 T1 1, F2 T2 2, F3 T3 3, F4 T4 4, F5 T5 5, F6 T6 6, F7 T7 7, F8 T8 8, F9 T9 9,
    F10 T10 10, F11 T11 11
);
