//! `precious-bench duplicates`: how well `Engine::duplicates` finds copies of one photo and
//! similar shots, and keeps the right one, beside the perceptual hash alone and the embedding
//! alone; and how long grouping takes at 10,000 and 100,000 photos.
//!
//! The set (`tests/tools/make_duplicate_set`, built once in `target/bench/`) holds real photos
//! from Debian packages, 14 kinds of copy of each (crops, re-encodes, resizes, EXIF rotation,
//! exposure and colour edits, a screenshot), two burst frames of each (the same scene a second
//! later: similar, not the same photo), and distinct Imagenette photos of the same classes.
//! Sources and distractors are split in two: the rule's thresholds are chosen on the tuning
//! half only (`--sweep` shows the search) and reported on both halves apart.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use precious_engine::duplicates::{self, Rule};
use precious_engine::{DuplicateOptions, Duplicates, Engine, Error, Result, ScanOptions};
use serde::{Deserialize, Serialize};

use crate::tooling::{cores, ensure_venv, read_json, repo, run_tool, today, Section};

const SECTION: Section = Section {
    marker: "bench duplicates",
    command: "precious-bench duplicates",
    heading: "Duplicates",
};

#[derive(clap::Args)]
pub struct Args {
    /// The duplicate set [default: target/bench/duplicate-set, built by
    /// tests/tools/make_duplicate_set]
    #[arg(long, value_name = "DIR")]
    pub set: Option<PathBuf>,
    /// An indexed gallery to time grouping on, and to replicate tenfold for the 100k timing
    /// [default: target/bench/cifar10-test.sqlite]
    #[arg(long, value_name = "DB")]
    pub scale_db: Option<PathBuf>,
    /// Search the thresholds on the tuning half and print the best rules found
    #[arg(long)]
    pub sweep: bool,
    /// Markdown file whose duplicates section is rewritten [default: BENCHMARKS.md]
    #[arg(long, value_name = "FILE")]
    pub write: Option<PathBuf>,
}

#[derive(Deserialize)]
struct SetFile {
    path: String,
    source: Option<String>,
    kind: String,
    class: Option<String>,
}

#[derive(Deserialize)]
struct Manifest {
    files: Vec<SetFile>,
    split: BTreeMap<String, String>,
}

/// What the benchmark knows of one scanned file.
struct Truth {
    path: String,
    source: Option<String>,
    kind: String,
    split: &'static str,
}

impl Truth {
    fn copy(&self) -> bool {
        self.source.is_some() && !self.kind.starts_with("burst")
    }
}

#[derive(Clone, Copy, PartialEq)]
enum PairTruth {
    Same,
    Similar,
    Distinct,
}

fn pair_truth(a: &Truth, b: &Truth) -> PairTruth {
    match (&a.source, &b.source) {
        (Some(x), Some(y)) if x == y && a.copy() && b.copy() => PairTruth::Same,
        (Some(x), Some(y)) if x == y => PairTruth::Similar,
        _ => PairTruth::Distinct,
    }
}

/// Pair counts of one half of the set.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Half {
    pub true_same: usize,
    pub true_similar: usize,
    /// Predicted "same photo" pairs, and how many of them are.
    pub predicted_same: usize,
    pub correct_same: usize,
    /// Distinct photos (different sources, distractors) predicted "same photo".
    pub distinct_as_same: usize,
    /// Predicted "similar shots" pairs, and how many are of one scene.
    pub predicted_similar: usize,
    pub correct_similar: usize,
    /// True similar pairs found in one group (either tier).
    pub similar_grouped: usize,
    /// Per copy kind: (pairs with the original, found as "same photo").
    pub by_kind: BTreeMap<String, (usize, usize)>,
    /// Groups holding an original: the best is the original / a burst frame / a copy.
    pub groups_with_original: usize,
    pub kept_original: usize,
    pub kept_burst: usize,
    pub kept_copy: usize,
}

