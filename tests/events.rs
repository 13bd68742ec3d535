//! `jsloop::events` through the public API: Node's `EventEmitter` rules
//! (synchronous emit over a snapshot, once, prepend, off, the 'error'
//! event), and `events::once` / `events::on` on the loop.

mod common;

use std::cell::{Cell, RefCell};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::time::Duration;

use jsloop::AbortController;
use jsloop::events::{self, EventEmitter, ListenerId, UnhandledError};

/// A shared log the listeners write to.
#[derive(Clone, Default)]
struct Log(Rc<RefCell<Vec<String>>>);

impl Log {
    fn push(&self, line: impl Into<String>) {
        self.0.borrow_mut().push(line.into());
    }

    fn take(&self) -> Vec<String> {
        self.0.take()
    }

    /// A listener that logs `name` and the payload.
    fn listener<T: std::fmt::Display>(&self, name: &'static str) -> impl Fn(&T) + 'static + use<T> {
        let log = self.clone();
        move |v| log.push(format!("{name} {v}"))
    }
}

// --- emit: synchronous, in order, over a snapshot -------------------------

#[test]
fn emit_calls_listeners_synchronously_in_registration_order() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("data", log.listener("a"));
    ee.on("data", log.listener("b"));
    ee.on("other", log.listener("other"));
    ee.on("data", log.listener("c"));
    assert!(ee.emit("data", 1));
    log.push("emit returned");
    assert_eq!(log.take(), ["a 1", "b 1", "c 1", "emit returned"]);
}

#[test]
fn emit_returns_whether_the_event_had_listeners() {
    let ee = EventEmitter::<()>::new();
    assert!(!ee.emit("data", ()));
    let id = ee.on("data", |()| {});
    assert!(!ee.emit("other", ()));
    assert!(ee.emit("data", ()));
    assert!(ee.off(id));
    assert!(!ee.emit("data", ()));
}

#[test]
fn prepend_listener_runs_before_the_listeners_already_there() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("x", log.listener("on"));
    ee.prepend_listener("x", log.listener("prepended 1"));
    ee.prepend_listener("x", log.listener("prepended 2"));
    ee.on("x", log.listener("on later"));
    ee.emit("x", 0);
    assert_eq!(log.take(), ["prepended 2 0", "prepended 1 0", "on 0", "on later 0"]);
}

#[test]
fn prepend_once_listener_runs_first_and_only_once() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("x", log.listener("on"));
    ee.prepend_once_listener("x", log.listener("once first"));
    ee.emit("x", 1);
    ee.emit("x", 2);
    assert_eq!(log.take(), ["once first 1", "on 1", "on 2"]);
}

#[test]
fn once_listener_runs_once_and_is_removed_before_it_runs() {
    // Alone (the emit hands the lone listener out) and among others (the
    // emit works on a snapshot).
    for others in [0, 2] {
        let log = Log::default();
        let ee = EventEmitter::<u32>::new();
        for _ in 0..others {
            ee.on("x", |_| {});
        }
        let (count_log, handle) = (log.clone(), ee.clone());
        ee.once("x", move |v| {
            count_log.push(format!("once {v}, count now {}", handle.listener_count("x")));
        });
        assert_eq!(ee.listener_count("x"), others + 1);
        assert!(ee.emit("x", 1));
        assert_eq!(ee.emit("x", 2), others > 0);
        assert_eq!(log.take(), [format!("once 1, count now {others}")]);
        assert_eq!(ee.listener_count("x"), others);
    }
}

#[test]
fn once_listener_joined_by_others_keeps_registration_order() {
    // Registered alone, then others appended and prepended around it.
    for prepended_once in [false, true] {
        let log = Log::default();
        let ee = EventEmitter::<u32>::new();
        let id = if prepended_once {
            ee.prepend_once_listener("x", log.listener("once"))
        } else {
            ee.once("x", log.listener("once"))
        };
        ee.on("x", log.listener("on"));
        ee.prepend_listener("x", log.listener("prepended"));
        assert_eq!(ee.listener_count("x"), 3);
        ee.emit("x", 1);
        ee.emit("x", 2);
        assert_eq!(log.take(), ["prepended 1", "once 1", "on 1", "prepended 2", "on 2"]);
        assert!(!ee.off(id), "removed before it ran");
    }
}

