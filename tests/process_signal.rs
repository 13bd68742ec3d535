//! Signals (`jsloop::process::{signal, ctrl_c, on_signal}`): delivery in
//! the poll phase, after a busy callback rather than lost, to every loop
//! that listens, liveness (a listener alone does not keep the loop alive,
//! a waiting stream does), and the signals that cannot be listened for.
//!
//! Signals go to the whole process, so these tests take turns (`serial`):
//! one test's signal must not reach another's listeners.
#![cfg(unix)]

use std::cell::{Cell, RefCell};
use std::io::ErrorKind;
use std::rc::Rc;
use std::sync::{Arc, Barrier, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use futures::StreamExt;
use jsloop::process::{SignalKind, ctrl_c, on_signal, signal};
use rustix::process::{Signal, getpid, kill_process};

fn serial() -> MutexGuard<'static, ()> {
    static TURN: Mutex<()> = Mutex::new(());
    TURN.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn raise(signal: Signal) {
    kill_process(getpid(), signal).unwrap();
}

#[test]
fn a_signal_stream_yields_each_delivery() {
    let _turn = serial();
    jsloop::block_on(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        for _ in 0..3 {
            raise(Signal::USR1);
            assert_eq!(usr1.next().await, Some(()));
        }
    });
}

#[test]
fn a_signal_that_comes_while_the_loop_is_blocked_is_delivered_after_the_callback() {
    let _turn = serial();
    jsloop::block_on(async {
        let seen = Rc::new(Cell::new(0));
        let counter = seen.clone();
        let _listener =
            on_signal(SignalKind::user_defined1(), move || counter.set(counter.get() + 1)).unwrap();
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        raise(Signal::USR1);
        // The loop is held in this callback (the script) for a while.
        std::thread::sleep(Duration::from_millis(100));
        assert_eq!(seen.get(), 0, "a listener ran inside another callback");
        usr1.recv().await.unwrap();
        assert_eq!(seen.get(), 1);
    });
}

#[test]
fn several_signals_before_the_loop_looks_coalesce_into_one_delivery() {
    let _turn = serial();
    jsloop::block_on(async {
        let seen = Rc::new(Cell::new(0));
        let counter = seen.clone();
        let _listener =
            on_signal(SignalKind::user_defined2(), move || counter.set(counter.get() + 1)).unwrap();
        for _ in 0..3 {
            raise(Signal::USR2);
        }
        std::thread::sleep(Duration::from_millis(100));
        jsloop::time::sleep(Duration::from_millis(50)).await;
        assert_eq!(seen.get(), 1);
    });
}

