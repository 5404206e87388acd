//! The fuzzing part: runs `tests/tools/fuzz` (cargo-fuzz, one libFuzzer job per target in
//! turn) for `--fuzz-seconds` per target, or with 0 reports its last run, from
//! `target/fuzz/report.json`. Findings are whatever libFuzzer saved: crashes (panics the
//! engine does not catch, or crashes in C), timeouts, out-of-memory, leaks.

use std::path::Path;
use std::process::Command;

use precious_engine::{Error, Result};
use serde::Deserialize;

use super::{Args, Part};
use crate::tooling::{invalid, repo};

#[derive(Deserialize)]
struct Report {
    sanitizer: String,
    seconds_per_target: u64,
    targets: std::collections::BTreeMap<String, Target>,
}

#[derive(Deserialize)]
struct Target {
    seconds: u64,
    executions: u64,
    execs_per_second: u64,
    corpus_entries: u64,
    #[serde(default)]
    coverage: u64,
    #[serde(default)]
    peak_rss_mb: u64,
    findings: Vec<Finding>,
}

#[derive(Deserialize)]
struct Finding {
    kind: String,
    artifact: String,
}

pub(crate) fn run(_dir: &Path, args: &Args) -> Result<Part> {
    let report_path = repo().join("target/fuzz/report.json");
    if args.fuzz_seconds > 0 {
        // The script exits non-zero on findings; the report says which, so read it anyway.
        let status = Command::new(repo().join("tests/tools/fuzz"))
            .arg("--seconds")
            .arg(args.fuzz_seconds.to_string())
            .status()
            .map_err(|e| Error::io("tests/tools/fuzz", e))?;
        eprintln!("reliability: tests/tools/fuzz ended with {status}");
    }
    let text = std::fs::read_to_string(&report_path).map_err(|e| Error::io(&report_path, e))?;
    let report: Report = serde_json::from_str(&text)
        .map_err(|e| invalid(format!("{}: {e}", report_path.display())))?;
    let mut md = format!(
        "cargo-fuzz (libFuzzer), one job per target, {} s each, sanitizer: {}; seeds made by \
         `engine/fuzz/gen_seeds.py` plus `../shared/data/exif-samples`. Run by \
         `tests/tools/fuzz --seconds {}`.\n\n\
         | target | seconds | executions | execs/s | corpus | coverage (edges) | peak RSS | findings |\n\
         |---|--:|--:|--:|--:|--:|--:|--:|\n",
        report.seconds_per_target, report.sanitizer, report.seconds_per_target
    );
    let mut open = 0;
    for (name, t) in &report.targets {
        md.push_str(&format!(
            "| `{name}` | {} | {} | {} | {} | {} | {} MB | {} |\n",
            t.seconds,
            t.executions,
            t.execs_per_second,
            t.corpus_entries,
            t.coverage,
            t.peak_rss_mb,
            t.findings.len()
        ));
        open += t.findings.len();
    }
    let findings: Vec<String> = report
        .targets
        .iter()
        .flat_map(|(name, t)| {
            t.findings
                .iter()
                .map(move |f| format!("- `{name}`: {} ({})\n", f.kind, f.artifact))
        })
        .collect();
    if findings.is_empty() {
        md.push_str("\nFindings: none in this run. Earlier findings, each fixed, are replayed by `engine/tests/fuzz_regressions.rs` (inputs in `engine/tests/fixtures/fuzz/`).\n");
    } else {
        md.push_str("\nFindings (open):\n\n");
        md.extend(findings);
    }
    let json = serde_json::from_str(&text).map_err(|e| invalid(e.to_string()))?;
    Ok(Part {
        markdown: md,
        json,
        open_findings: open,
    })
}