#[test]
fn lone_once_listener_is_removed_before_it_runs_so_a_nested_emit_skips_it() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    let id: Rc<Cell<Option<ListenerId>>> = Rc::default();
    id.set(Some(ee.once("x", {
        let (ee, id, log) = (ee.clone(), id.clone(), log.clone());
        move |v| {
            log.push(format!("once {v}, count {}", ee.listener_count("x")));
            log.push(format!("off itself: {}", ee.off(id.get().unwrap())));
            log.push(format!("nested emit: {}", ee.emit("x", v + 1)));
        }
    })));
    assert!(ee.emit("x", 1));
    assert_eq!(log.take(), ["once 1, count 0", "off itself: false", "nested emit: false"]);
}

#[test]
fn once_listener_registered_alone_during_an_emit_runs_from_the_next_emit() {
    // The first listener removes every listener, itself included, then
    // registers a once listener, which is then the event's only one. The
    // emit under way calls its snapshot: "second" (removed during it), not
    // the newcomer. Alone (the emit holds just that listener) and with a
    // second one (it holds the entries).
    for with_second in [false, true] {
        let log = Log::default();
        let ee = EventEmitter::<u32>::new();
        let first = ee.on("x", {
            let (ee, log) = (ee.clone(), log.clone());
            move |v| {
                log.push(format!("first {v}"));
                ee.remove_all_listeners("x");
                ee.once("x", log.listener("once"));
            }
        });
        if with_second {
            ee.on("x", log.listener("second"));
        }
        assert!(ee.emit("x", 1));
        assert!(!ee.off(first));
        assert_eq!(ee.listener_count("x"), 1);
        assert!(ee.emit("x", 2));
        assert!(!ee.emit("x", 3));
        let mut expected = vec!["first 1"];
        if with_second {
            expected.push("second 1");
        }
        expected.push("once 2");
        assert_eq!(log.take(), expected);
    }
}