impl Half {
    pub fn same_precision(&self) -> f64 {
        ratio(self.correct_same, self.predicted_same)
    }
    pub fn same_recall(&self) -> f64 {
        ratio(self.correct_same, self.true_same)
    }
    pub fn similar_precision(&self) -> f64 {
        ratio(self.correct_similar, self.predicted_similar)
    }
    pub fn similar_recall(&self) -> f64 {
        ratio(self.similar_grouped, self.true_similar)
    }
}

fn ratio(a: usize, b: usize) -> f64 {
    if b == 0 {
        1.0
    } else {
        a as f64 / b as f64
    }
}

/// One rule's result on both halves (and pairs across them, which are all distinct).
#[derive(Clone, Debug, Serialize)]
pub struct Outcome {
    pub name: String,
    pub rule: Rule,
    pub tuning: Half,
    pub holdout: Half,
    pub cross_as_same: usize,
    pub groups: usize,
    /// The first wrong pairs: (tier predicted, file, file).
    pub mistakes: Vec<(String, String, String)>,
}

#[derive(Clone, Debug, Serialize)]
pub struct ScaleRow {
    pub photos: usize,
    pub what: String,
    pub median_ms: f64,
    pub groups: usize,
}

#[derive(Clone, Debug, Serialize)]
pub struct Bench {
    pub date: String,
    pub cores: usize,
    pub files: usize,
    pub sources: usize,
    pub outcomes: Vec<Outcome>,
    pub scale: Vec<ScaleRow>,
}

/// The single-signal baselines: what each rule of the product would be on its own.
fn baselines() -> Vec<(String, Rule)> {
    let off = Rule {
        same_bits: 0,
        same_cosine: 2.0,
        same_match: None,
        similar_cosine: 2.0,
        similar_bits: 0,
        similar_seconds: 0,
        use_time: false,
    };
    let mut v = vec![
        (
            "pHash <= 6 bits (before)".to_string(),
            Rule {
                same_bits: 6,
                ..off
            },
        ),
        (
            "pHash <= 12 bits".to_string(),
            Rule {
                same_bits: 12,
                ..off
            },
        ),
    ];
    for c in [0.90, 0.95] {
        v.push((
            format!("embedding cosine >= {c}"),
            Rule {
                same_cosine: c,
                ..off
            },
        ));
    }
    v
}

pub fn run(args: Args, json: bool) -> Result<()> {
    let work = repo().join("target/bench");
    std::fs::create_dir_all(&work).map_err(|e| Error::io(&work, e))?;
    let set = args
        .set
        .clone()
        .unwrap_or_else(|| work.join("duplicate-set"));
    if !set.join("manifest.json").exists() {
        let py = ensure_venv(&work.join("venv-blur"))?;
        eprintln!("bench: generating {} (about a minute) ...", set.display());
        run_tool(
            Command::new(&py)
                .arg(repo().join("tests/tools/make_duplicate_set"))
                .arg("--out")
                .arg(&set)
                .arg("--jobs")
                .arg(cores().to_string()),
        )?;
    }
    let manifest: Manifest = read_json(&set.join("manifest.json"))?;
    let db = work.join("duplicate-set.sqlite");
    let mut engine = Engine::open(&db)?;
    eprintln!(
        "bench: indexing {} into {} ...",
        set.display(),
        db.display()
    );
    engine.scan_folders(
        std::slice::from_ref(&set),
        &ScanOptions::default(),
        &mut |_| {},
    )?;

    let truth = truths(&engine, &set, &manifest)?;
    let mut outcomes = vec![];
    for (name, rule) in baselines()
        .into_iter()
        .chain([("precious (default rule)".to_string(), Rule::DEFAULT)])
    {
        outcomes.push(evaluate(&mut engine, &truth, name, rule)?);
    }
    if args.sweep {
        sweep(&mut engine, &truth)?;
    }
    let scale_db = args
        .scale_db
        .clone()
        .unwrap_or_else(|| work.join("cifar10-test.sqlite"));
    let scale = if scale_db.exists() {
        scale_rows(&scale_db)?
    } else {
        eprintln!("bench: no {} for the timings at scale", scale_db.display());
        vec![]
    };
    let bench = Bench {
        date: today(),
        cores: cores(),
        files: manifest.files.len(),
        sources: manifest.split.len(),
        outcomes,
        scale,
    };
    SECTION.publish(
        args.write,
        &bench.markdown(),
        &bench,
        (&work, "duplicates.json"),
        json,
    )
}

