//! `Promise<T, E>` through the public API: settling, reactions, awaiting,
//! tick counts, threads, and what happens to promises no one can settle.

use std::cell::RefCell;
use std::future::{Future, IntoFuture};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use jsloop::promise::{Promise, Reject, Resolve, all};

type Log = Rc<RefCell<Vec<String>>>;

fn log() -> Log {
    Rc::default()
}

fn push(log: &Log, line: impl Into<String>) {
    log.borrow_mut().push(line.into());
}

#[test]
fn the_executor_runs_at_once_and_settling_twice_is_ignored() {
    let order = log();
    jsloop::block_on({
        let order = order.clone();
        async move {
            let p = Promise::<i32, &str>::new(|resolve, reject| {
                push(&order, "executor");
                resolve(1);
                reject("ignored");
                resolve(2);
            });
            push(&order, "after new");
            assert_eq!(p.await, Ok(1));
        }
    });
    assert_eq!(*order.borrow(), ["executor", "after new"]);
}

#[test]
fn reactions_run_as_microtasks_in_registration_order() {
    let order = log();
    jsloop::run({
        let order = order.clone();
        async move {
            let (p, resolve, _reject) = Promise::<u32, ()>::with_resolvers();
            for name in ["a", "b", "c"] {
                let order = order.clone();
                p.then(move |v| push(&order, format!("{name}{v}")));
            }
            let o = order.clone();
            jsloop::queue_microtask(move || push(&o, "queued before resolve"));
            resolve(7);
            let o = order.clone();
            jsloop::queue_microtask(move || push(&o, "queued after resolve"));
            push(&order, "sync end");
        }
    });
    assert_eq!(
        *order.borrow(),
        ["sync end", "queued before resolve", "a7", "b7", "c7", "queued after resolve"]
    );
}

#[test]
fn awaiting_a_settled_promise_takes_exactly_one_microtask_turn() {
    let order = log();
    jsloop::run({
        let order = order.clone();
        async move {
            let p = Promise::<(), ()>::resolve(());
            let o = order.clone();
            jsloop::queue_microtask(move || {
                push(&o, "first microtask");
                let o2 = o.clone();
                // Queued after the awaiting task was re-queued: runs after it.
                jsloop::queue_microtask(move || push(&o2, "second microtask"));
            });
            p.await.unwrap();
            push(&order, "after await");
        }
    });
    assert_eq!(*order.borrow(), ["first microtask", "after await", "second microtask"]);
}

#[test]
fn many_awaiters_and_clones_all_get_the_value() {
    jsloop::block_on(async {
        let (p, resolve, _) = Promise::<Rc<str>, ()>::with_resolvers();
        let waiters: Vec<_> = (0..5).map(|_| jsloop::spawn(p.clone().into_future())).collect();
        jsloop::set_timeout(Duration::from_millis(1), move || resolve(Rc::from("shared")));
        for waiter in waiters {
            assert_eq!(&*waiter.await.unwrap().unwrap(), "shared");
        }
        // Awaiting again after settlement still works.
        assert_eq!(&*(&p).await.unwrap(), "shared");
    });
}

#[test]
fn then_catch_finally_and_friends_chain_like_js() {
    jsloop::block_on(async {
        let ok = Promise::<i32, String>::resolve(2);
        assert_eq!(ok.then(|v| v * 10).await, Ok(20));
        assert_eq!(ok.and_then(|_| Err::<i32, _>("no".to_string())).await, Err("no".into()));
        assert_eq!(ok.catch(|_| 0).await, Ok(2), "catch passes a fulfillment through");
        let failed = Promise::<i32, String>::reject("bad".into());
        assert_eq!(failed.then(|v| v + 1).await, Err("bad".into()), "then skips a rejection");
        assert_eq!(failed.catch(|e| e.len() as i32).await, Ok(3));
        assert_eq!(failed.or_else(|e| Err::<i32, _>(e.len())).await, Err(3));
        let ran = Rc::new(RefCell::new(0));
        let r = ran.clone();
        assert_eq!(failed.finally(move || *r.borrow_mut() += 1).await, Err("bad".into()));
        assert_eq!(*ran.borrow(), 1);
        let described = ok.then_settled(|outcome| Ok::<_, ()>(format!("{outcome:?}")));
        assert_eq!(described.await, Ok("Ok(2)".to_string()));
    });
}

