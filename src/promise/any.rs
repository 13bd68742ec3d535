//! `AnyPromise` and `Reason`: a promise and its rejection reason without
//! their types, as the loop's rejection hooks (`process::
//! on_unhandled_rejection`, `on_rejection_handled`) hand them out.

use std::any::Any;
use std::error::Error;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::sync::Arc;

use super::Promise;
use super::state::ErasedState;

/// A [`Promise`] of any `T` and `E`: what the rejection hooks of
/// [`jsloop::process`](crate::process) report. It compares and hashes by
/// identity (two handles to one promise are equal), so a program can tell
/// which of its promises a report is about, as Node's listeners compare
/// the promise they get; [`downcast`](AnyPromise::downcast) gives the typed
/// promise back.
///
/// # Examples
///
/// ```
/// use jsloop::promise::{AnyPromise, Promise};
///
/// jsloop::block_on(async {
///     let typed = Promise::<u8, String>::reject("no".to_string());
///     let any = AnyPromise::from(&typed);
///     assert!(any.is(&typed));
///     assert_eq!(any.reason().and_then(|r| r.downcast::<String>()), Some("no".to_string()));
///     let again: Promise<u8, String> = any.downcast().unwrap();
///     assert_eq!(again.await, Err("no".to_string())); // handled now
/// });
/// ```
#[derive(Clone)]
pub struct AnyPromise {
    state: Arc<dyn ErasedState>,
}

impl AnyPromise {
    pub(crate) fn new(state: Arc<dyn ErasedState>) -> AnyPromise {
        AnyPromise { state }
    }

    /// The typed promise, if it is a `Promise<T, E>`.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::{AnyPromise, Promise};
    ///
    /// let any = AnyPromise::from(Promise::<i32, ()>::resolve(1));
    /// assert!(any.downcast::<i32, ()>().is_some());
    /// assert!(any.downcast::<u32, ()>().is_none());
    /// ```
    pub fn downcast<T: 'static, E: 'static>(&self) -> Option<Promise<T, E>> {
        self.state.clone().to_promise().downcast::<Promise<T, E>>().ok().map(|promise| *promise)
    }

    /// Whether this is `promise` (the same promise, not an equal outcome).
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::{AnyPromise, Promise};
    ///
    /// let (a, b) = (Promise::<i32, ()>::resolve(1), Promise::<i32, ()>::resolve(1));
    /// assert!(AnyPromise::from(&a).is(&a.clone()));
    /// assert!(!AnyPromise::from(&a).is(&b));
    /// ```
    pub fn is<T: 'static, E: 'static>(&self, promise: &Promise<T, E>) -> bool {
        self.address() == Arc::as_ptr(promise.state()).cast()
    }

    /// Its rejection reason, if it is rejected.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::promise::{AnyPromise, Promise};
    ///
    /// assert!(AnyPromise::from(Promise::<(), i32>::resolve(())).reason().is_none());
    /// jsloop::block_on(async {
    ///     let rejected = Promise::<(), i32>::reject(7);
    ///     let reason = AnyPromise::from(&rejected).reason().unwrap();
    ///     assert_eq!(reason.downcast::<i32>(), Some(7));
    ///     let _ = rejected.await; // handle it
    /// });
    /// ```
    pub fn reason(&self) -> Option<Reason> {
        let mut rejected = false;
        self.state.with_reason(&mut |_| rejected = true);
        rejected.then(|| Reason { promise: self.clone() })
    }

    fn address(&self) -> *const () {
        Arc::as_ptr(&self.state).cast()
    }
}

impl<T: 'static, E: 'static> From<Promise<T, E>> for AnyPromise {
    fn from(promise: Promise<T, E>) -> AnyPromise {
        AnyPromise { state: promise.state().clone() }
    }
}

impl<T: 'static, E: 'static> From<&Promise<T, E>> for AnyPromise {
    fn from(promise: &Promise<T, E>) -> AnyPromise {
        AnyPromise { state: promise.state().clone() }
    }
}

impl PartialEq for AnyPromise {
    fn eq(&self, other: &AnyPromise) -> bool {
        self.address() == other.address()
    }
}

impl Eq for AnyPromise {}

impl Hash for AnyPromise {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.address().hash(state);
    }
}