#[test]
fn a_signal_lands_in_the_poll_phase_after_due_timers_and_before_immediates() {
    let _turn = serial();
    let log = Rc::new(RefCell::new(Vec::new()));
    let push = |log: &Rc<RefCell<Vec<&'static str>>>, line| log.borrow_mut().push(line);
    jsloop::run({
        let log = log.clone();
        async move {
            let listener = log.clone();
            let _listener = on_signal(SignalKind::user_defined1(), move || {
                push(&listener, "signal");
                let listener = listener.clone();
                jsloop::next_tick(move || push(&listener, "signal tick"));
            })
            .unwrap();
            let timer = log.clone();
            jsloop::set_timeout(Duration::from_millis(1), move || {
                push(&timer, "timer");
                let timer = timer.clone();
                jsloop::set_immediate(move || push(&timer, "immediate queued by the timer"));
            });
            let immediate = log.clone();
            jsloop::set_immediate(move || push(&immediate, "immediate"));
            raise(Signal::USR1);
            // The signal has come and the timer is due before the loop starts.
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    assert_eq!(
        *log.borrow(),
        ["timer", "signal", "signal tick", "immediate", "immediate queued by the timer"]
    );
}

#[test]
fn a_listener_alone_does_not_keep_the_loop_alive() {
    let _turn = serial();
    let start = Instant::now();
    jsloop::run(async {
        let _listener =
            on_signal(SignalKind::user_defined1(), || panic!("no signal was sent")).unwrap();
    });
    assert!(start.elapsed() < Duration::from_secs(5));
}

#[test]
fn an_awaited_ctrl_c_keeps_the_loop_alive_until_sigint() {
    let _turn = serial();
    let done = Rc::new(Cell::new(false));
    jsloop::run({
        let done = done.clone();
        async move {
            let ctrl_c = ctrl_c();
            jsloop::spawn(async move {
                ctrl_c.await.unwrap();
                done.set(true);
            });
            // No keep-alive guard: the waiting ctrl_c is what keeps `run` going.
            std::thread::spawn(|| {
                std::thread::sleep(Duration::from_millis(100));
                raise(Signal::INT);
            });
        }
    });
    assert!(done.get());
}

#[test]
fn a_dropped_recv_stops_keeping_the_loop_alive() {
    let _turn = serial();
    let held = RefCell::new(None);
    let start = Instant::now();
    jsloop::run(async {
        let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
        let waited = jsloop::time::timeout(Duration::from_millis(20), usr2.recv()).await;
        assert!(waited.is_err());
        // The stream lives on, but nothing waits on it.
        *held.borrow_mut() = Some(usr2);
    });
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(held.borrow().is_some());
}

#[test]
fn every_loop_listening_for_a_signal_gets_it() {
    let _turn = serial();
    let listening = Arc::new(Barrier::new(3));
    let loops: Vec<_> = (0..2)
        .map(|_| {
            let listening = listening.clone();
            std::thread::spawn(move || {
                jsloop::block_on(async move {
                    let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
                    listening.wait();
                    usr2.recv().await
                })
            })
        })
        .collect();
    listening.wait();
    raise(Signal::USR2);
    for listener in loops {
        assert_eq!(listener.join().unwrap(), Some(()));
    }
}

#[test]
fn a_removed_listener_runs_no_more_and_the_others_run_in_order() {
    let _turn = serial();
    let log = Rc::new(RefCell::new(Vec::new()));
    jsloop::block_on({
        let log = log.clone();
        async move {
            let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
            let listeners: Vec<_> = (0..3)
                .map(|n| {
                    let log = log.clone();
                    on_signal(SignalKind::user_defined1(), move || log.borrow_mut().push(n))
                        .unwrap()
                })
                .collect();
            raise(Signal::USR1);
            usr1.recv().await;
            let mut listeners = listeners.into_iter();
            assert!(listeners.nth(1).unwrap().remove());
            raise(Signal::USR1);
            usr1.recv().await;
        }
    });
    assert_eq!(*log.borrow(), [0, 1, 2, 0, 2]);
}

#[test]
fn signals_that_cannot_be_listened_for_are_a_clear_error() {
    let _turn = serial();
    jsloop::block_on(async {
        for (raw, name) in
            [(9, "SIGKILL"), (19, "SIGSTOP"), (11, "SIGSEGV"), (4, "SIGILL"), (8, "SIGFPE")]
        {
            let kind = SignalKind::from_raw(raw);
            let error = signal(kind).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{name}");
            assert!(error.to_string().contains(name), "{error}");
            let error = on_signal(kind, || {}).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{name}");
            let error = ctrl_c_like(kind).await.unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{name}");
        }
        // Numbers that are no signal: the OS says so.
        for raw in [0, -1, 1000] {
            let error = signal(SignalKind::from_raw(raw)).unwrap_err();
            assert_eq!(error.kind(), ErrorKind::InvalidInput, "{raw}");
            assert!(error.to_string().contains(&format!("signal {raw}")), "{error}");
        }
    });
}

/// A stream's first delivery, or the error listening failed with.
async fn ctrl_c_like(kind: SignalKind) -> std::io::Result<()> {
    signal(kind)?.recv().await;
    Ok(())
}

#[test]
fn a_panicking_listener_goes_to_the_panic_handler_and_the_next_listener_still_runs() {
    let _turn = serial();
    let caught = Rc::new(Cell::new(0));
    let runtime = jsloop::Runtime::builder()
        .on_uncaught_panic({
            let caught = caught.clone();
            move |_| caught.set(caught.get() + 1)
        })
        .build()
        .unwrap();
    let ran = Rc::new(Cell::new(false));
    runtime.block_on({
        let ran = ran.clone();
        async move {
            let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
            let _first =
                on_signal(SignalKind::user_defined2(), || panic!("a listener panics")).unwrap();
            let _second = on_signal(SignalKind::user_defined2(), move || ran.set(true)).unwrap();
            raise(Signal::USR2);
            usr2.recv().await.unwrap();
        }
    });
    assert_eq!(caught.get(), 1);
    assert!(ran.get());
}

#[test]
fn a_stream_outliving_its_runtime_ends() {
    let _turn = serial();
    let runtime = jsloop::Runtime::new().unwrap();
    let mut usr1 = runtime.block_on(async { signal(SignalKind::user_defined1()).unwrap() });
    drop(runtime);
    assert_eq!(futures::executor::block_on(usr1.next()), None);
}
