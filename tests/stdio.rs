//! `jsloop::io::{stdin, stdout, stderr}` on every kind of descriptor a
//! process can be given: pipes, files, `/dev/null`, sockets, terminals.
//!
//! Each test runs this test binary again as a child (`child_mode` below,
//! picked by `JSLOOP_STDIO_CHILD`) with its stdio wired as the test needs;
//! the child runs a jsloop program on its stdio and the parent checks the
//! bytes and the exit status. The test harness prints a line of its own on
//! the child's stdout before the program starts, so the child first prints
//! `MARK` and the parent looks at what follows it.

use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::net::UnixStream;
use std::os::unix::process::ExitStatusExt;
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use futures_lite::StreamExt;
use futures_lite::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use rustix::fs::OFlags;

const MODE: &str = "JSLOOP_STDIO_CHILD";
const MARK: &[u8] = b"<<jsloop stdio child>>";
/// How long a child may take before the test calls it hung (generous: a
/// loaded 2-core machine).
const HUNG: Duration = Duration::from_secs(120);
const EIGHT_MIB: usize = 8 << 20;

// ---- the child side ----

/// Not a test of its own: the entry point of the child processes.
#[test]
fn child_mode() {
    let Ok(mode) = std::env::var(MODE) else { return };
    let mut out = std::io::stdout().lock();
    out.write_all(MARK).unwrap();
    out.flush().unwrap();
    drop(out);
    run_child(&mode);
    // Before the harness reports on stdout.
    std::process::exit(0);
}

