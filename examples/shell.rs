//! A tiny shell on `jsloop::process`: reads command lines from stdin, runs
//! each with `sh -c`, streams its output as it comes, and says how it
//! ended (`[exit 0]`, `[killed by signal 9]`).
//!
//! `cargo run --example shell`, then type commands. Ctrl-C while a command
//! runs kills it and brings the prompt back; Ctrl-C at the prompt, or the
//! end of input (Ctrl-D), quits.
//!
//! Everything here enters the loop in its poll phase: a line of input, a
//! chunk of a child's output, a child's exit, a Ctrl-C. Ctrl-C is heard
//! two ways, as Node hears it: at the prompt the code awaits it
//! (`ctrl_c`, a future of the next `SIGINT`); while a command runs a
//! listener reacts to it (`on_signal`, `process.on('SIGINT', ...)`).

use std::io;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{ExitStatus, Stdio};

use futures::StreamExt;
use futures::future::{self, Either};
use futures::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use jsloop::process::{Command, SignalKind, ctrl_c, on_signal};
use rustix::process::{Pid, Signal, kill_process_group};

fn main() -> io::Result<()> {
    jsloop::run(async {
        let mut lines = BufReader::new(jsloop::io::stdin()).lines();
        let mut out = jsloop::io::stdout();
        loop {
            // Listening for SIGINT turns its default action (ending this
            // process) off: from the first prompt on, Ctrl-C is ours.
            let interrupted = ctrl_c();
            out.write_all(b"$ ").await?;
            out.flush().await?; // stdout is line-buffered, and a prompt has no newline
            let line = match future::select(lines.next(), interrupted).await {
                Either::Left((Some(line), _)) => line?,
                // The end of input, or Ctrl-C at the prompt: quit.
                Either::Left((None, _)) | Either::Right(_) => break,
            };
            if line.trim().is_empty() {
                continue;
            }
            let status = run_command(&line).await?;
            out.write_all(describe(status).as_bytes()).await?;
        }
        out.write_all(b"\n").await
    })
}

/// Runs `line` with `sh -c`, copying its stdout and stderr to ours as they
/// come, until it has exited; a Ctrl-C meanwhile kills it.
async fn run_command(line: &str) -> io::Result<ExitStatus> {
    let mut command = Command::new("sh");
    command
        .args(["-c", line])
        // Stdin belongs to the prompt's reader, whose buffer may already
        // hold the next lines.
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // A process group of its own, so that Ctrl-C reaches everything `sh`
    // starts (a pipeline, `sleep 9 &`): each of them holds our pipes open,
    // and killing `sh` alone would leave us reading until they end.
    command.as_std_mut().process_group(0);
    let mut child = command.spawn()?;
    let group = Pid::from_raw(child.id() as i32).expect("a child's id is positive");
    let kill_on_ctrl_c = on_signal(SignalKind::interrupt(), move || {
        // SIGKILL cannot be caught or ignored: Ctrl-C always gets the
        // prompt back. An error means the group is gone already.
        let _ = kill_process_group(group, Signal::KILL);
    })?;
    let (stdout, stderr) = (child.stdout.take(), child.stderr.take());
    let (mut out, mut err) = (jsloop::io::stdout(), jsloop::io::stderr());
    let copied = futures::try_join!(
        futures::io::copy(stdout.expect("piped"), &mut out),
        futures::io::copy(stderr.expect("piped"), &mut err),
    );
    let status = child.wait().await;
    // Reaped: from now on the group's id may be another's, so no more kills.
    kill_on_ctrl_c.remove();
    copied?;
    status
}

/// How a command ended, as the line after its output.
fn describe(status: ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("[exit {code}]\n"),
        (None, Some(signal)) => format!("[killed by signal {signal}]\n"),
        (None, None) => format!("[{status}]\n"),
    }
}
