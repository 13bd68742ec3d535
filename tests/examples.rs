//! The examples, run as the programs they are: `examples/tour/main.rs` (each
//! section's JavaScript, run under `node` when it is on `PATH`, must print
//! what the Rust prints), `examples/shell.rs` (child processes, Ctrl-C)
//! and `examples/graceful.rs` (a server that drains on SIGTERM), driven
//! through their stdin, their stdout, signals and sockets; and
//! `examples/observer.rs`, which must print what the JavaScript in its
//! header prints under `node`; and `examples/animation.rs`, whose table
//! is checked for its shape only (its numbers are timings).
//!
//! `cargo test` builds the examples before it runs any test; a run that
//! builds only this target (`cargo test --test examples`) uses the example
//! binaries as they were last built, and where there are none each test
//! says so and passes.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::{Child, ChildStdin, Command, ExitStatus, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::thread;
use std::time::{Duration, Instant};

use rustix::process::{Pid, Signal, kill_process};

/// How long any one step may take, on a loaded machine, before the test
/// fails: far more than any step needs, and less than the `sleep 30` the
/// Ctrl-C test must cut short.
const PATIENCE: Duration = Duration::from_secs(20);

/// The binary of the example `name`, beside this test's own
/// (`target/<profile>/deps/this-test` → `target/<profile>/examples/name`);
/// `None`, said on stderr, if it has not been built.
fn example(name: &str) -> Option<PathBuf> {
    let test_binary = std::env::current_exe().expect("the test binary's path");
    let profile_dir = test_binary.parent()?.parent()?;
    let path = profile_dir.join("examples").join(name);
    if path.exists() {
        return Some(path);
    }
    eprintln!("skipped: {} is not built (plain `cargo test` builds it)", path.display());
    None
}

/// What a child writes to one of its pipes, read by a thread of its own
/// so that every wait for it has a deadline.
struct Transcript {
    chunks: Receiver<Vec<u8>>,
    text: String,
    /// Where the next [`wait_for`](Transcript::wait_for) starts looking:
    /// just past what the last one found, so a series of waits checks order.
    cursor: usize,
}

impl Transcript {
    fn new(mut pipe: impl Read + Send + 'static) -> Transcript {
        let (send, chunks) = mpsc::channel();
        thread::spawn(move || {
            let mut buf = [0; 4096];
            while let Ok(n @ 1..) = pipe.read(&mut buf) {
                if send.send(buf[..n].to_vec()).is_err() {
                    break;
                }
            }
        });
        Transcript { chunks, text: String::new(), cursor: 0 }
    }

    /// Waits until `needle` shows up after the previous match; returns
    /// what follows it on its line (as much of the line as has come).
    fn wait_for(&mut self, needle: &str) -> String {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(at) = self.text[self.cursor..].find(needle) {
                self.cursor += at + needle.len();
                let rest = &self.text[self.cursor..];
                return rest[..rest.find('\n').unwrap_or(rest.len())].to_string();
            }
            let left = deadline.saturating_duration_since(Instant::now());
            match self.chunks.recv_timeout(left) {
                Ok(chunk) => self.text.push_str(&String::from_utf8_lossy(&chunk)),
                Err(RecvTimeoutError::Timeout) => {
                    panic!("no {needle:?} within {PATIENCE:?}; got {:?}", self.text)
                }
                Err(RecvTimeoutError::Disconnected) => {
                    panic!("the pipe closed before {needle:?}; got {:?}", self.text)
                }
            }
        }
    }
}

/// An example running as a child process; killed if the test fails first.
struct Running {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: Transcript,
    stderr: Transcript,
}

impl Running {
    fn start(path: PathBuf, args: &[&str]) -> Running {
        let mut child = Command::new(path)
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("the example starts");
        let stdin = child.stdin.take();
        let stdout = Transcript::new(child.stdout.take().expect("piped"));
        let stderr = Transcript::new(child.stderr.take().expect("piped"));
        Running { child, stdin, stdout, stderr }
    }

