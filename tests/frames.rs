//! The frame phase (`jsloop::frame`) against the HTML spec's rules for
//! `requestAnimationFrame` (Node has none): one timestamp per frame, a
//! callback requested in a callback runs next frame, a callback's
//! microtasks before the next callback, the render step after them all,
//! no catch-up burst after a long task, cancel within the same frame. Under
//! virtual time these are exact.

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::time::Duration;

use futures::StreamExt;
use jsloop::frame::{FrameInfo, cancel_animation_frame, frames, request_animation_frame};
use jsloop::{Runtime, queue_microtask};

/// One slot at the default 60 frames per second.
const PERIOD: Duration = Duration::from_nanos(1_000_000_000 / 60);

type Log = Rc<RefCell<Vec<String>>>;

fn log(log: &Log, entry: impl Into<String>) {
    log.borrow_mut().push(entry.into());
}

fn virtual_runtime() -> Runtime {
    Runtime::builder().virtual_time(true).build().unwrap()
}

#[test]
fn every_callback_of_a_frame_sees_one_timestamp_and_number() {
    let seen: Rc<RefCell<Vec<FrameInfo>>> = Rc::default();
    virtual_runtime().run({
        let seen = seen.clone();
        async move {
            for _ in 0..3 {
                let seen = seen.clone();
                request_animation_frame(move |frame| seen.borrow_mut().push(frame));
            }
        }
    });
    let seen = seen.borrow();
    assert_eq!(seen.len(), 3);
    assert!(seen.iter().all(|frame| *frame == seen[0]), "{seen:?}");
    assert_eq!(seen[0].number(), 1);
    assert_eq!(seen[0].missed(), 0);
}

#[test]
fn a_callback_requested_in_a_callback_runs_in_the_next_frame() {
    let seen: Rc<RefCell<Vec<FrameInfo>>> = Rc::default();
    virtual_runtime().run({
        let seen = seen.clone();
        async move {
            request_animation_frame(move |first| {
                seen.borrow_mut().push(first);
                request_animation_frame(move |second| seen.borrow_mut().push(second));
            });
        }
    });
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2);
    assert_eq!(seen[1].number(), seen[0].number() + 1);
    assert_eq!(seen[1].timestamp() - seen[0].timestamp(), PERIOD);
    assert_eq!(seen[1].missed(), 0);
}

#[test]
fn a_callbacks_microtasks_run_before_the_next_callback_and_the_render_step_after_all() {
    let events: Log = Rc::default();
    let rt = Runtime::builder()
        .virtual_time(true)
        .on_render({
            let events = events.clone();
            move |frame| log(&events, format!("render {}", frame.number()))
        })
        .build()
        .unwrap();
    rt.run({
        let events = events.clone();
        async move {
            for name in ["a", "b"] {
                let events = events.clone();
                request_animation_frame(move |_| {
                    log(&events, name);
                    let events = events.clone();
                    queue_microtask(move || log(&events, format!("{name}'s microtask")));
                });
            }
        }
    });
    assert_eq!(*events.borrow(), ["a", "a's microtask", "b", "b's microtask", "render 1"]);
}

#[test]
fn a_long_task_gives_one_late_frame_that_counts_the_missed_slots_not_a_burst() {
    let seen: Rc<RefCell<Vec<FrameInfo>>> = Rc::default();
    virtual_runtime().run({
        let seen = seen.clone();
        async move {
            let again = seen.clone();
            request_animation_frame(move |late| {
                again.borrow_mut().push(late);
                request_animation_frame(move |next| again.borrow_mut().push(next));
            });
            // A long task: 100 ms of (virtual) time pass before the loop
            // gets to the frame due 16.7 ms in.
            drop(jsloop::time::advance(Duration::from_millis(100)));
        }
    });
    let seen = seen.borrow();
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Due at slot 1; run at slot 6 (100 ms / 16.7 ms): five slots missed.
    assert_eq!((seen[0].number(), seen[0].missed()), (1, 5));
    assert_eq!(seen[1].timestamp() - seen[0].timestamp(), PERIOD);
    assert_eq!((seen[1].number(), seen[1].missed()), (2, 0));
}

#[test]
fn cancel_within_the_same_frame_skips_the_callback_and_cancel_after_it_ran_is_a_no_op() {
    type Slot = Rc<RefCell<Option<jsloop::frame::FrameRequest>>>;
    let events: Log = Rc::default();
    virtual_runtime().run({
        let events = events.clone();
        async move {
            let (first, later): (Slot, Slot) = Default::default();
            let request = {
                let (events, first, later) = (events.clone(), first.clone(), later.clone());
                request_animation_frame(move |_| {
                    log(&events, "first");
                    // Cancels a callback of this same frame, not run yet.
                    cancel_animation_frame(later.borrow().as_ref().unwrap());
                    let events = events.clone();
                    request_animation_frame(move |_| {
                        // `first` ran last frame: cancelling it does nothing,
                        // and takes nothing else out.
                        first.borrow().as_ref().unwrap().cancel();
                        log(&events, "next frame");
                    });
                })
            };
            *first.borrow_mut() = Some(request);
            let ran = events.clone();
            *later.borrow_mut() =
                Some(request_animation_frame(move |_| log(&ran, "cancelled one ran")));
        }
    });
    assert_eq!(*events.borrow(), ["first", "next frame"]);
}

