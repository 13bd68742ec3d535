//! The Chrome Trace Event JSON writer: what Perfetto and `chrome://tracing`
//! read.
//!
//! One process; the loop is thread 1, pool worker `n` thread `n + 2`, each
//! named by a `thread_name` metadata event. Slices are complete events
//! (`"ph":"X"`, start and duration); arrows are flow events (`"s"` in the
//! item that queued, `"f"` with `"bp":"e"` in the item that ran), bound to
//! the slice enclosing their timestamp, and matched by `id` (with the same
//! `cat` and `name`, as Perfetto keys them). Times are microseconds, written
//! to the nanosecond.

use std::collections::HashSet;
use std::fmt::{self, Write as _};
use std::io::{self, Write};

use super::Trace;
use super::recorder::{Event, QueueDepths, Span};
use crate::metrics::Work;

/// The loop's track.
const LOOP_TID: usize = 1;
/// Worker `n`'s track is `FIRST_WORKER_TID + n`.
const FIRST_WORKER_TID: usize = 2;

/// Writes `trace` to `out`.
pub(super) fn write(trace: &Trace, out: &mut impl Write) -> io::Result<()> {
    let arrows = complete_arrows(&trace.events);
    out.write_all(b"{\"traceEvents\":[\n")?;
    write!(
        out,
        "{{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,\"tid\":{LOOP_TID},\
         \"args\":{{\"name\":\"jsloop\"}}}}"
    )?;
    thread_name(out, LOOP_TID, "event loop")?;
    for (n, name) in trace.workers.iter().enumerate() {
        thread_name(out, FIRST_WORKER_TID + n, name)?;
    }
    for event in &trace.events {
        match *event {
            Event::Iteration { n, span } => {
                slice(out, "loop", "iteration", span, LOOP_TID, format_args!("{{\"n\":{n}}}"))?
            }
            Event::Phase { phase, span } => slice(out, "phase", phase, span, LOOP_TID, "{}")?,
            Event::Idle { timeout, span } => {
                let timeout = Millis(timeout);
                slice(
                    out,
                    "loop",
                    "idle",
                    span,
                    LOOP_TID,
                    format_args!("{{\"timeout_ms\":{timeout}}}"),
                )?
            }
            Event::Item { work, span } => {
                slice(out, category(&work), work, span, LOOP_TID, WorkArgs(work))?
            }
            Event::FlowStart { id, at } if arrows.contains(&id) => flow(out, "s", id, at)?,
            Event::FlowEnd { id, at } if arrows.contains(&id) => flow(out, "f", id, at)?,
            Event::FlowStart { .. } | Event::FlowEnd { .. } => {}
            Event::Depths { at, depths } => counters(out, at, depths)?,
            Event::Job { worker, location, span } => {
                let json = Json(location);
                // Formatted in the call: a `format_args!` bound by `let`
                // needs Rust 1.89, above the MSRV.
                slice(
                    out,
                    "pool",
                    format_args!("spawn_blocking job at {location}"),
                    span,
                    FIRST_WORKER_TID + worker,
                    format_args!("{{\"location\":{json}}}"),
                )?
            }
        }
    }
    write!(
        out,
        "\n],\"displayTimeUnit\":\"ms\",\"otherData\":{{\"dropped_events\":{}}}}}\n",
        trace.dropped
    )
}

/// The arrows whose both ends are in the trace: the others lost an end to
/// the ring, or have not arrived yet.
fn complete_arrows(events: &[Event]) -> HashSet<u64> {
    let started: HashSet<u64> = events
        .iter()
        .filter_map(|event| match *event {
            Event::FlowStart { id, .. } => Some(id),
            _ => None,
        })
        .collect();
    events
        .iter()
        .filter_map(|event| match *event {
            Event::FlowEnd { id, .. } if started.contains(&id) => Some(id),
            _ => None,
        })
        .collect()
}

fn thread_name(out: &mut impl Write, tid: usize, name: &str) -> io::Result<()> {
    write!(
        out,
        ",\n{{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":{tid},\"args\":{{\"name\":{}}}}}\
         ,\n{{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":{tid},\
         \"args\":{{\"sort_index\":{tid}}}}}",
        Json(name)
    )
}

