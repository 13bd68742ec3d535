//! "Blocking the call stack freezes the page", and the fix: a worker.
//!
//! The main loop runs a 10 ms interval and records how late each tick is.
//! First the CPU-heavy job runs on the main loop itself (a timer callback
//! that computes for a while): every tick due meanwhile waits. Then the same
//! job runs in a `Worker`, on its own thread and loop: the ticks stay on
//! time.
//!
//! ```sh
//! cargo run --release --example offload
//! ```

use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jsloop::worker::Worker;

const TICK: Duration = Duration::from_millis(10);
const TICKS: u32 = 30;

/// The CPU-heavy job: count the primes below `n` the slow way.
fn count_primes(n: u64) -> usize {
    (2..n).filter(|&k| (2..).take_while(|d| d * d <= k).all(|d| k % d != 0)).count()
}

/// Runs the 10 ms interval for `TICKS` ticks while `job` runs, and returns
/// the worst lateness seen.
async fn worst_lateness(job: impl FnOnce() + 'static) -> Duration {
    let worst = Rc::new(Cell::new(Duration::ZERO));
    let ticks = Rc::new(Cell::new(0));
    let (done_tx, done_rx) = futures::channel::oneshot::channel();
    let mut done_tx = Some(done_tx);
    let mut expected = Instant::now() + TICK;
    let slot: Rc<Cell<Option<jsloop::Timer>>> = Rc::default();
    let interval = jsloop::set_interval(TICK, {
        let (worst, ticks, slot) = (worst.clone(), ticks.clone(), slot.clone());
        move || {
            let now = Instant::now();
            worst.set(worst.get().max(now.saturating_duration_since(expected)));
            expected = now + TICK;
            ticks.set(ticks.get() + 1);
            if ticks.get() == TICKS {
                if let Some(interval) = slot.take() {
                    interval.clear();
                }
                if let Some(done) = done_tx.take() {
                    let _ = done.send(());
                }
            }
        }
    });
    slot.set(Some(interval));
    job();
    let _ = done_rx.await;
    worst.get()
}

fn main() {
    let n = if cfg!(debug_assertions) { 20_000 } else { 1_000_000 };
    jsloop::block_on(async move {
        let on_the_loop = worst_lateness(move || {
            jsloop::set_timeout(Duration::from_millis(25), move || {
                let started = Instant::now();
                let primes = count_primes(n);
                println!("on the main loop: {primes} primes below {n} in {:?}", started.elapsed());
            });
        })
        .await;
        println!("worst tick lateness with the job on the main loop: {on_the_loop:?}");

        let in_a_worker = worst_lateness(move || {
            let worker = Worker::spawn(move || async move {
                let started = Instant::now();
                (count_primes(n), started.elapsed())
            })
            .expect("a worker thread");
            jsloop::spawn(async move {
                let (primes, took) = worker.exit().await.expect("the worker's job");
                println!("in a worker:      {primes} primes below {n} in {took:?}");
            });
        })
        .await;
        println!("worst tick lateness with the job in a worker:    {in_a_worker:?}");
    });
}
