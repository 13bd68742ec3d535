//! The combinators: `Promise.all`, `allSettled`, `race` and `any` over any
//! number of children.

use std::fmt;
use std::future::IntoFuture;

use super::children::Children;

/// Waits for every child; `Ok` with the outputs in input order, or the
/// first `Err` as soon as it happens: `Promise.all`.
///
/// `all` of nothing is `Ok(vec![])` at once. On an error the pending
/// children are dropped (see the [module docs](crate::promise) for tasks).
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::all;
///
/// jsloop::block_on(async {
///     let ok = all([ready(Ok::<_, ()>(1)), ready(Ok(2))]).await;
///     assert_eq!(ok, Ok(vec![1, 2]));
///     // Children of different types: box them (or spawn them as tasks).
///     let mixed: Vec<std::pin::Pin<Box<dyn std::future::Future<Output = Result<i32, ()>>>>> =
///         vec![Box::pin(async { Ok(3) }), Box::pin(ready(Ok(4)))];
///     assert_eq!(all(mixed).await, Ok(vec![3, 4]));
/// });
/// ```
pub async fn all<I, T, E>(children: I) -> Result<Vec<T>, E>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut children = Children::new(children);
    let mut outputs: Vec<Option<T>> = (0..children.len()).map(|_| None).collect();
    while let Some((index, output)) = children.next().await {
        outputs[index] = Some(output?);
    }
    Ok(outputs.into_iter().map(|output| output.expect("every child finished")).collect())
}

/// Waits for every child and returns all outcomes in input order:
/// `Promise.allSettled`.
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::all_settled;
///
/// jsloop::block_on(async {
///     let outcomes = all_settled([ready(Ok(1)), ready(Err("no"))]).await;
///     assert_eq!(outcomes, [Ok(1), Err("no")]);
/// });
/// ```
pub async fn all_settled<I, T, E>(children: I) -> Vec<Result<T, E>>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut children = Children::new(children);
    let mut outputs: Vec<Option<Result<T, E>>> = (0..children.len()).map(|_| None).collect();
    while let Some((index, output)) = children.next().await {
        outputs[index] = Some(output);
    }
    outputs.into_iter().map(|output| output.expect("every child finished")).collect()
}

/// The output of the first child to finish, success or failure:
/// `Promise.race`. The others are dropped.
///
/// As in JS, `race` of nothing never settles.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::{promise::race, time::sleep};
///
/// async fn after(ms: u64, name: &'static str) -> &'static str {
///     sleep(Duration::from_millis(ms)).await;
///     name
/// }
///
/// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
/// assert_eq!(rt.block_on(race([after(50, "slow"), after(1, "fast")])), "fast");
/// # Ok::<(), std::io::Error>(())
/// ```
pub async fn race<I>(children: I) -> <I::Item as IntoFuture>::Output
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let mut children = Children::new(children);
    match children.next().await {
        Some((_, output)) => output,
        None => std::future::pending().await,
    }
}

/// The first success; if every child fails, an [`AggregateError`] with all
/// the errors in input order: `Promise.any`. `any` of nothing fails at once,
/// as in JS.
///
/// # Errors
///
/// [`AggregateError`] when no child succeeds.
///
/// # Examples
///
/// ```
/// use std::future::ready;
/// use jsloop::promise::any;
///
/// jsloop::block_on(async {
///     let first_ok = any([ready(Err("a")), ready(Ok(2))]).await;
///     assert_eq!(first_ok, Ok(2));
///     let none = any([ready(Err::<i32, _>("a")), ready(Err("b"))]).await;
///     assert_eq!(none.unwrap_err().errors(), ["a", "b"]);
/// });
/// ```
pub async fn any<I, T, E>(children: I) -> Result<T, AggregateError<E>>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let mut children = Children::new(children);
    let mut errors: Vec<Option<E>> = (0..children.len()).map(|_| None).collect();
    while let Some((index, output)) = children.next().await {
        match output {
            Ok(value) => return Ok(value),
            Err(error) => errors[index] = Some(error),
        }
    }
    Err(AggregateError::new(errors.into_iter().map(|e| e.expect("every child failed")).collect()))
}

/// Every child of [`any`] failed: their errors, in input order. JS's
/// `AggregateError`.
#[derive(Clone, PartialEq, Eq)]
pub struct AggregateError<E> {
    errors: Vec<E>,
}

impl<E> AggregateError<E> {
    pub(crate) fn new(errors: Vec<E>) -> Self {
        AggregateError { errors }
    }

    /// The errors, in input order.
    pub fn errors(&self) -> &[E] {
        &self.errors
    }

    /// Takes the errors out.
    pub fn into_errors(self) -> Vec<E> {
        self.errors
    }
}

impl<E> fmt::Display for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("All promises were rejected")
    }
}

impl<E: fmt::Debug> fmt::Debug for AggregateError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AggregateError").field("errors", &self.errors).finish()
    }
}

impl<E: fmt::Debug> std::error::Error for AggregateError<E> {}
