//! `precious-bench reliability`: the hardening figures of RELIABILITY.md, each part measured
//! by running this binary (or the fuzzer) as child processes against generated inputs:
//! `hostile` (bad files), `kills` (SIGKILL mid-operation), `concurrency` (two processes on
//! one database), `fuzz` (cargo-fuzz targets, via `tests/tools/fuzz`). Each part rewrites
//! its own section, so one can be rerun alone.

use std::path::PathBuf;

use precious_engine::{Error, Result};

use crate::tooling::{repo, today, Section};

mod concurrency;
mod fuzz;
mod hostile;
mod kills;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PartName {
    Hostile,
    Kills,
    Concurrency,
    Fuzz,
}

#[derive(clap::Args)]
pub struct Args {
    /// Parts to run [default: all]
    #[arg(long, value_enum, value_delimiter = ',')]
    pub only: Vec<PartName>,
    /// SIGKILLs per operation (scan, train, trash, restore)
    #[arg(long, default_value_t = 30)]
    pub kills: usize,
    /// Seconds per fuzz target (0: report the last run of tests/tools/fuzz instead)
    #[arg(long, default_value_t = 600)]
    pub fuzz_seconds: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Markdown file whose sections are rewritten [default: RELIABILITY.md]
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

/// One part's result: its Markdown section, its raw figures, and how many findings (crash,
/// hang, lost data) are open. A part with open findings makes the command fail.
pub(crate) struct Part {
    pub markdown: String,
    pub json: serde_json::Value,
    pub open_findings: usize,
}

pub fn run(args: Args, json: bool) -> Result<()> {
    let work = repo().join("target/reliability");
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    let out = args
        .write
        .clone()
        .unwrap_or_else(|| repo().join("RELIABILITY.md"));
    let parts: &[(PartName, &str, &str)] = &[
        (PartName::Hostile, "hostile", "Hostile inputs"),
        (PartName::Kills, "kills", "Kills mid-operation"),
        (
            PartName::Concurrency,
            "concurrency",
            "Two processes, one database",
        ),
        (PartName::Fuzz, "fuzz", "Fuzzing"),
    ];
    let mut all = serde_json::Map::new();
    let mut open = 0;
    for &(name, key, heading) in parts {
        if !args.only.is_empty() && !args.only.contains(&name) {
            continue;
        }
        eprintln!("reliability: {key} ...");
        let dir = work.join(key);
        let part = match name {
            PartName::Hostile => hostile::run(&dir, &args)?,
            PartName::Kills => kills::run(&dir, &args)?,
            PartName::Concurrency => concurrency::run(&dir, &args)?,
            PartName::Fuzz => fuzz::run(&dir, &args)?,
        };
        let marker = format!("reliability {key}");
        let body = format!(
            "_{}; `{}` findings open: {}_\n\n{}",
            today(),
            key,
            part.open_findings,
            part.markdown
        );
        Section {
            marker: &marker,
            command: "precious-bench reliability",
            heading,
        }
        .write(&out, &body, "Reliability")?;
        if !json {
            println!("## {heading}\n\n{}", part.markdown);
        }
        open += part.open_findings;
        all.insert(key.into(), part.json);
    }
    let raw = work.join("reliability.json");
    std::fs::write(
        &raw,
        serde_json::to_vec_pretty(&all).map_err(|e| Error::Invalid(e.to_string()))?,
    )
    .map_err(|e| Error::io(&raw, e))?;
    if json {
        crate::print_json(&all)?;
    } else {
        println!(
            "(written to {}; raw figures in {})",
            out.display(),
            raw.display()
        );
    }
    if open > 0 {
        return Err(Error::Invalid(format!(
            "{open} open findings (crash, hang or lost data)"
        )));
    }
    Ok(())
}
