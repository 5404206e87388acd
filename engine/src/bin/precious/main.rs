//! `precious`: the command-line front end. Parses arguments, draws progress, prints results
//! for people or as JSON (`--json`, on stdout); all the work is the engine's.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};
use precious_engine::learn::head::HeadConfig;
use precious_engine::{
    Engine, Label, Method, Pick, PickOptions, ScanOptions, ScanReport, Space, Split, Status,
    TrainConfig, TrainOptions, TrainerChoice,
};
use serde::Serialize;

mod act;
mod demo;
mod duplicates;
mod label;
mod model;
mod progress;

#[derive(Parser)]
#[command(
    name = "precious",
    version,
    about = "Learns which photos you would delete, on your device."
)]
struct Cli {
    /// Database file [default: the per-user data folder]
    #[arg(long, global = true, value_name = "PATH")]
    db: Option<PathBuf>,
    /// Print machine-readable JSON on stdout instead of text
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, ValueEnum)]
enum TierArg {
    /// Copies of one photo
    Same,
    /// Shots of one scene moments apart
    Similar,
}

#[derive(Subcommand)]
enum Command {
    /// Index photos in folders (recursively); a rescan only reads what changed
    Scan {
        #[arg(required = true, value_name = "DIR")]
        dirs: Vec<PathBuf>,
    },
    /// Counts by state, and every file that could not be indexed with its reason
    Status,
    /// Choose N representative photos to label first (K-means over the gallery)
    Pick {
        #[arg(default_value_t = 45)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Feature space to cluster
        #[arg(long, value_enum, default_value_t = SpaceArg::Embedding)]
        space: SpaceArg,
    },
    /// Everything known about one photo
    Show { id: i64 },
    /// Label photos: interactively (left = delete, right = keep, down = skip, u = undo), or by id
    Label {
        #[arg(long, num_args = 1.., value_name = "ID")]
        keep: Vec<i64>,
        #[arg(long, num_args = 1.., value_name = "ID")]
        delete: Vec<i64>,
        #[arg(long, num_args = 1.., value_name = "ID")]
        skip: Vec<i64>,
        /// Held-out labels for evaluation (asked about in random order) instead of training labels
        #[arg(long)]
        test: bool,
        /// How many photos to ask about interactively
        #[arg(short, default_value_t = 45)]
        n: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
    },
    /// Move photos to the OS trash, each only if unchanged since it was indexed
    Trash {
        #[arg(
            value_name = "ID",
            required_unless_present = "list",
            conflicts_with = "list"
        )]
        ids: Vec<i64>,
        /// List the photos precious moved to the trash and has not restored
        #[arg(long)]
        list: bool,
    },
    /// Groups of duplicates (copies of one photo, similar shots) with the shot each keeps and why;
    /// decide on a group, or keep each best shot and trash the rest (undo with `restore`)
    Duplicates {
        /// Only this tier
        #[arg(long, value_enum)]
        tier: Option<TierArg>,
        /// Keep the best shot of each GROUP (and photos labeled keep) and trash the rest
        #[arg(long, value_name = "GROUP", num_args = 1..)]
        trash_rest: Vec<String>,
        /// Remember that GROUP's photos are not duplicates (they are not grouped again)
        #[arg(long, value_name = "GROUP")]
        not_duplicates: Option<String>,
        /// Remember to keep all of GROUP's photos (the group is not offered again)
        #[arg(long, value_name = "GROUP")]
        keep_all: Option<String>,
        /// Remember PHOTO as GROUP's best shot, as GROUP=PHOTO
        #[arg(long, value_name = "GROUP=PHOTO")]
        best: Option<String>,
        /// Groups to print
        #[arg(long, default_value_t = 20)]
        limit: usize,
    },
    /// Put trashed photos back where they were (no ID: undo the latest trash command)
    Restore {
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
    },
    /// Delete for good the photos precious put in the OS trash (no ID: all of them); nothing
    /// else in the trash is touched. Irreversible: asks for --yes
    EmptyTrash {
        #[arg(value_name = "ID")]
        ids: Vec<i64>,
        /// Confirm: the photos cannot be restored afterwards
        #[arg(long)]
        yes: bool,
    },
    /// Train a delete classifier on the train labels (logistic regression on graph-smoothed
    /// features and signals, blended with label spreading, chosen by cross-validation)
    Train {
        /// Learner: ensemble (default), logistic, spreading, or fixmatch (the AdamW head with
        /// FixMatch over augmented views)
        #[arg(long, value_enum, default_value_t = MethodArg::Ensemble)]
        method: MethodArg,
        /// The same as --method logistic
        #[arg(long, conflicts_with = "method")]
        supervised: bool,
        /// FixMatch: hidden units of the head (0 = logistic)
        #[arg(long, default_value_t = TrainConfig::default().head.hidden)]
        hidden: usize,
        /// FixMatch: optimiser steps
        #[arg(long, default_value_t = TrainConfig::default().steps)]
        steps: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// FixMatch: unlabeled photos that get augmented views (each costs six backbone runs,
        /// once)
        #[arg(long, default_value_t = TrainOptions::default().view_sample)]
        views: usize,
        /// Precision the suggestion cut aims at
        #[arg(long, default_value_t = TrainOptions::default().target_precision)]
        target_precision: f32,
        /// Fit the head with ONNX Runtime's training API (cargo feature `ort-training`; needs a
        /// training-enabled ONNX Runtime, else trains natively and says why)
        #[arg(long)]
        ort_training: bool,
        /// The training-enabled ONNX Runtime library (default: $ORT_DYLIB_PATH, then the
        /// backbone's default places)
        #[arg(long, requires = "ort_training")]
        ort_library: Option<PathBuf>,
    },
    /// Precision, recall, F1, accuracy, AUROC and the confusion matrix of the newest model
    Eval,
    /// Photos the newest model suggests deleting, with reasons (retrains first if labels changed)
    Suggest {
        /// How many to list (all with --json)
        #[arg(short, default_value_t = 30)]
        n: usize,
    },
    /// Every trained model, newest first
    Models,
    /// Write the newest model's head as an ONNX file
    Export {
        #[arg(value_name = "FILE")]
        path: PathBuf,
    },
    /// The whole job on the built-in demo gallery, in a fresh database: scan, pick, label (a
    /// simulated user who deletes the junk categories of the gallery's manifest), train,
    /// evaluate, suggest. Nothing is moved to the trash
    Demo {
        /// Gallery to use instead of the built-in one
        #[arg(long, value_name = "DIR")]
        gallery: Option<PathBuf>,
    },
}

