//! `precious-bench blur`: how well the full-resolution blur measure
//! (`features::quality::blur`) finds blurred photos, beside the working image's Laplacian
//! variance it replaces for the "blurry" reason, and what it costs per photo.
//!
//! It builds once, in `target/bench/`, the blur set (`tests/tools/make_blur_set`: real photos
//! at 12 MP, their Gaussian- and motion-blurred copies, plain crops with grain, JPEG q90) and a
//! phone-like gallery (`tests/tools/make_phone_gallery`), both with Pillow and numpy in a
//! virtualenv from PyPI; scans the blur set cold through `Engine::scan_folders`, the code path
//! users run, and reads each photo's stored measures back through `Engine::photo`; times the
//! measure's steps in this process (CPU time per photo, one thread, files preloaded) with each
//! JPEG codec this build has; optionally times cold scans of the phone gallery by other
//! `precious` binaries (before/after the change, with or without libjpeg-turbo); and rewrites
//! the blur section of BENCHMARKS.md.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use precious_engine::decode::{self, JpegCodec, Strategy};
use precious_engine::features::quality;
use precious_engine::learn::metrics::auroc;
use precious_engine::{Engine, Error, Result, ScanOptions, ScanReport, Space};
use serde::Serialize;

use crate::tooling::{
    cores, ensure_venv, invalid, precious_exe, read_json, repo, run_child, run_tool, today, Section,
};

/// BENCHMARKS.md's blur section.
const SECTION: Section = Section {
    marker: "bench blur",
    command: "precious-bench blur",
    heading: "Blur",
};