/// Each scanned photo id's truth, from its path in the manifest.
fn truths(engine: &Engine, set: &Path, manifest: &Manifest) -> Result<HashMap<i64, Truth>> {
    let by_path: HashMap<PathBuf, &SetFile> = manifest
        .files
        .iter()
        .map(|f| (set.join(&f.path), f))
        .collect();
    let mut class_index: HashMap<&str, usize> = HashMap::new();
    let mut split_of: HashMap<&str, &'static str> = HashMap::new();
    for f in &manifest.files {
        if let Some(c) = &f.class {
            let i = class_index.entry(c).or_default();
            split_of.insert(
                &f.path,
                if i.is_multiple_of(2) {
                    "tuning"
                } else {
                    "holdout"
                },
            );
            *i += 1;
        }
    }
    let mut out = HashMap::new();
    for p in engine.photo_vectors(precious_engine::Space::Embedding)? {
        let Some(f) = by_path.get(Path::new(&p.path)) else {
            continue;
        };
        let split = match &f.source {
            Some(s) if manifest.split.get(s).map(String::as_str) == Some("holdout") => "holdout",
            Some(_) => "tuning",
            None => split_of[f.path.as_str()],
        };
        out.insert(
            p.id,
            Truth {
                path: f.path.clone(),
                source: f.source.clone(),
                kind: f.kind.clone(),
                split,
            },
        );
    }
    Ok(out)
}

fn evaluate(
    engine: &mut Engine,
    truth: &HashMap<i64, Truth>,
    name: String,
    rule: Rule,
) -> Result<Outcome> {
    let d = engine.duplicates(&DuplicateOptions { rule, tier: None })?;
    Ok(score(&d, truth, name, rule))
}

fn score(d: &Duplicates, truth: &HashMap<i64, Truth>, name: String, rule: Rule) -> Outcome {
    let mut halves: BTreeMap<&str, Half> =
        [("tuning", Half::default()), ("holdout", Half::default())]
            .into_iter()
            .collect();
    let mut cross_as_same = 0;
    let mut mistakes = vec![];
    // Truth totals.
    let mut by_source: HashMap<&str, Vec<&Truth>> = HashMap::new();
    for t in truth.values() {
        if let Some(s) = &t.source {
            by_source.entry(s).or_default().push(t);
        }
    }
    for files in by_source.values() {
        let h = halves.get_mut(files[0].split).expect("two halves");
        for (i, a) in files.iter().enumerate() {
            for b in &files[i + 1..] {
                match pair_truth(a, b) {
                    PairTruth::Same => h.true_same += 1,
                    PairTruth::Similar => h.true_similar += 1,
                    PairTruth::Distinct => {}
                }
            }
            if a.copy() && a.kind != "original" {
                h.by_kind.entry(a.kind.clone()).or_default().0 += 1;
            }
        }
    }
    for g in &d.groups {
        for (i, a) in g.members.iter().enumerate() {
            for b in &g.members[i + 1..] {
                let (Some(ta), Some(tb)) = (truth.get(&a.id), truth.get(&b.id)) else {
                    continue;
                };
                let predicted_same = a.copy_of == b.copy_of;
                let t = pair_truth(ta, tb);
                let wrong = if predicted_same {
                    t != PairTruth::Same
                } else {
                    t == PairTruth::Distinct
                };
                if wrong && mistakes.len() < 40 {
                    let tier = if predicted_same { "same" } else { "similar" };
                    mistakes.push((tier.to_string(), ta.path.clone(), tb.path.clone()));
                }
                if ta.split != tb.split {
                    cross_as_same += usize::from(predicted_same);
                    continue;
                }
                let h = halves.get_mut(ta.split).expect("two halves");
                if predicted_same {
                    h.predicted_same += 1;
                    match t {
                        PairTruth::Same => h.correct_same += 1,
                        PairTruth::Distinct => h.distinct_as_same += 1,
                        PairTruth::Similar => {}
                    }
                    let kind = [ta, tb]
                        .into_iter()
                        .find(|t| t.kind != "original")
                        .filter(|_| ta.kind == "original" || tb.kind == "original");
                    if let (PairTruth::Same, Some(k)) = (t, kind) {
                        h.by_kind.entry(k.kind.clone()).or_default().1 += 1;
                    }
                } else {
                    h.predicted_similar += 1;
                    h.correct_similar += usize::from(t != PairTruth::Distinct);
                }
                h.similar_grouped += usize::from(t == PairTruth::Similar);
            }
        }
        if let Some(orig) = g
            .members
            .iter()
            .find(|m| truth.get(&m.id).is_some_and(|t| t.kind == "original"))
        {
            let t = &truth[&orig.id];
            let h = halves.get_mut(t.split).expect("two halves");
            h.groups_with_original += 1;
            match truth.get(&g.best) {
                Some(b) if b.kind == "original" => h.kept_original += 1,
                Some(b) if b.kind.starts_with("burst") && b.source == t.source => h.kept_burst += 1,
                _ => h.kept_copy += 1,
            }
        }
    }
    Outcome {
        name,
        rule,
        tuning: halves.remove("tuning").expect("tuning"),
        holdout: halves.remove("holdout").expect("holdout"),
        cross_as_same,
        groups: d.groups.len(),
        mistakes,
    }
}

