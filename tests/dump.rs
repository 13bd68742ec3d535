//! Task dumps (`jsloop::dump`) through the public API: states, what each
//! task waits on, tracking, the table, and dumps from other threads. Times
//! are only bounded from below (a loaded machine makes them longer).

use std::future::Future as _;
use std::io::ErrorKind;
use std::os::fd::AsRawFd;
use std::panic::Location;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};
use std::time::{Duration, Instant};

use futures::{AsyncRead as _, AsyncReadExt};
use jsloop::dump::{DumpHandle, Interest, TaskDump, TaskInfo, TaskState, WaitingOn};
use jsloop::promise::Promise;
use jsloop::{Runtime, TaskId};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn task(dump: &TaskDump, id: TaskId) -> &TaskInfo {
    dump.task(id).unwrap_or_else(|| panic!("task {id} is not in the dump:\n{dump}"))
}

/// The line of the caller, to check a task's spawn location against.
#[track_caller]
fn here() -> &'static Location<'static> {
    Location::caller()
}

fn assert_spawned_at(info: &TaskInfo, line: u32) {
    assert!(info.location().file().ends_with("tests/dump.rs"), "{}", info.location());
    assert_eq!(info.location().line(), line, "{}", info.location());
}

#[test]
fn a_sleeping_task_waits_on_its_timer_with_the_deadline() {
    let rt = Runtime::builder().virtual_time(true).build().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let start = jsloop::time::Instant::now();
        let at = here();
        let sleeper = jsloop::spawn(jsloop::time::sleep(Duration::from_secs(5)));
        jsloop::yield_now().await;
        let dump = handle.dump();
        let info = task(&dump, sleeper.id());
        assert_eq!(info.state(), TaskState::Waiting);
        assert_spawned_at(info, at.line() + 1);
        assert_eq!(
            info.waiting_on(),
            Some(&WaitingOn::Timer { remaining: Duration::from_secs(5) })
        );
        assert_eq!(dump.taken_at(), start, "virtual time stood still");
        sleeper.abort();
    });
}

#[test]
fn a_sleep_inside_an_async_block_names_its_task() {
    let rt = Runtime::builder().virtual_time(true).build().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let sleeper = jsloop::spawn(async {
            jsloop::time::sleep(ms(10)).await;
            jsloop::time::sleep(ms(250)).await;
        });
        jsloop::time::sleep(ms(20)).await;
        let dump = handle.dump();
        assert_eq!(
            task(&dump, sleeper.id()).waiting_on(),
            Some(&WaitingOn::Timer { remaining: ms(240) })
        );
        sleeper.await.unwrap();
    });
}

#[test]
fn a_task_reading_a_socket_waits_on_the_socket() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (server, _) = listener.accept().unwrap();
        let fd = server.as_raw_fd();
        let mut server = jsloop::net::TcpStream::from_std(server).unwrap();
        let at = here();
        let reader = jsloop::spawn(async move {
            let mut buf = [0; 16];
            server.read(&mut buf).await.unwrap()
        });
        jsloop::yield_to_loop().await;
        let dump = handle.dump();
        let info = task(&dump, reader.id());
        assert_eq!(info.state(), TaskState::Waiting);
        assert_spawned_at(info, at.line() + 1);
        assert_eq!(info.waiting_on(), Some(&WaitingOn::Socket { fd, interest: Interest::Read }));
        assert_eq!(info.waiting_on().unwrap().to_string(), format!("socket fd {fd} (read)"));
        std::io::Write::write_all(&mut &client, b"hi").unwrap();
        assert_eq!(reader.await.unwrap(), 2);
    });
}

#[test]
fn a_spawn_blocking_job_and_its_awaiter_are_named() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let (release, released) = mpsc::channel::<()>();
        let at = here();
        let job = jsloop::spawn_blocking(move || released.recv().unwrap());
        let job_id = job.id();
        let awaiter = jsloop::spawn(job);
        jsloop::yield_now().await;
        let dump = handle.dump();
        let job_info = task(&dump, job_id);
        assert_spawned_at(job_info, at.line() + 1);
        assert_eq!(job_info.waiting_on(), Some(&WaitingOn::PoolJob));
        assert_eq!(
            task(&dump, awaiter.id()).waiting_on(),
            Some(&WaitingOn::JoinHandle { task: job_id })
        );
        release.send(()).unwrap();
        awaiter.await.unwrap().unwrap();
    });
}

