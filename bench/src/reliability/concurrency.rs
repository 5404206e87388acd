//! `concurrency`: the app and the CLI on one database at once. This process plays the app: it
//! labels photos already indexed (`set_label`, `undo_label`, with `label_queue` and `status`
//! reads in between, as the swipe screen does) while a `precious` child process works on the
//! same database: a scan of a few thousand new files, a training, a trash and a restore.
//!
//! Counted: writes attempted and whether each is in the database afterwards (a lost write is
//! one the engine said it stored that is not there, or a final label that is not the last one
//! set), errors by kind (any "database is locked" or busy error reaching the caller is a
//! finding: the busy timeout and `BEGIN IMMEDIATE` write transactions must turn contention
//! into waits), and the latency of `set_label` while each child runs.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use precious_engine::learn::head::Rng;
use precious_engine::source::hash_file;
use precious_engine::{Engine, Error, Label, Result, ScanOptions, Space, Split};
use serde::Serialize;
use serde_json::json;

use super::{Args, Part};
use crate::tooling::{
    copy_tree, demo_gallery, invalid, precious_exe, run_child, shared_data, Finished,
};

/// CIFAR-10 test classes scanned by the child: 1,000 small PNGs each.
const SCAN_CLASSES: [&str; 3] = ["airplane", "automobile", "bird"];
/// Pause between two of the app's calls: a fast swiper, far faster than a person.
const PAUSE: Duration = Duration::from_millis(2);
/// `label_queue` clusters the gallery (a second or so): asked at most this often.
const QUEUE_EVERY: Duration = Duration::from_secs(2);

/// What the app side did during one phase.
#[derive(Default, Serialize)]
struct Phase {
    name: String,
    /// What the child ran, and how it ended.
    child: Vec<ChildRun>,
    set_label: usize,
    undo_label: usize,
    reads: usize,
    /// Writes the engine reported as stored.
    writes_ok: usize,
    /// History rows that appeared in the database during the phase (one per stored write).
    writes_present: usize,
    /// Stored writes missing afterwards, plus photos whose final label is not the last set.
    lost: usize,
    /// Error kind -> count ("locked" for database locked / busy).
    errors: BTreeMap<String, usize>,
    error_samples: Vec<String>,
    set_label_ms: Latency,
    /// `label_queue` (K-means over the whole gallery, and the model's least sure photos).
    label_queue_ms: Latency,
    /// Other findings of the phase (a child that failed, a restore that changed bytes).
    problems: Vec<String>,
}

#[derive(Serialize)]
struct ChildRun {
    args: String,
    ending: String,
    wall_s: f64,
}

#[derive(Default, Serialize)]
struct Latency {
    n: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

impl Latency {
    fn of(mut ms: Vec<f64>) -> Latency {
        if ms.is_empty() {
            return Latency::default();
        }
        ms.sort_by(f64::total_cmp);
        let at = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
        Latency {
            n: ms.len(),
            p50: at(0.5),
            p99: at(0.99),
            max: ms[ms.len() - 1],
        }
    }
}

/// The app side: labels random photos of `ids` and remembers what each should hold.
struct App {
    engine: Engine,
    ids: Vec<i64>,
    rng: Rng,
    /// The label each photo holds according to the engine's answers.
    expected: HashMap<i64, Option<(Label, Split)>>,
    last_queue: Instant,
}

impl App {
    /// One call, as the swipe screen makes them.
    fn step(&mut self, phase: &mut Phase, latencies: &mut [Vec<f64>; 2]) {
        let id = self.ids[self.rng.below(self.ids.len())];
        let dice = self.rng.below(10);
        let outcome = if dice < 7 {
            let label = [Label::Keep, Label::Delete, Label::Skip][self.rng.below(3)];
            let split = if self.rng.below(4) == 0 {
                Split::Test
            } else {
                Split::Train
            };
            let t = Instant::now();
            let r = self.engine.set_label(id, label, split);
            latencies[0].push(t.elapsed().as_secs_f64() * 1e3);
            phase.set_label += 1;
            r.map(|()| {
                self.expected.insert(id, Some((label, split)));
                phase.writes_ok += 1;
            })
        } else if dice < 9 {
            phase.undo_label += 1;
            self.engine.undo_label(id).map(|now| {
                self.expected.insert(id, now);
                phase.writes_ok += 1;
            })
        } else if self.last_queue.elapsed() >= QUEUE_EVERY {
            self.last_queue = Instant::now();
            phase.reads += 1;
            let t = Instant::now();
            let r = self.engine.label_queue(Split::Train, 20, 1).map(drop);
            latencies[1].push(t.elapsed().as_secs_f64() * 1e3);
            r
        } else {
            phase.reads += 1;
            self.engine.status().map(drop)
        };
        if let Err(e) = outcome {
            let msg = e.to_string();
            let lower = msg.to_lowercase();
            let kind = if lower.contains("locked") || lower.contains("busy") {
                "locked"
            } else {
                "other"
            };
            *phase.errors.entry(kind.into()).or_default() += 1;
            if phase.error_samples.len() < 5 {
                phase.error_samples.push(msg);
            }
        }
    }