#[test]
fn off_removes_a_lone_once_listener_and_drops_it_outside_the_emitter() {
    /// Uses the emitter when dropped: fine only outside its borrows.
    struct UsesEmitter(EventEmitter<u32, u32>, Rc<Cell<u32>>);
    impl Drop for UsesEmitter {
        fn drop(&mut self) {
            let _ = self.0.listener_count("x") + self.0.error_listener_count();
            self.1.set(self.1.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let ee = EventEmitter::<u32, u32>::new();
    let guarded = || {
        let guard = UsesEmitter(ee.clone(), drops.clone());
        move |_: &u32| {
            let _ = &guard;
        }
    };
    let id = ee.once("x", guarded());
    assert_eq!(ee.listener_count("x"), 1);
    assert!(ee.off(id));
    assert!(!ee.off(id));
    assert_eq!((drops.get(), ee.listener_count("x")), (1, 0));
    assert!(!ee.emit("x", 1));

    let id = ee.once_error(guarded());
    assert!(ee.off(id));
    assert_eq!((drops.get(), ee.error_listener_count()), (2, 0));
    assert_eq!(ee.emit_error(1), Err(UnhandledError(1)));

    ee.once("x", guarded());
    ee.remove_all_listeners("x");
    assert_eq!(drops.get(), 3, "remove_all_listeners");
    ee.once("x", guarded());
    assert!(ee.emit("x", 1));
    assert_eq!(drops.get(), 4, "called: dropped after its call");
}

#[test]
fn listener_removed_during_emit_still_runs_in_that_emit_only() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    let victim: Rc<Cell<Option<ListenerId>>> = Rc::default();
    ee.on("x", {
        let (ee, victim, log) = (ee.clone(), victim.clone(), log.clone());
        move |v| {
            log.push(format!("remover {v}"));
            if let Some(id) = victim.get() {
                log.push(format!("off: {}", ee.off(id)));
            }
        }
    });
    victim.set(Some(ee.on("x", log.listener("victim"))));
    ee.emit("x", 1);
    ee.emit("x", 2);
    assert_eq!(log.take(), ["remover 1", "off: true", "victim 1", "remover 2", "off: false"]);
    assert_eq!(ee.listener_count("x"), 1);
}

#[test]
fn listener_that_removes_itself_finishes_and_is_gone() {
    // The lone listener, and one of several.
    for others in [0, 1] {
        let log = Log::default();
        let ee = EventEmitter::<u32>::new();
        let me: Rc<Cell<Option<ListenerId>>> = Rc::default();
        me.set(Some(ee.on("x", {
            let (ee, me, log) = (ee.clone(), me.clone(), log.clone());
            move |v| {
                log.push(format!("self-remover {v}: off {}", ee.off(me.get().unwrap())));
                log.push("still running".to_string());
            }
        })));
        for _ in 0..others {
            ee.on("x", log.listener("other"));
        }
        ee.emit("x", 1);
        ee.emit("x", 2);
        let mut expected =
            vec!["self-remover 1: off true".to_string(), "still running".to_string()];
        for _ in 0..others {
            expected.push("other 1".into());
        }
        for _ in 0..others {
            expected.push("other 2".into());
        }
        assert_eq!(log.take(), expected);
    }
}

#[test]
fn listener_added_during_emit_runs_from_the_next_emit() {
    // With one listener there (handed out alone) and with several (the
    // snapshot is copied on write).
    for others in [0, 2] {
        let log = Log::default();
        let ee = EventEmitter::<u32>::new();
        ee.on("x", {
            let (ee, log) = (ee.clone(), log.clone());
            move |v| {
                log.push(format!("adder {v}"));
                ee.on("x", log.listener("added"));
                ee.prepend_listener("x", log.listener("prepended"));
            }
        });
        for _ in 0..others {
            ee.on("x", |_| {});
        }
        ee.emit("x", 1);
        assert_eq!(log.take(), ["adder 1"]);
        ee.emit("x", 2);
        assert_eq!(log.take(), ["prepended 2", "adder 2", "added 2"]);
    }
}

#[test]
fn off_of_an_unknown_or_removed_id_returns_false() {
    let ee = EventEmitter::<()>::new();
    let other = EventEmitter::<()>::new();
    let foreign = other.on("x", |()| {});
    assert!(!ee.off(foreign), "an id of another emitter");
    assert!(other.off(foreign));

    let id = ee.on("x", |()| {});
    assert!(ee.off(id));
    assert!(!ee.off(id), "already removed");

    let fired = ee.once("x", |()| {});
    ee.emit("x", ());
    assert!(!ee.off(fired), "a once listener that has run");

    let cleared = ee.on("x", |()| {});
    ee.remove_all_listeners("x");
    assert!(!ee.off(cleared), "removed with remove_all_listeners");

    let error = ee.on_error(|_| {});
    let monitor = ee.on_error_monitor(|_| {});
    assert!(ee.off(error) && ee.off(monitor));
    assert!(!ee.off(error) && !ee.off(monitor));
}

#[test]
fn an_old_id_matches_nothing_after_its_event_name_is_reused() {
    let ee = EventEmitter::<()>::new();
    let old = ee.on("short-lived 0", |()| {});
    assert!(ee.off(old));
    // Enough empty names that the emitter frees them and reuses slots.
    for i in 1..200 {
        let id = ee.on(format!("short-lived {i}"), |()| {});
        assert!(ee.off(id));
    }
    let kept = Rc::new(Cell::new(0));
    let count = kept.clone();
    ee.on("short-lived 0", move |()| count.set(count.get() + 1));
    assert!(!ee.off(old));
    assert!(ee.emit("short-lived 0", ()));
    assert_eq!(kept.get(), 1);
    assert_eq!(ee.listener_count("short-lived 0"), 1);
    assert_eq!(ee.listener_count("short-lived 150"), 0);
}

#[test]
fn names_can_be_literals_or_owned_strings() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("data", log.listener("literal"));
    ee.on(String::from("data"), log.listener("owned"));
    let name = String::from("data");
    ee.emit(&name, 1);
    ee.emit("data", 2);
    assert_eq!(log.take(), ["literal 1", "owned 1", "literal 2", "owned 2"]);
}

#[test]
fn many_event_names_each_keep_their_listeners() {
    let ee = EventEmitter::<usize>::new();
    let seen = Rc::new(RefCell::new(Vec::new()));
    const NAMES: [&str; 12] = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"];
    for name in NAMES {
        let seen = seen.clone();
        ee.on(name, move |v| seen.borrow_mut().push((name, *v)));
    }
    for (i, name) in NAMES.iter().enumerate().rev() {
        assert!(ee.emit(name, i));
    }
    let expected: Vec<_> = NAMES.iter().copied().zip(0..NAMES.len()).rev().collect();
    assert_eq!(*seen.borrow(), expected);
}

#[test]
fn remove_all_listeners_removes_one_event_and_a_running_emit_still_calls_them() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("x", {
        let (ee, log) = (ee.clone(), log.clone());
        move |v| {
            log.push(format!("first {v}"));
            ee.remove_all_listeners("x");
        }
    });
    ee.on("x", log.listener("second"));
    ee.on("y", log.listener("y"));
    ee.emit("x", 1);
    assert!(!ee.emit("x", 2));
    ee.emit("y", 3);
    assert_eq!(log.take(), ["first 1", "second 1", "y 3"]);
    assert_eq!(ee.listener_count("x"), 0);
}

