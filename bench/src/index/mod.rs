//! `precious-bench index`: builds (once) a phone-like gallery from real photos, times cold
//! scans and no-change rescans as child processes of this very binary (so each run has its own
//! peak RSS, read with `wait4`), runs the Python baselines on the same files, and rewrites the
//! indexing section of BENCHMARKS.md. Developer tooling: it runs the repository's scripts, so
//! it works from a checkout, not from an installed binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use precious_engine::{Engine, Error, Result, ScanReport};
use report::{GalleryInfo, IndexBench, ScanRun};

mod heif;
mod report;
mod side_by_side;
mod video;

use crate::tooling::{
    invalid, precious_exe, repo, run_child, run_tool, shared_data, today, Section,
};

/// BENCHMARKS.md's indexing section.
const SECTION: Section = Section {
    marker: "bench index",
    command: "precious-bench index",
    heading: "Indexing",
};

#[derive(clap::Args)]
pub struct Args {
    /// Photos in the generated gallery
    #[arg(long, default_value_t = 1000)]
    pub count: usize,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Use this gallery (with the generator's manifest.json) instead
    #[arg(long, value_name = "DIR")]
    pub gallery: Option<PathBuf>,
    /// The 10,000-photo set for the rescan, RSS and refresh targets
    /// [default: ../shared/data/cifar10-test]
    #[arg(long, value_name = "DIR")]
    pub big: Option<PathBuf>,
    #[arg(long)]
    pub no_big: bool,
    /// Skip the Python baselines (clustimage, Pillow)
    #[arg(long)]
    pub no_baselines: bool,
    /// Photos of the gallery also encoded as HEIC and scanned beside their JPEGs (0: skip)
    #[arg(long, default_value_t = 40)]
    pub heic: usize,
    /// Photos of the gallery also made into 3 s 1080p videos and scanned beside their JPEGs
    /// (0: skip)
    #[arg(long, default_value_t = 20)]
    pub videos: usize,
    /// Photos for the one-thread decode timings
    #[arg(long, default_value_t = 200)]
    pub decode_sample: usize,
    /// Markdown file whose indexing section is rewritten [default: BENCHMARKS.md]
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

pub fn run(args: Args, json: bool) -> Result<()> {
    let work = repo().join("target/bench");
    let gallery = args
        .gallery
        .clone()
        .unwrap_or_else(|| work.join(format!("phone-{}-s{}", args.count, args.seed)));
    if !gallery.join("manifest.json").exists() {
        eprintln!("bench: generating {} ...", gallery.display());
        run_tool(
            Command::new(repo().join("tests/tools/make_phone_gallery"))
                .arg("--out")
                .arg(&gallery)
                .arg("--count")
                .arg(args.count.to_string())
                .arg("--seed")
                .arg(args.seed.to_string()),
        )?;
    }
    let info = gallery_info(&gallery)?;
    eprintln!(
        "bench: {} photos derived from {} real photos",
        info.photos, info.sources
    );
    let files = jpegs(&gallery);
    let mut notes = Vec::new();
    let backbones = backbones(&mut notes);

    // Child processes first, while this process is small: Linux carries a process's peak RSS
    // over fork and exec, so a child's figure can never be below its parent's RSS at the fork.
    let mut runs = Vec::new();
    for b in &backbones {
        runs.extend(cold_and_rescan(&work, &gallery, "phone-like", b)?);
    }
    let mut formats = Vec::new();
    for (n, alt) in [(args.heic, &heif::HEIC), (args.videos, &video::VIDEO)] {
        if n == 0 {
            continue;
        }
        let dir = side_by_side::set(&work, &gallery, &files, n, alt)?;
        let (jpeg, other) = alt.galleries();
        for (sub, name) in [("jpeg", jpeg), (alt.name, other)] {
            formats.extend(cold_and_rescan(
                &work,
                &dir.join(sub),
                &name,
                &backbones[0],
            )?);
        }
    }
    let big_dir = args
        .big
        .clone()
        .unwrap_or_else(|| shared_data().join("cifar10-test"));
    let big_too = !args.no_big && big_dir.is_dir();
    let mut big = Vec::new();
    if big_too {
        for b in &backbones {
            big.extend(cold_and_rescan(&work, &big_dir, "cifar10-test", b)?);
        }
    }
    let baselines = if args.no_baselines {
        None
    } else {
        Some(baselines(&work, &files, args.decode_sample)?)
    };

    // In-process measurements last.
    let decode = report::time_decodes(&files[..files.len().min(args.decode_sample)])?;
    let mut refresh = None;
    if big_too {
        eprintln!("bench: label -> refreshed suggestions on the 10,000 ...");
        let db = work.join(format!("cifar10-test-{}.db", backbones[0]));
        let engine = Engine::open(&db)?;
        refresh = Some(crate::refresh::bench_refresh(&engine, 45, 5)?);
    } else if !args.no_big {
        notes.push(format!(
            "10,000-photo runs skipped: {} not found",
            big_dir.display()
        ));
    }

    let bench = IndexBench {
        date: today(),
        cores: crate::tooling::cores(),
        gallery: info,
        runs,
        formats,
        big,
        refresh,
        decode,
        baselines,
        notes,
    };
    SECTION.publish(
        args.write,
        &bench.markdown(),
        &bench,
        (&work, "index.json"),
        json,
    )
}

/// The backbones this build can measure: tract always; ONNX Runtime with the `ort` feature,
/// fetching its library from PyPI first if it is missing.
fn backbones(notes: &mut Vec<String>) -> Vec<String> {
    let mut v = vec!["tract".to_string()];
    if cfg!(feature = "ort") {
        let lib = repo().join("target/onnxruntime");
        if std::env::var_os("ORT_DYLIB_PATH").is_none() && !lib.is_dir() {
            let fetched = run_tool(&mut Command::new(
                repo().join("tests/tools/fetch_onnxruntime"),
            ));
            if let Err(e) = fetched {
                notes.push(format!(
                    "ort not measured: fetching ONNX Runtime failed: {e}"
                ));
                return v;
            }
        }
        v.push("ort".into());
    } else {
        notes.push(
            "ort not measured: this build lacks the `ort` feature (`cargo run --release -p precious-bench --features ort -- index`)".into(),
        );
    }
    v
}

fn cold_and_rescan(work: &Path, dir: &Path, name: &str, backbone: &str) -> Result<Vec<ScanRun>> {
    let db = work.join(format!("{name}-{backbone}.db"));
    Engine::remove_database(&db).map_err(|e| Error::io(&db, e))?;
    ["cold", "rescan"]
        .iter()
        .map(|kind| {
            eprintln!("bench: {kind} scan of {name} with {backbone} ...");
            scan_child(&db, dir, name, kind, backbone)
        })
        .collect()
}

/// Runs `precious --db DB --json scan DIR` as a child and measures it.
fn scan_child(db: &Path, dir: &Path, name: &str, kind: &str, backbone: &str) -> Result<ScanRun> {
    let run = run_child(
        Command::new(precious_exe()?)
            .arg("--db")
            .arg(db)
            .arg("--json")
            .arg("scan")
            .arg(dir)
            .env("PRECIOUS_BACKBONE", backbone),
        None,
    )?;
    if !run.ok() {
        return Err(invalid(format!(
            "precious scan failed ({:?}): {}",
            run.ending, run.stderr
        )));
    }
    let (wall_s, peak_rss_mb) = (run.wall_s, run.peak_rss_mb);
    let out = run.stdout;
    let report: ScanReport =
        serde_json::from_str(&out).map_err(|e| invalid(format!("scan output: {e}")))?;
    let thumbs = db.with_extension("thumbs");
    Ok(ScanRun {
        kind: kind.into(),
        // A rescan with nothing to index loads no backbone.
        backbone: match report.backbone.as_str() {
            "" => format!("(none loaded; {backbone} asked)"),
            b => b.to_string(),
        },
        gallery: name.into(),
        wall_s,
        peak_rss_mb,
        db_bytes: ["", "-wal"]
            .iter()
            .filter_map(|s| std::fs::metadata(format!("{}{s}", db.display())).ok())
            .map(|m| m.len())
            .sum(),
        thumbnail_bytes: walkdir::WalkDir::new(thumbs)
            .into_iter()
            .filter_map(|e| e.ok()?.metadata().ok())
            .filter(|m| m.is_file())
            .map(|m| m.len())
            .sum(),
        report,
    })
}

fn baselines(work: &Path, files: &[PathBuf], sample: usize) -> Result<serde_json::Value> {
    let list = work.join("files.txt");
    let text: String = files.iter().map(|f| format!("{}\n", f.display())).collect();
    std::fs::write(&list, text).map_err(|e| Error::io(&list, e))?;
    eprintln!("bench: baselines (Pillow, clustimage; several minutes) ...");
    let out = run_tool(
        Command::new(repo().join("tests/tools/bench_baselines"))
            .arg("--venv")
            .arg(work.join("venv"))
            .arg("--files")
            .arg(&list)
            .arg("--decode-sample")
            .arg(sample.to_string()),
    )?;
    serde_json::from_str(&out).map_err(|e| invalid(format!("bench_baselines output: {e}")))
}

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("jpg")))
        .collect();
    v.sort();
    v
}