    /// Labels until `children` finishes; returns the children's runs.
    fn alongside(
        &mut self,
        phase: &mut Phase,
        db: &Path,
        children: JoinHandle<Result<Vec<(String, Finished)>>>,
    ) -> Result<()> {
        let before = history_rows(db)?;
        let mut latencies = [Vec::new(), Vec::new()];
        while !children.is_finished() {
            self.step(phase, &mut latencies);
            std::thread::sleep(PAUSE);
        }
        let runs = children
            .join()
            .map_err(|_| invalid("a child-running thread panicked"))??;
        for (args, f) in runs {
            if !f.ok() {
                let tail: String = f.stderr.lines().last().unwrap_or_default().into();
                phase
                    .problems
                    .push(format!("`precious {args}` ended {:?}: {tail}", f.ending));
                let lower = f.stderr.to_lowercase();
                if lower.contains("locked") || lower.contains("busy") {
                    *phase.errors.entry("locked".into()).or_default() += 1;
                }
            }
            phase.child.push(ChildRun {
                args,
                ending: format!("{:?}", f.ending),
                wall_s: f.wall_s,
            });
        }
        let [set_label, queue] = latencies;
        phase.set_label_ms = Latency::of(set_label);
        phase.label_queue_ms = Latency::of(queue);
        phase.writes_present = history_rows(db)?.saturating_sub(before);
        phase.lost = phase.writes_ok.saturating_sub(phase.writes_present) + self.mismatches(db)?;
        Ok(())
    }

