//! A narrated tour of the event loop: each section is a classic Node.js
//! ordering example, ported line by line, and prints exactly what Node
//! prints for it.
//!
//! Run it with `cargo run -p tour` (or `cargo run --example tour`). In the
//! JavaScript, `log(s)` is `console.log(s)` and `busyWait(ms)` spins for
//! `ms` milliseconds;
//! `tests/examples.rs` runs every section under `node` to prove the claim.

use std::time::{Duration, Instant};

use jsloop::{next_tick, queue_microtask, set_immediate, set_timeout};

fn section(title: &str, js: &str) {
    println!("\n== {title}");
    for line in js.lines() {
        println!("   | {line}");
    }
}

/// Spin on the only thread, like `while (Date.now() - start < ms) {}`.
fn busy_wait(ms: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {}
}

fn main() {
    println!("Each section: a Node.js snippet (`log` is `console.log`, `busyWait(ms)` spins),");
    println!("then what its line-by-line Rust port prints, which is what Node prints.");
    section(
        "1. The script runs to completion before anything queued",
        "console.log('1 - sync start');\n\
         setTimeout(() => console.log('4 - macrotask (setTimeout)'), 0);\n\
         Promise.resolve().then(() => console.log('3 - microtask (Promise.then)'));\n\
         console.log('2 - sync end');",
    );
    jsloop::run(async {
        println!("1 - sync start");
        set_timeout(Duration::ZERO, || println!("4 - macrotask (setTimeout)"));
        queue_microtask(|| println!("3 - microtask (Promise.then)"));
        println!("2 - sync end");
    });

    section(
        "2. nextTick before promises, at every checkpoint",
        "console.log('1 - sync');\n\
         process.nextTick(() => console.log('3 - nextTick'));\n\
         Promise.resolve().then(() => console.log('4 - Promise microtask'));\n\
         setImmediate(() => console.log('5 - setImmediate (check phase)'));\n\
         console.log('2 - sync');",
    );
    jsloop::run(async {
        println!("1 - sync");
        next_tick(|| println!("3 - nextTick"));
        queue_microtask(|| println!("4 - Promise microtask"));
        set_immediate(|| println!("5 - setImmediate (check phase)"));
        println!("2 - sync");
    });

    section(
        "3. Microtasks drain after every macrotask (A F D E B C)",
        "setTimeout(() => { log('B'); Promise.resolve().then(() => log('C')); }, 0);\n\
         log('A');\n\
         Promise.resolve().then(() => { log('D'); queueMicrotask(() => log('E')); });\n\
         log('F');",
    );
    jsloop::run(async {
        set_timeout(Duration::ZERO, || {
            println!("B");
            queue_microtask(|| println!("C"));
        });
        println!("A");
        queue_microtask(|| {
            println!("D");
            queue_microtask(|| println!("E"));
        });
        println!("F");
    });

    section(
        "4. Timers: creation order for equal delays, 0 ms is 1 ms, a checkpoint after each",
        "setTimeout(() => console.log('A: 1 ms'), 1);\n\
         setTimeout(() => console.log('B: 0 ms'), 0);\n\
         setTimeout(() => { console.log('C: 5 ms'); queueMicrotask(() => console.log('C microtask')); }, 5);\n\
         setTimeout(() => console.log('D: 5 ms'), 5);",
    );
    jsloop::run(async {
        set_timeout(Duration::from_millis(1), || println!("A: 1 ms"));
        set_timeout(Duration::ZERO, || println!("B: 0 ms"));
        set_timeout(Duration::from_millis(5), || {
            println!("C: 5 ms");
            queue_microtask(|| println!("C microtask"));
        });
        set_timeout(Duration::from_millis(5), || println!("D: 5 ms"));
    });

    section(
        "5. A timer made inside a timer waits for the next iteration; the immediate goes first",
        "setTimeout(() => {\n\
         \x20 console.log('A');\n\
         \x20 setTimeout(() => console.log('C (0 ms, created by A)'), 0);\n\
         \x20 setImmediate(() => console.log('I (immediate created by A)'));\n\
         }, 2);\n\
         setTimeout(() => console.log('B'), 2);\n\
         busyWait(30);",
    );
    jsloop::run(async {
        set_timeout(Duration::from_millis(2), || {
            println!("A");
            set_timeout(Duration::ZERO, || println!("C (0 ms, created by A)"));
            set_immediate(|| println!("I (immediate created by A)"));
        });
        set_timeout(Duration::from_millis(2), || println!("B"));
        busy_wait(30);
    });

    section(
        "6. async functions run synchronously up to their first await",
        "async function fetchData() {\n\
         \x20 console.log('B - inside fetchData, before await');\n\
         \x20 await null;\n\
         \x20 console.log('D - inside fetchData, after await');\n\
         }\n\
         console.log('A - before call'); const p = fetchData(); console.log('C - after call'); await p;",
    );
    jsloop::run(async {
        println!("A - before call");
        let p = jsloop::spawn_now(async {
            println!("B - inside fetchData, before await");
            jsloop::yield_now().await;
            println!("D - inside fetchData, after await");
        });
        println!("C - after call");
        p.await.unwrap();
    });

    section(
        "7. A microtask loop runs to its end before the loop reaches the check phase",
        "let m = 0;\n\
         setImmediate(() => console.log('immediate sees m=' + m));\n\
         (function loop() {\n\
         \x20 queueMicrotask(() => { console.log('microtask ' + ++m); if (m < 3) loop(); });\n\
         })();",
    );
    jsloop::run(async {
        let m = std::rc::Rc::new(std::cell::Cell::new(0));
        let seen = m.clone();
        set_immediate(move || println!("immediate sees m={}", seen.get()));
        fn step(m: std::rc::Rc<std::cell::Cell<u32>>) {
            queue_microtask(move || {
                m.set(m.get() + 1);
                println!("microtask {}", m.get());
                if m.get() < 3 {
                    step(m);
                }
            });
        }
        step(m);
    });
    println!("\n(the loop ended: nothing left to run)");
}