    fn type_line(&mut self, line: &str) {
        let stdin = self.stdin.as_mut().expect("stdin is still open");
        writeln!(stdin, "{line}").expect("the example reads its stdin");
    }

    /// The end of the example's input.
    fn close_stdin(&mut self) {
        drop(self.stdin.take());
    }

    fn send(&self, signal: Signal) {
        kill_process(Pid::from_child(&self.child), signal).expect("the example is running");
    }

    /// Waits for the example to exit, for [`PATIENCE`] at most.
    fn exit_status(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().expect("waitpid") {
                return status;
            }
            assert!(Instant::now() < deadline, "still running after {PATIENCE:?}");
            thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[cfg_attr(miri, ignore)]
fn shell_streams_each_commands_output_then_its_exit_code() {
    let Some(shell) = example("shell") else { return };
    let mut shell = Running::start(shell, &[]);
    shell.type_line("echo hello");
    shell.type_line("echo oops >&2");
    shell.type_line("exit 3");
    shell.close_stdin();
    shell.stdout.wait_for("$ hello\n[exit 0]\n");
    shell.stdout.wait_for("$ [exit 0]\n");
    shell.stdout.wait_for("$ [exit 3]\n");
    shell.stderr.wait_for("oops\n");
    assert!(shell.exit_status().success(), "the end of input ends the shell normally");
}

#[test]
#[cfg_attr(miri, ignore)]
fn shell_ctrl_c_kills_the_running_command_and_prompts_again() {
    let Some(shell) = example("shell") else { return };
    let mut shell = Running::start(shell, &[]);
    // `sleep` is not the last command, so `sh` forks it instead of
    // becoming it: the kill must reach the process group, not `sh` alone.
    shell.type_line("echo started; sleep 30; echo not killed");
    shell.stdout.wait_for("started\n");
    shell.send(Signal::INT);
    shell.stdout.wait_for("[killed by signal ");
    shell.stdout.wait_for("$ ");
    shell.type_line("echo still here");
    shell.stdout.wait_for("still here\n[exit 0]\n");
    shell.close_stdin();
    assert!(shell.exit_status().success());
    assert!(!shell.stdout.text.contains("not killed"), "{:?}", shell.stdout.text);
}

#[test]
#[cfg_attr(miri, ignore)]
fn shell_ctrl_c_at_the_prompt_quits() {
    let Some(shell) = example("shell") else { return };
    let mut shell = Running::start(shell, &[]);
    // The prompt is written once Ctrl-C is listened for.
    shell.stdout.wait_for("$ ");
    shell.send(Signal::INT);
    assert!(shell.exit_status().success(), "Ctrl-C at the prompt is a normal end");
}

/// Sends `GET path` on `stream`.
fn request(mut stream: &TcpStream, path: &str) {
    write!(stream, "GET {path} HTTP/1.1\r\nHost: test\r\n\r\n").expect("the server reads");
}

/// Reads from `stream` until it has `end` (or the server closed it).
fn read_until(mut stream: &TcpStream, end: &str) -> String {
    let mut text = Vec::new();
    let mut buf = [0; 4096];
    while !text.ends_with(end.as_bytes()) {
        match stream.read(&mut buf).expect("the response comes in time") {
            0 => break,
            n => text.extend_from_slice(&buf[..n]),
        }
    }
    String::from_utf8_lossy(&text).into_owned()
}

fn connect(addr: SocketAddr) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, PATIENCE)?;
    stream.set_read_timeout(Some(PATIENCE))?;
    Ok(stream)
}