#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum MethodArg {
    Ensemble,
    Logistic,
    Spreading,
    Fixmatch,
}

impl From<MethodArg> for Method {
    fn from(m: MethodArg) -> Method {
        match m {
            MethodArg::Ensemble => Method::Ensemble,
            MethodArg::Logistic => Method::Logistic,
            MethodArg::Spreading => Method::Spreading,
            MethodArg::Fixmatch => Method::FixMatch,
        }
    }
}

#[derive(Clone, Copy, ValueEnum)]
enum SpaceArg {
    Embedding,
    HogPca,
}

impl From<SpaceArg> for Space {
    fn from(s: SpaceArg) -> Space {
        match s {
            SpaceArg::Embedding => Space::Embedding,
            SpaceArg::HogPca => Space::HogPca,
        }
    }
}

fn main() -> ExitCode {
    // Behave like other Unix tools when the reader goes away (`precious status | head`): end
    // quietly on SIGPIPE instead of panicking on a failed print.
    #[cfg(unix)]
    // SAFETY: restoring the default disposition of a signal before any thread starts.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // Before any thread starts: see `memory` for why.
    precious_engine::memory::pin();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("precious: {e}");
            ExitCode::FAILURE
        }
    }
}

pub(crate) fn print_json<T: Serialize>(v: &T) -> precious_engine::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v)
            .map_err(|e| precious_engine::Error::Invalid(e.to_string()))?
    );
    Ok(())
}

