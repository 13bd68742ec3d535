//! The ports' `console.log`, and the check that compares a port's log with
//! the scenario's `.out` file (and, where `node` is installed, with node's
//! own output of the `.js`).

use std::cell::RefCell;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

thread_local! {
    /// Everything the running port has printed, one line per `out!`.
    static LOG: RefCell<String> = const { RefCell::new(String::new()) };
}

/// `console.log(...)`: appends one formatted line to this thread's log.
macro_rules! out {
    ($($arg:tt)*) => {
        $crate::log::push_line(::std::format!($($arg)*))
    };
}

/// Appends `line` and a newline to this thread's log (used by `out!`).
pub fn push_line(line: String) {
    LOG.with(|log| {
        let mut log = log.borrow_mut();
        log.push_str(&line);
        log.push('\n');
    });
}

/// `busyWait(ms)`: spins on the only thread for at least `ms`.
pub fn busy_wait(ms: u64) {
    let start = std::time::Instant::now();
    while start.elapsed() < std::time::Duration::from_millis(ms) {
        std::hint::spin_loop();
    }
}

fn take_log() -> String {
    LOG.with(|log| log.take())
}

fn conformance_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/conformance")
}

/// `true` if `node --version` runs.
fn have_node() -> bool {
    static HAVE_NODE: OnceLock<bool> = OnceLock::new();
    *HAVE_NODE.get_or_init(|| {
        Command::new("node")
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|status| status.success())
    })
}

/// Starts `node <name>.js` (it runs while the port runs).
fn spawn_node(name: &str) -> Child {
    Command::new("node")
        .arg(format!("{name}.js"))
        .current_dir(conformance_dir())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|error| panic!("{name}: cannot start node: {error}"))
}

/// Runs the port `port` of scenario `name` and asserts that its log equals
/// `tests/conformance/<name>.out` byte for byte. Where `node` is on PATH, it
/// also runs `<name>.js` and asserts that node prints the same `.out`.
pub fn check(name: &str, port: fn()) {
    let out_path = conformance_dir().join(format!("{name}.out"));
    let expected = std::fs::read_to_string(&out_path)
        .unwrap_or_else(|error| panic!("{name}: cannot read {}: {error}", out_path.display()));
    let node = have_node().then(|| spawn_node(name));

    take_log();
    let outcome = catch_unwind(AssertUnwindSafe(port));
    let actual = take_log();
    if let Err(panic) = outcome {
        if let Some(mut node) = node {
            let _ = node.kill();
            let _ = node.wait();
        }
        eprintln!("{name}: the port panicked; its log so far:\n{actual}");
        resume_unwind(panic);
    }
    assert_same_log(name, "the port", &expected, &actual);

    if let Some(node) = node {
        let output = node.wait_with_output().expect("waiting for node");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "{name}: node exited with {}; stderr:\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        assert_same_log(name, "node", &expected, &stdout);
    }
}

/// Panics with a side-by-side listing if `actual` differs from `expected`.
fn assert_same_log(name: &str, who: &str, expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let expected_lines: Vec<&str> = expected.lines().collect();
    let actual_lines: Vec<&str> = actual.lines().collect();
    let width = expected_lines.iter().map(|line| line.len()).max().unwrap_or(0).max(8);
    let mut first_diff = None;
    let mut table = format!("     # | {:<width$} | {who}\n", "expected (.out)");
    for i in 0..expected_lines.len().max(actual_lines.len()) {
        let want = expected_lines.get(i).copied();
        let got = actual_lines.get(i).copied();
        let same = want == got;
        if !same && first_diff.is_none() {
            first_diff = Some(i + 1);
        }
        table.push_str(&format!(
            "{} {:>3} | {:<width$} | {}\n",
            if same { ' ' } else { '!' },
            i + 1,
            want.unwrap_or("<missing>"),
            got.unwrap_or("<missing>"),
        ));
    }
    match first_diff {
        Some(line) => panic!("{name}: {who}'s log differs from the .out at line {line}:\n{table}"),
        // Same lines: only the line endings differ.
        None => panic!(
            "{name}: {who}'s log differs from the .out in line endings:\n{expected:?}\n{actual:?}"
        ),
    }
}

/// A panic payload's message, as JS prints `err.message` (a `panic!` with a
/// literal gives a `&str`, with arguments a `String`).
pub fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .or_else(|| {
            let rejection = payload.downcast_ref::<jsloop::process::UnhandledRejection>()?;
            Some(rejection.message().to_string())
        })
        .unwrap_or_else(|| String::from("(not a message)"))
}
