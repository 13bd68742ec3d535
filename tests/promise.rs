//! Promise combinators: all, all_settled, race, any.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use jsloop::promise::{AggregateError, Promise, all, all_settled, any, race, tuple};
use jsloop::time::sleep;

mod common;

fn virtual_runtime() -> jsloop::Runtime {
    jsloop::Runtime::builder().virtual_time(true).build().unwrap()
}

async fn after<T>(ms: u64, value: T) -> T {
    sleep(Duration::from_millis(ms)).await;
    value
}

#[test]
fn all_keeps_input_order_not_completion_order() {
    let out = virtual_runtime().block_on(all([after(30, Ok::<_, ()>("c")), after(10, Ok("a"))]));
    assert_eq!(out, Ok(vec!["c", "a"]));
}

#[test]
fn all_fails_fast_and_drops_the_pending_plain_futures() {
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let dropped = Rc::new(Cell::new(false));
    let rt = virtual_runtime();
    let flag = Flag(dropped.clone());
    let slow = Box::pin(async move {
        let _flag = flag;
        after(100, Ok::<u32, &str>(1)).await
    }) as Pin<Box<dyn Future<Output = Result<u32, &str>>>>;
    let failing = Box::pin(after(10, Err("boom")));
    let result = rt.block_on(async {
        let started = jsloop::time::Instant::now();
        let result = all([slow, failing]).await;
        (result, started.elapsed())
    });
    assert_eq!(result, (Err("boom"), Duration::from_millis(10)));
    assert!(dropped.get());
}

#[test]
fn join_handle_children_keep_running_after_all_fails() {
    let finished = Rc::new(Cell::new(false));
    virtual_runtime().run({
        let finished = finished.clone();
        async move {
            let slow = jsloop::spawn(async move {
                after(50, ()).await;
                finished.set(true);
                Ok::<(), &str>(())
            });
            let failing = jsloop::spawn(after(10, Err("t2 failed")));
            let flat =
                |h: jsloop::JoinHandle<Result<(), &'static str>>| async move { h.await.unwrap() };
            assert_eq!(all([flat(slow), flat(failing)]).await, Err("t2 failed"));
        }
    });
    assert!(finished.get(), "the detached task ran to completion");
}

#[test]
fn all_settled_reports_every_outcome_in_input_order() {
    let out = virtual_runtime().block_on(all_settled([
        after(20, Err("x")),
        after(5, Ok(1)),
        after(10, Ok(2)),
    ]));
    assert_eq!(out, [Err("x"), Ok(1), Ok(2)]);
    let empty: Vec<Result<(), ()>> =
        jsloop::block_on(all_settled(Vec::<std::future::Ready<_>>::new()));
    assert!(empty.is_empty());
}

#[test]
fn race_settles_like_the_first_child_even_a_failure_and_ties_go_to_input_order() {
    let rt = virtual_runtime();
    assert_eq!(
        rt.block_on(race([after(20, Ok(1)), after(5, Err("fast failure"))])),
        Err("fast failure")
    );
    assert_eq!(rt.block_on(race([after(5, "first"), after(5, "second")])), "first");
}

#[test]
fn race_of_nothing_never_settles_and_any_of_nothing_fails_at_once() {
    let rt = virtual_runtime();
    let never = rt.block_on(async {
        jsloop::time::timeout(Duration::from_secs(3600), race(Vec::<std::future::Ready<()>>::new()))
            .await
    });
    assert!(never.is_err());
    let none = rt.block_on(any(Vec::<std::future::Ready<Result<(), ()>>>::new()));
    assert!(none.unwrap_err().errors().is_empty());
}

#[test]
fn any_skips_failures_and_aggregates_them_in_input_order() {
    let rt = virtual_runtime();
    assert_eq!(rt.block_on(any([after(5, Err("a")), after(10, Ok(2)), after(1, Err("c"))])), Ok(2));
    let error =
        rt.block_on(any([after(20, Err::<(), _>("first")), after(5, Err("second"))])).unwrap_err();
    assert_eq!(error.errors(), ["first", "second"]);
    assert_eq!(error.to_string(), "All promises were rejected");
    assert_eq!(error.into_errors(), vec!["first", "second"]);
}

