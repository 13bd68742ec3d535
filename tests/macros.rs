//! `#[jsloop::main]` and `#[jsloop::test]` through the public API: each
//! option does what its `Builder` call does, `run` (the default) waits for
//! the work the body leaves behind while `block_on` does not, and tests
//! keep what `#[test]` allows (a `Result`, `#[should_panic]`).

use std::cell::Cell;
use std::rc::Rc;
use std::sync::{Arc, Barrier, Condvar, Mutex};
use std::time::Duration;

use jsloop::time::{Instant, sleep};

/// Spawns a task that sets the returned flag 10 ms later: after the body
/// that calls this has completed.
fn leave_a_late_task() -> Rc<Cell<bool>> {
    let done = Rc::new(Cell::new(false));
    let flag = done.clone();
    jsloop::spawn(async move {
        sleep(Duration::from_millis(10)).await;
        flag.set(true);
    });
    done
}

// `#[jsloop::main]` on functions that are not `main`, called from plain
// tests: the only place to look after the runtime has returned.

/// Node's semantics: returns once the late task has run.
#[jsloop::main]
async fn under_run() -> Rc<Cell<bool>> {
    leave_a_late_task()
}

/// tokio's semantics: returns with the body, dropping the late task.
#[jsloop::main(block_on)]
pub(crate) async fn under_block_on() -> Rc<Cell<bool>> {
    leave_a_late_task()
}

#[test]
fn main_returns_once_the_loop_is_idle() {
    assert!(under_run().get(), "the task the body spawned ran before `run` returned");
}

#[test]
fn main_with_block_on_returns_when_the_body_completes() {
    let done = under_block_on();
    assert!(!done.get());
    assert_eq!(Rc::strong_count(&done), 1, "the runtime dropped the pending task");
}

#[jsloop::main]
async fn manifest_length() -> std::io::Result<usize> {
    let manifest =
        jsloop::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).await?;
    Ok(manifest.len())
}

#[test]
fn main_returns_the_body_output_and_takes_question_marks() {
    assert!(manifest_length().unwrap() > 0);
}

/// The panic of a callback queued by a task the body did not wait for:
/// it fails the test only because the test waits for that task.
#[jsloop::test]
#[should_panic(expected = "the late task ran after the body")]
async fn a_test_runs_until_the_loop_is_idle() {
    jsloop::spawn(async {
        sleep(Duration::from_millis(10)).await;
        jsloop::queue_microtask(|| panic!("the late task ran after the body"));
    });
}

/// The same timer under `block_on`: the test ends with its body and the
/// timer is dropped with the runtime, unfired.
#[jsloop::test(block_on)]
async fn a_block_on_test_ends_with_its_body() {
    jsloop::set_timeout(Duration::from_millis(10), || panic!("fired after the body"));
}

#[jsloop::test(virtual_time)]
async fn virtual_time_makes_an_hour_pass_at_once() {
    let real_start = std::time::Instant::now();
    let start = Instant::now();
    sleep(Duration::from_secs(3600)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(3600));
    assert!(real_start.elapsed() < Duration::from_secs(60), "{:?}", real_start.elapsed());
}

/// Two jobs that wait for each other need two workers; three jobs that
/// each wait a while for all three to be running at once never see it.
#[jsloop::test(worker_threads = 2)]
async fn worker_threads_sizes_the_pool() {
    let barrier = Arc::new(Barrier::new(2));
    let pair: Vec<_> = (0..2)
        .map(|_| {
            let barrier = barrier.clone();
            jsloop::spawn_blocking(move || {
                barrier.wait();
            })
        })
        .collect();
    for job in pair {
        job.await.unwrap();
    }
    let running = Arc::new((Mutex::new(0), Condvar::new()));
    let trio: Vec<_> = (0..3)
        .map(|_| {
            let running = running.clone();
            jsloop::spawn_blocking(move || {
                let (count, changed) = &*running;
                let mut count = count.lock().unwrap();
                *count += 1;
                changed.notify_all();
                let wait = Duration::from_millis(200);
                let (mut count, _) = changed.wait_timeout_while(count, wait, |n| *n < 3).unwrap();
                let seen = *count;
                *count -= 1;
                seen
            })
        })
        .collect();
    let mut most = 0;
    for job in trio {
        most = most.max(job.await.unwrap());
    }
    assert_eq!(most, 2, "at most two jobs ran at once");
}

/// 300,000 yields in one checkpoint, past the progress rule's budget: in
/// strict mode the loop never takes a turn for the immediate.
#[jsloop::test(strict_microtasks)]
async fn strict_microtasks_never_defers_a_wake() {
    let immediate_ran = Rc::new(Cell::new(false));
    let flag = immediate_ran.clone();
    jsloop::set_immediate(move || flag.set(true));
    for _ in 0..300_000 {
        jsloop::yield_now().await;
        assert!(!immediate_ran.get());
    }
}

#[jsloop::test(track_tasks)]
async fn track_tasks_counts_polls_in_dumps() {
    let task = jsloop::spawn(std::future::pending::<()>());
    jsloop::yield_now().await;
    assert_eq!(jsloop::Handle::current().dump().task(task.id()).unwrap().polls(), Some(1));
    task.abort();
}

#[jsloop::test(block_on, virtual_time, worker_threads = 1, strict_microtasks, track_tasks)]
async fn all_options_combine() {
    let start = Instant::now();
    let task = jsloop::spawn(sleep(Duration::from_secs(60)));
    jsloop::yield_now().await;
    assert!(jsloop::Handle::current().dump().task(task.id()).unwrap().polls().is_some());
    task.await.unwrap();
    assert_eq!(start.elapsed(), Duration::from_secs(60));
    assert_eq!(jsloop::spawn_blocking(|| 7).await.unwrap(), 7);
}

#[jsloop::test]
async fn a_test_can_return_a_result() -> Result<(), String> {
    let text = jsloop::spawn(async { String::from("42") }).await.map_err(|e| e.to_string())?;
    let n: u32 = text.parse().map_err(|e: std::num::ParseIntError| e.to_string())?;
    assert_eq!(n, 42);
    Ok(())
}