#[test]
#[cfg_attr(miri, ignore)]
fn graceful_sigterm_stops_accepting_and_lets_the_slow_request_finish() {
    let Some(server) = example("graceful") else { return };
    let mut server = Running::start(server, &["127.0.0.1:0"]);
    let addr: SocketAddr = server.stdout.wait_for("listening on http://").parse().unwrap();

    // A keep-alive connection left idle after one request, then a request
    // in flight when the signal comes.
    let idle = connect(addr).unwrap();
    request(&idle, "/");
    assert!(read_until(&idle, "hello\n").contains("connection: keep-alive"));
    let slow = connect(addr).unwrap();
    request(&slow, "/slow");
    server.stdout.wait_for("GET /slow HTTP/1.1\n");
    server.send(Signal::TERM);
    server.stdout.wait_for("SIGTERM: stopped accepting, 2 connection(s) open\n");

    match connect(addr) {
        Err(error) => assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused),
        // (Only if another program took the port meanwhile.)
        Ok(late) => {
            request(&late, "/");
            assert!(
                !read_until(&late, "hello\n").contains("200 OK"),
                "a late connection was served"
            );
        }
    }
    assert_eq!(read_until(&idle, "\n"), "", "the idle connection is closed at once");
    let response = read_until(&slow, "slow hello\n");
    assert!(response.starts_with("HTTP/1.1 200 OK\r\n"), "{response:?}");
    assert!(response.contains("connection: close\r\n"), "{response:?}");
    assert!(response.ends_with("\r\n\r\nslow hello\n"), "{response:?}");
    assert_eq!(read_until(&slow, "\n"), "", "the server closes after its last response");

    server.stdout.wait_for("all connections closed\n");
    assert!(server.exit_status().success());
}

#[test]
#[cfg_attr(miri, ignore)]
fn graceful_drops_the_connections_still_busy_at_the_deadline() {
    let Some(server) = example("graceful") else { return };
    // A one-second deadline, and a request that takes a minute.
    let mut server = Running::start(server, &["127.0.0.1:0", "1"]);
    let addr: SocketAddr = server.stdout.wait_for("listening on http://").parse().unwrap();
    let stuck = connect(addr).unwrap();
    request(&stuck, "/stuck");
    server.stdout.wait_for("GET /stuck HTTP/1.1\n");
    server.send(Signal::INT);
    server.stdout.wait_for("SIGINT: stopped accepting, 1 connection(s) open\n");
    server.stdout.wait_for("gave up on 1 connection(s) after 1s\n");
    assert_eq!(read_until(&stuck, "\n"), "", "the stuck request is dropped unanswered");
    assert!(server.exit_status().success(), "giving up still ends `run` normally");
}

/// What the tour's sections assume of their JavaScript (its header says
/// so): `log` is `console.log`, `busyWait(ms)` spins for `ms`.
const TOUR_PRELUDE: &str = "const log = (line) => console.log(line);\n\
    function busyWait(ms) { const start = Date.now(); while (Date.now() - start < ms) {} }\n";

#[test]
fn every_tour_section_prints_what_its_javascript_prints_under_node() {
    let Some(tour) = example("tour") else { return };
    let output = Command::new(tour).output().expect("the tour runs");
    assert!(output.status.success(), "the tour failed: {output:?}");
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let sections: Vec<&str> = printed.split("\n== ").skip(1).collect();
    assert_eq!(sections.len(), 7, "{printed}");
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped the comparison: `node` is not on PATH");
        return;
    }
    for section in sections {
        let mut lines = section.lines();
        let title = lines.next().unwrap_or_default();
        let (js, rust): (Vec<&str>, Vec<&str>) = lines
            .filter(|line| !line.trim().is_empty() && !line.starts_with("(the loop ended"))
            .partition(|line| line.starts_with("   | "));
        let js: Vec<&str> = js.iter().map(|line| &line["   | ".len()..]).collect();
        let script = format!("{TOUR_PRELUDE}{}", js.join("\n"));
        let node = Command::new("node").arg("-e").arg(&script).output().expect("node runs");
        assert!(node.status.success(), "{title}: node failed: {node:?}");
        let node_out = String::from_utf8(node.stdout).expect("UTF-8");
        let node_lines: Vec<&str> =
            node_out.lines().filter(|line| !line.trim().is_empty()).collect();
        assert_eq!(
            rust, node_lines,
            "section {title}: the Rust prints (left), node prints (right)"
        );
    }
}