fn run_child(mode: &str) {
    match mode {
        "first_read" => jsloop::run(async {
            let mut buf = [0; 4096];
            let n = jsloop::io::stdin().read(&mut buf).await.unwrap();
            let again = jsloop::io::stdin().read(&mut buf).await.unwrap();
            let report = format!("first read: {n}, then: {again}\n");
            jsloop::io::stdout().write_all(report.as_bytes()).await.unwrap();
        }),
        "abandoned_read" => jsloop::run(async {
            let mut lines = BufReader::new(jsloop::io::stdin()).lines();
            let wait = Duration::from_millis(20);
            assert!(jsloop::time::timeout(wait, lines.next()).await.is_err());
            // `lines` is dropped here: `run` must not wait for input.
        }),
        "cat" => jsloop::run(async {
            let mut out = jsloop::io::stdout();
            futures_lite::io::copy(jsloop::io::stdin(), &mut out).await.unwrap();
            out.flush().await.unwrap();
        }),
        "cat_lines" => jsloop::run(async {
            let mut lines = BufReader::new(jsloop::io::stdin()).lines();
            let mut out = jsloop::io::stdout();
            while let Some(line) = lines.next().await {
                out.write_all(format!("<{}>\n", line.unwrap()).as_bytes()).await.unwrap();
            }
        }),
        "broken_pipe_after_eof" => jsloop::run(async {
            let mut input = Vec::new();
            jsloop::io::stdin().read_to_end(&mut input).await.unwrap();
            // First use of stdout: its pipe has no reader left by now.
            report_write(&mut jsloop::io::stdout()).await;
        }),
        "broken_pipe_while_open" => jsloop::run(async {
            let mut out = jsloop::io::stdout();
            out.write_all(b"ready\n").await.unwrap();
            let mut input = Vec::new();
            jsloop::io::stdin().read_to_end(&mut input).await.unwrap();
            report_write(&mut out).await;
        }),
        "write_8mib" => jsloop::run(async {
            let data = pattern(EIGHT_MIB);
            let mut out = jsloop::io::stdout();
            // Small writes, lines, and writes bigger than the buffer.
            let sizes = [1, 99, 4096, 10_007, 65_536, 300, 8191];
            let (mut at, mut turn) = (0, 0);
            while at < data.len() {
                let end = (at + sizes[turn % sizes.len()]).min(data.len());
                out.write_all(&data[at..end]).await.unwrap();
                (at, turn) = (end, turn + 1);
            }
            out.flush().await.unwrap();
            eprintln!("wrote {}", data.len());
        }),
        "interleave" => jsloop::run(async {
            let (mut a, mut b, mut c) =
                (jsloop::io::stdout(), jsloop::io::stdout(), jsloop::io::stdout());
            a.write_all(b"a1 ").await.unwrap();
            b.write_all(b"b1 ").await.unwrap();
            c.write_all(b"c1\n").await.unwrap();
            b.write_all(b"b2 ").await.unwrap();
            a.write_all(b"a2 ").await.unwrap();
            c.flush().await.unwrap();
            b.write_all(b"b3\nc").await.unwrap();
            a.write_all(b"3, unflushed").await.unwrap();
        }),
        "concurrent" => jsloop::run(async {
            let writers: Vec<_> = (0..4)
                .map(|task| {
                    jsloop::spawn(async move {
                        let mut out = jsloop::io::stdout();
                        for line in 0..2000 {
                            let text =
                                format!("task {task} line {line} {}\n", "x".repeat(line % 97));
                            out.write_all(text.as_bytes()).await.unwrap();
                            if line % 7 == 0 {
                                jsloop::yield_now().await;
                            }
                        }
                    })
                })
                .collect();
            for writer in writers {
                writer.await.unwrap();
            }
        }),
        "unflushed_run" => jsloop::run(async {
            jsloop::io::stdout().write_all(b"partial line, run").await.unwrap();
            jsloop::io::stderr().write_all(b"stderr, run").await.unwrap();
        }),
        "unflushed_block_on" => {
            let rt = jsloop::Runtime::new().unwrap();
            rt.block_on(async {
                jsloop::io::stdout().write_all(b"partial line, block_on").await.unwrap();
            });
            // Written when block_on returned, before the runtime is dropped:
            // a sibling process could read it now.
            std::mem::forget(rt);
        }
        "flush_stdio_then_exit" => jsloop::run(async {
            jsloop::io::stdout().write_all(b"partial line, before exit").await.unwrap();
            jsloop::io::flush_stdio().unwrap();
            std::process::exit(0);
        }),
        "flags" => jsloop::block_on(async {
            let mut out = jsloop::io::stdout();
            out.write_all(b"hello\n").await.unwrap();
            let mut buf = [0; 16];
            let mut stdin = jsloop::io::stdin();
            let _ = jsloop::time::timeout(Duration::from_millis(20), stdin.read(&mut buf)).await;
            let report = format!(
                "nonblock: stdin {}, stdout {}\n",
                nonblocking(std::io::stdin()),
                nonblocking(std::io::stdout())
            );
            out.write_all(report.as_bytes()).await.unwrap();
        }),
        "tty_echo" => jsloop::run(async {
            let mut lines = BufReader::new(jsloop::io::stdin()).lines();
            let line = lines.next().await.unwrap().unwrap();
            let report = format!(
                "got {line:?}; nonblock: stdin {}, stdout {}\n",
                nonblocking(std::io::stdin()),
                nonblocking(std::io::stdout())
            );
            jsloop::io::stdout().write_all(report.as_bytes()).await.unwrap();
        }),
        other => panic!("unknown child mode {other:?}"),
    }
}

/// Writes lines until one fails; says on stderr how that went. (The first
/// may succeed: a sibling test's child, between its fork and its exec, can
/// hold the reading end a moment longer.)
async fn report_write(out: &mut jsloop::io::Stdout) {
    let mut result = Ok(());
    for _ in 0..1000 {
        result = async {
            out.write_all(b"x\n").await?;
            out.flush().await
        }
        .await;
        if result.is_err() {
            break;
        }
        jsloop::time::sleep(Duration::from_millis(10)).await;
    }
    eprintln!("write: {:?}", result.map_err(|error| error.kind()));
}

fn nonblocking(fd: impl std::os::fd::AsFd) -> bool {
    rustix::fs::fcntl_getfl(fd).unwrap().contains(OFlags::NONBLOCK)
}

/// Lines of varying length, so that every write size meets newlines.
fn pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| if i % 61 == 60 || i % 997 == 0 { b'\n' } else { b'a' + (i % 26) as u8 })
        .collect()
}

// ---- the parent side ----

/// This test binary as a child in `mode`.
fn child(mode: &str) -> Command {
    let mut command = Command::new(std::env::current_exe().unwrap());
    command.args(["--exact", "child_mode", "--nocapture", "--test-threads=1"]).env(MODE, mode);
    command.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
    command
}

/// What the child wrote after the mark.
fn after_mark(output: &[u8]) -> &[u8] {
    let at = output.windows(MARK.len()).position(|w| w == MARK).unwrap_or_else(|| {
        panic!("the child never printed its mark: {:?}", String::from_utf8_lossy(output))
    });
    &output[at + MARK.len()..]
}