#[test]
fn a_task_awaiting_another_names_the_join_handle() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let (tx, rx) = futures::channel::oneshot::channel::<u32>();
        let inner = jsloop::spawn(async move { rx.await.unwrap() });
        let inner_id = inner.id();
        let outer = jsloop::spawn(async move { inner.await.unwrap() + 1 });
        jsloop::yield_now().await;
        let dump = handle.dump();
        let waiting_on = task(&dump, outer.id()).waiting_on().unwrap();
        assert_eq!(waiting_on, &WaitingOn::JoinHandle { task: inner_id });
        assert_eq!(waiting_on.to_string(), format!("the JoinHandle of task {inner_id}"));
        assert_eq!(task(&dump, inner_id).waiting_on(), None, "a channel is not something it sees");
        tx.send(1).unwrap();
        assert_eq!(outer.await.unwrap(), 2);
    });
}

#[test]
fn a_promise_reaction_waits_on_a_promise() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let (promise, resolve, _reject) = Promise::<u32, ()>::with_resolvers();
        let at = here();
        let doubled = promise.then(|n| n * 2);
        let dump = handle.dump();
        let reaction = dump
            .tasks()
            .iter()
            .find(|info| info.waiting_on() == Some(&WaitingOn::Promise))
            .unwrap_or_else(|| panic!("no task waits on a promise:\n{dump}"));
        assert_spawned_at(reaction, at.line() + 1);
        assert_eq!(reaction.state(), TaskState::Waiting);
        resolve(21);
        assert_eq!(doubled.await, Ok(42));
    });
}

#[test]
fn a_spawned_task_is_queued_until_its_first_poll() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let queued = jsloop::spawn(async {});
        let dump = handle.dump();
        let info = task(&dump, queued.id());
        assert_eq!(info.state(), TaskState::Queued);
        assert_eq!(info.waiting_on(), None);
        queued.await.unwrap();
    });
}

#[test]
fn a_dump_inside_a_poll_shows_the_polling_task_running() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    let runner = rt.spawn(async move {
        let dump = handle.dump();
        let running: Vec<TaskId> = dump
            .tasks()
            .iter()
            .filter(|info| info.state() == TaskState::Running)
            .map(TaskInfo::id)
            .collect();
        (dump.tasks().len(), running)
    });
    let runner_id = runner.id();
    let (tasks, running) = rt.block_on(runner).unwrap();
    assert_eq!(tasks, 1);
    assert_eq!(running, [runner_id]);
}

#[test]
fn a_dump_in_a_callback_lists_the_tasks_and_none_running() {
    let rt = Runtime::builder().virtual_time(true).build().unwrap();
    let handle = rt.handle();
    let (dumped, dump) = mpsc::channel();
    rt.run(async move {
        let sleeper = jsloop::spawn(jsloop::time::sleep(ms(100)));
        let sleeper_id = sleeper.id();
        jsloop::set_timeout(ms(10), move || dumped.send((sleeper_id, handle.dump())).unwrap());
    });
    let (sleeper_id, dump) = dump.recv().unwrap();
    assert_eq!(dump.count(TaskState::Running), 0);
    assert_eq!(task(&dump, sleeper_id).waiting_on(), Some(&WaitingOn::Timer { remaining: ms(90) }));
}

#[test]
fn a_dump_outside_any_run_lists_spawned_tasks_and_leftovers() {
    let rt = Runtime::builder().warnings(false).build().unwrap();
    let a = rt.spawn(async {});
    let b = rt.spawn(std::future::pending::<()>());
    let before = rt.dump();
    assert_eq!(before.tasks().len(), 2);
    assert_eq!(before.count(TaskState::Queued), 2);
    assert_eq!(
        before.tasks().iter().map(TaskInfo::id).collect::<Vec<_>>(),
        [a.id(), b.id()],
        "sorted by id"
    );
    rt.run(async {});
    let after = rt.dump();
    assert_eq!(after.tasks().len(), 1, "the finished task is gone");
    let leftover = task(&after, b.id());
    assert_eq!(leftover.state(), TaskState::Waiting);
    assert_eq!(leftover.waiting_on(), None, "waiting on nothing the loop can see");
}

#[test]
fn a_task_woken_from_another_thread_is_queued_for_the_poll_phase() {
    let rt = Runtime::builder().warnings(false).build().unwrap();
    let (tx, rx) = futures::channel::oneshot::channel::<()>();
    let waiter = rt.spawn(async move { rx.await.unwrap() });
    rt.block_on(jsloop::yield_now());
    assert_eq!(task(&rt.dump(), waiter.id()).state(), TaskState::Waiting);
    std::thread::spawn(move || tx.send(()).unwrap()).join().unwrap();
    assert_eq!(task(&rt.dump(), waiter.id()).state(), TaskState::Queued);
    rt.block_on(waiter).unwrap();
}

