//! The progress rule: futures that wake each other forever no longer hold
//! the loop, while every chain a terminating Node program builds keeps
//! Node's order (the timer that is due waits for the whole chain).
//!
//! Each livelock runs under a watchdog thread: a regression fails the test
//! after a generous bound instead of hanging the suite.

use std::cell::{Cell, RefCell};
use std::future::{Future, poll_fn};
use std::io::Write;
use std::rc::Rc;
use std::sync::mpsc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use futures::AsyncReadExt;
use jsloop::promise::Promise;
use jsloop::{Runtime, set_timeout, spawn, yield_now};

/// Runs `body` on its own thread; fails if it takes longer than a minute
/// (a livelock that is back spins forever).
fn within_a_minute<T: Send + 'static>(body: impl FnOnce() -> T + Send + 'static) -> T {
    let (done, finished) = mpsc::channel();
    let thread = std::thread::spawn(move || {
        let _ = done.send(body());
    });
    match finished.recv_timeout(Duration::from_secs(60)) {
        Ok(value) => {
            thread.join().unwrap();
            value
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The body panicked: show its panic.
            std::panic::resume_unwind(thread.join().unwrap_err())
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("livelock: still spinning after a minute"),
    }
}

fn quiet_runtime() -> Runtime {
    Runtime::builder().warnings(false).build().unwrap()
}

fn busy_wait(ms: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_millis(ms) {}
}

#[test]
fn rwlock_readers_waiting_on_a_sleeping_writer_get_the_lock() {
    // async-lock's waiting readers wake each other on every poll while the
    // writer holds the lock across a sleep: without the rule the sleep
    // never fires.
    let rounds = within_a_minute(|| {
        let rt = quiet_runtime();
        let rounds = rt.block_on(async {
            let lock = Rc::new(async_lock::RwLock::new(0u32));
            let mut tasks = Vec::new();
            for _ in 0..5 {
                let writer = lock.clone();
                tasks.push(spawn(async move {
                    let mut value = writer.write().await;
                    jsloop::time::sleep(Duration::from_millis(1)).await;
                    *value += 1;
                }));
                for _ in 0..3 {
                    let reader = lock.clone();
                    tasks.push(spawn(async move { drop(reader.read().await) }));
                }
            }
            for task in tasks {
                task.await.unwrap();
            }
            *lock.read().await
        });
        assert!(rt.deferred_wakes() > 0, "the readers spun");
        rounds
    });
    assert_eq!(rounds, 5);
}

/// `while !flag { yield_now().await }`, the flag set by a 1 ms timer.
async fn spin_until_timer() {
    let flag = Rc::new(Cell::new(false));
    let setter = flag.clone();
    set_timeout(Duration::from_millis(1), move || setter.set(true));
    while !flag.get() {
        yield_now().await;
    }
}

#[test]
fn a_yield_now_spin_in_a_task_ends_when_a_timer_sets_its_flag() {
    within_a_minute(|| {
        quiet_runtime().block_on(async { spawn(spin_until_timer()).await.unwrap() })
    });
}

#[test]
fn a_yield_now_spin_in_the_main_future_ends_when_a_timer_sets_its_flag() {
    within_a_minute(|| quiet_runtime().block_on(spin_until_timer()));
    within_a_minute(|| jsloop::run(spin_until_timer()));
}

/// A future that wakes `other` on every poll, counting its polls in
/// `polls`, until `stop` is set or `polls` reaches `limit`.
fn wake_the_other(
    mine: Rc<RefCell<Option<Waker>>>,
    other: Rc<RefCell<Option<Waker>>>,
    stop: Rc<Cell<bool>>,
    polls: Rc<Cell<u32>>,
    limit: u32,
) -> impl Future<Output = ()> {
    poll_fn(move |cx| {
        if polls.get() >= limit {
            stop.set(true);
        }
        if stop.get() {
            return Poll::Ready(());
        }
        polls.set(polls.get() + 1);
        *mine.borrow_mut() = Some(cx.waker().clone());
        if let Some(waker) = other.borrow().as_ref() {
            waker.wake_by_ref();
        }
        Poll::Pending
    })
}

/// Two tasks that wake each other until `polls` reaches `limit`; returns
/// their stop flag.
fn start_mutual_wakers(polls: Rc<Cell<u32>>, limit: u32) -> Rc<Cell<bool>> {
    let (a, b) = (Rc::new(RefCell::new(None)), Rc::new(RefCell::new(None)));
    let stop = Rc::new(Cell::new(false));
    spawn(wake_the_other(a.clone(), b.clone(), stop.clone(), polls.clone(), limit));
    spawn(wake_the_other(b, a, stop.clone(), polls, limit));
    stop
}

#[test]
fn two_tasks_waking_each_other_forever_let_a_timer_and_a_socket_read_complete() {
    within_a_minute(|| {
        quiet_runtime().block_on(async {
            let listener = jsloop::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let polls = Rc::new(Cell::new(0));
            let stop = start_mutual_wakers(polls.clone(), u32::MAX);
            let timer_fired = Rc::new(Cell::new(false));
            let fired = timer_fired.clone();
            set_timeout(Duration::from_millis(1), move || fired.set(true));
            let writer = std::thread::spawn(move || {
                let mut stream = std::net::TcpStream::connect(addr).unwrap();
                stream.write_all(b"ping").unwrap();
            });
            let (mut stream, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            stream.read_to_end(&mut buf).await.unwrap();
            writer.join().unwrap();
            assert_eq!(buf, b"ping");
            while !timer_fired.get() {
                jsloop::yield_to_loop().await;
            }
            assert!(polls.get() > 8192, "the two tasks were spinning all along");
            stop.set(true);
        });
    });
}

/// A due timer, then a chain of `n` steps made by `chain`; what the timer
/// saw and how many wakes were deferred.
fn timer_during_chain(strict: bool, chain: fn(Rc<Cell<u32>>, u32)) -> (u32, u64) {
    let rt = Runtime::builder().strict_microtasks(strict).warnings(false);
    let rt = rt.build().unwrap();
    let seen = Rc::new(Cell::new(0));
    let steps = Rc::new(Cell::new(0));
    rt.run({
        let (seen, steps) = (seen.clone(), steps.clone());
        async move {
            let watched = steps.clone();
            set_timeout(Duration::from_millis(1), move || seen.set(watched.get()));
            busy_wait(5); // the timer is due before the chain starts
            chain(steps, 100_000);
        }
    });
    (seen.get(), rt.deferred_wakes())
}

fn promise_then_chain(steps: Rc<Cell<u32>>, n: u32) {
    let mut promise: Promise<(), ()> = Promise::resolve(());
    for _ in 0..n {
        let steps = steps.clone();
        promise = promise.then(move |()| steps.set(steps.get() + 1));
    }
}

fn awaiting_resolved_promises(steps: Rc<Cell<u32>>, n: u32) {
    spawn(async move {
        for _ in 0..n {
            Promise::<(), ()>::resolve(()).await.unwrap();
            steps.set(steps.get() + 1);
        }
    });
}

fn yield_now_loop(steps: Rc<Cell<u32>>, n: u32) {
    spawn(async move {
        for _ in 0..n {
            yield_now().await;
            steps.set(steps.get() + 1);
        }
    });
}

fn awaiting_join_handles(steps: Rc<Cell<u32>>, n: u32) {
    spawn(async move {
        for _ in 0..n {
            spawn(async {}).await.unwrap();
            steps.set(steps.get() + 1);
        }
    });
}

#[test]
fn a_chain_of_100_000_promise_reactions_starves_a_due_timer_as_in_node() {
    assert_eq!(timer_during_chain(false, promise_then_chain), (100_000, 0));
}

#[test]
fn an_async_function_awaiting_100_000_settled_promises_starves_a_due_timer_as_in_node() {
    assert_eq!(timer_during_chain(false, awaiting_resolved_promises), (100_000, 0));
}

#[test]
fn an_async_function_awaiting_100_000_yields_starves_a_due_timer_as_in_node() {
    assert_eq!(timer_during_chain(false, yield_now_loop), (100_000, 0));
}

#[test]
fn an_async_function_awaiting_100_000_join_handles_starves_a_due_timer_as_in_node() {
    assert_eq!(timer_during_chain(false, awaiting_join_handles), (100_000, 0));
}

/// Two tasks ping-ponging through a `Waker` until their polls reach `n`,
/// watched by a third that yields meanwhile.
fn mutual_wakes(steps: Rc<Cell<u32>>, n: u32) {
    let polls = Rc::new(Cell::new(0));
    let stop = start_mutual_wakers(polls.clone(), u32::MAX);
    spawn(async move {
        while polls.get() < n {
            yield_now().await;
        }
        stop.set(true);
        steps.set(n);
    });
}

#[test]
fn the_rule_steps_in_at_the_same_wake_on_every_run() {
    let (first, deferred) = timer_during_chain(false, counted_mutual_wakes);
    assert!(first < 100_000 && deferred > 0, "the timer ran between the wakes: {first}");
    for _ in 0..3 {
        assert_eq!(timer_during_chain(false, counted_mutual_wakes), (first, deferred));
    }
}

/// Two tasks ping-ponging through a `Waker`; `steps` counts every poll.
fn counted_mutual_wakes(steps: Rc<Cell<u32>>, n: u32) {
    start_mutual_wakers(steps, n);
}

#[test]
fn strict_microtasks_keeps_nodes_unbounded_checkpoint() {
    assert_eq!(timer_during_chain(true, counted_mutual_wakes), (100_000, 0));
    assert_eq!(timer_during_chain(true, mutual_wakes), (100_000, 0));
}

#[test]
fn by_default_two_tasks_waking_each_other_let_a_due_timer_in() {
    let (seen, deferred) = timer_during_chain(false, counted_mutual_wakes);
    assert!(seen < 100_000, "the timer saw {seen} wakes");
    assert!(deferred > 0);
}
