//! The frame phase's bookkeeping against a microtask's: 10 000 callbacks
//! requested per frame, over 100 frames, under virtual time.
//!
//! | group             | one round                                                           |
//! |-------------------|---------------------------------------------------------------------|
//! | `animation_frame` | 10 000 × `request_animation_frame(f)`, then the frame that runs them |
//! | `queue_microtask` | 10 000 × `queue_microtask(f)`, then `yield_now` behind them           |
//!
//! One criterion iteration is 100 rounds on a reused virtual-time runtime
//! (`Builder::virtual_time`), so a frame's slot comes at once instead of
//! 1/60 s later and what is timed is the loop's work alone. Both groups
//! queue the same closure (it counts into an `Rc<Cell>`), so the
//! difference is what a frame costs over a microtask: the request list and
//! its keys, the frame's info, a checkpoint after each callback. The
//! summary prints ns per callback and the ratio (target: <= 60 ns per
//! callback, "no more than a microtask").
//!
//! `cargo test -p jsloop-benches --benches` runs each routine once, with
//! 100 callbacks over 10 frames.

mod common;

use std::cell::Cell;
use std::path::Path;
use std::rc::Rc;
use std::time::{Duration, Instant, SystemTime};

use criterion::{Criterion, SamplingMode, Throughput};
use futures::StreamExt;
use jsloop::frame::{frames, request_animation_frame};

const DEBUG: bool = cfg!(debug_assertions);
/// Callbacks requested per frame (per round).
const PER_FRAME: usize = if DEBUG { 100 } else { 10_000 };
/// Rounds per criterion iteration.
const FRAMES: usize = if DEBUG { 10 } else { 100 };
const CALLBACKS: usize = PER_FRAME * FRAMES;
/// ns per frame callback.
const TARGET_NS: f64 = 60.0;

const GROUPS: [&str; 2] = ["animation_frame", "queue_microtask"];

/// `FRAMES` frames of `PER_FRAME` callbacks each; the stream's request
/// comes after them, so the task resumes once the frame has run them all.
async fn animation_frames(ran: &Rc<Cell<usize>>) {
    let mut next_frame = frames();
    for _ in 0..FRAMES {
        for _ in 0..PER_FRAME {
            let ran = ran.clone();
            request_animation_frame(move |_| ran.set(ran.get() + 1));
        }
        next_frame.next().await;
    }
}

/// The same rounds as microtasks: `yield_now` queues the task behind them.
async fn microtasks(ran: &Rc<Cell<usize>>) {
    for _ in 0..FRAMES {
        for _ in 0..PER_FRAME {
            let ran = ran.clone();
            jsloop::queue_microtask(move || ran.set(ran.get() + 1));
        }
        jsloop::yield_now().await;
    }
}

fn bench(c: &mut Criterion) {
    let rt = jsloop::Runtime::builder().virtual_time(true).build().expect("runtime");
    let mut group = c.benchmark_group("frames");
    group.throughput(Throughput::Elements(CALLBACKS as u64));
    group.sampling_mode(SamplingMode::Flat);
    group.sample_size(20);
    group.warm_up_time(Duration::from_secs(1));
    group.measurement_time(Duration::from_secs(4));
    for name in GROUPS {
        group.bench_function(name, |b| {
            b.iter_custom(|iters| {
                let ran = Rc::new(Cell::new(0));
                let start = Instant::now();
                for _ in 0..iters {
                    rt.block_on(async {
                        match name {
                            "animation_frame" => animation_frames(&ran).await,
                            _ => microtasks(&ran).await,
                        }
                    });
                }
                let elapsed = start.elapsed();
                assert_eq!(ran.get(), CALLBACKS * iters as usize, "every callback ran once");
                elapsed
            });
        });
    }
    group.finish();
}

fn summary(dir: &Path, since: SystemTime) {
    let per_callback =
        |name: &str| common::median_ns(dir, "frames", name, since).map(|ns| ns / CALLBACKS as f64);
    let (Some(frame), Some(microtask)) = (per_callback(GROUPS[0]), per_callback(GROUPS[1])) else {
        return; // test or list mode, or filtered out
    };
    let verdict = if frame <= TARGET_NS { "met" } else { "MISSED" };
    println!();
    println!(
        "Summary: median ns per callback, {PER_FRAME} per frame over {FRAMES} frames \
         (criterion estimates in {})",
        dir.display()
    );
    println!();
    println!("| callback | ns | frame / microtask | target |");
    println!("|---|---:|---:|---|");
    println!(
        "| request_animation_frame | {frame:.1} | {:.2}x | <= {TARGET_NS} ns: {verdict} |",
        frame / microtask
    );
    println!("| queue_microtask | {microtask:.1} | 1.00x | - |");
}

fn main() {
    let since = SystemTime::now();
    let output = common::criterion_dir();
    let mut c = common::criterion(&output);
    bench(&mut c);
    c.final_summary();
    summary(&output.0, since);
}