#[derive(clap::Args)]
pub struct Args {
    /// The blur set [default: target/bench/blur-set, built by tests/tools/make_blur_set]
    #[arg(long, value_name = "DIR")]
    pub set: Option<PathBuf>,
    /// Phone-like gallery for the cost per photo [default: target/bench/phone-<count>-s1,
    /// built by tests/tools/make_phone_gallery]
    #[arg(long, value_name = "DIR")]
    pub phone: Option<PathBuf>,
    #[arg(long, default_value_t = 200)]
    pub phone_count: usize,
    /// Also time a cold scan of the phone gallery by this `precious` binary, as LABEL=PATH
    /// (repeatable; the current build is always timed, as "this build")
    #[arg(long = "scan-with", value_name = "LABEL=PATH")]
    pub scan_with: Vec<String>,
    /// Markdown file whose blur section is rewritten [default: BENCHMARKS.md]
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

/// One file of the blur set, as the generator's manifest describes it.
#[derive(Clone, Debug, serde::Deserialize)]
struct SetFile {
    path: String,
    kind: String,
    param: Option<f64>,
    source: String,
    upscale: f64,
    #[serde(default)]
    angle: Option<f64>,
}

#[derive(serde::Deserialize)]
struct Manifest {
    files: Vec<SetFile>,
    sources: BTreeMap<String, String>,
}

/// One scanned photo of the set: what the product stored.
#[derive(Clone, Debug, Serialize)]
pub struct Scored {
    pub path: String,
    /// sharp, gauss2, gauss4, gauss8, motion15, motion30, plain.
    pub kind: String,
    pub source: String,
    pub upscale: f64,
    pub angle: Option<f64>,
    pub blur: Option<f32>,
    pub sharpness: f32,
    pub decode_path: Option<String>,
}

/// The distribution and separation of one kind of photo.
#[derive(Clone, Debug, Serialize)]
pub struct KindRow {
    pub kind: String,
    pub photos: usize,
    /// 10th, 50th and 90th percentiles of the new measure (not measured = 0) and of the old.
    pub blur_quantiles: [f32; 3],
    pub sharpness_quantiles: [f32; 3],
    /// AUROC of "this kind is blurrier than the sharp originals", new and old.
    pub auroc_new: Option<f32>,
    pub auroc_old: Option<f32>,
    /// Share of copies scored blurrier than their own sharp original, new and old.
    pub paired_new: Option<f32>,
    pub paired_old: Option<f32>,
    /// Share flagged blurry: new at `quality::BLURRY`, old at the product's former rule.
    pub flagged_new: f32,
    pub flagged_old: f32,
    /// Photos the new measure found no edges in (0).
    pub no_edges: usize,
}

/// CPU milliseconds per photo of each step, one thread.
#[derive(Clone, Debug, Serialize)]
pub struct CostRow {
    pub photos_label: String,
    pub photos: usize,
    pub codec: String,
    /// As the scan decodes to the working image (EXIF thumbnail, else DCT-scaled).
    pub working_ms: f64,
    pub window_ms: f64,
    pub detail_ms: f64,
    pub measure_ms: f64,
    /// Photos that got a full-resolution window.
    pub with_detail: usize,
    /// For the record: a full decode of the same files with this codec (what a pure-Rust
    /// window would cost without a region decoder).
    pub full_decode_ms: f64,
}

/// A cold scan of the phone gallery by one `precious` binary, as a child process.
#[derive(Clone, Debug, Serialize)]
pub struct ScanRow {
    pub label: String,
    pub photos: usize,
    pub wall_s: f64,
    pub cpu_s: f64,
    pub decode_s: f64,
    pub describe_s: f64,
    pub embed_s: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct BlurBench {
    pub date: String,
    pub cores: usize,
    pub set_files: usize,
    pub sources: usize,
    pub sharp_upscale: (f64, f64),
    pub blurry_cut: f32,
    pub old_cut: f32,
    pub decode_paths: BTreeMap<String, usize>,
    pub kinds: Vec<KindRow>,
    /// The sharp originals the new measure scored blurriest.
    pub softest_sharp: Vec<(String, f32, f64)>,
    pub costs: Vec<CostRow>,
    pub scans: Vec<ScanRow>,
    pub photos: Vec<Scored>,
}

pub fn run(args: Args, json: bool) -> Result<()> {
    let work = repo().join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    let set = args.set.clone().unwrap_or_else(|| work.join("blur-set"));
    let phone = args
        .phone
        .clone()
        .unwrap_or_else(|| work.join(format!("phone-{}-s1", args.phone_count)));
    let mut python = None;
    if !set.join("manifest.json").exists() {
        let py = python.get_or_insert(ensure_venv(&work.join("venv-blur"))?);
        eprintln!("bench: generating {} (about 15 minutes) ...", set.display());
        run_tool(
            Command::new(&*py)
                .arg(repo().join("tests/tools/make_blur_set"))
                .arg("--out")
                .arg(&set)
                .arg("--jobs")
                .arg(cores().to_string()),
        )?;
    }
    if !phone.join("manifest.json").exists() {
        let py = python.get_or_insert(ensure_venv(&work.join("venv-blur"))?);
        eprintln!("bench: generating {} ...", phone.display());
        run_tool(
            Command::new(&*py)
                .arg(repo().join("tests/tools/make_phone_gallery"))
                .arg("--out")
                .arg(&phone)
                .arg("--count")
                .arg(args.phone_count.to_string()),
        )?;
    }
    let manifest: Manifest = read_json(&set.join("manifest.json"))?;

    // Cold scans as child processes first, while this process is small.
    let mut scans = Vec::new();
    let mut binaries = vec![("this build".to_string(), precious_exe()?)];
    for s in &args.scan_with {
        let (label, path) = s
            .split_once('=')
            .ok_or_else(|| invalid(format!("--scan-with {s}: expected LABEL=PATH")))?;
        binaries.push((label.into(), PathBuf::from(path)));
    }
    for (label, exe) in &binaries {
        eprintln!("bench: cold scan of {} by {label} ...", phone.display());
        scans.push(cold_scan(&work, &phone, label, exe)?);
    }

    eprintln!("bench: scanning {} ...", set.display());
    let (photos, report) = scan_set(&work, &set, &manifest)?;
    let kinds = kind_rows(&photos);
    let mut softest: Vec<(String, f32, f64)> = photos
        .iter()
        .filter(|p| p.kind == "sharp")
        .map(|p| (p.source.clone(), p.blur.unwrap_or(0.0), p.upscale))
        .collect();
    softest.sort_by(|a, b| b.1.total_cmp(&a.1));
    softest.truncate(5);
    let ups: Vec<f64> = photos
        .iter()
        .filter(|p| p.kind == "sharp")
        .map(|p| p.upscale)
        .collect();

    eprintln!("bench: timing the measure's steps ...");
    let mut costs = Vec::new();
    let phone_files = jpegs(&phone);
    let sharp_files: Vec<PathBuf> = photos
        .iter()
        .filter(|p| p.kind == "sharp")
        .map(|p| PathBuf::from(&p.path))
        .collect();
    for (label, files) in [
        ("phone-like gallery", &phone_files),
        ("12 MP sharp photos of the set", &sharp_files),
    ] {
        for codec in [JpegCodec::LibjpegTurbo, JpegCodec::PureRust] {
            if codec.available() {
                costs.push(time_steps(label, files, codec)?);
            }
        }
    }

    let bench = BlurBench {
        date: today(),
        cores: cores(),
        set_files: photos.len(),
        sources: manifest.sources.len(),
        sharp_upscale: (
            ups.iter().copied().fold(f64::INFINITY, f64::min),
            ups.iter().copied().fold(0.0, f64::max),
        ),
        blurry_cut: quality::BLURRY,
        old_cut: old_cut(&photos),
        decode_paths: [
            ("exif_thumbnail", report.decode_paths.exif_thumbnail),
            ("dct_scaled", report.decode_paths.dct_scaled),
            ("full", report.decode_paths.full),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect(),
        kinds,
        softest_sharp: softest,
        costs,
        scans,
        photos,
    };
    SECTION.publish(
        args.write,
        &bench.markdown(),
        &bench,
        (&work, "blur.json"),
        json,
    )
}

fn jpegs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .sort_by_file_name()
        .into_iter()
        .filter_map(|e| e.ok())
        .map(|e| e.into_path())
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
        .collect();
    v.sort();
    v
}

/// A fresh database for `name` in `work` (the old one and its thumbnails removed).
fn fresh_db(work: &Path, name: &str) -> Result<PathBuf> {
    let db = work.join(format!("{name}.sqlite"));
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", db.display()));
    }
    let _ = std::fs::remove_dir_all(format!("{}.thumbs", db.display()));
    Ok(db)
}

/// Scans the set cold through the engine and reads every photo's measures back.
fn scan_set(work: &Path, set: &Path, manifest: &Manifest) -> Result<(Vec<Scored>, ScanReport)> {
    let db = fresh_db(work, "blur-set")?;
    let mut engine = Engine::open(&db)?;
    let report = engine.scan_folders(&[set.to_path_buf()], &ScanOptions::default(), &mut |_| {})?;
    let by_path: BTreeMap<PathBuf, &SetFile> = manifest
        .files
        .iter()
        .map(|f| (set.join(&f.path), f))
        .collect();
    let mut photos = Vec::new();
    for v in engine.photo_vectors(Space::Embedding)? {
        let d = engine.photo(v.id)?;
        let Some(f) = by_path.get(Path::new(&d.path)) else {
            continue;
        };
        let q = d
            .features
            .as_ref()
            .map(|f| f.quality)
            .ok_or_else(|| invalid(format!("{}: no features", d.path)))?;
        let kind = match f.param {
            Some(p) => format!("{}{}", f.kind, p),
            None => f.kind.clone(),
        };
        photos.push(Scored {
            path: d.path.clone(),
            kind,
            source: f.source.clone(),
            upscale: f.upscale,
            angle: f.angle,
            blur: q.blur,
            sharpness: q.sharpness,
            decode_path: d.decode_path.clone(),
        });
    }
    if photos.len() != manifest.files.len() {
        return Err(invalid(format!(
            "{} of the set's {} files were indexed",
            photos.len(),
            manifest.files.len()
        )));
    }
    photos.sort_by(|a, b| a.path.cmp(&b.path));
    Ok((photos, report))
}

/// The former "blurry" rule on this set as a gallery: Laplacian variance below the 10th
/// percentile, and never above 60 (`learn::suggest` before the blur measure).
fn old_cut(photos: &[Scored]) -> f32 {
    let mut s: Vec<f32> = photos.iter().map(|p| p.sharpness).collect();
    s.sort_by(f32::total_cmp);
    s.get(s.len() / 10).copied().unwrap_or(0.0).min(60.0)
}

fn quantiles(mut v: Vec<f32>) -> [f32; 3] {
    v.sort_by(f32::total_cmp);
    let at = |q: f64| v.get(((v.len() - 1) as f64 * q).round() as usize).copied();
    [
        at(0.1).unwrap_or(f32::NAN),
        at(0.5).unwrap_or(f32::NAN),
        at(0.9).unwrap_or(f32::NAN),
    ]
}

/// "Blurrier" scores: the new measure as is (not measured = 0), the old one negated.
fn new_score(p: &Scored) -> f32 {
    p.blur.unwrap_or(0.0)
}

fn old_score(p: &Scored) -> f32 {
    -p.sharpness
}

fn kind_rows(photos: &[Scored]) -> Vec<KindRow> {
    let old = old_cut(photos);
    let sharp: Vec<&Scored> = photos.iter().filter(|p| p.kind == "sharp").collect();
    let original: BTreeMap<&str, &Scored> = sharp.iter().map(|p| (p.source.as_str(), *p)).collect();
    let order = [
        "sharp", "gauss2", "gauss4", "gauss8", "motion15", "motion30", "blurred", "plain",
    ];
    let separation = |of: &[&Scored], score: fn(&Scored) -> f32| {
        let s: Vec<f32> = of.iter().chain(&sharp).map(|p| score(p)).collect();
        let y: Vec<bool> = (0..s.len()).map(|i| i < of.len()).collect();
        auroc(&s, &y)
    };
    let paired = |of: &[&Scored], score: fn(&Scored) -> f32| {
        let pairs: Vec<bool> = of
            .iter()
            .filter_map(|p| Some(score(p) > score(original.get(p.source.as_str())?)))
            .collect();
        (!pairs.is_empty())
            .then(|| pairs.iter().filter(|&&b| b).count() as f32 / pairs.len() as f32)
    };
    order
        .iter()
        .filter_map(|&kind| {
            let of: Vec<&Scored> = photos
                .iter()
                .filter(|p| match kind {
                    "blurred" => p.kind != "sharp" && p.kind != "plain",
                    k => p.kind == k,
                })
                .collect();
            if of.is_empty() {
                return None;
            }
            let n = of.len() as f32;
            let blurred = kind != "sharp" && kind != "plain";
            Some(KindRow {
                kind: kind.into(),
                photos: of.len(),
                blur_quantiles: quantiles(of.iter().map(|p| new_score(p)).collect()),
                sharpness_quantiles: quantiles(of.iter().map(|p| p.sharpness).collect()),
                auroc_new: separation(&of, new_score).filter(|_| kind != "sharp"),
                auroc_old: separation(&of, old_score).filter(|_| kind != "sharp"),
                paired_new: paired(&of, new_score).filter(|_| blurred),
                paired_old: paired(&of, old_score).filter(|_| blurred),
                flagged_new: of
                    .iter()
                    .filter(|p| p.blur.is_some_and(|b| b >= quality::BLURRY))
                    .count() as f32
                    / n,
                flagged_old: of.iter().filter(|p| p.sharpness < old).count() as f32 / n,
                no_edges: of.iter().filter(|p| p.blur == Some(0.0)).count(),
            })
        })
        .collect()
}

/// CPU time of this process so far (the pure-Rust JPEG decoder runs threads of its own).
fn cpu_s() -> f64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: a valid clock id and a valid out-pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut t) };
    t.tv_sec as f64 + t.tv_nsec as f64 / 1e9
}

