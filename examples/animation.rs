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
//! `cargo run --release --example animation [-- --no-long-tasks] [--run-for MS]`
//!
//! - `--no-long-tasks`: no long task, to see the pacing itself (its jitter
//!   on this machine): the frame version's worst interval should stay
//!   within one period of 1/60 s.
//! - `--run-for MS`: how long each version runs, in milliseconds (default
//!   3000).
//!
//! "Empty slots" counts, for both versions alike, the 1/60 s slots between
//! the first frame and the last that no frame was drawn in; "missed slots"
//! is what the frame phase itself reported (`FrameInfo::missed`).

use std::cell::RefCell;
use std::io::Write;
use std::rc::Rc;
use std::time::{Duration, Instant};

use jsloop::frame::request_animation_frame;
use jsloop::{clear_interval, set_interval};

/// How long each version runs, unless `--run-for` says.
const RUN_FOR: Duration = Duration::from_secs(3);
/// The slots `empty slots` counts in.
const PERIOD: Duration = Duration::from_nanos(1_000_000_000 / 60);
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
    /// The 1/60 s slots from the first frame to the last with no frame
    /// in them: each frame is put in its nearest slot counted from the
    /// first (nearest, so that a frame a little late or early is not
    /// taken for a missed one).
    fn empty_slots(&self) -> u64 {
        let Some(&first) = self.drawn.first() else { return 0 };
        let mut slots: Vec<u64> = self
            .drawn
            .iter()
            .map(|&at| ((at - first).as_secs_f64() / PERIOD.as_secs_f64()).round() as u64)
            .collect();
        slots.dedup();
        slots.last().map_or(0, |last| last + 1 - slots.len() as u64)
    }

    fn report(&self, name: &str) {
        let gaps: Vec<Duration> = self.drawn.windows(2).map(|w| w[1] - w[0]).collect();
        let mean = gaps.iter().sum::<Duration>() / gaps.len().max(1) as u32;
        let worst = gaps.iter().max().copied().unwrap_or_default();
        println!(
            "{name:<14} {:>6} {:>12.2} ms {:>12.2} ms {:>11} {:>13}",
            self.drawn.len(),
            mean.as_secs_f64() * 1e3,
            worst.as_secs_f64() * 1e3,
            self.empty_slots(),
            if name.starts_with("frame") { self.missed.to_string() } else { "?".to_owned() },
        );
    }
}

/// The command line: `--no-long-tasks`, `--run-for MS`.
struct Options {
    long_tasks: bool,
    run_for: Duration,
}

impl Options {
    fn from_args() -> Options {
        let mut options = Options { long_tasks: true, run_for: RUN_FOR };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--no-long-tasks" => options.long_tasks = false,
                "--run-for" => {
                    let ms = args.next().and_then(|ms| ms.parse().ok());
                    options.run_for = Duration::from_millis(ms.expect("--run-for MS"));
                }
                other => panic!("unknown argument {other:?} (--no-long-tasks, --run-for MS)"),
            }
        }
        options
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

/// Draws one frame and asks for the next until `run_for` is over.
fn next_frame(pace: Rc<RefCell<Pace>>, start: Instant, run_for: Duration) {
    request_animation_frame(move |frame| {
        let now = Instant::now();
        {
            let mut pace = pace.borrow_mut();
            pace.drawn.push(now);
            pace.missed += frame.missed();
        }
        draw("frames", start, now);
        if now - start < run_for {
            next_frame(pace, start, run_for);
        }
    });
}

/// Runs one version of the animation, with its long tasks if asked, to
/// the end.
fn animate(options: &Options, version: impl FnOnce(Rc<RefCell<Pace>>, Instant)) -> Pace {
    let pace = Rc::new(RefCell::new(Pace::default()));
    jsloop::run({
        let pace = pace.clone();
        let (long_tasks, run_for) = (options.long_tasks, options.run_for);
        async move {
            let start = Instant::now();
            if long_tasks {
                let long_tasks = set_interval(LONG_TASK_EVERY, long_task);
                jsloop::set_timeout(run_for, move || clear_interval(&long_tasks));
            }
            version(pace, start);
        }
    });
    println!();
    Rc::try_unwrap(pace).ok().expect("the loop has ended").into_inner()
}

fn main() {
    let options = Options::from_args();
    let run_for = options.run_for;
    let frames = animate(&options, |pace, start| next_frame(pace, start, run_for));
    let interval = animate(&options, |pace, start| {
        let ticks = set_interval(INTERVAL, move || {
            let now = Instant::now();
            pace.borrow_mut().drawn.push(now);
            draw("interval", start, now);
        });
        jsloop::set_timeout(run_for, move || clear_interval(&ticks));
    });
    println!();
    println!(
        "{:<14} {:>6} {:>15} {:>15} {:>11} {:>13}",
        "paced by", "frames", "mean interval", "worst interval", "empty slots", "missed slots"
    );
    frames.report("frame phase");
    interval.report("set_interval");
    let slots = run_for.as_secs_f64() * 60.0;
    let long_tasks = if options.long_tasks {
        format!("a long task of {LONG_TASK:?} every {LONG_TASK_EVERY:?}")
    } else {
        "no long tasks".to_owned()
    };
    println!("({slots:.0} slots of 1/60 s in {run_for:?}; {long_tasks})");
}