#[test]
fn a_request_made_and_cancelled_during_a_frame_never_runs_and_leaves_the_frame_whole() {
    let events: Log = Rc::default();
    virtual_runtime().run({
        let events = events.clone();
        async move {
            for name in ["a", "b"] {
                let events = events.clone();
                request_animation_frame(move |frame| {
                    log(&events, format!("{name} {}", frame.number()));
                    if name == "a" {
                        // For the next frame, taken back at once: the
                        // frame's own `b` still runs, the new one never.
                        let ran = events.clone();
                        request_animation_frame(move |_| log(&ran, "cancelled one ran")).cancel();
                    }
                });
            }
        }
    });
    assert_eq!(*events.borrow(), ["a 1", "b 1"]);
}

#[test]
fn a_panicking_callback_is_reported_and_the_frames_other_callbacks_and_render_still_run() {
    let events: Log = Rc::default();
    let rt = Runtime::builder()
        .virtual_time(true)
        .on_uncaught_panic({
            let events = events.clone();
            move |_| log(&events, "uncaught")
        })
        .on_render({
            let events = events.clone();
            move |frame| {
                log(&events, format!("render {}", frame.number()));
                if frame.number() == 1 {
                    panic!("render failed");
                }
            }
        })
        .build()
        .unwrap();
    rt.run({
        let events = events.clone();
        async move {
            request_animation_frame(|_| panic!("callback failed"));
            let events = events.clone();
            request_animation_frame(move |_| {
                log(&events, "second");
                let events = events.clone();
                request_animation_frame(move |_| log(&events, "next frame"));
            });
        }
    });
    assert_eq!(
        *events.borrow(),
        ["uncaught", "second", "render 1", "uncaught", "next frame", "render 2"]
    );
}

#[test]
fn bad_frame_rates_are_an_error_from_build() {
    for rate in [0, 1_001, u32::MAX] {
        let error = Runtime::builder().frame_rate(rate).build().unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
        assert!(error.to_string().contains("frame_rate"), "{error}");
    }
    for rate in [1, 1_000] {
        Runtime::builder().frame_rate(rate).build().unwrap();
    }
}

#[test]
fn a_million_requests_in_one_frame_each_run_once() {
    let count = Rc::new(Cell::new(0u32));
    let frames_seen = Rc::new(Cell::new(0u64));
    virtual_runtime().run({
        let (count, frames_seen) = (count.clone(), frames_seen.clone());
        async move {
            for _ in 0..1_000_000 {
                let (count, frames_seen) = (count.clone(), frames_seen.clone());
                request_animation_frame(move |frame| {
                    count.set(count.get() + 1);
                    frames_seen.set(frames_seen.get().max(frame.number()));
                });
            }
        }
    });
    assert_eq!(count.get(), 1_000_000);
    assert_eq!(frames_seen.get(), 1);
}

#[test]
fn the_frames_stream_is_paced_like_request_animation_frame() {
    let rt = virtual_runtime();
    let seen = rt.block_on(async { frames().take(3).collect::<Vec<_>>().await });
    let numbers: Vec<u64> = seen.iter().map(FrameInfo::number).collect();
    assert_eq!(numbers, [1, 2, 3]);
    assert_eq!(seen[2].timestamp() - seen[0].timestamp(), PERIOD * 2);
    assert!(seen.iter().all(|frame| frame.missed() == 0));
}

#[test]
fn a_request_keeps_run_alive_and_an_idle_loop_does_not_wait_for_frames() {
    let renders = Rc::new(Cell::new(0));
    let rt = Runtime::builder()
        .on_render({
            let renders = renders.clone();
            move |_| renders.set(renders.get() + 1)
        })
        .build()
        .unwrap();
    // Real time: nothing requested, so `run` returns without a frame.
    let start = std::time::Instant::now();
    rt.run(async {});
    assert_eq!(renders.get(), 0);
    // A request keeps the loop going until its frame (a real slot later).
    let ran = Rc::new(Cell::new(false));
    rt.run({
        let ran = ran.clone();
        async move {
            request_animation_frame(move |_| ran.set(true));
        }
    });
    assert!(ran.get());
    assert_eq!(renders.get(), 1);
    assert!(start.elapsed() < Duration::from_secs(10));
}

#[test]
fn a_dropped_frames_stream_takes_its_request_back() {
    let rt = virtual_runtime();
    rt.run(async {
        let mut stream = frames();
        assert!(futures::poll!(stream.next()).is_pending());
        drop(stream); // no request left: the loop may end
    });
}