/// CPU time per photo of each step the scan runs for the blur measure, with `codec`.
fn time_steps(label: &str, files: &[PathBuf], codec: JpegCodec) -> Result<CostRow> {
    let data = files
        .iter()
        .map(|f| std::fs::read(f).map_err(|e| Error::io(f, e)))
        .collect::<Result<Vec<_>>>()?;
    let (mut working, mut window, mut detail, mut measure, mut full) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut with_detail = 0;
    for bytes in &data {
        let t0 = cpu_s();
        let Ok(mut loaded) = decode::load_with(bytes, Some("jpg"), Strategy::Fastest, codec) else {
            continue;
        };
        let t1 = cpu_s();
        let size = (loaded.decoded.width, loaded.decoded.height);
        let region = quality::detail_window(&loaded.decoded.image, size);
        let t2 = cpu_s();
        let d = decode::detail_with(bytes, &mut loaded, region, codec);
        let t3 = cpu_s();
        if let Some(d) = &d {
            std::hint::black_box(quality::blur(&d.luma));
            with_detail += 1;
        }
        let t4 = cpu_s();
        std::hint::black_box(decode::load_with(bytes, Some("jpg"), Strategy::Full, codec).ok());
        let t5 = cpu_s();
        working += t1 - t0;
        window += t2 - t1;
        detail += t3 - t2;
        measure += t4 - t3;
        full += t5 - t4;
    }
    let per = |s: f64| s * 1e3 / data.len().max(1) as f64;
    Ok(CostRow {
        photos_label: label.into(),
        photos: data.len(),
        codec: match codec {
            JpegCodec::LibjpegTurbo => "libjpeg-turbo",
            JpegCodec::PureRust => "pure Rust",
        }
        .into(),
        working_ms: per(working),
        window_ms: per(window),
        detail_ms: per(detail),
        measure_ms: per(measure),
        with_detail,
        full_decode_ms: per(full),
    })
}

