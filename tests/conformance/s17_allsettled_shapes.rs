//! Port of `17-allsettled-shapes.js`: `all_settled` waits for every input,
//! never fails, and reports one entry per input in input order; an empty
//! input settles at once.
//!
//! Port notes: the plain input `42` is `Promise::resolve`; the async arrow
//! that throws is `Promise::spawn` returning `Err`; values are strings.

use std::time::Duration;

use jsloop::promise::{Promise, all, all_settled};
use jsloop::set_timeout;

type Text = Promise<String, String>;

fn sleep(ms: u64) -> Text {
    Promise::new(|resolve, _reject| {
        set_timeout(Duration::from_millis(ms), move || resolve(String::new()));
    })
}

fn show(label: &str, results: &[Result<String, String>]) {
    out!("{label} ({} entries)", results.len());
    for result in results {
        match result {
            Ok(value) => out!("  fulfilled: {value}"),
            Err(reason) => out!("  rejected: {reason}"),
        }
    }
}

pub fn main() {
    jsloop::run(async {
        let p1 = Text::new(|resolve, _reject| {
            set_timeout(Duration::from_millis(30), move || resolve("done".to_string()));
        });
        let p2 = Text::new(|_resolve, reject| {
            set_timeout(Duration::from_millis(30), move || reject("failed".to_string()));
        });

        if let Err(err) = all([&p1, &p2]).await {
            out!("{err}");
        }
        let results = all_settled([&p1, &p2]).await;
        show("seed allSettled", &results);

        let late = Text::new(|resolve, _reject| {
            set_timeout(Duration::from_millis(20), move || resolve("late value".to_string()));
        });
        let thrower = Text::spawn(async {
            sleep(5).await?;
            Err("thrown inside task".to_string())
        });
        let mixed = all_settled([
            late,
            Text::resolve("42".to_string()),
            thrower,
            Text::reject("already rejected".to_string()),
        ])
        .await;
        show("mixed allSettled", &mixed);

        let empty = all_settled(Vec::<Text>::new()).await;
        show("empty allSettled", &empty);
    });
}
