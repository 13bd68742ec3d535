//! `jsloop::metrics` and `Builder::on_long_task` through the public API.
//! Times are only bounded from below (a loaded machine makes them longer).

use std::cell::{Cell, RefCell};
use std::panic::Location;
use std::rc::Rc;
use std::time::Duration;

use jsloop::metrics::{self, LongTask, Phase, Work};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn block(duration: Duration) {
    std::thread::sleep(duration);
}

#[test]
fn stats_count_each_kind_of_work() {
    let rt = jsloop::Runtime::builder().virtual_time(true).build().unwrap();
    rt.run(async {
        jsloop::set_timeout(ms(1), || {});
        jsloop::set_timeout(ms(2), || {});
        jsloop::set_immediate(|| {});
        jsloop::set_immediate(|| {}).clear(); // cleared: not run, not counted
        jsloop::queue_microtask(|| {});
        jsloop::next_tick(|| {});
        jsloop::next_tick(|| {});
        jsloop::spawn(async { jsloop::time::sleep(ms(3)).await });
        jsloop::spawn_blocking(|| 1);
    });
    let stats = rt.stats();
    assert_eq!(stats.macrotasks.script, 1);
    assert_eq!(stats.timers_fired, 3, "two timeouts and one sleep");
    assert_eq!(stats.macrotasks.timers, 3);
    assert_eq!(stats.macrotasks.check, 1);
    assert_eq!(stats.microtasks, 1);
    assert_eq!(stats.next_ticks, 2);
    assert_eq!(stats.tasks_spawned, 2, "the sleeper and spawn_blocking's waiter");
    assert_eq!(stats.tasks_alive, 0);
    assert_eq!(stats.timers_armed, 3);
    assert_eq!(
        (stats.pool_jobs_queued, stats.pool_jobs_in_flight, stats.pool_jobs_done),
        (1, 0, 1)
    );
    assert!(stats.macrotasks.poll >= 1, "the pool completion arrives in the poll phase");
    assert!(stats.iterations >= 3);
    // main's first poll, each task's polls.
    assert!(stats.task_polls >= 4);
    assert_eq!(stats.checkpoint_time, None, "only measured with a long-task handler");
}

#[test]
fn stats_from_inside_the_loop_match_the_runtime_s() {
    let rt = jsloop::Runtime::new().unwrap();
    let inside = rt.block_on(async {
        jsloop::spawn(async {}).await.unwrap();
        metrics::stats()
    });
    assert_eq!(inside.tasks_spawned, 1);
    assert_eq!(rt.stats().tasks_spawned, 1);
    assert!(rt.stats().task_polls >= inside.task_polls);
}

#[test]
fn idle_time_is_time_blocked_in_the_poller() {
    let rt = jsloop::Runtime::new().unwrap();
    assert_eq!(rt.event_loop_utilization(), metrics::EventLoopUtilization::default());
    let (during, delta) = rt.block_on(async {
        let start = metrics::event_loop_utilization();
        jsloop::time::sleep(ms(30)).await; // idle
        let middle = metrics::event_loop_utilization();
        jsloop::set_timeout(ms(1), || block(ms(30))); // active
        jsloop::time::sleep(ms(5)).await;
        (middle.since(&start), metrics::utilization_since(&middle))
    });
    assert!(during.idle >= ms(25), "{during:?}");
    assert!(during.utilization < 0.5, "{during:?}");
    assert!(delta.active >= ms(30), "{delta:?}");
    let total = rt.event_loop_utilization();
    assert!(total.idle >= during.idle && total.active >= delta.active);
    assert!((0.0..=1.0).contains(&total.utilization));
    // Between runs the loop is not running: nothing is counted.
    std::thread::sleep(ms(20));
    assert_eq!(rt.event_loop_utilization(), total);
    let stats = rt.stats();
    assert_eq!(stats.idle_time, total.idle);
    assert!(stats.phase_time.timers >= ms(30));
}

#[test]
fn the_main_script_is_not_loop_time() {
    let rt = jsloop::Runtime::new().unwrap();
    rt.block_on(async { block(ms(20)) });
    let elu = rt.event_loop_utilization();
    assert_eq!(elu.active, Duration::ZERO, "{elu:?}");
    assert!(rt.stats().phase_time.script >= ms(20));
}

/// A runtime whose long tasks (over 15 ms) are collected.
fn watched() -> (jsloop::Runtime, Rc<RefCell<Vec<LongTask>>>) {
    let seen: Rc<RefCell<Vec<LongTask>>> = Rc::default();
    let rt = jsloop::Runtime::builder()
        .on_long_task(ms(15), {
            let seen = seen.clone();
            move |long| seen.borrow_mut().push(*long)
        })
        .build()
        .unwrap();
    (rt, seen)
}

