// Scenario 201-child-exit-vs-timers
// Rules:
//  - a child's 'exit' is a poll-phase event (libuv reaps children on
//    SIGCHLD, a signal watcher of the poll phase): a timer callback during
//    which the child exits does not see 'exit' itself; the other timers due
//    in the same timers phase run first, then 'exit' in the poll phase, then
//    the immediate the timer queued (check phase), then its 0 ms timer
//    (next iteration's timers phase);
//  - the 'exit' listener's microtasks run right after it; its immediate runs
//    in this iteration's check phase, after the one queued before it; its
//    0 ms timer runs in a later timers phase, after the timer's;
//  - 'exit' gets the exit code (3) and signal null.
// Deterministic because T1 waits (synchronously) until the child is a
// zombie, and a few ms more for the SIGCHLD: the exit is already known when
// the loop next polls, whatever the machine's speed. busyWait(10) makes T1
// and T1b due in the first timers phase.
// rule from: doc/api/child_process.md (Event: 'exit'), libuv
//            src/unix/process.c (uv__chld on the SIGCHLD signal watcher)
// Port notes: spawn(..., { stdio: 'ignore' }) is `Command` with
// `Stdio::null()`; the 'exit' listener is the code after
// `child.wait().await` in a task spawned by T1 (it resumes in the
// checkpoint of the poll-phase exit event; only microtasks are queued
// there, no nextTick, since a task's code runs inside a checkpoint).
// waitUntilZombie reads /proc/<pid>/stat (Linux).
// category: queue-order

const { spawn } = require('child_process');
const fs = require('fs');

function busyWait(ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {}
}

// Spins until /proc says the child has exited (state Z: not reaped yet).
function waitUntilZombie(pid) {
  for (;;) {
    const stat = fs.readFileSync('/proc/' + pid + '/stat', 'utf8');
    if (stat[stat.lastIndexOf(')') + 2] === 'Z') break;
  }
  busyWait(5);
}

setTimeout(() => {
  console.log('T1 spawns sh -c "exit 3"');
  const child = spawn('sh', ['-c', 'exit 3'], { stdio: 'ignore' });
  child.on('exit', (code, signal) => {
    console.log('exit: code ' + code + ', signal ' + signal);
    Promise.resolve().then(() => console.log('  microtask from exit'));
    setImmediate(() => console.log('  immediate from exit'));
    setTimeout(() => console.log('  timeout from exit'), 0);
  });
  setImmediate(() => console.log('  immediate from T1'));
  setTimeout(() => console.log('  timeout from T1'), 0);
  Promise.resolve().then(() => console.log('  microtask from T1'));
  waitUntilZombie(child.pid);
  console.log('T1 returns: the child has exited, no exit event yet');
}, 1);
setTimeout(() => console.log('T1b (same timers phase, before exit)'), 1);

busyWait(10);
console.log('script end');
