//! Child processes (`jsloop::process::Command` / `Child`): exit statuses,
//! pipes, the bad inputs (a missing program, a child killed by a signal,
//! a child that stops reading, hundreds at once), what dropping a child
//! does (never a zombie), liveness, and where an exit lands in the loop.
#![cfg(unix)]

use std::cell::{Cell, RefCell};
use std::io::ErrorKind;
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::rc::Rc;
use std::time::{Duration, Instant};

use futures::{AsyncReadExt, AsyncWriteExt};
use jsloop::process::{Child, Command};
use rustix::process::{Pid, Signal, kill_process};

/// The state letter of `/proc/<pid>/stat` (`Z` for a zombie), or `None`
/// once the process is gone (reaped).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // "pid (comm) S ...": the command may hold spaces and parentheses.
    stat[stat.rfind(')')? + 1..].trim_start().chars().next()
}

/// Waits (blocking, up to a generous bound) until `pid`'s state is `want`.
fn wait_for_state(pid: u32, want: Option<char>) {
    let start = Instant::now();
    while proc_state(pid) != want {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process {pid} is still {:?}, not {want:?}",
            proc_state(pid)
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Lets the loop run (timers, poll phase) until `pid` is gone.
async fn loop_until_gone(pid: u32) {
    let start = Instant::now();
    while proc_state(pid).is_some() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "process {pid} was not reaped: state {:?}",
            proc_state(pid)
        );
        jsloop::time::sleep(Duration::from_millis(10)).await;
    }
}

fn pid_of(pid: u32) -> Pid {
    Pid::from_raw(pid as i32).expect("a child's pid")
}

#[test]
fn wait_gives_the_exit_code_and_try_wait_reports_it_after() {
    jsloop::block_on(async {
        let mut child = Command::new("sh").args(["-c", "exit 3"]).spawn().unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(3));
        // Known from now on, without asking the OS again.
        assert_eq!(child.wait().await.unwrap(), status);
        assert_eq!(child.try_wait().unwrap(), Some(status));
        assert!(child.kill().is_ok(), "killing a reaped child is a no-op");
    });
}

#[test]
fn try_wait_says_none_while_the_child_runs() {
    jsloop::block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        assert_eq!(child.try_wait().unwrap(), None);
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    });
}

#[test]
fn a_program_that_does_not_exist_is_not_found_and_the_error_names_it() {
    jsloop::block_on(async {
        let error = Command::new("jsloop-no-such-program").spawn().unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().contains("jsloop-no-such-program"), "{error}");
        // The same through output() and status().
        let error = Command::new("jsloop-no-such-program").output().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        let error = Command::new("./jsloop/no/such/path").status().await.unwrap_err();
        assert_eq!(error.kind(), ErrorKind::NotFound);
        assert!(error.to_string().contains("./jsloop/no/such/path"), "{error}");
    });
}

#[test]
fn a_child_killed_by_a_signal_says_which() {
    jsloop::block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        kill_process(pid_of(child.id()), Signal::TERM).unwrap();
        let status = child.wait().await.unwrap();
        assert_eq!(status.signal(), Some(15));
        assert_eq!(status.code(), None);
        assert!(!status.success());

        // A child that kills itself.
        let status = Command::new("sh").args(["-c", "kill -USR1 $$"]).status().await.unwrap();
        assert_eq!(status.signal(), Some(10));
    });
}

#[test]
fn signal_sends_any_named_signal_and_is_harmless_after_the_reap() {
    jsloop::block_on(async {
        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        child.signal(jsloop::process::SignalKind::hangup()).unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(1));
        // Reaped: the pid is not ours any more, nothing is sent.
        child.signal(jsloop::process::SignalKind::terminate()).unwrap();

        let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
        let error = child.signal(jsloop::process::SignalKind::from_raw(40)).unwrap_err();
        assert_eq!(error.kind(), std::io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("40"), "{error}");
        child.kill().unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    });
}

