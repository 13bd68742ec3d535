//! Helpers that several promise ports share, as their scenarios do.

use std::time::Duration;

use jsloop::promise::Promise;
use jsloop::set_timeout;

/// A string promise, as most scenarios use.
pub type Text = Promise<&'static str, &'static str>;

/// The scenarios' `later(ms, value, fail)`: a promise that a timer settles
/// after `ms`, printing which way it went.
pub fn later(ms: u64, value: &'static str, fail: bool) -> Text {
    Promise::new(|resolve, reject| {
        set_timeout(Duration::from_millis(ms), move || {
            out!("{} {value} at {ms} ms", if fail { "reject" } else { "resolve" });
            if fail {
                reject(value);
            } else {
                resolve(value);
            }
        });
    })
}