/// The JavaScript an example's header ports: the lines of its ```` ```js ````
/// block, without the `//! ` in front.
fn ported_javascript(example_source: &str) -> String {
    let mut lines = example_source.lines().map(|line| line.strip_prefix("//!").unwrap_or(line));
    lines.by_ref().find(|line| line.trim() == "```js").expect("a ```js block");
    let js: Vec<&str> = lines
        .take_while(|line| line.trim() != "```")
        .map(|line| line.strip_prefix(' ').unwrap_or(line))
        .collect();
    js.join("\n")
}

#[test]
fn observer_renders_once_per_turn_as_its_javascript_does_under_node() {
    let Some(observer) = example("observer") else { return };
    let output = Command::new(observer).output().expect("the example runs");
    assert!(output.status.success(), "the example failed: {output:?}");
    let printed = String::from_utf8(output.stdout).expect("UTF-8");
    let renders: Vec<&str> = printed.lines().filter(|line| line.starts_with("render ")).collect();
    assert_eq!(renders.len(), 2, "one render per turn that changed the label: {printed}");
    if Command::new("node").arg("--version").output().is_err() {
        eprintln!("skipped the comparison: `node` is not on PATH");
        return;
    }
    let source = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/observer.rs");
    let script = ported_javascript(&std::fs::read_to_string(source).expect("the source"));
    let node = Command::new("node").arg("-e").arg(&script).output().expect("node runs");
    assert!(node.status.success(), "node failed: {node:?}");
    let node_out = String::from_utf8(node.stdout).expect("UTF-8");
    assert_eq!(printed, node_out, "the Rust prints (left), node prints (right)");
}

#[test]
fn animation_prints_a_row_for_each_pacing() {
    let Some(animation) = example("animation") else { return };
    // A short run, with and without long tasks; only the table's shape is
    // checked: its numbers are timings of a shared machine.
    for args in [&["--run-for", "300"][..], &["--run-for", "300", "--no-long-tasks"]] {
        let output = Command::new(&animation).args(args).output().expect("the example runs");
        assert!(output.status.success(), "{args:?}: the example failed: {output:?}");
        let printed = String::from_utf8(output.stdout).expect("UTF-8");
        let header = printed.lines().position(|line| line.starts_with("paced by"));
        let header = header.unwrap_or_else(|| panic!("{args:?}: no table: {printed}"));
        let rows: Vec<&str> = printed.lines().skip(header + 1).take(2).collect();
        assert_eq!(rows.len(), 2, "{args:?}: {printed}");
        for (row, (name, missed)) in
            rows.iter().zip([("frame phase", true), ("set_interval", false)])
        {
            assert!(row.starts_with(name), "{args:?}: {row:?}");
            // frames, mean "ms", worst "ms", empty slots, missed slots
            // (which only the frame phase knows).
            let fields: Vec<&str> = row[name.len()..].split_whitespace().collect();
            assert_eq!(fields.len(), 7, "{args:?}: {row:?}");
            assert!(fields[0].parse::<u32>().unwrap() > 0, "{args:?}: nothing drawn: {row:?}");
            assert!(fields[1].parse::<f64>().is_ok() && fields[3].parse::<f64>().is_ok());
            assert!(fields[5].parse::<u64>().is_ok(), "{args:?}: {row:?}");
            assert_eq!(fields[6].parse::<u64>().is_ok(), missed, "{args:?}: {row:?}");
        }
        let long_tasks =
            if args.contains(&"--no-long-tasks") { "no long tasks" } else { "a long task" };
        assert!(printed.contains(long_tasks), "{args:?}: {printed}");
    }
}
