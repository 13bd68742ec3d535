//! `time::Instant`: a point on the loop's clock (virtual or real).

use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::time::Duration;

use crate::context;

/// A measurement of the loop's monotonic clock.
///
/// The same as [`std::time::Instant`], except that [`Instant::now`] reads the
/// current runtime's clock, which is virtual when the runtime was built with
/// [`Builder::virtual_time`](crate::Builder::virtual_time). Outside a runtime
/// it reads the real clock.
///
/// # Examples
///
/// ```
/// use std::time::Duration;
/// use jsloop::time::{sleep, Instant};
///
/// jsloop::block_on(async {
///     let start = Instant::now();
///     sleep(Duration::from_millis(5)).await;
///     assert!(start.elapsed() >= Duration::from_millis(5));
/// });
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// The current time on the running loop's clock.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_millis(250)).await;
    ///     // The virtual clock moved exactly as far as the loop had to wait.
    ///     assert_eq!(Instant::now(), start + Duration::from_millis(250));
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn now() -> Instant {
        Instant(
            context::try_with_current(|core| core.clock.now())
                .unwrap_or_else(std::time::Instant::now),
        )
    }

    /// Converts a `std` instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::time::Instant;
    ///
    /// let std_now = std::time::Instant::now();
    /// let now = Instant::from_std(std_now);
    /// assert_eq!(now.into_std(), std_now);
    /// ```
    pub fn from_std(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }

    /// Converts to a `std` instant.
    ///
    /// # Examples
    ///
    /// ```
    /// use jsloop::time::Instant;
    ///
    /// let now = Instant::now();
    /// let std_now: std::time::Instant = now.into_std();
    /// assert_eq!(Instant::from_std(std_now), now);
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Time passed since `self` (zero if `self` is later than now).
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_millis(40)).await;
    ///     assert_eq!(start.elapsed(), Duration::from_millis(40));
    ///     assert_eq!((Instant::now() + Duration::from_secs(1)).elapsed(), Duration::ZERO);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    /// Time from `earlier` to `self`, or zero if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::Instant;
    ///
    /// let earlier = Instant::now();
    /// let later = earlier + Duration::from_millis(30);
    /// assert_eq!(later.saturating_duration_since(earlier), Duration::from_millis(30));
    /// assert_eq!(earlier.saturating_duration_since(later), Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`; `None` if `earlier` is later.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::Instant;
    ///
    /// let earlier = Instant::now();
    /// let later = earlier + Duration::from_millis(30);
    /// assert_eq!(later.checked_duration_since(earlier), Some(Duration::from_millis(30)));
    /// assert_eq!(earlier.checked_duration_since(later), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// `self + duration`, or `None` on overflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep_until, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let deadline = Instant::now().checked_add(Duration::from_millis(20)).unwrap();
    ///     sleep_until(deadline).await;
    ///     assert_eq!(Instant::now(), deadline);
    ///     assert_eq!(Instant::now().checked_add(Duration::MAX), None);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn checked_add(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_add(duration).map(Instant)
    }

    /// `self - duration`, or `None` on underflow.
    ///
    /// # Examples
    ///
    /// ```
    /// use std::time::Duration;
    /// use jsloop::time::{sleep, Instant};
    ///
    /// let rt = jsloop::Runtime::builder().virtual_time(true).build()?;
    /// rt.block_on(async {
    ///     let start = Instant::now();
    ///     sleep(Duration::from_millis(10)).await;
    ///     assert_eq!(Instant::now().checked_sub(Duration::from_millis(10)), Some(start));
    ///     assert_eq!(start.checked_sub(Duration::MAX), None);
    /// });
    /// # Ok::<(), std::io::Error>(())
    /// ```
    pub fn checked_sub(&self, duration: Duration) -> Option<Instant> {
        self.0.checked_sub(duration).map(Instant)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(instant: std::time::Instant) -> Instant {
        Instant(instant)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(instant: Instant) -> std::time::Instant {
        instant.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;

    /// # Panics
    /// On overflow, like `std::time::Instant`.
    fn add(self, rhs: Duration) -> Instant {
        Instant(self.0 + rhs)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, rhs: Duration) {
        self.0 += rhs;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;

    fn sub(self, rhs: Duration) -> Instant {
        Instant(self.0 - rhs)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, rhs: Duration) {
        self.0 -= rhs;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;

    /// Saturates at zero, like `std::time::Instant`.
    fn sub(self, rhs: Instant) -> Duration {
        self.saturating_duration_since(rhs)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}