#[test]
fn clear_removes_every_listener_error_listeners_included() {
    let ee = EventEmitter::<(), String>::new();
    ee.on("a", |()| {});
    ee.once("b", |()| {});
    ee.on_error(|_| {});
    ee.on_error_monitor(|_| {});
    ee.clear();
    assert!(!ee.emit("a", ()) && !ee.emit("b", ()));
    assert_eq!(ee.error_listener_count(), 0);
    assert_eq!(ee.emit_error("x".into()), Err(UnhandledError("x".into())));
}

#[test]
fn clones_are_handles_to_one_emitter() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    let clone = ee.clone();
    clone.on("x", log.listener("via clone"));
    ee.emit("x", 7);
    assert_eq!(log.take(), ["via clone 7"]);
    assert_eq!(ee.listener_count("x"), 1);
}

// --- re-entrance and panics ------------------------------------------------

#[test]
fn emit_reentered_from_a_listener_runs_the_nested_emit_inside_it() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("x", {
        let (ee, log) = (ee.clone(), log.clone());
        move |v| {
            log.push(format!("outer listener {v}"));
            if *v == 1 {
                ee.emit("x", 2);
                log.push("nested emit returned");
            }
        }
    });
    ee.once("x", log.listener("once"));
    ee.on("x", log.listener("last"));
    ee.emit("x", 1);
    assert_eq!(
        log.take(),
        [
            "outer listener 1",
            "outer listener 2",
            "once 2", // the nested emit runs it; the outer one then skips it
            "last 2",
            "nested emit returned",
            "last 1",
        ]
    );
    assert_eq!(ee.listener_count("x"), 2);
}

#[test]
fn nested_emit_skips_a_listener_the_outer_emit_saw_removed() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    let victim: Rc<Cell<Option<ListenerId>>> = Rc::default();
    ee.on("x", {
        let (ee, victim, log) = (ee.clone(), victim.clone(), log.clone());
        move |v| {
            log.push(format!("first {v}"));
            if *v == 1 {
                ee.off(victim.get().unwrap());
                ee.emit("x", 2);
            }
        }
    });
    victim.set(Some(ee.on("x", log.listener("victim"))));
    ee.emit("x", 1);
    assert_eq!(log.take(), ["first 1", "first 2", "victim 1"]);
}

#[test]
fn panicking_listener_propagates_out_of_emit_and_skips_the_rest() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    ee.on("x", log.listener("before"));
    ee.once("x", |v| panic!("listener failed on {v}"));
    ee.on("x", log.listener("after"));

    let panic = catch_unwind(AssertUnwindSafe(|| ee.emit("x", 1))).unwrap_err();
    assert_eq!(common::panic_message(panic), "listener failed on 1");
    assert_eq!(log.take(), ["before 1"]);

    // Still usable; the once listener was removed before it ran.
    assert_eq!(ee.listener_count("x"), 2);
    assert!(ee.emit("x", 2));
    assert_eq!(log.take(), ["before 2", "after 2"]);
}