/// A child that counts its polls and completes once its flag is set.
struct Gate {
    index: usize,
    polls: Rc<Cell<usize>>,
    open: Rc<RefCell<Vec<bool>>>,
    wakers: Rc<RefCell<Vec<Option<Waker>>>>,
}

impl Future for Gate {
    type Output = Result<usize, ()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.polls.set(self.polls.get() + 1);
        if self.open.borrow()[self.index] {
            return Poll::Ready(Ok(self.index));
        }
        self.wakers.borrow_mut()[self.index] = Some(cx.waker().clone());
        Poll::Pending
    }
}

#[test]
#[cfg_attr(miri, ignore = "too slow under Miri")]
fn a_wake_polls_only_its_own_child_across_a_hundred_thousand() {
    const N: usize = 100_000;
    let (children, polls, open, wakers) = gates(N);
    let out = jsloop::block_on({
        async move {
            let opener = jsloop::spawn(async move {
                for index in (0..N).rev() {
                    open.borrow_mut()[index] = true;
                    let waker = wakers.borrow_mut()[index].take();
                    waker.unwrap().wake();
                    jsloop::yield_now().await;
                }
            });
            let out = all(children).await;
            opener.await.unwrap();
            out
        }
    });
    assert_eq!(out.unwrap(), (0..N).collect::<Vec<_>>());
    // Each child: one poll at the start, one after its own wake.
    assert_eq!(polls.get(), 2 * N);
}

#[test]
fn nested_combinators() {
    let rt = virtual_runtime();
    type Child = Pin<Box<dyn Future<Output = Result<i32, AggregateError<&'static str>>>>>;
    let out = rt.block_on(all([
        Box::pin(any([after(5, Err("x")), after(10, Ok(1))])) as Child,
        Box::pin(async { race([after(3, Ok(2)), after(1, Ok(3))]).await }),
    ]));
    assert_eq!(out, Ok(vec![1, 3]));
}

#[test]
fn all_of_aborted_task_handles_reports_the_join_error() {
    jsloop::block_on(async {
        let handle = jsloop::spawn(std::future::pending::<()>());
        handle.abort();
        let out = all([handle]).await;
        assert!(out.unwrap_err().is_aborted());
    });
}

#[test]
fn a_panicking_child_panics_the_task_awaiting_the_combinator() {
    jsloop::block_on(async {
        let task = jsloop::spawn(async {
            let boom = async {
                if jsloop::time::Instant::now().elapsed() < Duration::from_secs(3600) {
                    panic!("child panicked");
                }
                Ok(())
            };
            let _ = all([Box::pin(boom) as Pin<Box<dyn Future<Output = Result<(), ()>>>>]).await;
        });
        assert!(task.await.unwrap_err().is_panic());
    });
}

type Opened = Rc<RefCell<Vec<bool>>>;
type GateWakers = Rc<RefCell<Vec<Option<Waker>>>>;

/// `n` gates, their shared poll counter, open flags and wakers.
fn gates(n: usize) -> (Vec<Gate>, Rc<Cell<usize>>, Opened, GateWakers) {
    let polls = Rc::new(Cell::new(0));
    let open = Rc::new(RefCell::new(vec![false; n]));
    let wakers = Rc::new(RefCell::new(vec![None; n]));
    let children = (0..n)
        .map(|index| Gate {
            index,
            polls: polls.clone(),
            open: open.clone(),
            wakers: wakers.clone(),
        })
        .collect();
    (children, polls, open, wakers)
}

