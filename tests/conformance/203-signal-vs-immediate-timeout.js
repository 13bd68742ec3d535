// Scenario 203-signal-vs-immediate-timeout
// Rules:
//  - a signal a process sends itself is delivered as a poll-phase event:
//    process.kill returns before any listener runs; the timer that sent it
//    finishes, its microtasks run, the other timers due in that timers
//    phase run, then the listeners (poll phase), then the immediate the
//    timer queued (check phase), then its 0 ms timer (next timers phase);
//  - the listeners of one signal run in the order they were added, in one
//    emit: the nextTicks and microtasks the first one queues run after the
//    second one, nextTicks first;
//  - the listener's immediate runs in this iteration's check phase, after
//    the timer's; its 0 ms timer after the timer's 0 ms timer.
// Deterministic because kill(2) to one's own process runs the signal
// handler before it returns (libuv's handler only writes to its signal
// pipe), so the signal is there when the loop next polls; busyWait(10)
// makes A and B due in the first timers phase.
// rule from: doc/api/process.md (Signal events, process.kill), libuv
//            src/unix/signal.c (uv__signal_handler writes to a pipe read
//            in the poll phase)
// Port notes: process.on('SIGUSR2', f) is `process::on_signal` with
// `SignalKind::user_defined2()` (a bare callback of the poll phase, so its
// nextTick runs as Node's does). process.kill(process.pid, 'SIGUSR2') is
// `pthread_kill` of the loop's own thread: Linux hands a signal sent to a
// process to its main thread first, which is Node's loop, so Node takes it
// inside kill; the port's loop runs on a test thread.
// category: queue-order

function busyWait(ms) {
  const start = Date.now();
  while (Date.now() - start < ms) {}
}

process.on('SIGUSR2', () => {
  console.log('SIGUSR2 listener 1');
  process.nextTick(() => console.log('  nextTick from listener 1'));
  Promise.resolve().then(() => console.log('  microtask from listener 1'));
  setImmediate(() => console.log('  immediate from listener 1'));
  setTimeout(() => console.log('  timeout from listener 1'), 0);
});
process.on('SIGUSR2', () => console.log('SIGUSR2 listener 2 (same emit)'));

setTimeout(() => {
  console.log('A sends SIGUSR2 to itself');
  process.kill(process.pid, 'SIGUSR2');
  console.log('A: kill returned, no listener ran yet');
  setImmediate(() => console.log('  immediate from A'));
  setTimeout(() => console.log('  timeout from A'), 0);
  Promise.resolve().then(() => console.log('  microtask from A'));
}, 1);
setTimeout(() => console.log('B (same timers phase, before the signal)'), 1);

busyWait(10);
console.log('script end');