#[test]
fn each_kind_of_long_work_is_named_with_its_location_and_phase() {
    let (rt, seen) = watched();
    let lines = Rc::new(Cell::new([0u32; 5]));
    let spawned = rt.run({
        let lines = lines.clone();
        async move {
            let mut at = [0; 5];
            jsloop::set_timeout(ms(1), || block(ms(20)));
            at[0] = Location::caller().line() - 1;
            jsloop::set_immediate(|| block(ms(20)));
            at[1] = Location::caller().line() - 1;
            jsloop::queue_microtask(|| block(ms(20)));
            at[2] = Location::caller().line() - 1;
            jsloop::next_tick(|| block(ms(20)));
            at[3] = Location::caller().line() - 1;
            let task = jsloop::spawn(async { block(ms(20)) });
            at[4] = Location::caller().line() - 1;
            lines.set(at);
            jsloop::set_timeout(ms(1), || {}); // quick: not reported
            task.id()
        }
    });
    let at = lines.get();
    let seen = seen.borrow();
    let summary: Vec<(Work, Phase, Option<u32>)> =
        seen.iter().map(|l| (l.work, l.phase, l.work.location().map(|l| l.line()))).collect();
    assert_eq!(summary.len(), 5, "{summary:?}");
    // The script's checkpoint: the next-tick first, then the microtask and
    // the task, in queue order; then the timer; then the immediate.
    assert!(matches!(summary[0], (Work::NextTick(_), Phase::Script, Some(l)) if l == at[3]));
    assert!(matches!(summary[1], (Work::Microtask(_), Phase::Script, Some(l)) if l == at[2]));
    assert!(
        matches!(summary[2], (Work::Task { id, .. }, Phase::Script, Some(l)) if l == at[4] && id == spawned)
    );
    assert!(matches!(summary[3], (Work::Timeout(_), Phase::Timers, Some(l)) if l == at[0]));
    assert!(matches!(summary[4], (Work::Immediate(_), Phase::Check, Some(l)) if l == at[1]));
    for long in seen.iter() {
        assert!(long.duration >= ms(20), "{long}");
        assert!(long.work.location().unwrap().file().ends_with("metrics.rs"));
    }
    assert!(rt.stats().checkpoint_time.unwrap() >= ms(60));
}

#[test]
fn a_long_interval_and_main_future_are_reported() {
    let (rt, seen) = watched();
    let count = Rc::new(Cell::new(0));
    rt.block_on({
        let count = count.clone();
        async move {
            let interval = jsloop::set_interval(ms(1), {
                let count = count.clone();
                move || {
                    count.set(count.get() + 1);
                    block(ms(20));
                }
            });
            while count.get() < 2 {
                jsloop::time::sleep(ms(1)).await;
            }
            interval.clear();
            block(ms(20)); // main's own poll
        }
    });
    let kinds: Vec<Work> = seen.borrow().iter().map(|long| long.work).collect();
    // Every tick was long (how many ran before main saw two depends on the
    // machine's timing).
    let ticks = kinds.iter().filter(|w| matches!(w, Work::Interval(_))).count();
    assert!(ticks >= 2 && ticks == count.get(), "{kinds:?}");
    assert!(matches!(kinds.last(), Some(Work::Main)), "{kinds:?}");
}

#[test]
fn a_panicking_long_task_handler_goes_to_the_uncaught_handler_and_the_loop_goes_on() {
    let caught = Rc::new(RefCell::new(Vec::new()));
    let rt = jsloop::Runtime::builder()
        .on_long_task(ms(10), |long| panic!("too slow: {long}"))
        .on_uncaught_panic({
            let caught = caught.clone();
            move |payload| caught.borrow_mut().push(*payload.downcast::<String>().unwrap())
        })
        .build()
        .unwrap();
    let after = Rc::new(Cell::new(false));
    rt.run({
        let after = after.clone();
        async move {
            jsloop::set_timeout(ms(1), || block(ms(15)));
            jsloop::set_timeout(ms(5), move || after.set(true));
        }
    });
    assert!(after.get(), "the loop went on");
    let caught = caught.borrow();
    assert_eq!(caught.len(), 1);
    assert!(caught[0].starts_with("too slow: a timeout set at tests/metrics.rs:"), "{caught:?}");
}

#[test]
fn without_a_handler_a_panicking_long_task_handler_propagates() {
    let rt = jsloop::Runtime::builder()
        .on_long_task(ms(10), |_| panic!("handler failed"))
        .build()
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.run(async {
            jsloop::set_immediate(|| block(ms(15)));
        });
    }));
    let payload = result.unwrap_err();
    assert_eq!(payload.downcast_ref::<&str>(), Some(&"handler failed"));
}

#[test]
fn task_ids_are_unique_among_live_tasks_and_slots_get_new_generations() {
    jsloop::block_on(async {
        let first = jsloop::spawn(async {});
        let first_id = first.id();
        first.await.unwrap();
        // The freed slot is reused with the next generation.
        let second = jsloop::spawn(async {});
        assert_ne!(second.id(), first_id);
        assert_eq!(second.id().as_u64() & 0xffff_ffff, first_id.as_u64() & 0xffff_ffff);
        let live: Vec<_> = (0..100).map(|_| jsloop::spawn(async {})).collect();
        let mut ids: Vec<_> = live.iter().map(|h| h.id()).collect();
        ids.push(second.id());
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 101);
    });
}

#[test]
#[should_panic(expected = "`JoinHandle::id` called after the handle completed")]
fn a_completed_handle_has_no_id() {
    jsloop::block_on(async {
        let mut handle = jsloop::spawn(async {});
        (&mut handle).await.unwrap();
        handle.id();
    });
}