#[test]
fn tracking_gives_ages_and_poll_counts() {
    let rt = Runtime::builder().track_tasks(true).build().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let thrice = jsloop::spawn(async {
            jsloop::yield_now().await;
            jsloop::yield_now().await;
            std::future::pending::<()>().await;
        });
        let never = jsloop::spawn(async {});
        let dump = handle.dump();
        let unpolled = task(&dump, never.id());
        assert_eq!((unpolled.polls(), unpolled.age()), (Some(0), Some(Duration::ZERO)));
        jsloop::time::sleep(ms(20)).await;
        let dump = handle.dump();
        let info = task(&dump, thrice.id());
        assert_eq!(info.polls(), Some(3));
        assert!(info.age().unwrap() >= ms(20), "{:?}", info.age());
        thrice.abort();
    });
}

#[test]
fn tracking_counts_the_poll_in_progress_and_starts_over_for_a_reused_slot() {
    let rt = Runtime::builder().track_tasks(true).build().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let first = {
            let handle = handle.clone();
            jsloop::spawn(async move { handle.dump() })
        };
        let first_id = first.id();
        let dump = first.await.unwrap();
        assert_eq!(task(&dump, first_id).polls(), Some(1));
        // The finished task's slot goes to the next task, whose id differs.
        let second = jsloop::spawn(std::future::pending::<()>());
        let slot = |id: TaskId| id.as_u64() & 0xffff_ffff;
        assert_eq!(slot(second.id()), slot(first_id));
        assert_ne!(second.id(), first_id);
        assert_eq!(task(&handle.dump(), second.id()).polls(), Some(0));
        second.abort();
    });
}

#[test]
fn without_tracking_ages_and_polls_are_none() {
    let rt = Runtime::new().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let pending = jsloop::spawn(std::future::pending::<()>());
        jsloop::yield_now().await;
        let dump = handle.dump();
        let info = task(&dump, pending.id());
        assert_eq!((info.age(), info.polls()), (None, None));
        pending.abort();
    });
}

#[test]
fn display_has_a_header_a_row_per_task_and_the_counts() {
    let rt = Runtime::builder().virtual_time(true).track_tasks(true).build().unwrap();
    let handle = rt.handle();
    rt.block_on(async move {
        let sleeper = jsloop::spawn(jsloop::time::sleep(Duration::from_secs(3)));
        let unknown = jsloop::spawn(std::future::pending::<()>());
        jsloop::yield_now().await;
        let queued = jsloop::spawn(async {});
        let table = handle.dump().to_string();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 5, "header, three rows, counts:\n{table}");
        for column in ["task", "state", "age", "polls", "spawned at", "waiting on"] {
            assert!(lines[0].contains(column), "{table}");
        }
        assert!(lines[1].starts_with(&sleeper.id().to_string()), "{table}");
        assert!(
            lines[1].contains("waiting") && lines[1].ends_with("a timer due in 3.0s"),
            "{table}"
        );
        assert!(lines[2].ends_with("unknown"), "{table}");
        assert!(lines[3].contains("queued") && lines[3].ends_with('-'), "{table}");
        for row in &lines[1..4] {
            assert!(row.contains("tests/dump.rs:"), "{table}");
        }
        // The columns line up (in characters: ages say "µs"): each row's
        // location starts under the header's.
        let column = |line: &str, text: &str| line[..line.find(text).unwrap()].chars().count();
        for row in &lines[1..4] {
            assert_eq!(column(row, "tests/dump.rs"), column(lines[0], "spawned at"), "{table}");
        }
        assert_eq!(lines[4], "3 tasks: 0 running, 1 queued, 2 waiting");
        for task in [sleeper, unknown] {
            task.abort();
        }
        queued.await.unwrap();
    });
}

#[test]
fn a_dump_from_another_thread_waits_for_a_long_callback_to_end() {
    let rt = Runtime::builder().warnings(false).build().unwrap();
    let dumps = rt.dump_handle();
    let guard = rt.keep_alive();
    let callback_ended = Arc::new(AtomicBool::new(false));
    let (started, callback_started) = mpsc::channel();
    let asker = std::thread::spawn({
        let callback_ended = callback_ended.clone();
        move || {
            callback_started.recv().unwrap();
            let dump = dumps.dump_timeout(Duration::from_secs(60));
            let ended_first = callback_ended.load(Ordering::SeqCst);
            drop(guard);
            (dump, ended_first)
        }
    });
    rt.run(async move {
        jsloop::spawn(std::future::pending::<()>());
        jsloop::set_immediate(move || {
            started.send(()).unwrap();
            std::thread::sleep(ms(200));
            callback_ended.store(true, Ordering::SeqCst);
        });
    });
    let (dump, ended_first) = asker.join().unwrap();
    let dump = dump.unwrap();
    assert!(ended_first, "the loop answered while the callback was still running");
    assert_eq!(dump.tasks().len(), 1);
    assert_eq!(dump.count(TaskState::Running), 0, "answered between macrotasks");
}

