//! Port of `202-child-output-then-exit.js`: a child's stdout chunks are
//! poll-phase events, so what the first one queues runs as its
//! microtasks, the check phase, the next timers phase, before the next
//! chunk; when the last chunk, the end of the pipe and the exit are ready
//! in one poll phase, the stream comes first (data, end), then the exit,
//! and 'close' last.
//!
//! Port notes: the 'data' listener is the code after each `read` of the
//! reader task; 'end' is its read of 0 bytes. The 'exit' listener is the
//! code after `child.wait().await` in a task started at spawn time (so its
//! exit event is a poll-phase event of its own). jsloop has no 'close':
//! the reader prints it once it has read to the end and the exit task is
//! done. The child prints nothing until the script's immediate sends it
//! a line: a jsloop read takes data already in the pipe at once, in
//! whatever checkpoint it runs, where Node waits for a poll phase, so the
//! first read must find the pipe empty. `child.stdin.write(s)` is one `write(2)` on the pipe (it has
//! room), as libuv tries the write at once. `JSON.stringify(chunk)` is
//! `{:?}` (the same for this text). After `waitUntilZombie` the port also
//! waits for stdout's hang-up, which in Node is the child's exit but here
//! may come later: see `os::wait_until_hung_up`.

use std::process::Stdio;
use std::rc::Rc;
use std::time::Duration;

use crate::os::{wait_until_hung_up, wait_until_zombie};
use futures::AsyncReadExt;
use jsloop::process::{ChildStdin, Command};
use jsloop::{queue_microtask, set_immediate, set_timeout};

/// `child.stdin.write(text)`: the pipe has room, so the write is whole.
fn write(stdin: &ChildStdin, text: &str) {
    let n = rustix::io::write(stdin, text.as_bytes()).expect("write stdin");
    assert_eq!(n, text.len());
}

pub fn main() {
    jsloop::run(async {
        let script = "read start; echo one; read line; echo \"two ($line)\"; exit 4";
        let mut child = Command::new("sh")
            .args(["-c", script])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn sh");
        let pid = child.id();
        let stdin = Rc::new(child.stdin.take().expect("piped"));
        let mut stdout = child.stdout.take().expect("piped");
        let exit = jsloop::spawn(async move {
            let status = child.wait().await.expect("wait");
            let code = status.code().expect("exited by itself");
            out!("exit: code {code}");
            code
        });
        let data_stdin = stdin.clone();
        jsloop::spawn(async move {
            let mut chunks = 0;
            let mut buf = [0; 64 * 1024];
            loop {
                let n = stdout.read(&mut buf).await.expect("read stdout");
                if n == 0 {
                    break;
                }
                chunks += 1;
                let chunk = String::from_utf8_lossy(&buf[..n]);
                out!("data {chunks}: {chunk:?}");
                if chunks > 1 {
                    continue;
                }
                write(&data_stdin, "go\n");
                set_immediate(|| out!("  immediate from data 1"));
                set_timeout(Duration::ZERO, || out!("  timeout from data 1"));
                queue_microtask(|| out!("  microtask from data 1"));
                wait_until_zombie(pid);
                wait_until_hung_up(&stdout);
                out!("data 1 returns: the child has printed again and exited");
            }
            out!("end of stdout");
            let code = exit.await.expect("exit task");
            out!("close: code {code}");
        });
        set_immediate(move || {
            out!("immediate: start the child");
            write(&stdin, "start\n");
        });
        out!("script end");
    });
}
