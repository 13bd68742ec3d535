//! Port of `105-unhandled-rejection-modes.js` (second set, rules from
//! Node's `test-promise-unhandled-default`, `-throw-handler`, `-error`,
//! `-silent`): in the default mode (`Throw`) with no unhandled-rejection
//! listener a rejection is raised as an uncaught error at the end of its
//! checkpoint, and with an uncaught handler the loop goes on; once a
//! listener exists it takes the rejection instead; `Strict` raises it first
//! and then tells the listener; `None` raises nothing, and a listener still
//! hears of it. Each mode runs in its own worker, one after the other.
//!
//! Port notes: `--unhandled-rejections=mode` is the runtime builder's
//! `unhandled_rejections`, set through `WorkerBuilder::runtime`; the
//! uncaught hook is the builder's `on_uncaught_panic`, whose payload is an
//! `UnhandledRejection` for this origin. JS's reasons (an Error, `null`,
//! `42`) are a `JsValue` enum; a non-Error one is described as Node wraps
//! it (`UnhandledPromiseRejection ERR_UNHANDLED_REJECTION`), and the
//! handler reads the reason through `UnhandledRejection::promise`. The
//! async function that throws is `Promise::spawn` of a body returning
//! `Err`. Worker output travels as port messages, printed by the parent.

use std::cell::RefCell;
use std::rc::Rc;

use jsloop::process::{UnhandledRejection, UnhandledRejections, on_unhandled_rejection};
use jsloop::promise::{Promise, Reason};
use jsloop::worker::{MessagePort, Worker};
use jsloop::{Runtime, set_immediate};

/// A JS value a promise is rejected with.
#[derive(Clone, Debug)]
enum JsValue {
    Error(String),
    Null,
    // Carried as JS carries it; the scenario never prints it.
    #[allow(dead_code)]
    Number(i32),
}

type P = Promise<(), JsValue>;

fn describe(reason: Option<JsValue>) -> String {
    match reason {
        Some(JsValue::Error(message)) => message,
        Some(JsValue::Null | JsValue::Number(_)) => {
            "UnhandledPromiseRejection ERR_UNHANDLED_REJECTION".to_string()
        }
        None => "(no reason)".to_string(),
    }
}

fn reason_of(reason: &Reason) -> Option<JsValue> {
    reason.downcast::<JsValue>()
}

/// The uncaught hook: `log('uncaughtException (origin): ' + describe(err))`.
fn uncaught(log: impl Fn(String) + 'static) -> impl Fn(Box<dyn std::any::Any + Send>) {
    move |payload| {
        let rejection = payload.downcast_ref::<UnhandledRejection>().expect("a rejection");
        let reason = rejection.promise().and_then(|p| reason_of(&p.reason()?));
        log(format!("uncaughtException (unhandledRejection): {}", describe(reason)));
    }
}

thread_local! {
    /// The worker thread's `parentPort`, for its uncaught handler.
    static PARENT: RefCell<Option<Rc<MessagePort<String>>>> = const { RefCell::new(None) };
}

fn post_to_parent(m: String) {
    PARENT.with(|parent| parent.borrow().as_ref().unwrap().post_message(m).unwrap());
}

/// The `!isMainThread` branch.
async fn worker_main(mode: &'static str, with_listener: bool, port: MessagePort<String>) {
    PARENT.with(|parent| *parent.borrow_mut() = Some(Rc::new(port)));
    if with_listener {
        on_unhandled_rejection(|reason, _| {
            post_to_parent(format!("unhandledRejection: {}", describe(reason_of(reason))))
        });
    }
    P::reject(JsValue::Error(format!("rejected in mode {mode}")));
    set_immediate(|| post_to_parent("immediate still runs".into()));
}

const RUNS: [(&str, UnhandledRejections, bool); 3] = [
    ("strict", UnhandledRejections::Strict, true),
    ("none", UnhandledRejections::None, false),
    ("none", UnhandledRejections::None, true),
];

fn run_workers(i: usize) {
    let Some(&(mode, setting, with_listener)) = RUNS.get(i) else { return };
    let label =
        format!("worker mode={mode} {} listener", if with_listener { "with" } else { "without" });
    let w = Rc::new(
        Worker::builder()
            .runtime(move || {
                Runtime::builder()
                    .unhandled_rejections(setting)
                    .on_uncaught_panic(uncaught(post_to_parent))
            })
            .spawn_with_port(move |port| worker_main(mode, with_listener, port))
            .unwrap(),
    );
    let on_message = label.clone();
    w.on_message(move |m| out!("{on_message}: {m}"));
    jsloop::spawn(async move {
        let _ = w.exit().await;
        out!("{label}: exit {}", w.exit_code().unwrap());
        run_workers(i + 1);
    });
}

pub fn main() {
    let rt = Runtime::builder().on_uncaught_panic(uncaught(|line| out!("{line}"))).build().unwrap();
    rt.run(async {
        P::reject(JsValue::Error("plain error".into()));
        P::reject(JsValue::Null);
        P::reject(JsValue::Number(42));
        P::spawn(async { Err(JsValue::Error("thrown in an async function".into())) });

        set_immediate(|| {
            out!("immediate: the loop goes on; now add an unhandledRejection listener");
            on_unhandled_rejection(|reason, _| {
                out!("unhandledRejection: {}", describe(reason_of(reason)))
            });
            P::reject(JsValue::Error("after the listener was added".into()));
            set_immediate(|| run_workers(0));
        });

        out!("script end");
    });
}