/// The threshold search, on the tuning half only: the "same photo" rule with the highest
/// recall at precision >= 0.995 and no distinct pair, then the "similar" thresholds with the
/// highest recall at precision >= 0.95.
fn sweep(engine: &mut Engine, truth: &HashMap<i64, Truth>) -> Result<()> {
    let mut best: Option<(f64, Rule)> = None;
    for same_bits in [4, 6, 8] {
        for same_cosine in [0.5, 0.6, 0.7, 0.8] {
            for same_match in [0.8, 0.85, 0.9] {
                let rule = Rule {
                    same_bits,
                    same_cosine,
                    same_match: Some(same_match),
                    ..Rule::DEFAULT
                };
                let o = evaluate(engine, truth, String::new(), rule)?;
                let t = &o.tuning;
                if t.same_precision() >= 0.995 && t.distinct_as_same == 0 {
                    let r = t.same_recall();
                    if best.is_none_or(|(b, _)| r > b) {
                        eprintln!("sweep same: recall {r:.4} with {rule:?}");
                        best = Some((r, rule));
                    }
                }
            }
        }
    }
    let Some((_, same)) = best else {
        eprintln!("sweep: no same-photo rule reaches precision 0.995");
        return Ok(());
    };
    let mut best: Option<(f64, Rule)> = None;
    for similar_cosine in [0.3, 0.4, 0.5, 0.6, 0.7, 0.8] {
        for similar_seconds in [10, 60, 600] {
            let rule = Rule {
                similar_cosine,
                similar_seconds,
                ..same
            };
            let o = evaluate(engine, truth, String::new(), rule)?;
            let t = &o.tuning;
            if t.similar_precision() >= 0.95 && t.distinct_as_same == 0 {
                let r = t.similar_recall();
                if best.is_none_or(|(b, _)| r > b) {
                    eprintln!("sweep similar: recall {r:.4} with {rule:?}");
                    best = Some((r, rule));
                }
            }
        }
    }
    eprintln!("sweep: chosen {best:?}");
    Ok(())
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Grouping time on an indexed gallery (whole `Engine::duplicates`, SQLite included), and
/// `duplicates::group` alone on it and on a tenfold replica (each copy's hashes moved away by
/// 16 random bits, its neighbour lists kept within the copy): the 100,000-photo figure.
fn scale_rows(db: &Path) -> Result<Vec<ScaleRow>> {
    let mut engine = Engine::open(db)?;
    let opts = DuplicateOptions::default();
    let mut rows = vec![];
    let runs: Vec<Duplicates> = (0..3)
        .map(|_| engine.duplicates(&opts))
        .collect::<Result<_>>()?;
    rows.push(ScaleRow {
        photos: runs[0].photos,
        what: "Engine::duplicates (load from SQLite, group, best shots)".into(),
        median_ms: median(runs.iter().map(|d| d.elapsed_ms).collect()),
        groups: runs[0].groups.len(),
    });
    let (cands, nbrs) = engine.duplicate_inputs(opts.rule.cosine_floor())?;
    let n = cands.len();
    let mut x = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for copies in [1usize, 10] {
        let mut c = Vec::with_capacity(n * copies);
        let mut e = Vec::with_capacity(nbrs.len() * copies);
        for k in 0..copies {
            for cand in &cands {
                let mut cand = cand.clone();
                if k > 0 {
                    cand.id += (k * n) as i64;
                    cand.content_hash[0] ^= k as u8;
                    for _ in 0..16 {
                        cand.phash ^= 1 << (next() % 64);
                    }
                }
                c.push(cand);
            }
            let off = (k * n) as u32;
            e.extend(nbrs.iter().map(|&(i, j, s)| (i + off, j + off, s)));
        }
        let times: Vec<(f64, usize)> = (0..3)
            .map(|_| {
                let t = Instant::now();
                let g =
                    duplicates::group(&c, &e, &opts.rule, |_, _| false, |p| vec![None; p.len()]);
                (t.elapsed().as_secs_f64() * 1e3, g.len())
            })
            .collect();
        rows.push(ScaleRow {
            photos: c.len(),
            what: "duplicates::group (hash index + graph pairs, union-find)".into(),
            median_ms: median(times.iter().map(|t| t.0).collect()),
            groups: times[0].1,
        });
    }
    Ok(rows)
}

impl Bench {
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "Measured {} on {} cores: `precious-bench duplicates` over {} files \
             (`tests/tools/make_duplicate_set`: {} real photos from Debian packages, 14 copies \
             of each, 2 burst frames of each, and 300 Imagenette photos of 10 classes as \
             distinct look-alikes). Sources and distractors are split in halves; the rule's \
             thresholds were chosen on the tuning half (`--sweep`), the held-out half is \
             reported apart. Pairs are counted within the groups a user sees.\n\n",
            self.date, self.cores, self.files, self.sources
        );
        s += "| rule | half | same-photo precision | recall | distinct as same | similar precision | recall | best: original / burst / copy |\n|---|---|--:|--:|--:|--:|--:|---|\n";
        for o in &self.outcomes {
            for (half, h) in [("tuning", &o.tuning), ("held-out", &o.holdout)] {
                s += &format!(
                    "| {} | {half} | {:.3} ({}/{}) | {:.3} ({}/{}) | {} | {:.3} | {:.3} | {} / {} / {} |\n",
                    o.name,
                    h.same_precision(),
                    h.correct_same,
                    h.predicted_same,
                    h.same_recall(),
                    h.correct_same,
                    h.true_same,
                    h.distinct_as_same,
                    h.similar_precision(),
                    h.similar_recall(),
                    h.kept_original,
                    h.kept_burst,
                    h.kept_copy
                );
            }
        }
        if let Some(o) = self.outcomes.last() {
            s += &format!(
                "\nPairs across the halves grouped as the same photo: {} (default rule).\n\n\
                 Recall of each copy kind against its original, default rule (tuning / held-out):\n\n\
                 | copy | tuning | held-out |\n|---|--:|--:|\n",
                o.cross_as_same
            );
            for (kind, (n, found)) in &o.tuning.by_kind {
                let (hn, hf) = o.holdout.by_kind.get(kind).copied().unwrap_or_default();
                s += &format!(
                    "| {kind} | {:.2} ({found}/{n}) | {:.2} ({hf}/{hn}) |\n",
                    ratio(*found, *n),
                    ratio(hf, hn)
                );
            }
        }
        if !self.scale.is_empty() {
            s += "\nGrouping time (median of 3):\n\n| photos | what | ms | groups |\n|--:|---|--:|--:|\n";
            for r in &self.scale {
                s += &format!(
                    "| {} | {} | {:.0} | {} |\n",
                    r.photos, r.what, r.median_ms, r.groups
                );
            }
        }
        s
    }
}
