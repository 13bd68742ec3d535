//! Port of `201-child-exit-vs-timers.js`: a child's exit is a poll-phase
//! event. A timer callback during which the child exits does not see it;
//! the rest of that timers phase runs first, then the exit, then the
//! check phase, then the next timers phase; what the exit queues runs
//! after what was queued before it in each of those.
//!
//! Port notes: `spawn(.., { stdio: 'ignore' })` is `Command` with
//! `Stdio::null()`; the 'exit' listener is the code after
//! `child.wait().await` in a task spawned by T1, which resumes in the
//! checkpoint of the poll-phase exit event.

use std::process::Stdio;
use std::time::Duration;

use crate::log::busy_wait;
use crate::os::wait_until_zombie;
use jsloop::process::Command;
use jsloop::{queue_microtask, set_immediate, set_timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        set_timeout(ms(1), || {
            out!("T1 spawns sh -c \"exit 3\"");
            let mut child = Command::new("sh")
                .args(["-c", "exit 3"])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn sh");
            let pid = child.id();
            jsloop::spawn(async move {
                let status = child.wait().await.expect("wait");
                // Node's `signal` is null for a child that exited by itself.
                let signal = std::os::unix::process::ExitStatusExt::signal(&status);
                let signal = signal.map_or_else(|| "null".to_string(), |n| n.to_string());
                out!("exit: code {}, signal {signal}", status.code().unwrap());
                queue_microtask(|| out!("  microtask from exit"));
                set_immediate(|| out!("  immediate from exit"));
                set_timeout(Duration::ZERO, || out!("  timeout from exit"));
            });
            set_immediate(|| out!("  immediate from T1"));
            set_timeout(Duration::ZERO, || out!("  timeout from T1"));
            queue_microtask(|| out!("  microtask from T1"));
            wait_until_zombie(pid);
            out!("T1 returns: the child has exited, no exit event yet");
        });
        set_timeout(ms(1), || out!("T1b (same timers phase, before exit)"));

        busy_wait(10);
        out!("script end");
    });
}