fn run(cli: Cli) -> precious_engine::Result<()> {
    let db = cli.db.clone().unwrap_or_else(Engine::default_db_path);
    match cli.command {
        Command::Scan { dirs } => {
            let mut engine = Engine::open(&db)?;
            let report = scan(&mut engine, &dirs, cli.json)?;
            if cli.json {
                print_json(&report)
            } else {
                print_scan(&report, &engine.status()?);
                Ok(())
            }
        }
        Command::Status => {
            let status = Engine::open(&db)?.status()?;
            if cli.json {
                print_json(&status)
            } else {
                print_status(&status);
                Ok(())
            }
        }
        Command::Pick { n, seed, space } => {
            let pick = Engine::open(&db)?.pick(&PickOptions {
                n,
                seed,
                space: space.into(),
            })?;
            if cli.json {
                print_json(&pick.photos)
            } else {
                print_pick(&pick);
                Ok(())
            }
        }
        Command::Show { id } => {
            let d = Engine::open(&db)?.photo(id)?;
            if cli.json {
                return print_json(&d);
            }
            // The JSON form is already readable; indent it for people without the braces.
            let v = serde_json::to_value(&d).unwrap_or_default();
            print_value(&v, 0);
            Ok(())
        }
        Command::Trash { ids, list } => act::trash(&db, &ids, list, cli.json),
        Command::Duplicates {
            tier,
            trash_rest,
            not_duplicates,
            keep_all,
            best,
            limit,
        } => duplicates::run(
            &db,
            &duplicates::Request {
                tier: tier.map(|t| match t {
                    TierArg::Same => precious_engine::Tier::Same,
                    TierArg::Similar => precious_engine::Tier::Similar,
                }),
                trash_rest: &trash_rest,
                not_duplicates: not_duplicates.as_deref(),
                keep_all: keep_all.as_deref(),
                best: best.as_deref(),
                limit,
            },
            cli.json,
        ),
        Command::Restore { ids } => act::restore(&db, &ids, cli.json),
        Command::EmptyTrash { ids, yes } => act::empty_trash(&db, &ids, yes, cli.json),
        Command::Label {
            keep,
            delete,
            skip,
            test,
            n,
            seed,
        } => {
            let mut engine = Engine::open(&db)?;
            let split = if test { Split::Test } else { Split::Train };
            let session = if keep.is_empty() && delete.is_empty() && skip.is_empty() {
                label::interactive(&mut engine, split, n, seed)?
            } else {
                label::label_ids(
                    &mut engine,
                    split,
                    &[
                        (Label::Keep, &keep),
                        (Label::Delete, &delete),
                        (Label::Skip, &skip),
                    ],
                )?
            };
            if cli.json {
                return print_json(&session);
            }
            let count = |l: Label| session.labeled.iter().filter(|x| x.label == l).count();
            let l = engine.status()?.labels;
            println!(
                "Labeled {} photos ({}): {} delete, {} keep, {} skip{}. All labels: {} keep, {} delete, {} skip.",
                session.labeled.len(),
                split.as_str(),
                count(Label::Delete),
                count(Label::Keep),
                count(Label::Skip),
                if session.undone > 0 { format!(", {} undone", session.undone) } else { String::new() },
                l.keep,
                l.delete,
                l.skip
            );
            Ok(())
        }
        Command::Train {
            method,
            supervised,
            hidden,
            steps,
            seed,
            views,
            target_precision,
            ort_training,
            ort_library,
        } => {
            let mut engine = Engine::open(&db)?;
            let defaults = TrainConfig::default();
            let opts = TrainOptions {
                config: TrainConfig {
                    method: if supervised {
                        Method::Logistic
                    } else {
                        method.into()
                    },
                    steps,
                    head: HeadConfig {
                        hidden,
                        seed,
                        ..defaults.head.clone()
                    },
                    ..defaults
                },
                view_sample: views,
                target_precision,
                trainer: if ort_training {
                    TrainerChoice::OrtTraining(ort_library)
                } else {
                    TrainerChoice::Native
                },
            };
            let report = engine.train(&opts)?;
            if cli.json {
                return print_json(&report);
            }
            model::print_train(&report, true);
            Ok(())
        }
        Command::Eval => {
            let e = Engine::open(&db)?.evaluate()?;
            if cli.json {
                return print_json(&e);
            }
            model::print_eval(&e);
            Ok(())
        }
        Command::Suggest { n } => {
            let s = Engine::open(&db)?.suggest()?;
            if cli.json {
                return print_json(&s);
            }
            model::print_suggestions(&s, n);
            Ok(())
        }
        Command::Models => {
            let m = Engine::open(&db)?.models()?;
            if cli.json {
                return print_json(&m);
            }
            model::print_models(&m);
            Ok(())
        }
        Command::Export { path } => {
            let bytes = Engine::open(&db)?.export_onnx()?;
            std::fs::write(&path, &bytes)
                .map_err(|e| precious_engine::Error::Invalid(format!("{}: {e}", path.display())))?;
            if !cli.json {
                println!("Wrote {} ({} bytes)", path.display(), bytes.len());
            }
            Ok(())
        }
        Command::Demo { gallery } => demo::run(cli.db, gallery, cli.json),
    }
}