#[test]
fn tuple_all_keeps_types_and_order_and_polls_only_woken_children() {
    let (children, polls, open, wakers) = gates(12);
    let [g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11]: [Gate; 12] =
        children.try_into().ok().unwrap();
    let out = jsloop::block_on(async move {
        let opener = jsloop::spawn(async move {
            for index in [5, 0, 11, 3, 1, 2, 4, 6, 7, 8, 9, 10] {
                open.borrow_mut()[index] = true;
                wakers.borrow_mut()[index].take().unwrap().wake();
                jsloop::yield_now().await;
            }
        });
        let out = tuple::all((g0, g1, g2, g3, g4, g5, g6, g7, g8, g9, g10, g11)).await;
        opener.await.unwrap();
        out
    });
    assert_eq!(out, Ok((0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)));
    assert_eq!(polls.get(), 24, "one first poll and one poll after its wake, per child");

    let mixed = jsloop::block_on(tuple::all((
        async { Ok::<_, String>(1u8) },
        async { Ok("two") },
        Promise::resolve(3.0),
    )));
    assert_eq!(mixed, Ok((1u8, "two", 3.0)));
}

#[test]
fn tuple_all_fails_fast_and_drops_the_rest() {
    let dropped = Rc::new(Cell::new(false));
    struct Flag(Rc<Cell<bool>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            self.0.set(true);
        }
    }
    let flag = Flag(dropped.clone());
    let out = virtual_runtime().block_on(tuple::all((
        async move {
            let _flag = flag;
            after(100, Ok::<_, &str>(1)).await
        },
        after(1, Err::<(), _>("fast failure")),
    )));
    assert_eq!(out, Err("fast failure"));
    assert!(dropped.get());
}

#[test]
fn tuple_all_settled_race_and_any() {
    let rt = virtual_runtime();
    let settled = rt.block_on(tuple::all_settled((
        after(20, Ok::<_, &str>("late")),
        after(10, Err::<u8, _>("failed")),
        after(1, 7usize),
    )));
    assert_eq!(settled, (Ok("late"), Err("failed"), 7));

    let winner = rt.block_on(tuple::race((after(20, "slow"), after(5, "fast"), after(10, "mid"))));
    assert_eq!(winner, "fast");
    // Already-finished children: the first in tuple order wins.
    assert_eq!(rt.block_on(tuple::race((async { 1 }, async { 2 }))), 1);

    let first_ok = rt.block_on(tuple::any((after(1, Err("a")), after(9, Ok(2)), after(5, Ok(3)))));
    assert_eq!(first_ok, Ok(3));
    let none = rt.block_on(tuple::any((after(9, Err::<(), _>("z")), after(1, Err("x")))));
    assert_eq!(none.unwrap_err().errors(), ["z", "x"], "input order, not completion order");
}

#[test]
fn a_child_that_keeps_waking_itself_does_not_trap_the_combinator() {
    // The busy child wakes itself on each of its first 100 polls. Each poll
    // of `race` must end after one batch of wakes (returning to the loop)
    // rather than re-polling that child until it is done.
    let busy_polls = Rc::new(Cell::new(0));
    let busy = {
        let busy_polls = busy_polls.clone();
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            busy_polls.set(busy_polls.get() + 1);
            if busy_polls.get() < 100 {
                cx.waker().wake_by_ref();
                return Poll::Pending;
            }
            Poll::Ready("busy")
        })
    };
    let mut racing = Box::pin(race([
        Box::pin(busy) as Pin<Box<dyn Future<Output = &str>>>,
        Box::pin(std::future::pending()),
    ]));
    let race_polls = Rc::new(Cell::new(0));
    let counted = {
        let race_polls = race_polls.clone();
        std::future::poll_fn(move |cx: &mut Context<'_>| {
            race_polls.set(race_polls.get() + 1);
            racing.as_mut().poll(cx)
        })
    };
    assert_eq!(jsloop::block_on(counted), "busy");
    assert!(race_polls.get() >= 50, "race polled {} times", race_polls.get());
}

