//! `precious-bench`: the measuring commands (see the library's docs). Run from the checkout:
//! they run the repository's scripts and the `precious` binary beside this one.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use precious_bench::{
    blur, duplicates, index, learn, pick, print_json, refresh, reliability, tooling,
};
use precious_engine::{Engine, Result, ScanOptions, ScanReport};

#[derive(Parser)]
#[command(
    name = "precious-bench",
    about = "Measures precious: speed, learning and hardening, beside baselines."
)]
struct Cli {
    /// Print machine-readable JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

/// The data set commands' database: a scratch file, never the user's own.
#[derive(clap::Args)]
struct Data {
    /// Folders to index first (incrementally); a photo's class is its parent folder's name
    #[arg(required = true, value_name = "DIR")]
    dirs: Vec<PathBuf>,
    /// Database to index into [default: target/bench/<first folder's name>.sqlite]
    #[arg(long, value_name = "PATH")]
    db: Option<PathBuf>,
}

impl Data {
    /// Opens the database and brings the index of the folders up to date.
    fn open(&self, quiet: bool) -> Result<(Engine, ScanReport)> {
        let db = self.db.clone().unwrap_or_else(|| {
            let name = self.dirs[0]
                .file_name()
                .map_or("data".into(), |n| n.to_string_lossy().into_owned());
            tooling::repo().join(format!("target/bench/{name}.sqlite"))
        });
        if let Some(dir) = db.parent() {
            std::fs::create_dir_all(dir).map_err(|e| precious_engine::Error::io(dir, e))?;
        }
        let mut engine = Engine::open(&db)?;
        if !quiet {
            eprintln!("indexing {} into {} ...", list(&self.dirs), db.display());
        }
        let report = engine.scan_folders(&self.dirs, &ScanOptions::default(), &mut |_| {})?;
        Ok((engine, report))
    }
}

fn list(dirs: &[PathBuf]) -> String {
    let names: Vec<String> = dirs.iter().map(|d| d.display().to_string()).collect();
    names.join(", ")
}

#[derive(Subcommand)]
enum Command {
    /// Indexing speed on a phone-like gallery derived from real photos (built once), beside the
    /// seed project's pipeline and Pillow on the same files; rewrites BENCHMARKS.md's indexing
    /// section. Needs Python 3
    Index(index::Args),
    /// How well the model learns simulated users (each deletes whole classes) from few labels,
    /// through `Engine::train`, beside sklearn's learners on the same splits and picks
    Learn {
        #[command(flatten)]
        data: Data,
        #[command(flatten)]
        args: learn::Args,
    },
    /// Which labeling queue is most informative: K-means on embeddings, on HOG-PCA, or random
    Pick {
        #[command(flatten)]
        data: Data,
        #[arg(long, value_delimiter = ',', default_value = "10,20,40")]
        budgets: Vec<usize>,
        #[arg(long, default_value_t = 3)]
        seeds: u64,
    },
    /// Time from a new label to refreshed suggestions (labels the database: a scratch one by
    /// default)
    Refresh {
        #[command(flatten)]
        data: Data,
        /// Train labels before the timed rounds
        #[arg(long, default_value_t = 45)]
        labels: usize,
        #[arg(long, default_value_t = 10)]
        rounds: usize,
    },
    /// How well the full-resolution blur measure finds blurred photos (real photos at 12 MP and
    /// their blurred copies, built once), beside the old Laplacian variance, and its cost per
    /// photo; rewrites BENCHMARKS.md's blur section. Needs Python 3
    Blur(blur::Args),
    /// How well duplicate groups (same photo, similar shots) are found and the original kept,
    /// beside pHash alone and the embedding alone, and grouping time at 10k and 100k photos;
    /// rewrites BENCHMARKS.md's duplicates section. Needs Python 3
    Duplicates(duplicates::Args),
    /// Hardening figures: hostile input files, SIGKILLs mid-operation, two processes on one
    /// database, fuzzing; rewrites RELIABILITY.md
    Reliability(reliability::Args),
}

fn main() -> ExitCode {
    precious_engine::memory::pin();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("precious-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<()> {
    let json = cli.json;
    match cli.command {
        Command::Index(args) => index::run(args, json),
        Command::Blur(args) => blur::run(args, json),
        Command::Duplicates(args) => duplicates::run(args, json),
        Command::Reliability(args) => reliability::run(args, json),
        Command::Learn { data, args } => {
            let (mut engine, _) = data.open(json)?;
            learn::run(&mut engine, &args, json)
        }
        Command::Pick {
            data,
            budgets,
            seeds,
        } => {
            let (engine, report) = data.open(json)?;
            let rows = pick::bench_pick(&engine, &budgets, seeds)?;
            if json {
                return print_json(&rows);
            }
            println!(
                "{} photos indexed ({} newly); classes = parent folder names; {} seeds\n",
                engine.status()?.photos.indexed,
                report.indexed,
                seeds
            );
            print!("{}", pick::pick_table(&rows));
            Ok(())
        }
        Command::Refresh {
            data,
            labels,
            rounds,
        } => {
            let (engine, _) = data.open(json)?;
            let b = refresh::bench_refresh(&engine, labels, rounds)?;
            if json {
                return print_json(&b);
            }
            println!("{}", refresh::summary(&b));
            Ok(())
        }
    }
}
