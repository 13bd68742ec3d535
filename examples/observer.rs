//! Batched rendering with an [`Observer`]: the seeds' `scheduleUpdate`
//! pattern. A label's state changes as often as the code likes; every
//! change made in one turn of the loop causes one render, a microtask
//! later.
//!
//! Run it with `cargo run --example observer`. It ports this JavaScript,
//! and prints what `node` prints for it (`tests/examples.rs` checks):
//!
//! ```js
//! const state = { text: '', color: 'black' };
//! let renders = 0;
//! let pendingUpdates = [];
//! function scheduleUpdate(update) {
//!   pendingUpdates.push(update);
//!   if (pendingUpdates.length === 1) {
//!     queueMicrotask(flushUpdates); // one render, however many changes
//!   }
//! }
//! function flushUpdates() {
//!   const batch = pendingUpdates.splice(0);
//!   for (const update of batch) update(state);
//!   renders += 1;
//!   console.log(`render ${renders}: ${batch.length} change(s) -> ` +
//!     `<label style="color: ${state.color}">${state.text}</label>`);
//! }
//!
//! scheduleUpdate((s) => { s.text = 'Loading'; });
//! scheduleUpdate((s) => { s.color = 'gray'; });
//! scheduleUpdate((s) => { s.text = 'Hello'; });
//! console.log('script: 3 changes scheduled, nothing rendered yet');
//! setTimeout(() => {
//!   scheduleUpdate((s) => { s.color = 'green'; });
//!   scheduleUpdate((s) => { s.text = 'Hello, world'; });
//!   console.log('timer: 2 changes scheduled');
//! }, 10);
//! ```

use std::time::Duration;

use jsloop::observe::Observer;

/// One state change: the records the observer batches.
enum Change {
    Text(&'static str),
    Color(&'static str),
}

/// The component's state, and how often it rendered.
struct Label {
    text: &'static str,
    color: &'static str,
    renders: u32,
}

fn main() {
    jsloop::run(async {
        let mut label = Label { text: "", color: "black", renders: 0 };
        // `flushUpdates`: apply the whole batch, then render once.
        let updates = Observer::new(move |batch: Vec<Change>, _: &Observer<Change>| {
            let changes = batch.len();
            for change in batch {
                match change {
                    Change::Text(text) => label.text = text,
                    Change::Color(color) => label.color = color,
                }
            }
            label.renders += 1;
            println!(
                "render {}: {changes} change(s) -> <label style=\"color: {}\">{}</label>",
                label.renders, label.color, label.text
            );
        });

        // `scheduleUpdate`: the first change of a turn queues the render.
        updates.notify(Change::Text("Loading"));
        updates.notify(Change::Color("gray"));
        updates.notify(Change::Text("Hello"));
        println!("script: 3 changes scheduled, nothing rendered yet");

        jsloop::set_timeout(Duration::from_millis(10), move || {
            updates.notify(Change::Color("green"));
            updates.notify(Change::Text("Hello, world"));
            println!("timer: 2 changes scheduled");
        });
    });
}