#[test]
fn writing_to_a_child_that_stopped_reading_is_broken_pipe_and_not_sigpipe() {
    jsloop::block_on(async {
        // `head` reads 10 bytes, writes them out and exits, closing its stdin
        // and stdout while we still write.
        let mut child = Command::new("head")
            .args(["-c", "10"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let chunk = vec![b'x'; 64 * 1024];
        let error = loop {
            if let Err(error) = stdin.write_all(&chunk).await {
                break error;
            }
        };
        // Rust ignores SIGPIPE: an error here, and this process lives on.
        assert_eq!(error.kind(), ErrorKind::BrokenPipe);
        let mut out = Vec::new();
        child.stdout.take().unwrap().read_to_end(&mut out).await.unwrap();
        assert_eq!(out, b"xxxxxxxxxx");
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn stdout_of_a_child_whose_stdin_is_at_eof_reads_ok_zero_after_it_exits() {
    jsloop::block_on(async {
        // `cat` with its stdin at EOF writes nothing and exits.
        let mut child =
            Command::new("cat").stdin(Stdio::null()).stdout(Stdio::piped()).spawn().unwrap();
        assert!(child.wait().await.unwrap().success());
        let mut stdout = child.stdout.take().unwrap();
        let mut buf = [0; 16];
        assert_eq!(stdout.read(&mut buf).await.unwrap(), 0);
        assert_eq!(stdout.read(&mut buf).await.unwrap(), 0, "EOF stays EOF");
    });
}

#[test]
fn stdin_and_stdout_pipe_through_cat() {
    jsloop::block_on(async {
        let mut child =
            Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let mut stdout = child.stdout.take().unwrap();
        let data: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        let writer = jsloop::spawn({
            let data = data.clone();
            async move {
                stdin.write_all(&data).await.unwrap();
                // Dropping stdin closes it: cat sees EOF.
            }
        });
        let mut echoed = Vec::new();
        stdout.read_to_end(&mut echoed).await.unwrap();
        writer.await.unwrap();
        assert!(echoed == data, "cat echoed {} bytes of {}", echoed.len(), data.len());
        assert!(child.wait().await.unwrap().success());
    });
}

#[test]
fn output_collects_stdout_and_stderr_and_status_inherits() {
    jsloop::block_on(async {
        let output = Command::new("sh")
            .args(["-c", "echo out; echo err >&2; exit 2"])
            .output()
            .await
            .unwrap();
        assert_eq!(output.status.code(), Some(2));
        assert_eq!(output.stdout, b"out\n");
        assert_eq!(output.stderr, b"err\n");

        // Large outputs on both pipes at once: neither can block the other.
        let output = Command::new("sh")
            .args(["-c", "head -c 300000 /dev/zero; head -c 300000 /dev/zero >&2"])
            .output()
            .await
            .unwrap();
        assert_eq!((output.stdout.len(), output.stderr.len()), (300_000, 300_000));

        let status = Command::new("true").status().await.unwrap();
        assert!(status.success());
    });
}

#[test]
fn two_hundred_children_at_once() {
    let statuses = Rc::new(RefCell::new(Vec::new()));
    jsloop::run({
        let statuses = statuses.clone();
        async move {
            for i in 0..200u32 {
                let statuses = statuses.clone();
                jsloop::spawn(async move {
                    let output = Command::new("sh")
                        .args(["-c", &format!("echo {i}; exit {}", i % 100)])
                        .output()
                        .await
                        .unwrap();
                    let printed: u32 =
                        String::from_utf8(output.stdout).unwrap().trim().parse().unwrap();
                    statuses.borrow_mut().push((i, printed, output.status.code()));
                });
            }
        }
    });
    let mut statuses = statuses.take();
    statuses.sort_unstable();
    assert_eq!(statuses.len(), 200);
    for (i, printed, code) in statuses {
        assert_eq!((printed, code), (i, Some((i % 100) as i32)));
    }
}

#[test]
fn kill_on_drop_kills_and_reaps_a_never_exiting_child() {
    jsloop::run(async {
        let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
        let pid = child.id();
        assert!(matches!(proc_state(pid), Some(state) if state != 'Z'));
        drop(child);
        // Killed now; reaped by the loop in a poll phase (no zombie left).
        loop_until_gone(pid).await;
    });
}

#[test]
fn a_dropped_child_keeps_running_and_is_reaped_in_the_background_when_it_exits() {
    jsloop::run(async {
        let child = Command::new("sleep").arg("1000").spawn().unwrap();
        let pid = child.id();
        drop(child);
        jsloop::time::sleep(Duration::from_millis(50)).await;
        let state = proc_state(pid);
        assert!(matches!(state, Some(s) if s != 'Z'), "the child should still run: {state:?}");
        kill_process(pid_of(pid), Signal::KILL).unwrap();
        loop_until_gone(pid).await;
    });
}

#[test]
fn a_dropped_child_being_reaped_does_not_keep_the_loop_alive() {
    let start = Instant::now();
    let pid = Cell::new(0);
    jsloop::run(async {
        let child = Command::new("sleep").arg("1000").spawn().unwrap();
        pid.set(child.id());
    });
    assert!(start.elapsed() < Duration::from_secs(10), "run waited for a child nobody waits for");
    kill_process(pid_of(pid.get()), Signal::KILL).unwrap();
    // The runtime is gone: the reaper thread reaps it.
    wait_for_state(pid.get(), None);
}

#[test]
fn a_child_outliving_its_runtime_is_reaped_by_the_reaper_thread() {
    // Dropped with the runtime still there but not running, and after it.
    let runtime = jsloop::Runtime::new().unwrap();
    let (a, b, c) = runtime.block_on(async {
        let spawn = |kill_on_drop| {
            Command::new("sleep").arg("1000").kill_on_drop(kill_on_drop).spawn().unwrap()
        };
        (spawn(false), spawn(false), spawn(true))
    });
    let pids = [a.id(), b.id(), c.id()];
    drop(a);
    drop(runtime);
    drop(b);
    drop(c);
    // `c` was killed on drop; the others still run until we kill them.
    wait_for_state(pids[2], None);
    for pid in &pids[..2] {
        assert!(matches!(proc_state(*pid), Some(s) if s != 'Z'));
        kill_process(pid_of(*pid), Signal::KILL).unwrap();
    }
    for pid in pids {
        wait_for_state(pid, None);
    }
}

#[test]
fn a_waited_child_keeps_run_alive_until_it_exits() {
    let done = Rc::new(Cell::new(false));
    let start = Instant::now();
    jsloop::run({
        let done = done.clone();
        async move {
            let mut child = Command::new("sleep").arg("0.2").spawn().unwrap();
            jsloop::spawn(async move {
                child.wait().await.unwrap();
                done.set(true);
            });
        }
    });
    assert!(done.get());
    assert!(start.elapsed() >= Duration::from_millis(150));
}

#[test]
fn a_held_child_nobody_waits_for_does_not_keep_run_alive() {
    let held: Rc<RefCell<Option<Child>>> = Rc::default();
    let start = Instant::now();
    jsloop::run({
        let held = held.clone();
        async move {
            let mut child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
            // A wait given up on lets go of the loop too.
            let waited = jsloop::time::timeout(Duration::from_millis(20), child.wait()).await;
            assert!(waited.is_err());
            *held.borrow_mut() = Some(child);
        }
    });
    assert!(start.elapsed() < Duration::from_secs(10), "run waited for an unwaited child");
    let pid = held.borrow().as_ref().unwrap().id();
    assert!(matches!(proc_state(pid), Some(s) if s != 'Z'));
    drop(held.take());
    wait_for_state(pid, None);
}

#[test]
fn a_child_exit_lands_in_the_poll_phase_after_due_timers_and_before_immediates() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let push = |log: &Rc<RefCell<Vec<&'static str>>>, line| log.borrow_mut().push(line);
    jsloop::run({
        let log = log.clone();
        async move {
            let mut child = Command::new("true").spawn().unwrap();
            let pid = child.id();
            let waiter = log.clone();
            jsloop::spawn(async move {
                child.wait().await.unwrap();
                push(&waiter, "exit");
                let waiter = waiter.clone();
                jsloop::next_tick(move || push(&waiter, "exit tick"));
            });
            let timer = log.clone();
            jsloop::set_timeout(Duration::from_millis(1), move || {
                push(&timer, "timer");
                let timer = timer.clone();
                jsloop::set_immediate(move || push(&timer, "immediate queued by the timer"));
            });
            let immediate = log.clone();
            jsloop::set_immediate(move || push(&immediate, "immediate"));
            // Hold the script until the child has exited (a zombie, not yet
            // reaped) and the timer is due: the first iteration sees both.
            wait_for_state(pid, Some('Z'));
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    assert_eq!(
        *log.borrow(),
        ["timer", "exit", "exit tick", "immediate", "immediate queued by the timer"]
    );
}

#[test]
fn spawn_outside_a_runtime_panics_before_starting_a_process() {
    let panic = std::panic::catch_unwind(|| Command::new("true").spawn()).unwrap_err();
    let message = panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default();
    assert!(message.contains("no jsloop runtime is running on this thread"), "{message}");
}
