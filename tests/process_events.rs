//! `jsloop::process`'s loop end: before-exit and exit listeners, `exit`
//! from every kind of callback and task, exit codes, and bad input.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use jsloop::process::{catch_exit, exit, exit_code, on_before_exit, on_exit, set_exit_code};
use jsloop::promise::Promise;
use jsloop::worker::{Worker, WorkerError};
use jsloop::{Runtime, next_tick, set_immediate, set_timeout};

mod common;

type Log = Rc<RefCell<Vec<String>>>;

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

/// Runs `script` with `run` inside `catch_exit`; a never-firing timer and
/// an exit listener log what ran.
fn run_to_exit(script: impl FnOnce(Log) + 'static) -> (Result<(), i32>, Vec<String>) {
    let log: Log = Rc::default();
    let outcome = catch_exit({
        let log = log.clone();
        move || {
            jsloop::run(async move {
                let exit_log = log.clone();
                on_exit(move |code| push(&exit_log, format!("exit listener {code}")));
                let late = log.clone();
                set_timeout(Duration::from_secs(30), move || push(&late, "never: timer"));
                script(log);
            })
        }
    });
    let lines = log.borrow().clone();
    (outcome, lines)
}

#[test]
fn exit_from_a_next_tick_skips_the_rest_and_pending_work() {
    let (outcome, log) = run_to_exit(|log| {
        next_tick(move || {
            push(&log, "tick");
            let after = log.clone();
            set_immediate(move || push(&after, "never: immediate"));
            exit(4);
        });
    });
    assert_eq!(outcome, Err(4));
    assert_eq!(log, ["tick", "exit listener 4"]);
}

#[test]
fn exit_from_a_spawned_task_ends_the_loop_even_with_an_uncaught_handler() {
    let handled = Rc::new(Cell::new(false));
    let seen = handled.clone();
    let rt = Runtime::builder().on_uncaught_panic(move |_| seen.set(true)).build().unwrap();
    let outcome = catch_exit(|| {
        rt.run(async {
            jsloop::spawn(async {
                jsloop::yield_to_loop().await;
                exit(6);
            });
            set_timeout(Duration::from_secs(30), || unreachable!("the loop ended"));
        })
    });
    assert_eq!(outcome, Err(6));
    assert!(!handled.get(), "an exit is not an uncaught panic");
    assert_eq!(rt.exit_code(), 6);
}

#[test]
fn exit_from_a_task_whose_handle_is_awaited_ends_the_loop_not_the_awaiter() {
    let outcome = catch_exit(|| {
        jsloop::run(async {
            let task = jsloop::spawn(async { exit(2) });
            let _: Result<(), _> = task.await;
            unreachable!("the loop ended before the awaiter ran");
        })
    });
    assert_eq!(outcome, Err(2));
}

#[test]
fn exit_from_a_promise_reaction_and_from_block_on() {
    let outcome = catch_exit(|| {
        jsloop::run(async {
            Promise::<u8, ()>::resolve(8).then(|code| exit(i32::from(code)));
        })
    });
    assert_eq!(outcome, Err(8));

    let outcome = catch_exit(|| jsloop::block_on(async { exit(9) }));
    assert_eq!(outcome, Err(9));
}

#[test]
fn exit_from_an_exit_listener_ends_at_once_with_its_code() {
    let (outcome, log) = run_to_exit(|log| {
        let (first, second) = (log.clone(), log.clone());
        on_exit(move |code| {
            push(&first, format!("listener 2 got {code}"));
            exit(11);
        });
        on_exit(move |_| push(&second, "never: listener 3"));
        next_tick(|| exit(10));
    });
    assert_eq!(outcome, Err(11));
    assert_eq!(log, ["exit listener 10", "listener 2 got 10"]);
}

#[test]
fn an_exit_listener_may_exit_after_a_normal_end() {
    let outcome = catch_exit(|| {
        jsloop::run(async {
            on_exit(|code| {
                assert_eq!(code, 0);
                exit(12);
            });
        })
    });
    assert_eq!(outcome, Err(12));
}

#[test]
fn an_exit_listener_can_change_the_final_code() {
    let (outcome, _) = run_to_exit(|_| {
        on_exit(|_| set_exit_code(0));
        exit(3);
    });
    assert_eq!(outcome, Err(0));
}