/// CPU seconds of this process's waited-for children so far.
fn children_cpu_s() -> f64 {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut u) };
    let t = |v: libc::timeval| v.tv_sec as f64 + v.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

/// A cold scan of `gallery` by `exe` into a fresh database, as a child process.
fn cold_scan(work: &Path, gallery: &Path, label: &str, exe: &Path) -> Result<ScanRow> {
    let name = format!(
        "blur-scan-{}",
        label
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .collect::<String>()
    );
    let db = fresh_db(work, &name)?;
    let before = children_cpu_s();
    let done = run_child(
        Command::new(exe)
            .arg("--db")
            .arg(&db)
            .arg("--json")
            .arg("scan")
            .arg(gallery),
        None,
    )?;
    let cpu_s = children_cpu_s() - before;
    if !done.ok() {
        return Err(invalid(format!(
            "{label}: scan failed ({:?}): {}",
            done.ending, done.stderr
        )));
    }
    let r: ScanReport = serde_json::from_str(&done.stdout)
        .map_err(|e| invalid(format!("{label}: scan --json: {e}")))?;
    Ok(ScanRow {
        label: label.into(),
        photos: r.indexed,
        wall_s: done.wall_s,
        cpu_s,
        decode_s: r.stage_seconds.decode,
        describe_s: r.stage_seconds.hog_quality_phash,
        embed_s: r.stage_seconds.embed,
    })
}