impl fmt::Debug for AnyPromise {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("AnyPromise").field(&format_args!("{}", self.state.phase_name())).finish()
    }
}

/// The reason a promise was rejected with, of any type: the first argument
/// of an [`on_unhandled_rejection`](crate::process::on_unhandled_rejection)
/// listener.
///
/// [`downcast`](Reason::downcast) gives a clone of the value. `Display`
/// shows common error types as they are (`String`, `&str`, `io::Error`,
/// boxed and `Arc`ed `dyn Error`) and names the type of anything else.
///
/// # Examples
///
/// ```
/// use jsloop::promise::{AnyPromise, Promise};
///
/// jsloop::block_on(async {
///     let p = Promise::<(), String>::reject("disk full".to_string());
///     let reason = AnyPromise::from(&p).reason().unwrap();
///     assert_eq!(reason.to_string(), "disk full");
///     assert!(reason.is::<String>());
///     let _ = p.await;
/// });
/// ```
#[derive(Clone)]
pub struct Reason {
    promise: AnyPromise,
}

impl Reason {
    pub(crate) fn of(promise: &AnyPromise) -> Reason {
        Reason { promise: promise.clone() }
    }

    /// A clone of the reason, if it is an `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use jsloop::promise::{AnyPromise, Promise};
    /// # jsloop::block_on(async {
    /// let p = Promise::<(), u16>::reject(404);
    /// let reason = AnyPromise::from(&p).reason().unwrap();
    /// assert_eq!(reason.downcast::<u16>(), Some(404));
    /// assert_eq!(reason.downcast::<u32>(), None);
    /// # let _ = p.await;
    /// # });
    /// ```
    pub fn downcast<E: Clone + 'static>(&self) -> Option<E> {
        let mut value = None;
        self.promise.state.with_reason(&mut |reason| value = reason.downcast_ref::<E>().cloned());
        value
    }

    /// Whether the reason is an `E`.
    ///
    /// # Examples
    ///
    /// ```
    /// # use jsloop::promise::{AnyPromise, Promise};
    /// # jsloop::block_on(async {
    /// let p = Promise::<(), &str>::reject("no");
    /// assert!(AnyPromise::from(&p).reason().unwrap().is::<&str>());
    /// # let _ = p.await;
    /// # });
    /// ```
    pub fn is<E: 'static>(&self) -> bool {
        let mut is = false;
        self.promise.state.with_reason(&mut |reason| is = reason.is::<E>());
        is
    }

    /// The name of the reason's type (`std::any::type_name`).
    ///
    /// # Examples
    ///
    /// ```
    /// # use jsloop::promise::{AnyPromise, Promise};
    /// # jsloop::block_on(async {
    /// let p = Promise::<(), i32>::reject(1);
    /// assert_eq!(AnyPromise::from(&p).reason().unwrap().type_name(), "i32");
    /// # let _ = p.await;
    /// # });
    /// ```
    pub fn type_name(&self) -> &'static str {
        self.promise.state.reason_type()
    }
}

/// The text of a reason of a well-known error type.
fn describe(reason: &dyn Any) -> Option<String> {
    if let Some(text) = reason.downcast_ref::<String>() {
        return Some(text.clone());
    }
    if let Some(text) = reason.downcast_ref::<&'static str>() {
        return Some((*text).to_string());
    }
    if let Some(error) = reason.downcast_ref::<std::io::Error>() {
        return Some(error.to_string());
    }
    if let Some(error) = reason.downcast_ref::<Box<dyn Error + Send + Sync>>() {
        return Some(error.to_string());
    }
    if let Some(error) = reason.downcast_ref::<Box<dyn Error>>() {
        return Some(error.to_string());
    }
    if let Some(error) = reason.downcast_ref::<Arc<dyn Error + Send + Sync>>() {
        return Some(error.to_string());
    }
    None
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut text = None;
        self.promise.state.with_reason(&mut |reason| text = describe(reason));
        match text {
            Some(text) => f.write_str(&text),
            None => write!(f, "a rejection reason of type `{}`", self.type_name()),
        }
    }
}

impl fmt::Debug for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Reason").field(&format_args!("{self}")).finish()
    }
}