#[test]
fn then_promise_follows_the_returned_promise_with_v8_s_two_extra_ticks() {
    // Node prints: t1, t2, rejection passes through, t3, followed 2, t4,
    // inner rejection: inner, t5.
    let log = Rc::new(RefCell::new(Vec::new()));
    jsloop::run({
        let log = log.clone();
        async move {
            let push = |line: &'static str| {
                let log = log.clone();
                move |_| log.borrow_mut().push(line.to_string())
            };
            let l = log.clone();
            Promise::<i32, String>::resolve(1)
                .then_promise(|v| Promise::resolve(v + 1))
                .then(move |v| l.borrow_mut().push(format!("followed {v}")));
            Promise::<(), String>::resolve(())
                .then(push("t1"))
                .then(push("t2"))
                .then(push("t3"))
                .then(push("t4"))
                .then(push("t5"));
            let l = log.clone();
            Promise::<i32, String>::reject("e".into()).then_promise(Promise::resolve).catch(
                move |_| {
                    l.borrow_mut().push("rejection passes through".into());
                    0
                },
            );
            let l = log.clone();
            Promise::<i32, String>::resolve(1)
                .then_promise(|_| Promise::reject("inner".to_string()))
                .catch(move |e| {
                    l.borrow_mut().push(format!("inner rejection: {e}"));
                    0
                });
        }
    });
    assert_eq!(
        *log.borrow(),
        [
            "t1",
            "t2",
            "rejection passes through",
            "t3",
            "followed 2",
            "t4",
            "inner rejection: inner",
            "t5"
        ]
    );
}

#[test]
fn in_order_yields_each_output_in_input_order_errors_in_place() {
    use futures::StreamExt;
    jsloop::run(async {
        let slow = jsloop::spawn(async {
            jsloop::time::sleep(std::time::Duration::from_millis(5)).await;
            "slow"
        });
        let aborted = jsloop::spawn(async {
            jsloop::time::sleep(std::time::Duration::from_secs(3600)).await;
            "never"
        });
        aborted.abort();
        let fast = jsloop::spawn(async { "fast" });
        let outputs: Vec<_> = jsloop::promise::in_order([slow, aborted, fast]).collect().await;
        assert_eq!(outputs[0].as_ref().ok(), Some(&"slow"));
        assert!(outputs[1].as_ref().is_err_and(|e| e.is_aborted()), "{:?}", outputs[1]);
        assert_eq!(outputs[2].as_ref().ok(), Some(&"fast"));
        let empty = jsloop::promise::in_order(Vec::<std::future::Ready<()>>::new());
        assert_eq!(futures::Stream::size_hint(&empty), (0, Some(0)));
        assert_eq!(empty.collect::<Vec<()>>().await.len(), 0);
    });
}

/// A value that cannot be cloned, for `Promise::take`.
#[derive(Debug, PartialEq)]
struct Unique(u32);

#[test]
fn take_moves_a_non_clone_outcome_out_with_awaits_tick() {
    let log = Rc::new(RefCell::new(Vec::new()));
    jsloop::run({
        let log = log.clone();
        async move {
            let (promise, resolve, _reject) = Promise::<Unique, Unique>::with_resolvers();
            resolve(Unique(7));
            let l = log.clone();
            jsloop::queue_microtask(move || l.borrow_mut().push("microtask queued first"));
            let value = promise.take().await;
            log.borrow_mut().push("taken");
            assert_eq!(value, Ok(Unique(7)));
            let rejected = Promise::<Unique, Unique>::reject(Unique(1)).take().await;
            assert_eq!(rejected, Err(Unique(1)));
        }
    });
    assert_eq!(*log.borrow(), ["microtask queued first", "taken"]);
}

#[test]
fn reading_a_taken_promise_again_panics_naming_take() {
    let result = std::panic::catch_unwind(|| {
        jsloop::run(async {
            let promise = Promise::<u32, ()>::resolve(1);
            let other = promise.clone();
            assert_eq!(promise.take().await, Ok(1));
            let _ = other.await;
        })
    });
    let message = common::panic_message(result.expect_err("awaiting a taken promise panics"));
    assert!(message.contains("Promise::take"), "{message}");
}