fn opt(v: Option<f32>) -> String {
    v.map_or("-".into(), |v| format!("{v:.3}"))
}

fn pct(v: f32) -> String {
    format!("{:.0}%", v * 100.0)
}

impl BlurBench {
    /// The Markdown section for BENCHMARKS.md.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "Generated by `precious-bench blur` on {}, {} cores (shared, noisy). Release build.\n\n",
            self.date, self.cores
        );
        s += &format!(
            "**Photos**: {} JPEGs (q90, 4:2:0, no EXIF) from {} real photos in Debian packages, by \
             `tests/tools/make_blur_set`: the {} that reach 12 MP with at most 2x upscaling \
             (x{:.2}-x{:.2}), as 4032x3024 (3024x4032) photos; their copies blurred by a \
             Gaussian of sigma 2, 4 and 8 px (missed focus) and along a 15 and a 30 px line \
             at two of 0/45/90/135 degrees (camera shake); and plain crops (the least textured \
             window of every source: sky, walls, water) with sensor-like grain. Scanned cold \
             through `Engine::scan_folders` (decode paths: {}); every figure is what the scan \
             stored.\n\n",
            self.set_files,
            self.sources,
            self.kinds
                .iter()
                .find(|k| k.kind == "sharp")
                .map_or(0, |k| k.photos),
            self.sharp_upscale.0,
            self.sharp_upscale.1,
            self.decode_paths
                .iter()
                .map(|(k, v)| format!("{k} {v}"))
                .collect::<Vec<_>>()
                .join(", "),
        );
        s += &format!(
            "**New**: `blur`, the edge width at full resolution in a {0}-px window \
             (`features::quality::blur`); blurry at >= {1}. **Old**: `sharpness`, the Laplacian \
             variance of the 256-px working image; blurry below the 10th percentile of the \
             gallery, at most 60 (the former rule; here {2:.1}).\n\n",
            quality::DETAIL_SIDE,
            self.blurry_cut,
            self.old_cut
        );
        s += "### Separation, per kind\n\n";
        s += "AUROC: the chance that a photo of that kind scores blurrier than a sharp original \
              (1 = always, 0.5 = chance). Paired: the share of copies scored blurrier than their \
              own original. Flagged: share called blurry by each rule (for sharp and plain \
              photos, false positives).\n\n";
        s += "| kind | photos | new: p10 / median / p90 | old: p10 / median / p90 | AUROC new | AUROC old | paired new / old | flagged new | flagged old |\n";
        s += "|---|---|---|---|---|---|---|---|---|\n";
        for k in &self.kinds {
            let q = |v: [f32; 3], d: usize| {
                format!("{:.d$} / {:.d$} / {:.d$}", v[0], v[1], v[2], d = d)
            };
            let paired = match (k.paired_new, k.paired_old) {
                (Some(a), Some(b)) => format!("{} / {}", pct(a), pct(b)),
                _ => "-".into(),
            };
            s += &format!(
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} |\n",
                k.kind,
                k.photos,
                q(k.blur_quantiles, 2),
                q(k.sharpness_quantiles, 0),
                opt(k.auroc_new),
                opt(k.auroc_old),
                paired,
                pct(k.flagged_new),
                pct(k.flagged_old),
            );
        }
        if let Some(p) = self.kinds.iter().find(|k| k.kind == "plain") {
            s += &format!(
                "\nPlain crops: {} of {} have no edge the measure can judge (blur 0, never \
                 blurry); the old measure calls {} of them blurry.\n",
                p.no_edges,
                p.photos,
                pct(p.flagged_old)
            );
        }
        s += &format!(
            "\nThe sharp originals the new measure finds softest (source, blur, upscale): {}. \
             Several sources are soft at 12 MP (shallow depth of field, soft-focus shots, \
             upscaled 2560x1600 wallpapers), which is what limits the unpaired AUROC of the \
             mildest blur; the paired column compares each copy with its own original.\n",
            self.softest_sharp
                .iter()
                .map(|(s, b, u)| format!("{s} {b:.2} (x{u:.2})"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        s += "\n### Cost per photo\n\n";
        s += "CPU milliseconds per photo, one thread, files in memory: the decode to the working \
              image as the scan does it, then what the blur measure adds: choosing the window in \
              the working image, decoding it at full resolution, measuring. Without \
              libjpeg-turbo (phone builds) a JPEG gets no window (blur not measured; PNG, WebP \
              and GIF are fully decoded anyway and do get one); the last column is what a full \
              decode of the same files costs, the price of a window without a region decoder.\n\n";
        s += "| photos | JPEG codec | working image | + window | + full-res decode | + measure | added | photos with a window | full decode |\n";
        s += "|---|---|---|---|---|---|---|---|---|\n";
        for c in &self.costs {
            s += &format!(
                "| {} ({}) | {} | {:.2} | {:.2} | {:.2} | {:.2} | **{:.2}** | {} | {:.2} |\n",
                c.photos_label,
                c.photos,
                c.codec,
                c.working_ms,
                c.window_ms,
                c.detail_ms,
                c.measure_ms,
                c.window_ms + c.detail_ms + c.measure_ms,
                c.with_detail,
                c.full_decode_ms,
            );
        }
        if !self.scans.is_empty() {
            s += "\nCold scans of the phone-like gallery, each `precious` binary as a child \
                  process (CPU: user + system of the child; decode and HOG+quality+pHash: the \
                  scan's stage seconds, summed over worker threads; wall and stage times swing \
                  with the shared machine's load, CPU less):\n\n";
            s += "| binary | photos | wall | CPU | decode | HOG+quality+pHash | embed |\n";
            s += "|---|---|---|---|---|---|---|\n";
            for r in &self.scans {
                s += &format!(
                    "| {} | {} | {:.1} s | {:.1} s | {:.2} s | {:.2} s | {:.1} s |\n",
                    r.label, r.photos, r.wall_s, r.cpu_s, r.decode_s, r.describe_s, r.embed_s
                );
            }
        }
        s
    }
}