#[test]
fn resolve_from_another_thread_runs_reactions_on_the_loop() {
    let loop_thread = std::thread::current().id();
    let (p, resolve, _reject) = Promise::<u64, ()>::with_resolvers();
    let seen = jsloop::block_on(async move {
        let on_loop = p.then(move |v| (v, std::thread::current().id() == loop_thread));
        let _guard = jsloop::keep_alive();
        let settler = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(5));
            resolve(41);
            resolve(99); // ignored
        });
        let seen = on_loop.await;
        settler.join().unwrap();
        seen
    });
    assert_eq!(seen, Ok((41, true)));
}

#[test]
fn resolve_and_reject_are_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Resolve<String, std::io::Error>>();
    assert_send_sync::<Reject<String, std::io::Error>>();
    assert_send_sync::<Promise<String, std::io::Error>>();
}

#[test]
fn spawn_runs_the_body_at_once_up_to_its_first_await() {
    let order = log();
    jsloop::run({
        let order = order.clone();
        async move {
            let o = order.clone();
            let p = Promise::<_, ()>::spawn(async move {
                push(&o, "body starts");
                jsloop::yield_now().await;
                push(&o, "body resumes");
                Ok(5)
            });
            push(&order, "after spawn");
            assert_eq!(p.await, Ok(5));
        }
    });
    assert_eq!(*order.borrow(), ["body starts", "after spawn", "body resumes"]);
}

#[test]
fn adopt_follows_the_other_promise_two_turns_later() {
    jsloop::block_on(async {
        let (inner, resolve_inner, _) = Promise::<&str, &str>::with_resolvers();
        let outer = Promise::new(|resolve, reject| {
            resolve.adopt(&inner);
            resolve("ignored: already resolved");
            reject("ignored too");
        });
        assert!(outer.is_pending());
        resolve_inner("inner value");
        assert_eq!(outer.await, Ok("inner value"));
        let rejected = Promise::<(), &str>::new(|resolve, _| resolve.adopt(&Promise::reject("no")));
        assert_eq!(rejected.await, Err("no"));
    });
}

#[test]
fn adopting_itself_panics_with_the_js_message() {
    let panic = catch_unwind(|| {
        jsloop::block_on(async {
            let (p, resolve, _) = Promise::<(), ()>::with_resolvers();
            resolve.adopt(&p);
        })
    })
    .unwrap_err();
    let message = panic.downcast_ref::<&str>().copied().unwrap_or_default();
    assert!(message.contains("Chaining cycle"), "{message}");
}

#[test]
fn a_promise_whose_resolvers_are_dropped_stays_pending_and_drops_its_reactions() {
    struct Dropped(Rc<RefCell<u32>>);
    impl Drop for Dropped {
        fn drop(&mut self) {
            *self.0.borrow_mut() += 1;
        }
    }
    let drops = Rc::new(RefCell::new(0));
    let ran = Rc::new(RefCell::new(false));
    jsloop::run({
        let (drops, ran) = (drops.clone(), ran.clone());
        async move {
            let (p, resolve, reject) = Promise::<(), ()>::with_resolvers();
            let guard = Dropped(drops.clone());
            let derived = p.then(move |()| {
                let _guard = &guard;
                *ran.borrow_mut() = true;
            });
            // A task awaiting the derived promise just never resumes.
            jsloop::spawn(async move {
                let _ = derived.await;
                unreachable!("an abandoned promise never settles");
            });
            jsloop::set_timeout(Duration::from_millis(1), move || {
                drop(resolve);
                drop(reject);
            });
            assert!(p.is_pending());
        }
    });
    assert!(!*ran.borrow());
    assert_eq!(*drops.borrow(), 1, "the reaction's callback was dropped, not leaked");
}

