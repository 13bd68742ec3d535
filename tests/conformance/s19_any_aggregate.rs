//! Port of `19-any-aggregate.js`: `any` fulfills with the first input to
//! fulfill; if all reject, an `AggregateError` lists the errors in input
//! order; an empty input rejects at once.
//!
//! Port notes: JS prints `err.name`, the class name; here that is the type
//! `AggregateError`.

use jsloop::promise::{AggregateError, any};

use crate::later::{Text, later};

/// JS's `err.name`.
fn name<E>(_: &AggregateError<E>) -> &'static str {
    "AggregateError"
}

pub fn main() {
    jsloop::run(async {
        let a = later(10, "A", true);
        let b = later(20, "B", false);
        let c = later(30, "C", false);
        let first = any([&c, &a, &b]).await.expect("B fulfills");
        out!("any fulfilled: {first}");
        let _ = c.await;

        let x = later(10, "x", true);
        let y = later(20, "y", true);
        let z = later(30, "z", true);
        if let Err(err) = any([&z, &x, &y]).await {
            out!("any rejected: {}", name(&err));
            out!("errors in input order: {}", err.errors().join(","));
        }

        if let Err(err) = any(Vec::<Text>::new()).await {
            out!("empty any rejected: {} with {} errors", name(&err), err.errors().len());
        }
    });
}
