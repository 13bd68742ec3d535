//! setInterval / clearInterval, unref, and the Rust-flavoured timer futures.
//!
//! Run it with `cargo run --example timers`.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use jsloop::time::{interval, sleep, timeout};

fn main() {
    jsloop::run(async {
        // Node style: an interval that clears itself after three ticks.
        let count = Rc::new(Cell::new(0));
        let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
        let timer = jsloop::set_interval(Duration::from_millis(10), {
            let (count, slot) = (count.clone(), slot.clone());
            move || {
                count.set(count.get() + 1);
                println!("tick {}", count.get());
                if count.get() == 3 {
                    jsloop::clear_interval(&slot.take().unwrap());
                }
            }
        });
        slot.set(Some(timer));

        // An unref'd timer does not keep the loop alive: it never fires.
        jsloop::set_timeout(Duration::from_secs(3600), || unreachable!()).unref();

        // Rust style: sleep, timeout and interval futures.
        sleep(Duration::from_millis(50)).await;
        println!("slept 50 ms");
        let slow = sleep(Duration::from_secs(10));
        println!("timeout: {:?}", timeout(Duration::from_millis(5), slow).await);
        let mut ticks = interval(Duration::from_millis(5));
        for n in 0..3 {
            ticks.tick().await;
            println!("interval tick {n}");
        }
    });
}