/// Reads the generator's manifest.json.
fn gallery_info(dir: &Path) -> Result<GalleryInfo> {
    let path = dir.join("manifest.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let m: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| invalid(format!("{}: {e}", path.display())))?;
    let files = m["files"].as_array().cloned().unwrap_or_default();
    let distinct = |key: &str| -> Vec<String> {
        let mut v: Vec<String> = files
            .iter()
            .filter_map(|f| f[key].as_str().map(String::from))
            .collect();
        v.sort();
        v.dedup();
        v
    };
    let mut sides = std::collections::BTreeMap::new();
    for f in &files {
        let side = f["size"]
            .as_array()
            .and_then(|s| s.iter().filter_map(|x| x.as_u64()).max())
            .unwrap_or(0);
        *sides.entry(side as u32).or_insert(0) += 1;
    }
    Ok(GalleryInfo {
        dir: dir.display().to_string(),
        photos: files.len(),
        sources: distinct("source").len(),
        packages: distinct("package"),
        bytes: files.iter().filter_map(|f| f["bytes"].as_u64()).sum(),
        with_exif: files.iter().filter(|f| f["exif"] == true).count(),
        big_thumbnails: files
            .iter()
            .filter(|f| {
                f["thumbnail"]
                    .as_array()
                    .and_then(|t| t.iter().filter_map(|x| x.as_u64()).max())
                    .is_some_and(|long| long >= 320)
            })
            .count(),
        long_sides: sides.into_iter().rev().collect(),
    })
}