#[test]
fn panic_after_a_removal_during_emit_leaves_the_emitter_consistent() {
    let log = Log::default();
    let ee = EventEmitter::<u32>::new();
    let victim: Rc<Cell<Option<ListenerId>>> = Rc::default();
    ee.on("x", {
        let (ee, victim) = (ee.clone(), victim.clone());
        move |v| {
            if *v == 1 {
                ee.off(victim.get().unwrap());
                panic!("after a removal");
            }
        }
    });
    victim.set(Some(ee.on("x", log.listener("victim"))));
    ee.on("x", log.listener("last"));
    assert!(catch_unwind(AssertUnwindSafe(|| ee.emit("x", 1))).is_err());
    assert_eq!(ee.listener_count("x"), 2);
    ee.emit("x", 2);
    assert_eq!(log.take(), ["last 2"]);
}

#[test]
fn a_removed_listener_is_dropped_once_the_emitter_is_free_to_use() {
    /// Uses the emitter when dropped: fine only outside its borrows.
    struct UsesEmitter(EventEmitter<()>, Rc<Cell<u32>>);
    impl Drop for UsesEmitter {
        fn drop(&mut self) {
            let _ = self.0.listener_count("x");
            self.1.set(self.1.get() + 1);
        }
    }
    let drops = Rc::new(Cell::new(0));
    let ee = EventEmitter::<()>::new();
    let guarded = |ee: &EventEmitter<()>| {
        let guard = UsesEmitter(ee.clone(), drops.clone());
        move |_: &()| {
            let _ = &guard;
        }
    };

    let id = ee.on("x", guarded(&ee));
    assert!(ee.off(id));
    assert_eq!(drops.get(), 1, "off outside an emit");

    let victim: Rc<Cell<Option<ListenerId>>> = Rc::default();
    let remover = ee.on("x", {
        let (ee, victim) = (ee.clone(), victim.clone());
        move |()| {
            ee.off(victim.get().unwrap());
        }
    });
    victim.set(Some(ee.on("x", guarded(&ee))));
    ee.emit("x", ());
    assert_eq!(drops.get(), 2, "off during an emit: dropped when it ends");
    ee.off(remover);

    ee.on("x", guarded(&ee));
    ee.on("x", guarded(&ee));
    ee.remove_all_listeners("x");
    assert_eq!(drops.get(), 4, "remove_all_listeners");

    ee.once("x", guarded(&ee));
    ee.prepend_listener("y", guarded(&ee));
    ee.clear();
    assert_eq!(drops.get(), 6, "clear");
}

// --- the 'error' event -----------------------------------------------------

#[test]
fn emit_error_without_an_error_listener_returns_the_error_unhandled() {
    let ee = EventEmitter::<(), String>::new();
    let unhandled = ee.emit_error("boom".to_string()).unwrap_err();
    assert_eq!(unhandled, UnhandledError("boom".to_string()));
    assert_eq!(unhandled.to_string(), "unhandled 'error' event (no 'error' listener): boom");
}

#[test]
fn emit_error_with_an_error_listener_is_handled() {
    let log = Log::default();
    let ee = EventEmitter::<(), String>::new();
    ee.on_error(log.listener("error listener"));
    assert_eq!(ee.emit_error("boom".into()), Ok(()));
    assert_eq!(log.take(), ["error listener boom"]);
}

#[test]
fn error_monitor_sees_the_error_before_the_listeners_and_without_them() {
    let log = Log::default();
    let ee = EventEmitter::<(), String>::new();
    ee.on_error_monitor(log.listener("monitor"));
    assert!(ee.emit_error("unheard".into()).is_err());
    assert_eq!(log.take(), ["monitor unheard"]);
    assert_eq!(ee.error_listener_count(), 0, "monitors are not error listeners");

    ee.on_error(log.listener("listener"));
    ee.on_error_monitor(log.listener("second monitor"));
    assert!(ee.emit_error("heard".into()).is_ok());
    assert_eq!(log.take(), ["monitor heard", "second monitor heard", "listener heard"]);
}

#[test]
fn once_error_handles_one_error() {
    let log = Log::default();
    let ee = EventEmitter::<(), &str>::new();
    ee.once_error(log.listener("once"));
    assert_eq!(ee.error_listener_count(), 1);
    assert!(ee.emit_error("first").is_ok());
    assert_eq!(ee.emit_error("second"), Err(UnhandledError("second")));
    assert_eq!(log.take(), ["once first"]);
}