    /// Photos whose stored label is not the one the engine last answered, read through a
    /// fresh connection.
    fn mismatches(&self, db: &Path) -> Result<usize> {
        let fresh = Engine::open(db)?;
        let mut n = 0;
        for (&id, want) in &self.expected {
            let d = fresh.photo(id)?;
            let have = d.label.zip(d.split);
            if have != *want {
                n += 1;
            }
        }
        Ok(n)
    }
}

fn history_rows(db: &Path) -> Result<usize> {
    let conn = rusqlite::Connection::open(db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    let n: i64 = conn.query_row("SELECT COUNT(*) FROM label_history", [], |r| r.get(0))?;
    Ok(n as usize)
}

/// `precious --db DB --json ARGS...` with the sandboxed trash.
fn precious(db: &Path, xdg: &Path, args: &[String]) -> Result<Command> {
    let mut cmd = Command::new(precious_exe()?);
    cmd.env("XDG_DATA_HOME", xdg)
        .arg("--db")
        .arg(db)
        .arg("--json")
        .args(args);
    Ok(cmd)
}

/// Runs the children one after the other on a thread of its own.
fn spawn_children(
    db: &Path,
    xdg: &Path,
    runs: Vec<Vec<String>>,
) -> JoinHandle<Result<Vec<(String, Finished)>>> {
    let (db, xdg) = (db.to_path_buf(), xdg.to_path_buf());
    std::thread::spawn(move || {
        let mut out = Vec::new();
        for args in runs {
            let f = run_child(
                &mut precious(&db, &xdg, &args)?,
                Some(Duration::from_secs(1800)),
            )?;
            let shown = args
                .iter()
                .map(|a| {
                    Path::new(a)
                        .file_name()
                        .filter(|_| a.contains('/'))
                        .map_or(a.clone(), |n| format!(".../{}", n.to_string_lossy()))
                })
                .collect::<Vec<_>>()
                .join(" ");
            out.push((shown, f));
        }
        Ok(out)
    })
}

fn hash(path: &Path) -> Option<[u8; 32]> {
    hash_file(path).ok()
}

pub(crate) fn run(dir: &Path, args: &Args) -> Result<Part> {
    let shared = shared_data();
    let big: Vec<PathBuf> = SCAN_CLASSES
        .iter()
        .map(|c| shared.join("cifar10-test").join(c))
        .collect();
    if let Some(missing) = big.iter().find(|d| !d.is_dir()) {
        return Err(invalid(format!(
            "{} not found (set PRECIOUS_SHARED_DATA)",
            missing.display()
        )));
    }
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let gallery = dir.join("gallery");
    let xdg = dir.join("xdg");
    let db = dir.join("db/precious.sqlite");
    copy_tree(&demo_gallery(), &gallery)?;
    std::fs::create_dir_all(&xdg).map_err(|e| Error::io(&xdg, e))?;

    // The app's gallery, indexed before the children start.
    let mut engine = Engine::open(&db)?;
    engine.scan_folders(
        std::slice::from_ref(&gallery),
        &ScanOptions::default(),
        &mut |_| {},
    )?;
    let photos: Vec<(i64, PathBuf)> = engine
        .photo_vectors(Space::Embedding)?
        .into_iter()
        .map(|v| (v.id, PathBuf::from(v.path)))
        .collect();
    let ids: Vec<i64> = photos.iter().map(|p| p.0).collect();
    let mut app = App {
        engine,
        ids: ids.clone(),
        rng: Rng::new(args.seed),
        expected: HashMap::new(),
        last_queue: Instant::now(),
    };
    // Train labels of both kinds, so that the training child has something to learn.
    for (i, &id) in ids.iter().enumerate() {
        let label = if i % 2 == 0 {
            Label::Keep
        } else {
            Label::Delete
        };
        app.engine.set_label(id, label, Split::Train)?;
        app.expected.insert(id, Some((label, Split::Train)));
    }

    let mut phases = Vec::new();
    let big_args: Vec<String> = std::iter::once("scan".to_string())
        .chain(big.iter().map(|d| d.display().to_string()))
        .collect();
    let train_args = ["train", "--steps", "100", "--views", "64"].map(String::from);
    // Trash and restore photos the app keeps labeling (the labels must survive the round trip).
    let acted: Vec<(i64, PathBuf, Option<[u8; 32]>)> = photos
        .iter()
        .step_by(photos.len().div_ceil(12).max(1))
        .map(|(id, p)| (*id, p.clone(), hash(p)))
        .collect();
    let act_ids: Vec<String> = acted.iter().map(|a| a.0.to_string()).collect();
    let with_ids = |cmd: &str| -> Vec<String> {
        std::iter::once(cmd.to_string())
            .chain(act_ids.iter().cloned())
            .collect()
    };
    let plans: Vec<(&str, Vec<Vec<String>>)> = vec![
        ("scan of 3,000 new files", vec![big_args]),
        ("training", vec![train_args.to_vec()]),
        (
            "trash, then restore (x25)",
            (0..25)
                .flat_map(|_| [with_ids("trash"), with_ids("restore")])
                .collect(),
        ),
    ];
    for (name, runs) in plans {
        eprintln!("reliability: concurrency: labeling during the {name} ...");
        let mut phase = Phase {
            name: name.into(),
            ..Phase::default()
        };
        let children = spawn_children(&db, &xdg, runs);
        app.alongside(&mut phase, &db, children)?;
        if name.starts_with("trash") {
            for (id, p, h) in &acted {
                if hash(p) != *h || h.is_none() {
                    phase.problems.push(format!(
                        "photo {id}: not back at {} with its bytes",
                        p.display()
                    ));
                }
            }
        }
        phases.push(phase);
    }

    let findings = |p: &Phase| p.lost + p.errors.values().sum::<usize>() + p.problems.len();
    let open: usize = phases.iter().map(findings).sum();
    let md = markdown(&phases, app.ids.len());
    Ok(Part {
        markdown: md,
        json: json!({ "labeled_photos": app.ids.len(), "phases": phases, "open_findings": open }),
        open_findings: open,
    })
}

fn markdown(phases: &[Phase], photos: usize) -> String {
    let mut md = format!(
        "This process labels {photos} indexed photos as the app does (`set_label` 70%, \
         `undo_label` 20%, `status`/`label_queue` reads 10%, a call every {} ms) while a \
         `precious` child process works on the same database (WAL, 10 s busy timeout, write \
         transactions `BEGIN IMMEDIATE`). A lost write is one reported stored but missing, or \
         a final label other than the last one set, read through a fresh connection.\n\n",
        PAUSE.as_millis()
    );
    md.push_str(
        "| While the CLI runs | child wall s | set_label | undo_label | reads | writes stored \
         / present | lost | locked / busy errors | other errors | set_label p50 / p99 / max ms \
         | label_queue p50 / max ms |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---|---|\n",
    );
    for p in phases {
        let wall: f64 = p.child.iter().map(|c| c.wall_s).sum();
        let locked = p.errors.get("locked").copied().unwrap_or(0);
        let other = p.errors.get("other").copied().unwrap_or(0) + p.problems.len();
        let (l, q) = (&p.set_label_ms, &p.label_queue_ms);
        md.push_str(&format!(
            "| {} | {wall:.1} | {} | {} | {} | {} / {} | {} | {locked} | {other} | {:.1} / {:.1} / {:.1} \
             | {:.0} / {:.0} |\n",
            p.name,
            p.set_label,
            p.undo_label,
            p.reads,
            p.writes_ok,
            p.writes_present,
            p.lost,
            l.p50,
            l.p99,
            l.max,
            q.p50,
            q.max
        ));
    }
    let notes: Vec<String> = phases
        .iter()
        .flat_map(|p| {
            p.problems
                .iter()
                .chain(&p.error_samples)
                .map(move |s| format!("- {}: {s}\n", p.name))
        })
        .collect();
    if !notes.is_empty() {
        md.push_str("\nFindings:\n\n");
        md.extend(notes);
    }
    md.push('\n');
    md
}