fn slice(
    out: &mut impl Write,
    cat: &str,
    name: impl fmt::Display,
    span: Span,
    tid: usize,
    args: impl fmt::Display,
) -> io::Result<()> {
    write!(
        out,
        ",\n{{\"ph\":\"X\",\"cat\":\"{cat}\",\"name\":{},\"pid\":1,\"tid\":{tid},\"ts\":{},\
         \"dur\":{},\"args\":{args}}}",
        Json(name),
        Micros(span.start),
        Micros(span.duration)
    )
}

fn flow(out: &mut impl Write, ph: &str, id: u64, at: u64) -> io::Result<()> {
    // "bp":"e" on the end: bind to the slice around it (the poll), not
    // to the next slice to begin.
    let binding = if ph == "f" { ",\"bp\":\"e\"" } else { "" };
    write!(
        out,
        ",\n{{\"ph\":\"{ph}\"{binding},\"cat\":\"flow\",\"name\":\"queued\",\"id\":{id},\"pid\":1,\
         \"tid\":{LOOP_TID},\"ts\":{}}}",
        Micros(at)
    )
}

fn counters(out: &mut impl Write, at: u64, depths: QueueDepths) -> io::Result<()> {
    let QueueDepths { microtasks, immediates, timers, tasks } = depths;
    write!(
        out,
        ",\n{{\"ph\":\"C\",\"name\":\"queues\",\"pid\":1,\"tid\":{LOOP_TID},\"ts\":{},\"args\":\
         {{\"microtask ring\":{microtasks},\"immediates\":{immediates},\"timers\":{timers},\
         \"tasks alive\":{tasks}}}}}",
        Micros(at)
    )
}

/// A slice's category: task polls, callbacks, or the loop's own wakes.
fn category(work: &Work) -> &'static str {
    match work {
        Work::Task { .. } | Work::Main => "task",
        Work::Wake => "wake",
        _ => "callback",
    }
}

/// An item's arguments: its kind, its task id, where it comes from.
struct WorkArgs(Work);

impl fmt::Display for WorkArgs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let kind = match self.0 {
            Work::Task { .. } => "task",
            Work::Main => "main",
            Work::Timeout(_) => "timeout",
            Work::Interval(_) => "interval",
            Work::Immediate(_) => "immediate",
            Work::Microtask(_) => "microtask",
            Work::NextTick(_) => "next_tick",
            Work::Wake => "wake",
            Work::BeforeExit => "beforeExit",
            Work::AnimationFrame => "animationFrame",
            Work::Render => "render",
        };
        write!(f, "{{\"kind\":\"{kind}\"")?;
        if let Work::Task { id, .. } = self.0 {
            write!(f, ",\"task\":\"{id}\"")?;
        }
        if let Some(location) = self.0.location() {
            write!(f, ",\"location\":{}", Json(location))?;
        }
        f.write_char('}')
    }
}

/// Nanoseconds written as microseconds (`1234.567`).
struct Micros(u64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{:03}", self.0 / 1000, self.0 % 1000)
    }
}

/// A poller timeout in milliseconds (to the microsecond), `null` for none.
struct Millis(Option<std::time::Duration>);

impl fmt::Display for Millis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            // A thousandth of a thousand: `Micros` of microseconds.
            Some(timeout) => write!(f, "{}", Micros(timeout.as_micros() as u64)),
            None => f.write_str("null"),
        }
    }
}

/// Any `Display` as a JSON string, quoted and escaped (a location's path
/// may hold `\` or `"`).
struct Json<T>(T);

impl<T: fmt::Display> fmt::Display for Json<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_char('"')?;
        write!(Escaped(f), "{}", self.0)?;
        f.write_char('"')
    }
}

/// Escapes what is written through it for a JSON string.
struct Escaped<'a, 'b>(&'a mut fmt::Formatter<'b>);

impl fmt::Write for Escaped<'_, '_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for c in s.chars() {
            match c {
                '"' => self.0.write_str("\\\"")?,
                '\\' => self.0.write_str("\\\\")?,
                c if c < ' ' => write!(self.0, "\\u{:04x}", u32::from(c))?,
                c => self.0.write_char(c)?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_are_escaped_for_json() {
        let written = Json("C:\\src\\\"main\".rs\n").to_string();
        assert_eq!(written, r#""C:\\src\\\"main\".rs\u000a""#);
    }

    #[test]
    fn times_are_microseconds_to_the_nanosecond() {
        assert_eq!(Micros(1_234_567).to_string(), "1234.567");
        assert_eq!(Micros(5).to_string(), "0.005");
    }
}
