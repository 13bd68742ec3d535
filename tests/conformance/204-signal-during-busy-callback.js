// Scenario 204-signal-during-busy-callback
// Rules:
//  - a signal that comes while a callback is still running (it spins 50 ms
//    after sending it) does not interrupt that callback and is not lost:
//    its listener runs once, in the next poll phase;
//  - sent from a timer: the poll phase comes next, so the listener runs
//    after the timers due with that one, and before both the immediate the
//    timer queued and a 1 ms timer it created, overdue by the time it
//    returns (a timer created in the timers phase waits for the next one);
//  - sent from an immediate: the next timers phase comes before the next
//    poll phase, so the 1 ms timer the immediate created (overdue when it
//    returns) runs first, then the listener;
//  - a signal listener does not keep the loop alive: a 5 s timer does,
//    until the second listener call clears it.
// Deterministic because the signal is in the loop's signal pipe before the
// callback returns, and no timer has to be "not yet due": the timers that
// must wait were created in the phase they must miss, and busyWait only
// makes timers due.
// rule from: doc/api/process.md (Signal events), libuv src/unix/signal.c
//            (the handler writes to a pipe read in the poll phase),
//            src/timer.c uv__run_timers, lib/internal/timers.js
//            (listOnTimeout)
// Port notes: process.on('SIGWINCH', f) is `process::on_signal` with
// `SignalKind::window_change()` (no other scenario uses it, and its
// default action is to ignore it); process.kill(process.pid, ...) is a
// signal to the loop's own thread, as in 203.
// category: queue-order

function busyWait(ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {}
}

let calls = 0;
let keepAlive = null;
process.on('SIGWINCH', () => {
  calls++;
  console.log('SIGWINCH listener, call ' + calls);
  Promise.resolve().then(() => console.log('  microtask from the listener'));
  if (calls === 2) clearTimeout(keepAlive);
});

// From a timer.
setTimeout(() => {
  console.log('A sends SIGWINCH, then spins');
  process.kill(process.pid, 'SIGWINCH');
  setImmediate(() => {
    console.log('  immediate from A');
    fromAnImmediate();
  });
  setTimeout(() => console.log('  1 ms timer from A (overdue, next timers phase)'), 1);
  busyWait(50);
  console.log('A returns');
}, 1);
setTimeout(() => console.log('B (due with A: same timers phase, before the signal)'), 1);

// From an immediate.
function fromAnImmediate() {
  keepAlive = setTimeout(() => console.log('never: the signal was lost'), 5000);
  setImmediate(() => {
    console.log('I sends SIGWINCH, then spins');
    process.kill(process.pid, 'SIGWINCH');
    setTimeout(() => console.log('  1 ms timer from I (overdue: before the signal)'), 1);
    busyWait(50);
    console.log('I returns');
  });
}

busyWait(10);
console.log('script end');
