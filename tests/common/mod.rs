//! Helpers shared by the integration tests.

/// The message of a panic payload (`panic!` with a literal gives a `&str`,
/// with arguments a `String`); empty for any other payload.
pub fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}