#[test]
fn once_error_joined_by_an_error_listener_keeps_order() {
    let log = Log::default();
    let ee = EventEmitter::<(), &str>::new();
    ee.once_error(log.listener("once"));
    ee.on_error(log.listener("on"));
    assert_eq!(ee.error_listener_count(), 2);
    assert!(ee.emit_error("first").is_ok());
    assert!(ee.emit_error("second").is_ok());
    assert_eq!(log.take(), ["once first", "on first", "on second"]);
}

#[test]
fn unhandled_error_is_an_error_whose_source_is_the_emitted_one() {
    use std::error::Error;

    #[derive(Debug, Clone)]
    struct DiskFull;
    impl std::fmt::Display for DiskFull {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("disk full")
        }
    }
    impl Error for DiskFull {}

    let ee = EventEmitter::<(), DiskFull>::new();
    let unhandled: Box<dyn Error> = Box::new(ee.emit_error(DiskFull).unwrap_err());
    assert!(unhandled.to_string().ends_with(": disk full"));
    assert_eq!(unhandled.source().unwrap().to_string(), "disk full");
}

#[test]
fn the_name_error_is_refused_by_the_event_methods() {
    let ee = EventEmitter::<()>::new();
    type Attempt<'a> = (&'static str, Box<dyn Fn() + 'a>);
    let attempts: [Attempt<'_>; 5] = [
        ("on", Box::new(|| _ = ee.on("error", |()| {}))),
        ("once", Box::new(|| _ = ee.once("error", |()| {}))),
        ("emit", Box::new(|| _ = ee.emit("error", ()))),
        ("listener_count", Box::new(|| _ = ee.listener_count("error"))),
        ("remove_all_listeners", Box::new(|| ee.remove_all_listeners("error"))),
    ];
    for (method, attempt) in attempts {
        let panic = catch_unwind(AssertUnwindSafe(attempt)).expect_err(method);
        let message = common::panic_message(panic);
        assert!(
            message.contains("\"error\" is the error event") && message.contains("on_error"),
            "{method}: {message}"
        );
    }
    assert_eq!(
        format!("{ee:?}"),
        "EventEmitter { listeners: [], error_listeners: 0, error_monitors: 0 }"
    );
}

// --- events::once ----------------------------------------------------------

#[test]
fn events_once_resolves_with_the_payload_after_emit_and_its_callback_return() {
    let log = Log::default();
    jsloop::run({
        let log = log.clone();
        async move {
            let ee = EventEmitter::<(i32, i32)>::new();
            let emitter = ee.clone();
            let timer_log = log.clone();
            jsloop::set_timeout(Duration::from_millis(1), move || {
                timer_log.push("emit");
                emitter.emit("ready", (1, 2));
                timer_log.push("emit returned, callback goes on");
            });
            let payload = events::once(&ee, "ready").await.unwrap();
            log.push(format!("resumed with {payload:?}, listeners {}", ee.listener_count("ready")));
        }
    });
    assert_eq!(
        log.take(),
        ["emit", "emit returned, callback goes on", "resumed with (1, 2), listeners 0"]
    );
}

#[test]
fn events_once_rejects_on_error_and_removes_both_listeners() {
    jsloop::run(async {
        let ee = EventEmitter::<u32, String>::new();
        let waiting = events::once(&ee, "data");
        assert_eq!((ee.listener_count("data"), ee.error_listener_count()), (1, 1));
        assert_eq!(ee.emit_error("boom".into()), Ok(()), "events::once listens for errors");
        assert_eq!((ee.listener_count("data"), ee.error_listener_count()), (0, 0));
        assert!(!ee.emit("data", 1));
        assert_eq!(waiting.await, Err("boom".to_string()));
    });
}

#[test]
fn events_once_fulfilled_removes_its_error_listener() {
    jsloop::run(async {
        let ee = EventEmitter::<u32, String>::new();
        let waiting = events::once(&ee, "data");
        ee.emit("data", 5);
        assert_eq!(ee.error_listener_count(), 0);
        assert!(ee.emit_error("late".into()).is_err());
        assert_eq!(waiting.await, Ok(5));
    });
}

