//! Port of `112-unref-interval-fires.js` (second set, rules from Node's
//! `test-timers-unrefd-interval-still-fires`, `-unrefed-in-callback`,
//! `test-timers-unref`): an unref'd interval keeps firing while something
//! else keeps the loop alive (a ref'd 10 s timer), and clearing both lets
//! the loop end at once; `unref` / `ref_` return the timer and `has_ref`
//! reports the flag; an interval that unrefs itself in its own callback
//! keeps running while a listening TCP server keeps the loop alive, and
//! once the server is closed the loop ends though the interval was never
//! cleared; an unref'd 5 s timer never makes the loop wait.
//!
//! Port notes: the server is a `TcpListener` whose accept a spawned task
//! awaits (a ref'd registration, as a listening `net.Server` is); closing
//! it is aborting that task, which drops the listener, and "server closed"
//! is printed by the task that awaited the aborted accept.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use jsloop::net::TcpListener;
use jsloop::process::on_exit;
use jsloop::{Timer, clear_interval, clear_timeout, set_immediate, set_interval, set_timeout};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

pub fn main() {
    jsloop::run(async {
        let keeper = set_timeout(Duration::from_secs(10), || out!("never: keeper fired"));
        out!("keeper hasRef: {}", keeper.has_ref());

        let slot: Rc<RefCell<Option<Timer>>> = Rc::default();
        let me = slot.clone();
        let mut n = 0;
        let interval = set_interval(ms(2), move || {
            n += 1;
            out!("unref'd interval tick {n}");
            if n == 3 {
                clear_interval(me.borrow().as_ref().unwrap());
                clear_timeout(&keeper);
                out!("cleared the interval and the keeper");
                set_immediate(stage2);
            }
        });
        out!("unref() returns the timer: {}", std::ptr::eq(interval.unref(), &interval));
        out!("interval hasRef after unref: {}", interval.has_ref());
        *slot.borrow_mut() = Some(interval);

        on_exit(|_| out!("exit: the self-unref'd interval was never cleared"));

        set_timeout(Duration::from_secs(5), || out!("never: unref'd 5 s timer")).unref();
    });
}

fn stage2() {
    jsloop::spawn(async {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        out!("server listening; start an interval that unrefs itself");
        let server = jsloop::spawn(async move {
            let _ = listener.accept().await;
        });
        let server = Rc::new(RefCell::new(Some(server)));
        let slot: Rc<RefCell<Option<Timer>>> = Rc::default();
        let me = slot.clone();
        let m = Rc::new(Cell::new(0));
        let self_unref = set_interval(ms(1), move || {
            let this = me.borrow();
            let this = this.as_ref().unwrap();
            this.unref();
            m.set(m.get() + 1);
            if m.get() <= 4 {
                out!("self-unref'd interval tick {}, hasRef {}", m.get(), this.has_ref());
            }
            if m.get() == 4 {
                out!("close the server");
                let server = server.borrow_mut().take().unwrap();
                server.abort();
                jsloop::spawn(async move {
                    let _ = server.await;
                    out!("server closed");
                });
            }
        });
        *slot.borrow_mut() = Some(self_unref);
    });
}