#[test]
fn block_on_an_abandoned_promise_panics_instead_of_hanging() {
    let panic = catch_unwind(|| {
        jsloop::block_on(async {
            let (p, resolve, reject) = Promise::<(), ()>::with_resolvers();
            jsloop::set_timeout(Duration::from_millis(1), move || drop((resolve, reject)));
            let _ = p.await;
        })
    })
    .unwrap_err();
    let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(message.contains("nothing can wake it"), "{message}");
}

#[test]
fn a_panicking_then_callback_is_an_uncaught_panic() {
    let panic = catch_unwind(|| {
        jsloop::run(async {
            Promise::<(), ()>::resolve(()).then(|()| panic!("callback exploded"));
        })
    })
    .unwrap_err();
    assert_eq!(panic.downcast_ref::<&str>(), Some(&"callback exploded"));

    // With a handler, the loop goes on and the derived promise stays pending.
    let caught = Rc::new(RefCell::new(Vec::new()));
    let rt = jsloop::Runtime::builder()
        .on_uncaught_panic({
            let caught = caught.clone();
            move |payload| {
                caught.borrow_mut().push(*payload.downcast::<&str>().unwrap());
            }
        })
        .build()
        .unwrap();
    let after = rt.block_on(async {
        let derived = Promise::<(), ()>::resolve(()).then(|()| panic!("handled"));
        let body = Promise::<(), ()>::spawn(async { panic!("spawn body") });
        jsloop::yield_now().await;
        jsloop::yield_now().await;
        (derived.is_pending(), body.is_pending())
    });
    assert_eq!(after, (true, true));
    // The body panics inside `spawn`, before the reaction gets to run.
    assert_eq!(*caught.borrow(), ["spawn body", "handled"]);
}

#[test]
fn then_outside_a_runtime_panics_with_a_clear_message() {
    let p = Promise::<(), ()>::resolve(());
    let panic = catch_unwind(AssertUnwindSafe(|| p.then(|()| ()))).unwrap_err();
    assert_eq!(
        panic.downcast_ref::<String>().map(String::as_str),
        Some("no jsloop runtime is running on this thread")
    );
}

struct CountingWaker(AtomicUsize);

impl Wake for CountingWaker {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

#[test]
fn a_dropped_await_is_deregistered_and_never_woken() {
    let counter = Arc::new(CountingWaker(AtomicUsize::new(0)));
    let waker = Waker::from(counter.clone());
    let (p, resolve, _reject) = Promise::<(), ()>::with_resolvers();
    let mut future = Box::pin(p.into_future());
    assert!(future.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    drop(future);
    resolve(());
    assert_eq!(counter.0.load(Ordering::SeqCst), 0);
    // Repeated polls keep one registration: one wake for many polls.
    let mut future = Box::pin(Promise::<(), ()>::with_resolvers().0.into_future());
    let (p, resolve, _reject) = Promise::<(), ()>::with_resolvers();
    future.set(p.into_future());
    for _ in 0..3 {
        assert!(future.as_mut().poll(&mut Context::from_waker(&waker)).is_pending());
    }
    resolve(());
    assert_eq!(counter.0.load(Ordering::SeqCst), 1);
    assert_eq!(future.as_mut().poll(&mut Context::from_waker(&waker)), Poll::Ready(Ok(())));
}

#[test]
fn promises_work_inside_the_combinators() {
    jsloop::block_on(async {
        let ps: Vec<Promise<usize, ()>> = (0..100).map(Promise::resolve).collect();
        let values = all(&ps).await.unwrap();
        assert_eq!(values, (0..100).collect::<Vec<_>>());
    });
}

#[test]
fn debug_shows_the_state() {
    let (p, resolve, _) = Promise::<(), ()>::with_resolvers();
    assert_eq!(format!("{p:?}"), "Promise(<pending>)");
    resolve(());
    assert_eq!(format!("{p:?}"), "Promise(<fulfilled>)");
    assert_eq!(format!("{:?}", Promise::<(), ()>::reject(())), "Promise(<rejected>)");
}