#[test]
fn dump_timeout_when_the_loop_is_not_running_times_out() {
    let rt = Runtime::new().unwrap();
    let dumps = rt.dump_handle();
    let asked = std::thread::spawn(move || {
        let start = Instant::now();
        (dumps.dump_timeout(ms(100)), start.elapsed())
    });
    let (result, waited) = asked.join().unwrap();
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::TimedOut);
    assert!(error.to_string().contains("did not answer"), "{error}");
    assert!(waited >= ms(100), "{waited:?}");
    // The question stays queued: the loop answers it (to nobody) when it runs.
    rt.run(async {});
}

#[test]
fn dump_after_the_runtime_is_dropped_fails_at_once() {
    let rt = Runtime::new().unwrap();
    let dumps = rt.dump_handle();
    let waiting = {
        let dumps = dumps.clone();
        std::thread::spawn(move || dumps.dump())
    };
    std::thread::sleep(ms(20)); // likely queued by now; either way it must fail
    drop(rt);
    let error = waiting.join().unwrap().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotConnected, "{error}");
    let asked_after = std::thread::spawn(move || {
        let start = Instant::now();
        (dumps.dump_timeout(Duration::from_secs(60)), start.elapsed())
    });
    let (result, waited) = asked_after.join().unwrap();
    let error = result.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::NotConnected);
    assert!(error.to_string().contains("dropped"), "{error}");
    assert!(waited < Duration::from_secs(30), "not at once: {waited:?}");
}

#[test]
fn a_dump_handle_on_the_loop_thread_answers_at_once_while_the_loop_runs() {
    let rt = Runtime::new().unwrap();
    let dumps = rt.dump_handle();
    let inside = rt.block_on(async move {
        let task = jsloop::spawn(std::future::pending::<()>());
        let dump = dumps.dump().unwrap();
        task.abort();
        dump
    });
    assert_eq!(inside.tasks().len(), 1);
}

#[test]
fn a_dump_handle_on_the_loop_thread_outside_the_loop_would_block() {
    let rt = Runtime::new().unwrap();
    let error = rt.dump_handle().dump().unwrap_err();
    assert_eq!(error.kind(), ErrorKind::WouldBlock);
    assert!(error.to_string().contains("Runtime::dump"), "{error}");
}

#[test]
fn dumps_and_their_handles_cross_threads() {
    fn send_sync_clone<T: Send + Sync + Clone>() {}
    send_sync_clone::<DumpHandle>();
    send_sync_clone::<TaskDump>();
}

/// A waker whose `clone` takes a task dump: it runs while the loop is in
/// the middle of storing it (the timer wheel or a socket's waiters
/// borrowed), where a dump must skip, never panic (tokio #8391).
fn dumping_waker(tag: usize) -> Waker {
    fn clone(data: *const ()) -> RawWaker {
        let dump = jsloop::Handle::current().dump();
        assert!(dump.tasks().len() <= 1);
        RawWaker::new(data, &VTABLE)
    }
    fn noop(_: *const ()) {}
    static VTABLE: RawWakerVTable = RawWakerVTable::new(clone, noop, noop, noop);
    // SAFETY: the vtable's functions never dereference the data pointer
    // (a tag), and do nothing on wake or drop, so any value is valid.
    unsafe { Waker::from_raw(RawWaker::new(tag as *const (), &VTABLE)) }
}

#[test]
fn a_dump_inside_a_waker_clone_never_panics() {
    let rt = Runtime::new().unwrap();
    rt.block_on(async {
        let sleeper = jsloop::spawn(std::future::pending::<()>());
        let mut sleep = std::pin::pin!(jsloop::time::sleep(Duration::from_secs(60)));
        let (first, second) = (dumping_waker(1), dumping_waker(2));
        assert!(sleep.as_mut().poll(&mut Context::from_waker(&first)).is_pending());
        // A different waker replaces the stored one under the wheel's borrow.
        assert!(sleep.as_mut().poll(&mut Context::from_waker(&second)).is_pending());

        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let _client = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let mut server = jsloop::net::TcpStream::from_std(listener.accept().unwrap().0).unwrap();
        let mut buf = [0; 4];
        for waker in [&first, &second] {
            let read = std::pin::Pin::new(&mut server)
                .poll_read(&mut Context::from_waker(waker), &mut buf);
            assert!(matches!(read, Poll::Pending));
        }
        sleeper.abort();
    });
}
