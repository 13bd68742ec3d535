// Scenario 202-child-output-then-exit
// Rules:
//  - a child's stdout chunks are poll-phase callbacks: what the 'data'
//    listener queues runs as its microtasks, then the check phase
//    (setImmediate), then the next timers phase (setTimeout 0), before the
//    next chunk is read;
//  - when the last chunk, the end of the pipe and the child's exit are all
//    ready in one poll phase, the stream's events come first ('data', then
//    'end'), then 'exit' (libuv runs its signal watcher, which reaps
//    children, after the phase's other I/O callbacks); 'close' comes last,
//    once the child has exited and its stdio is closed.
// Deterministic because each step waits for the one before: the child
// prints nothing until it reads a line, sent from an immediate; then it
// prints 'one' and reads another line; the 'data' listener writes that line
// and then waits (synchronously) until the child, having printed 'two', has
// exited (a zombie) and a few ms more. So 'two', the end of stdout and the
// exit are all ready when the loop next polls.
// rule from: doc/api/child_process.md (Events 'exit' and 'close'), libuv
//            src/unix/linux.c uv__io_poll (signal watcher last) and
//            src/unix/stream.c uv__stream_io (EOF with the last read)
// Port notes: stdio ['pipe', 'pipe', 'ignore'] is `Stdio::piped()` twice
// and `Stdio::null()`. The 'data' listener is the code after each `read` of
// a task reading stdout; 'end' is that task's read of 0 bytes; the 'exit'
// listener is the code after `child.wait().await` in a second task,
// started at spawn time. jsloop has no 'close' event: the reader prints it
// once it has read to the end and the exit task has finished. A jsloop
// read takes data already in the pipe at once, in whatever checkpoint it
// runs (Node waits for the poll phase): that is why the child waits for
// the immediate's line, sent after the port's first read found the pipe
// empty. The writes to stdin are synchronous in both (a pipe with room:
// libuv tries the write at once; the port calls write(2)). The 'data'
// listener queues only microtasks, no nextTick (a task's code runs inside
// a checkpoint). waitUntilZombie reads /proc/<pid>/stat (Linux); the port
// also waits for stdout's hang-up (another thread of the test binary may
// hold the pipe's write end a moment longer than the child).
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

const script = 'read start; echo one; read line; echo "two ($line)"; exit 4';
const child = spawn('sh', ['-c', script], {
  stdio: ['pipe', 'pipe', 'ignore'],
});
child.stdout.setEncoding('utf8');
let chunks = 0;
child.stdout.on('data', (chunk) => {
  chunks++;
  console.log('data ' + chunks + ': ' + JSON.stringify(chunk));
  if (chunks > 1) return;
  child.stdin.write('go\n');
  setImmediate(() => console.log('  immediate from data 1'));
  setTimeout(() => console.log('  timeout from data 1'), 0);
  Promise.resolve().then(() => console.log('  microtask from data 1'));
  waitUntilZombie(child.pid);
  console.log('data 1 returns: the child has printed again and exited');
});
child.stdout.on('end', () => console.log('end of stdout'));
child.on('exit', (code) => console.log('exit: code ' + code));
child.on('close', (code) => console.log('close: code ' + code));
setImmediate(() => {
  console.log('immediate: start the child');
  child.stdin.write('start\n');
});
console.log('script end');
