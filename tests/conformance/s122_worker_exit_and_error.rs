//! Port of `122-worker-exit-and-error.js` (second set, rules from Node's
//! `test-worker-exit-code`, `test-worker-uncaught-exception`,
//! `test-worker-beforeexit-throw-exit`): `exit(n)` in a worker ends only
//! that worker (its exit listeners run, its before-exit listeners do not,
//! the code after `exit` neither), with code n, after everything it posted
//! reached the parent; a worker whose loop runs empty calls its before-exit
//! then exit listeners, and ends with its exit code; an uncaught panic ends
//! it with that error and code 1; with an uncaught handler in the worker its
//! loop goes on and it ends normally with the code the handler set; a
//! before-exit listener that panics: the error, code 1, and the worker's
//! exit listener still ran.
//!
//! Port notes: `new Worker(__filename, { workerData })` is
//! `Worker::spawn_with_port` with the case moved into the closure; the
//! worker's `'error'` event is `exit()` giving `WorkerError::Panicked`, its
//! `'exit'` code `Worker::exit_code`. The worker's uncaught handler is set on
//! its runtime's builder (`WorkerBuilder::runtime`), and reaches the parent
//! port through a thread-local of the worker's thread, as the JS listener
//! reaches `parentPort`. The `SharedArrayBuffer` flags are two atomics.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

use crate::log::panic_text;
use jsloop::process::{exit, on_before_exit, on_exit, set_exit_code};
use jsloop::worker::{MessagePort, Worker, WorkerError};
use jsloop::{Runtime, set_timeout};

type Port = Rc<MessagePort<String>>;

thread_local! {
    /// The worker thread's `parentPort`, for its uncaught handler.
    static PARENT: RefCell<Option<Port>> = const { RefCell::new(None) };
}

fn post(port: &Port, m: impl Into<String>) {
    port.post_message(m.into()).unwrap();
}

/// The `!isMainThread` branch, per `workerData.name`.
async fn worker_main(name: &'static str, port: Port, flags: Arc<[AtomicI32; 2]>) {
    match name {
        "exit(5)" => {
            let p = port.clone();
            on_before_exit(move |_| post(&p, "never: beforeExit"));
            let p = port.clone();
            on_exit(move |code| post(&p, format!("worker exit listener, code {code}")));
            post(&port, "m1");
            post(&port, "m2");
            exit(5);
        }
        "exitCode 9" => {
            let p = port.clone();
            on_before_exit(move |code| post(&p, format!("worker beforeExit, code {code}")));
            let p = port.clone();
            on_exit(move |code| post(&p, format!("worker exit listener, code {code}")));
            set_exit_code(9);
            post(&port, "set exitCode 9 and let the loop run empty");
        }
        "uncaught" => {
            post(&port, "ready to fail");
            let _go = port.recv().await;
            set_timeout(Duration::from_millis(1), || panic!("worker failure"));
        }
        "handled" => {
            PARENT.with(|parent| *parent.borrow_mut() = Some(port.clone()));
            set_timeout(Duration::from_millis(1), || panic!("handled failure"));
            let p = port.clone();
            set_timeout(Duration::from_millis(1), move || {
                post(&p, "worker timer after the failure still runs")
            });
        }
        "beforeExit throws" => {
            let exit_flags = flags.clone();
            on_exit(move |_| exit_flags[0].store(1, Ordering::SeqCst));
            on_before_exit(move |_| {
                flags[1].store(1, Ordering::SeqCst);
                panic!("thrown in beforeExit");
            });
        }
        _ => unreachable!(),
    }
}

/// The worker's runtime: the `handled` case has an uncaught listener.
fn worker_runtime(name: &'static str) -> jsloop::Builder {
    let builder = Runtime::builder();
    if name != "handled" {
        return builder;
    }
    builder.on_uncaught_panic(|payload| {
        let port = PARENT.with(|parent| parent.borrow().clone()).unwrap();
        post(&port, format!("worker listener handled: {}", panic_text(&*payload)));
        set_exit_code(97);
    })
}

pub fn main() {
    jsloop::run(async {
        let cases = ["exit(5)", "exitCode 9", "uncaught", "handled", "beforeExit throws"];
        for name in cases {
            let flags = Arc::new([AtomicI32::new(0), AtomicI32::new(0)]);
            let worker_flags = flags.clone();
            let w = Rc::new(
                Worker::builder()
                    .runtime(move || worker_runtime(name))
                    .spawn_with_port(move |port: MessagePort<String>| {
                        worker_main(name, Rc::new(port), worker_flags)
                    })
                    .unwrap(),
            );
            let reply = w.clone();
            w.on_message(move |m| {
                out!("{name}: message: {m}");
                if m == "ready to fail" {
                    reply.post_message("go".into()).unwrap();
                }
            });
            if let Err(WorkerError::Panicked(payload)) = w.exit().await {
                out!("{name}: error event: {}", panic_text(&*payload));
            }
            out!("{name}: exit, code {}", w.exit_code().unwrap());
            if name == "beforeExit throws" {
                let ran = |i: usize| flags[i].load(Ordering::SeqCst);
                out!("{name}: beforeExit ran {}, exit listener ran {}", ran(1), ran(0));
            }
        }
    });
}