#[test]
fn exit_outside_a_runtime_returns_to_catch_exit() {
    assert_eq!(catch_exit(|| exit(13)), Err::<(), _>(13));
}

#[test]
fn catch_exit_lets_other_panics_through() {
    let caught = std::panic::catch_unwind(|| catch_exit(|| panic!("not an exit")));
    let payload = caught.unwrap_err();
    assert_eq!(common::panic_message(payload), "not an exit");
}

#[test]
fn a_panicking_before_exit_listener_goes_to_the_handler_or_out_of_run() {
    let reported = Rc::new(RefCell::new(Vec::new()));
    let seen = reported.clone();
    let rt = Runtime::builder()
        .on_uncaught_panic(move |payload| seen.borrow_mut().push(common::panic_message(payload)))
        .build()
        .unwrap();
    rt.run(async { on_before_exit(|_| panic!("before-exit boom")) });
    assert_eq!(*reported.borrow(), ["before-exit boom"]);

    let code = Rc::new(Cell::new(None));
    let exit_code_seen = code.clone();
    let rt = Runtime::new().unwrap();
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.run(async move {
            on_exit(move |code| exit_code_seen.set(Some(code)));
            on_before_exit(|_| panic!("before-exit boom"));
        })
    }));
    assert_eq!(common::panic_message(caught.unwrap_err()), "before-exit boom");
    assert_eq!(code.get(), Some(1), "the exit listeners ran, with Node's code 1");
    assert_eq!(rt.exit_code(), 1);
}

#[test]
fn before_exit_listeners_get_the_exit_code_and_block_on_never_calls_them() {
    let codes = Rc::new(RefCell::new(Vec::new()));
    let seen = codes.clone();
    jsloop::block_on(async move {
        on_before_exit(move |code| seen.borrow_mut().push(code));
        set_exit_code(5);
        assert_eq!(exit_code(), 5);
    });
    assert!(codes.borrow().is_empty(), "block_on ends with its future");

    let seen = codes.clone();
    jsloop::run(async move {
        set_exit_code(5);
        on_before_exit(move |code| seen.borrow_mut().push(code));
    });
    assert_eq!(*codes.borrow(), [5]);
}

#[test]
fn a_worker_s_exit_code_follows_how_it_ended() {
    jsloop::block_on(async {
        let exited = Worker::spawn(|| async { exit(5) }).unwrap();
        assert!(matches!(exited.exit().await, Err(WorkerError::Exited(5))));
        assert_eq!(exited.exit_code(), Some(5));

        let normal = Worker::spawn(|| async { set_exit_code(9) }).unwrap();
        normal.exit().await.unwrap();
        assert_eq!(normal.exit_code(), Some(9));

        let panicked = Worker::spawn(|| async { panic!("worker boom") }).unwrap();
        assert!(matches!(panicked.exit().await, Err(WorkerError::Panicked(_))));
        assert_eq!(panicked.exit_code(), Some(1));

        let endless = Worker::spawn(|| async {
            let _alive = jsloop::keep_alive();
            std::future::pending::<()>().await
        })
        .unwrap();
        assert_eq!(endless.exit_code(), None, "still running");
        endless.terminate();
        assert!(endless.exit().await.unwrap_err().is_terminated());
        assert_eq!(endless.exit_code(), Some(1));
    });
}

/// Set in the child process of the test below.
const CHILD: &str = "JSLOOP_PROCESS_EVENTS_CHILD";

#[test]
#[cfg_attr(miri, ignore = "Miri cannot start a process")]
fn exit_outside_catch_exit_ends_the_process_after_the_listeners_and_a_flush() {
    if std::env::var_os(CHILD).is_some() {
        jsloop::run(async {
            on_exit(|code| println!("exit listener {code}"));
            // A partial line stays in the loop's stdout buffer until `exit`.
            futures::AsyncWriteExt::write_all(&mut jsloop::io::stdout(), b"buffered, ")
                .await
                .unwrap();
            set_timeout(Duration::from_millis(1), || exit(42));
        });
        unreachable!("`exit` ended the process");
    }
    let output = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--exact",
            "exit_outside_catch_exit_ends_the_process_after_the_listeners_and_a_flush",
        ])
        .args(["--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(42), "{output:?}");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("exit listener 42"), "{stdout}");
    assert!(stdout.contains("buffered, "), "the loop's stdout was flushed: {stdout}");
}