/// Waits for the child (killing it if it hangs) and checks that it exited
/// normally: a `SIGPIPE` death shows here.
fn finish(child: Child) -> Output {
    let pid = rustix::process::Pid::from_child(&child);
    let (done, waited) = mpsc::channel();
    thread::spawn(move || done.send(child.wait_with_output().unwrap()));
    let output = waited.recv_timeout(HUNG).unwrap_or_else(|_| {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
        panic!("the child hung for {HUNG:?}");
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.signal(), None, "the child died of a signal; stderr: {stderr}");
    assert!(output.status.success(), "the child failed: {}; stderr: {stderr}", output.status);
    output
}

fn run(mut command: Command) -> Output {
    finish(command.spawn().unwrap())
}

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("jsloop-stdio-{}-{name}", std::process::id()))
}

/// A file holding `data`, opened for reading.
fn file_with(name: &str, data: &[u8]) -> File {
    let path = temp_path(name);
    std::fs::write(&path, data).unwrap();
    let file = File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    file
}

/// A new file for the child's stdout, and a reader of it for the parent.
fn output_file(name: &str) -> (File, File) {
    let path = temp_path(name);
    let file = File::create(&path).unwrap();
    let reader = File::open(&path).unwrap();
    std::fs::remove_file(&path).unwrap();
    (file, reader)
}

fn read_all(mut file: File) -> Vec<u8> {
    let mut data = Vec::new();
    file.read_to_end(&mut data).unwrap();
    data
}

fn socket_stdio() -> (Stdio, UnixStream) {
    let (ours, theirs) = UnixStream::pair().unwrap();
    (Stdio::from(OwnedFd::from(theirs)), ours)
}

// -- stdin --

#[test]
fn stdin_at_eof_reads_zero() {
    let mut command = child("first_read");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    drop(spawned.stdin.take()); // an empty pipe, closed: end of input
    let output = finish(spawned);
    assert_eq!(after_mark(&output.stdout), b"first read: 0, then: 0\n");
}

#[test]
fn stdin_dev_null_is_eof_at_once() {
    let output = run(child("first_read"));
    assert_eq!(after_mark(&output.stdout), b"first read: 0, then: 0\n");
}

#[test]
fn stdin_empty_file_is_eof() {
    let mut command = child("first_read");
    command.stdin(file_with("empty", b""));
    let output = run(command);
    assert_eq!(after_mark(&output.stdout), b"first read: 0, then: 0\n");
}

#[test]
fn stdin_read_given_up_on_does_not_hold_run() {
    let mut command = child("abandoned_read");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    let stdin = spawned.stdin.take(); // open and silent until the child is gone
    finish(spawned);
    drop(stdin);
}

#[test]
fn stdin_regular_file_is_read_whole_through_the_pool() {
    let data = pattern((1 << 20) + 17);
    let mut command = child("cat");
    command.stdin(file_with("input", &data));
    let output = run(command);
    assert!(after_mark(&output.stdout) == data, "stdout differs from the file");
}

#[test]
fn stdin_pipe_fed_slowly_reads_every_line() {
    let mut command = child("cat_lines");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    let mut input = spawned.stdin.take().unwrap();
    let feeder = thread::spawn(move || {
        for n in 0..20 {
            // Pieces that split lines: the reader sees partial lines.
            input.write_all(format!("line {n}\nhalf ").as_bytes()).unwrap();
            thread::sleep(Duration::from_millis(5));
            input.write_all(b"of a line\n").unwrap();
        }
        input.write_all(b"no newline at the end").unwrap();
    });
    let output = finish(spawned);
    feeder.join().unwrap();
    let mut expected = String::new();
    for n in 0..20 {
        expected += &format!("<line {n}>\n<half of a line>\n");
    }
    expected += "<no newline at the end>\n";
    assert_eq!(String::from_utf8_lossy(after_mark(&output.stdout)), expected);
}

