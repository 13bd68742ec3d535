//! A terminal animation paced two ways: by `request_animation_frame` and by
//! `set_interval(16 ms)`, each for three seconds, with a deliberately long
//! task (100 ms) every second. A bar moves across one line, redrawn in
//! place. At the end it prints, for both, how many frames were drawn, the
//! mean and worst time between two frames, and (for frames) the slots the
//! long tasks made it miss.
//!
//! The interval version drifts: each tick is scheduled a period after the
//! previous one *ran*, so lateness accumulates, and it knows nothing of
//! the slots it lost. The frame version stays on its 60 Hz slots: after a
//! long task it draws one late frame that says how many slots it missed,
//! then goes on at the old pace.
//!
//! `cargo run --example animation`

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jsloop::frame::request_animation_frame;
use jsloop::{clear_interval, set_interval};

/// How long each version runs.
const RUN_FOR: Duration = Duration::from_secs(3);
/// The bar's track, in characters.
const WIDTH: usize = 40;
/// The interval version's period: one 60 Hz frame, rounded as people do.
const INTERVAL: Duration = Duration::from_millis(16);
/// The long task, and how often it comes.
const LONG_TASK: Duration = Duration::from_millis(100);
const LONG_TASK_EVERY: Duration = Duration::from_secs(1);

/// When each frame was drawn, and the slots the frame phase said it missed.
#[derive(Default)]
struct Pace {
    drawn: Vec<Instant>,
    missed: u64,
}

impl Pace {
    fn report(&self, name: &str) {
        let gaps: Vec<Duration> = self.drawn.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<Duration>() / gaps.len().max(1) as u32;
        let worst = gaps.iter().max().copied().unwrap_or_default();
        println!(
            "{name:<14} {:>6} {:>12.2} ms {:>12.2} ms {:>13}",
            self.drawn.len(),
            mean.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            if name.starts_with("frame") { self.missed.to_string() } else { "?".to_owned() },
        );
    }
}

/// Redraws the line: the bar's position follows the time since `start`,
/// one sweep per second.
fn draw(label: &str, start: Instant, now: Instant) {
    let phase = (now - start).as_secs_f64().fract();
    let position = (phase * WIDTH as f64) as usize;
    let bar: String = (0..WIDTH).map(|i| if i == position { '█' } else { '·' }).collect();
    let mut out = std::io::stdout().lock();
    let _ = write!(out, "\r{label:<10} {bar}");
    let _ = out.flush();
}

/// A busy loop: the loop can do nothing else meanwhile.
fn long_task() {
    let until = Instant::now() + LONG_TASK;
    while Instant::now() < until {
        std::hint::spin_loop();
    }
}

/// Draws one frame and asks for the next until `RUN_FOR` is over.
fn next_frame(pace: Rc<RefCell<Pace>>, start: Instant) {
    request_animation_frame(move |frame| {
        let now = Instant::now();
        {
            let mut pace = pace.borrow_mut();
            pace.drawn.push(now);
            pace.missed += frame.missed();
        }
        draw("frames", start, now);
        if now - start < RUN_FOR {
            next_frame(pace, start);
        }
    });
}

/// Runs one version of the animation, with its long tasks, to the end.
fn animate(version: impl FnOnce(Rc<RefCell<Pace>>, Instant)) -> Pace {
    let pace = Rc::new(RefCell::new(Pace::default()));
    jsloop::run({
        let pace = pace.clone();
        async move {
            let start = Instant::now();
            let long_tasks = set_interval(LONG_TASK_EVERY, long_task);
            jsloop::set_timeout(RUN_FOR, move || clear_interval(&long_tasks));
            version(pace, start);
        }
    });
    println!();
    Rc::try_unwrap(pace).ok().expect("the loop has ended").into_inner()
}

fn main() {
    let frames = animate(next_frame);
    let interval = animate(|pace, start| {
        let ticks = set_interval(INTERVAL, move || {
            let now = Instant::now();
            pace.borrow_mut().drawn.push(now);
            draw("interval", start, now);
        });
        jsloop::set_timeout(RUN_FOR, move || clear_interval(&ticks));
    });
    println!();
    println!(
        "{:<14} {:>6} {:>15} {:>15} {:>13}",
        "paced by", "frames", "mean interval", "worst interval", "missed slots"
    );
    frames.report("frame phase");
    interval.report("set_interval");
    let slots = RUN_FOR.as_secs_f64() * 60.0;
    println!(
        "({slots:.0} slots of 1/60 s in {RUN_FOR:?}; a long task of {LONG_TASK:?} every {LONG_TASK_EVERY:?})"
    );
}
