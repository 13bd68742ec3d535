//! Shared by the bench binaries (not a bench itself).

// Every bench binary compiles this module and uses only part of it.
#![allow(dead_code)]

pub mod counting;

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use criterion::Criterion;

/// Where criterion writes: `$CRITERION_HOME`, else `$CARGO_TARGET_DIR/criterion`,
/// else `<target dir of this executable>/criterion` (set explicitly on the
/// `Criterion`, since criterion itself would ask `cargo metadata`, which does
/// not know about `--target-dir`). The flag says whether the directory was
/// derived from the executable's location.
pub fn criterion_dir() -> (PathBuf, bool) {
    if let Some(home) = std::env::var_os("CRITERION_HOME") {
        return (PathBuf::from(home), false);
    }
    if let Some(target) = std::env::var_os("CARGO_TARGET_DIR") {
        return (Path::new(&target).join("criterion"), false);
    }
    // <target>/<profile>/deps/<bench>-<hash>
    let exe = std::env::current_exe().expect("current exe");
    let target = exe.ancestors().nth(3).expect("bench exe lives in <target>/<profile>/deps");
    (target.join("criterion"), true)
}

/// A `Criterion` configured from the command line, writing to `dir` (from
/// [`criterion_dir`]) when that had to be derived.
pub fn criterion((dir, set_dir): &(PathBuf, bool)) -> Criterion {
    let c = Criterion::default().configure_from_args();
    if *set_dir { c.output_directory(dir) } else { c }
}

/// Median ns per iteration from `<dir>/<group>/<function>/new/estimates.json`,
/// if criterion wrote it during this run.
pub fn median_ns(dir: &Path, group: &str, function: &str, since: SystemTime) -> Option<f64> {
    // Criterion's directory names replace characters unsafe in paths.
    let clean = |s: &str| {
        s.chars()
            .map(|c| match c {
                '?' | '"' | '/' | '\\' | '*' | '<' | '>' | ':' | '|' | '^' => '_',
                c => c,
            })
            .collect::<String>()
    };
    let path = dir.join(clean(group)).join(clean(function)).join("new").join("estimates.json");
    let meta = std::fs::metadata(&path).ok()?;
    if meta.modified().ok()? < since {
        return None; // stale: from an earlier run
    }
    let text = std::fs::read_to_string(&path).ok()?;
    // Tiny extraction instead of a JSON dependency:
    // {"mean":{...},"median":{"confidence_interval":{...},"point_estimate":123.4,...
    let median = &text[text.find("\"median\"")?..];
    let value = &median[median.find("\"point_estimate\"")? + "\"point_estimate\"".len()..];
    let value = value.trim_start_matches([':', ' ']);
    let end = value.find([',', '}'])?;
    value[..end].trim().parse().ok()
}

/// Whether the bench's manual rounds run, and criterion's filter (its
/// first positional argument). The rounds run only under `cargo bench`
/// (which passes `--bench`), not under `cargo test --benches`, `--list` or
/// `--profile-time` (profiling one routine).
pub fn manual_rounds() -> (bool, Option<String>) {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let benching = args.iter().any(|a| a == "--bench")
        && !args.iter().any(|a| a == "--test" || a == "--list" || a == "--profile-time");
    (benching, args.into_iter().find(|a| !a.starts_with('-')))
}