#[test]
fn stdin_and_stdout_sockets_carry_everything() {
    let (stdin, mut to_child) = socket_stdio();
    let (stdout, mut from_child) = socket_stdio();
    let mut command = child("cat");
    command.stdin(stdin).stdout(stdout);
    let spawned = command.spawn().unwrap();
    drop(command); // it holds the child's ends of the sockets
    let data = pattern(3 << 20);
    let writer = {
        let data = data.clone();
        thread::spawn(move || {
            to_child.write_all(&data).unwrap();
            to_child.shutdown(std::net::Shutdown::Write).unwrap();
            to_child
        })
    };
    let mut echoed = Vec::new();
    from_child.read_to_end(&mut echoed).unwrap();
    finish(spawned);
    drop(writer.join().unwrap());
    assert!(after_mark(&echoed) == data, "the echo differs");
}

// -- stdout --

#[test]
fn stdout_closed_pipe_gives_broken_pipe_not_sigpipe() {
    let mut command = child("broken_pipe_after_eof");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    // Then nobody reads any more.
    read_until(spawned.stdout.take().unwrap(), MARK);
    drop(spawned.stdin.take()); // now the child writes
    let output = finish(spawned);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("write: Err(BrokenPipe)"), "stderr: {stderr}");
}

#[test]
fn stdout_pipe_closed_while_open_gives_broken_pipe() {
    let mut command = child("broken_pipe_while_open");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    read_until(spawned.stdout.take().unwrap(), b"ready\n");
    drop(spawned.stdin.take());
    let output = finish(spawned);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("write: Err(BrokenPipe)"), "stderr: {stderr}");
}

#[test]
fn stdout_pipe_read_slowly_loses_nothing() {
    let mut spawned = child("write_8mib").spawn().unwrap();
    let mut stdout = spawned.stdout.take().unwrap();
    // Let the pipe fill up, then read in small sips before the rest.
    thread::sleep(Duration::from_millis(300));
    let mut received = Vec::new();
    let mut sip = [0; 4096];
    for _ in 0..256 {
        let n = stdout.read(&mut sip).unwrap();
        received.extend_from_slice(&sip[..n]);
        thread::sleep(Duration::from_millis(1));
    }
    stdout.read_to_end(&mut received).unwrap();
    let output = finish(spawned);
    let written = after_mark(&received);
    assert_eq!(written.len(), EIGHT_MIB);
    assert!(written == pattern(EIGHT_MIB), "the bytes differ");
    assert!(String::from_utf8_lossy(&output.stderr).contains("wrote 8388608"));
}

#[test]
fn stdout_regular_file_gets_everything_through_the_pool() {
    let (file, reader) = output_file("8mib");
    let mut command = child("write_8mib");
    command.stdout(file);
    run(command);
    let written = read_all(reader);
    assert!(after_mark(&written) == pattern(EIGHT_MIB), "the file differs");
}

#[test]
fn stdout_dev_null_takes_writes() {
    let mut command = child("write_8mib");
    command.stdout(Stdio::null());
    let output = run(command);
    assert!(String::from_utf8_lossy(&output.stderr).contains("wrote 8388608"));
}

#[test]
fn several_stdout_handles_keep_their_order_on_a_pipe() {
    let output = run(child("interleave"));
    assert_eq!(after_mark(&output.stdout), b"a1 b1 c1\nb2 a2 b3\nc3, unflushed");
}

#[test]
fn several_stdout_handles_keep_their_order_on_a_file() {
    let (file, reader) = output_file("interleave");
    let mut command = child("interleave");
    command.stdout(file);
    run(command);
    assert_eq!(after_mark(&read_all(reader)), b"a1 b1 c1\nb2 a2 b3\nc3, unflushed");
}

#[test]
fn concurrent_writers_on_a_slow_pipe_all_finish_in_order() {
    let mut spawned = child("concurrent").spawn().unwrap();
    let mut stdout = spawned.stdout.take().unwrap();
    thread::sleep(Duration::from_millis(200));
    let mut received = Vec::new();
    stdout.read_to_end(&mut received).unwrap();
    finish(spawned);
    let text = String::from_utf8(after_mark(&received).to_vec()).unwrap();
    let mut next = [0; 4];
    for line in text.lines() {
        let words: Vec<&str> = line.split(' ').collect();
        let (task, n): (usize, usize) = (words[1].parse().unwrap(), words[3].parse().unwrap());
        assert_eq!(n, next[task], "task {task}'s lines out of order at {line:?}");
        assert_eq!(words.get(4).map_or(0, |x| x.len()), n % 97, "a torn line: {line:?}");
        next[task] += 1;
    }
    assert_eq!(next, [2000; 4]);
}