pub(crate) fn scan(
    engine: &mut Engine,
    dirs: &[PathBuf],
    quiet: bool,
) -> precious_engine::Result<ScanReport> {
    let mut bar = progress::ScanBar::new(quiet);
    let report = engine.scan_folders(dirs, &ScanOptions::default(), &mut |p| bar.update(p))?;
    bar.finish();
    Ok(report)
}

pub(crate) fn print_scan(r: &ScanReport, status: &Status) {
    let rate = r.indexed as f64 / r.elapsed_s.max(1e-9);
    println!(
        "Scanned {} files in {:.1} s: {} indexed ({:.1} photos/s), {} unchanged, {} moved, {} exact duplicates, {} failed, {} unsupported, {} gone{}",
        r.listed, r.elapsed_s, r.indexed, rate, r.unchanged, r.moved, r.duplicates, r.failed, r.unsupported, r.gone,
        if r.cancelled { " (cancelled)" } else { "" }
    );
    if r.companions > 0 {
        println!(
            "Paired with their photo: {} files (Live Photo videos, RAWs of RAW+JPEG pairs, edited copies)",
            r.companions
        );
    }
    if r.indexed > 0 {
        let d = &r.decode_paths;
        println!(
            "Decode paths: {} EXIF thumbnail, {} DCT-scaled JPEG, {} full decode",
            d.exif_thumbnail, d.dct_scaled, d.full
        );
        println!("{}", precious_engine::features::backbone::backend_note());
        let t = &r.stage_seconds;
        println!(
            "Time per stage (summed over threads): read {:.1} s, hash {:.1} s, decode {:.1} s, embed {:.1} s, HOG/quality/hash {:.1} s, thumbnail {:.1} s, database {:.1} s",
            t.read, t.hash, t.decode, t.embed, t.hog_quality_phash, t.thumbnail, t.db_write
        );
    }
    print_status(status);
}

fn print_status(s: &Status) {
    let p = &s.photos;
    println!(
        "Library: {} indexed, {} failed, {} unsupported, {} gone; labels: {} keep, {} delete, {} skip",
        p.indexed, p.failed, p.unsupported, p.gone, s.labels.keep, s.labels.delete, s.labels.skip
    );
    println!(
        "Database: {} ({:.1} MB)",
        s.db_path,
        s.db_bytes as f64 / 1e6
    );
    if !s.errors.is_empty() {
        println!("Not indexed ({}):", s.errors.len());
        for e in &s.errors {
            println!("  [{}] {}: {}", e.id, e.path, e.reason);
        }
    }
}

pub(crate) fn print_pick(p: &Pick) {
    if p.photos.is_empty() {
        println!("Nothing to label: no unlabeled indexed photos.");
        return;
    }
    match (p.silhouette, p.davies_bouldin) {
        (Some(s), Some(db)) => println!(
            "{} candidates ({} near-duplicates folded) form {} clusters (silhouette {:.3}, Davies-Bouldin {:.3}; {:?} space). Label these first:",
            p.candidates, p.near_duplicates_folded, p.k, s, db, p.space
        ),
        _ => println!("{} candidates ({} near-duplicates folded). Label these first:", p.candidates, p.near_duplicates_folded),
    }
    for ph in &p.photos {
        println!(
            "  [{:>5}] {}  (cluster {} of {} photos)",
            ph.id, ph.path, ph.cluster, ph.cluster_size
        );
    }
}

fn print_value(v: &serde_json::Value, indent: usize) {
    let pad = " ".repeat(indent);
    if let serde_json::Value::Object(m) = v {
        for (k, v) in m {
            match v {
                serde_json::Value::Null => {}
                serde_json::Value::Object(_) => {
                    println!("{pad}{k}:");
                    print_value(v, indent + 2);
                }
                serde_json::Value::String(s) => println!("{pad}{k}: {s}"),
                other => println!("{pad}{k}: {other}"),
            }
        }
    }
}