#[test]
fn events_once_outside_a_runtime_panics_and_registers_nothing() {
    let ee = EventEmitter::<u32>::new();
    let panic = catch_unwind(AssertUnwindSafe(|| drop(events::once(&ee, "data")))).unwrap_err();
    assert!(common::panic_message(panic).contains("no jsloop runtime"));
    assert_eq!(ee.listener_count("data"), 0);
}

// --- events::on ------------------------------------------------------------

#[test]
fn events_on_buffers_payloads_emitted_while_nobody_polls() {
    jsloop::run(async {
        let ee = EventEmitter::<u32>::new();
        let mut stream = events::on(&ee, "n");
        for n in 0..100 {
            ee.emit("n", n);
        }
        for n in 0..100 {
            assert_eq!(stream.recv().await, Some(Ok(n)));
        }
    });
}

#[test]
fn events_on_wakes_the_task_waiting_for_the_next_payload() {
    let log = Log::default();
    jsloop::run({
        let log = log.clone();
        async move {
            let ee = EventEmitter::<u32>::new();
            let mut stream = events::on(&ee, "tick");
            let emitter = ee.clone();
            let mut n = 0;
            let timer = jsloop::set_interval(Duration::from_millis(1), move || {
                n += 1;
                emitter.emit("tick", n);
            });
            while let Some(Ok(n)) = stream.recv().await {
                log.push(format!("tick {n}"));
                if n == 3 {
                    break;
                }
            }
            timer.clear();
        }
    });
    assert_eq!(log.take(), ["tick 1", "tick 2", "tick 3"]);
}

#[test]
fn events_on_ends_after_an_error_and_removes_its_listeners() {
    jsloop::run(async {
        let ee = EventEmitter::<u32, &str>::new();
        let mut stream = events::on(&ee, "n");
        ee.emit("n", 1);
        assert_eq!(ee.emit_error("broken"), Ok(()));
        assert_eq!((ee.listener_count("n"), ee.error_listener_count()), (0, 0));
        ee.emit("n", 2);
        assert_eq!(stream.recv().await, Some(Ok(1)));
        assert_eq!(stream.recv().await, Some(Err("broken")));
        assert_eq!(stream.recv().await, None);
    });
}

#[test]
fn events_on_with_signal_ends_on_abort_after_the_buffered_payloads() {
    jsloop::run(async {
        let ee = EventEmitter::<u32>::new();
        let controller = AbortController::new();
        let mut stream = events::on_with_signal(&ee, "n", &controller.signal());
        ee.emit("n", 1);
        let abort = controller.clone();
        jsloop::set_timeout(Duration::from_millis(1), move || abort.abort("stop"));
        assert_eq!(stream.recv().await, Some(Ok(1)));
        assert_eq!(stream.recv().await, None, "ended by the abort");
        assert_eq!(ee.listener_count("n"), 0);
    });
}

#[test]
fn events_on_with_an_aborted_signal_ends_at_once() {
    jsloop::run(async {
        let ee = EventEmitter::<u32>::new();
        let controller = AbortController::new();
        controller.abort("already");
        let mut stream = events::on_with_signal(&ee, "n", &controller.signal());
        assert_eq!(ee.listener_count("n"), 0);
        assert!(!ee.emit("n", 1));
        assert_eq!(stream.recv().await, None);
    });
}

#[test]
fn dropping_the_stream_removes_its_listeners() {
    let ee = EventEmitter::<u32, String>::new();
    let controller = AbortController::new();
    let stream = events::on_with_signal(&ee, "n", &controller.signal());
    assert_eq!((ee.listener_count("n"), ee.error_listener_count()), (1, 1));
    drop(stream);
    assert_eq!((ee.listener_count("n"), ee.error_listener_count()), (0, 0));
    controller.abort("after the drop"); // its abort listener is gone too
}

#[test]
fn events_on_is_a_futures_stream() {
    use futures::StreamExt;
    jsloop::run(async {
        let ee = EventEmitter::<u32>::new();
        let stream = events::on(&ee, "n");
        for n in 1..=3 {
            ee.emit("n", n);
        }
        let got: Vec<u32> = stream.take(3).map(Result::unwrap).collect().await;
        assert_eq!(got, [1, 2, 3]);
    });
}