// -- flushing --

#[test]
fn buffered_output_is_written_before_run_returns() {
    let output = run(child("unflushed_run"));
    assert_eq!(after_mark(&output.stdout), b"partial line, run");
    assert!(String::from_utf8_lossy(&output.stderr).contains("stderr, run"));
}

#[test]
fn buffered_output_is_written_before_run_returns_to_a_file() {
    let (file, reader) = output_file("unflushed");
    let mut command = child("unflushed_run");
    command.stdout(file);
    run(command);
    assert_eq!(after_mark(&read_all(reader)), b"partial line, run");
}

#[test]
fn buffered_output_is_written_before_block_on_returns() {
    for to_file in [false, true] {
        let mut command = child("unflushed_block_on");
        let reader = to_file.then(|| {
            let (file, reader) = output_file("block_on");
            command.stdout(file);
            reader
        });
        let output = run(command);
        let written = reader.map_or(output.stdout, read_all);
        assert_eq!(after_mark(&written), b"partial line, block_on", "to a file: {to_file}");
    }
}

#[test]
fn flush_stdio_writes_before_process_exit() {
    for to_file in [false, true] {
        let mut command = child("flush_stdio_then_exit");
        let reader = to_file.then(|| {
            let (file, reader) = output_file("exit");
            command.stdout(file);
            reader
        });
        let output = run(command);
        let written = reader.map_or(output.stdout, read_all);
        assert_eq!(after_mark(&written), b"partial line, before exit", "to a file: {to_file}");
    }
}

// -- the shared description's flags --

#[test]
fn pipes_and_sockets_stay_blocking_for_the_parent() {
    let mut command = child("flags");
    command.stdin(Stdio::piped());
    let mut spawned = command.spawn().unwrap();
    let _stdin = spawned.stdin.take(); // open and silent: the read waits
    let output = finish(spawned);
    assert_eq!(after_mark(&output.stdout), b"hello\nnonblock: stdin false, stdout false\n");

    let (stdin, _to_child) = socket_stdio();
    let (stdout, mut from_child) = socket_stdio();
    let mut command = child("flags");
    command.stdin(stdin).stdout(stdout);
    let spawned = command.spawn().unwrap();
    drop(command); // it holds the child's ends of the sockets
    let mut received = Vec::new();
    from_child.read_to_end(&mut received).unwrap();
    finish(spawned);
    assert_eq!(after_mark(&received), b"hello\nnonblock: stdin false, stdout false\n");
}

#[test]
fn terminal_is_read_and_written_and_stays_blocking() {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};

    let Ok(master) = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY) else {
        eprintln!("no pseudo-terminals here: test skipped");
        return;
    };
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let terminal =
        std::fs::OpenOptions::new().read(true).write(true).open(name.to_str().unwrap()).unwrap();
    let mut command = child("tty_echo");
    command.stdin(terminal.try_clone().unwrap()).stdout(terminal.try_clone().unwrap());
    let spawned = command.spawn().unwrap();
    let mut master = File::from(master);
    master.write_all(b"typed\n").unwrap();
    let seen = read_until(master, b"stdout false\r\n");
    finish(spawned);
    let seen = String::from_utf8_lossy(&seen);
    assert!(seen.contains("got \"typed\"; nonblock: stdin false, stdout false"), "{seen}");
    assert!(!nonblocking(&terminal), "the terminal was left non-blocking");
}

/// Reads until `needle` has been seen, then drops `reader` (on a thread: a
/// hang fails the test).
fn read_until(mut reader: impl Read + Send + 'static, needle: &'static [u8]) -> Vec<u8> {
    let (done, seen) = mpsc::channel();
    thread::spawn(move || {
        let mut data = Vec::new();
        let mut buf = [0; 4096];
        while !data.windows(needle.len()).any(|w| w == needle) {
            match reader.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(n) => data.extend_from_slice(&buf[..n]),
            }
        }
        drop(reader); // before the caller goes on
        let _ = done.send(data);
    });
    let data = seen.recv_timeout(HUNG).expect("the child never wrote what the test waits for");
    assert!(
        data.windows(needle.len()).any(|w| w == needle),
        "the stream ended before {:?}: {:?}",
        String::from_utf8_lossy(needle),
        String::from_utf8_lossy(&data)
    );
    data
}
