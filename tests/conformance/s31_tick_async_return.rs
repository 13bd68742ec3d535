//! Port of `31-tick-async-return.js` (tick-exact): an async function that
//! returns a value settles its promise at once, `return await p` costs one
//! turn, and returning a promise adopts it through a thenable job (two
//! more turns).
//!
//! Port notes: an async function is `Promise::spawn`; returning a promise
//! without awaiting it is resolving with that promise, `Resolve::adopt`.

use jsloop::promise::Promise;

type Text = Promise<&'static str, ()>;

fn returns_value() -> Text {
    Promise::spawn(async { Ok("value") })
}

fn returns_awaited() -> Text {
    Promise::spawn(async { Text::resolve("awaited").await })
}

fn returns_promise() -> Text {
    Promise::new(|resolve, _reject| resolve.adopt(&Text::resolve("promise")))
}

pub fn main() {
    jsloop::run(async {
        returns_promise().then(|v| out!("resolved: {v}"));
        returns_awaited().then(|v| out!("resolved: {v}"));
        returns_value().then(|v| out!("resolved: {v}"));
        Promise::<(), ()>::resolve(())
            .then(|()| out!("tick 1"))
            .then(|()| out!("tick 2"))
            .then(|()| out!("tick 3"))
            .then(|()| out!("tick 4"));
    });
}
