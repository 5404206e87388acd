//! Crash consistency under SIGKILL: the kill-and-check cycle shared by `precious-bench
//! reliability --only kills` (many kills, the RELIABILITY.md figures) and this crate's kill
//! test (a few, in CI), so both hold the engine to the same checks.
//!
//! A [`Rig`] is a work folder with a gallery (a copy of a base gallery plus extra photos), a
//! database, and the OS trash sandboxed under `XDG_DATA_HOME`. For each [`Op`] (scan, train,
//! trash, restore) a cycle puts database and files in the op's start state, runs the `precious`
//! binary as a child through a [`Runner`], which may SIGKILL it at a chosen moment, and checks
//! what the kill left, whatever the moment:
//!
//! 1. `integrity`: `PRAGMA integrity_check` is `ok` and `foreign_key_check` finds nothing;
//! 2. `labels`: every label set before is there with the same value and split, and no other;
//! 3. `placement`: after [`Engine::recover`], every gallery file is either at its path with its
//!    original bytes or in the sandbox trash with them (one of the two, and nothing else at the
//!    path), and the journal agrees: it says trashed exactly the photos whose bytes are in the
//!    trash, each `trashed_as` names an item holding those bytes, and no row is left `planned`;
//! 4. `resume`: the same op run again, un-killed, ends in the complete state: scan: the index an
//!    uninterrupted scan makes (same rows, states, hashes, features, HOG-PCA rows, thumbnails),
//!    with every file the killed run committed skipped as unchanged; train: a model stored on the
//!    same train labels, and `suggest` works; trash: every photo in the trash; restore: every
//!    photo back. Then `restorable` (after trash: `precious restore` brings every photo back
//!    byte-identical) or `trashable` (after restore: they can be trashed again).
//!
//! The child inherits nothing of the caller's trash: it gets `XDG_DATA_HOME` = the rig's data
//! home, which the calling process must have set for itself too (its recover and listing go
//! through the same `trash` crate).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use rusqlite::Connection;
use serde::Serialize;

use precious_engine::features::FEATURE_VERSION;
use precious_engine::source::{content_hash, hash_file, Locator};
use precious_engine::thumbs::Thumbs;
use precious_engine::{Engine, Error, Label, Result, ScanReport, Split};

use crate::tooling::{copy_tree, run_child, Ending};

/// How a child process ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Ended {
    /// Exited by itself with this code.
    Exited(i32),
    /// Died of a signal the runner did not send: a crash.
    Signaled(i32),
    /// SIGKILLed by the runner at the requested moment.
    Killed,
}

/// A finished child.
#[derive(Clone, Debug)]
pub struct Ran {
    pub ended: Ended,
    pub wall_s: f64,
    pub stdout: String,
    pub stderr: String,
}

/// Runs child processes for the rig.
pub trait Runner {
    /// Runs `cmd` to its end, or SIGKILLs it once `kill_after` has passed since it started.
    fn run(&mut self, cmd: &mut Command, kill_after: Option<Duration>) -> Result<Ran>;
}

/// The operations killed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Op {
    Scan,
    Train,
    Trash,
    Restore,
}

impl Op {
    /// In the order the rig expects them: trash and restore chain their start states.
    pub const ALL: [Op; 4] = [Op::Scan, Op::Train, Op::Trash, Op::Restore];

    pub fn name(self) -> &'static str {
        match self {
            Op::Scan => "scan",
            Op::Train => "train",
            Op::Trash => "trash",
            Op::Restore => "restore",
        }
    }
}

#[derive(Clone, Debug)]
pub struct RigOptions {
    /// Copied to `gallery/base`: indexed and partly labeled before every op.
    pub base: PathBuf,
    /// Files copied to `gallery/more/`: new to the scan op, indexed for the others.
    pub extra: Vec<PathBuf>,
    /// `precious train --views`.
    pub views: usize,
    /// `precious train --steps`.
    pub steps: usize,
}

/// Where a kill landed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Landing {
    /// The child ended by itself before the kill moment (or no kill was asked for).
    Finished,
    /// Killed before it could have opened the database (within the measured start-up time).
    BeforeWork,
    /// Killed while doing the operation.
    MidWork,
    /// Killed after all of the operation's work was stored, before the process exited.
    AfterWork,
}

/// What the operation had visibly done when the child ended: `done` of `of` units (scan:
/// new rows committed; train: views stored, model stored; trash and restore: photos moved),
/// and journal rows left `planned`.
#[derive(Clone, Copy, Debug, Default, Serialize)]
pub struct Progress {
    pub done: usize,
    pub of: usize,
    pub in_flight: usize,
}

/// A check a cycle failed.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    pub check: &'static str,
    pub detail: String,
}

/// One kill (or one uninterrupted run) and what the checks found.
#[derive(Clone, Debug, Serialize)]
pub struct Cycle {
    pub op: Op,
    pub cycle: usize,
    /// The kill moment from the child's start; `None`: run to completion.
    pub kill_after_s: Option<f64>,
    pub ended: Ended,
    pub wall_s: f64,
    pub landing: Landing,
    pub progress: Progress,
    pub failures: Vec<Failure>,
}

impl Cycle {
    pub fn survived(&self) -> bool {
        self.failures.is_empty()
    }

    /// The kill left a visibly partial state: some but not all work stored, or moves in flight.
    pub fn partial(&self) -> bool {
        let p = &self.progress;
        self.ended == Ended::Killed && ((p.done > 0 && p.done < p.of) || p.in_flight > 0)
    }
}

#[derive(Default)]
struct Failures(Vec<Failure>);

impl Failures {
    fn check(&mut self, check: &'static str, r: std::result::Result<(), String>) {
        if let Err(detail) = r {
            self.0.push(Failure { check, detail });
        }
    }
}

/// A gallery file and its original bytes' hash.
struct FileRecord {
    path: PathBuf,
    hash: [u8; 32],
}

/// Makes every third extra photo a Live Photo (a `.MOV` beside it) and every fifth a RAW+JPEG
/// pair (a `.DNG`), so trash and restore move assets of two and three files. Their bytes are
/// stand-ins of a few hundred KB (a QuickTime `ftyp` box, a TIFF header, then the photo's bytes
/// repeated): the engine pairs by name and only hashes companions.
fn write_companions(more: &Path, extra: &[PathBuf]) -> Result<()> {
    for (i, p) in extra.iter().enumerate() {
        let parent = p.parent().and_then(|d| d.file_name()).unwrap_or_default();
        let stem = p.file_stem().unwrap_or_default().to_string_lossy();
        let stem = format!("{}_{stem}", parent.to_string_lossy());
        let photo = std::fs::read(p).map_err(|e| Error::io(p, e))?;
        let body: Vec<u8> = photo.iter().cycle().take(300_000).copied().collect();
        for (every, ext, head) in [
            (3, "MOV", &b"\0\0\0\x14ftypqt  \0\0\0\0qt  "[..]),
            (5, "DNG", &b"II*\0\x08\0\0\0"[..]),
        ] {
            if i % every == 0 {
                let f = more.join(format!("{stem}.{ext}"));
                std::fs::write(&f, [head, &body].concat()).map_err(|e| Error::io(&f, e))?;
            }
        }
    }
    Ok(())
}

/// Where each acted photo is after recovery (ids of photos in the trash).
type InTrash = BTreeSet<i64>;

/// The work folder, gallery, database templates and expectations of the kill cycles.
pub struct Rig {
    pub dir: PathBuf,
    pub gallery: PathBuf,
    pub db: PathBuf,
    /// Seconds a child takes to start and open the database (the fastest of a few runs).
    pub startup_s: f64,
    /// Gallery files, and photos acted on by trash and restore (every indexed photo).
    pub files: usize,
    pub acted: usize,
    /// Companion files of the acted photos' assets (moved with them).
    pub companion_files: usize,
    data_home: PathBuf,
    exe: PathBuf,
    opts: RigOptions,
    records: Vec<FileRecord>,
    /// The labels set before every op: (id, label, split).
    labels: Vec<(i64, Label, Split)>,
    /// The index an uninterrupted scan of the whole gallery makes: locator -> (state, hash).
    index: Index,
    acted_photos: Vec<(i64, PathBuf)>,
    /// The companion files of each acted photo's asset (Live Photo videos, RAWs).
    companions: HashMap<i64, Vec<PathBuf>>,
    /// Database after indexing `gallery/base` and labeling; the scan op starts here (or from
    /// nothing).
    tpl_base: PathBuf,
    /// Database after indexing the whole gallery; train, trash and restore start here.
    tpl_full: PathBuf,
    /// The op whose start state the database and files are in (trash and restore chain).
    chain: Option<Op>,
}

fn invalid(msg: impl Into<String>) -> Error {
    Error::Invalid(msg.into())
}

/// Where the freedesktop trash keeps an item's bytes: `$trash/files/NAME` for the id
/// `$trash/info/NAME.trashinfo`.
fn item_file(info: &Path) -> Option<PathBuf> {
    Some(
        info.parent()?
            .parent()?
            .join("files")
            .join(info.file_stem()?),
    )
}

/// Copies a closed database (checkpointed: no WAL to carry) and its thumbnails over `to`.
fn copy_db(from: &Path, to: &Path) -> Result<()> {
    Engine::remove_database(to).map_err(|e| Error::io(to, e))?;
    std::fs::copy(from, to).map_err(|e| Error::io(to, e))?;
    let (tf, tt) = (Thumbs::beside(from), Thumbs::beside(to));
    if tf.dir().is_dir() {
        copy_tree(tf.dir(), tt.dir())?;
    }
    Ok(())
}

/// Folds the WAL into the main file, so the database is one file to copy.
fn checkpoint(db: &Path) -> Result<()> {
    let c = Connection::open(db)?;
    c.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

fn count(c: &Connection, sql: &str) -> rusqlite::Result<usize> {
    c.query_row(sql, [], |r| r.get::<_, i64>(0))
        .map(|n| n as usize)
}

/// Photo rows a scan would skip as unchanged: present, and indexed with current features or
/// recorded as failed.
fn committed_rows(c: &Connection) -> rusqlite::Result<usize> {
    c.query_row(
        "SELECT COUNT(*) FROM photos p LEFT JOIN features f ON f.photo_id = p.id
         WHERE p.state != 'gone' AND (p.state != 'indexed' OR f.version = ?1)",
        [FEATURE_VERSION],
        |r| r.get::<_, i64>(0),
    )
    .map(|n| n as usize)
}

/// Check 1: the database file is sound.
pub fn integrity(db: &Path) -> std::result::Result<(), String> {
    let c = Connection::open(db).map_err(|e| format!("cannot open: {e}"))?;
    let mut stmt = c
        .prepare("PRAGMA integrity_check")
        .map_err(|e| e.to_string())?;
    let rows: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .and_then(|r| r.collect())
        .map_err(|e| e.to_string())?;
    if rows != ["ok"] {
        return Err(format!("integrity_check: {}", rows.join("; ")));
    }
    let mut stmt = c
        .prepare("PRAGMA foreign_key_check")
        .map_err(|e| e.to_string())?;
    let bad: Vec<String> = stmt
        .query_map([], |r| {
            Ok(format!(
                "{}:{}",
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)?
            ))
        })
        .and_then(|r| r.collect())
        .map_err(|e| e.to_string())?;
    if !bad.is_empty() {
        return Err(format!("foreign_key_check: {}", bad.join(", ")));
    }
    Ok(())
}

/// Check 2: every label in `expected` is still there, with the same value and split, and no
/// other label appeared.
pub fn labels_kept(
    engine: &Engine,
    expected: &[(i64, Label, Split)],
) -> std::result::Result<(), String> {
    let mut lost = Vec::new();
    for &(id, label, split) in expected {
        match engine.photo(id) {
            Ok(d) if d.label == Some(label) && d.split == Some(split) => {}
            Ok(d) => lost.push(format!(
                "photo {id}: {:?}/{:?}, was {label:?}/{split:?}",
                d.label, d.split
            )),
            Err(e) => lost.push(format!("photo {id}: {e}")),
        }
    }
    let l = engine.status().map_err(|e| e.to_string())?.labels;
    let total = (l.keep + l.delete + l.skip) as usize;
    if total != expected.len() {
        lost.push(format!("{total} labels, {} expected", expected.len()));
    }
    if lost.is_empty() {
        Ok(())
    } else {
        Err(lost.join("; "))
    }
}

fn json(ran: &Ran) -> std::result::Result<serde_json::Value, String> {
    serde_json::from_str(&ran.stdout).map_err(|e| {
        format!(
            "output is not JSON ({e}); {:?}; stderr: {}",
            ran.ended,
            ran.stderr.trim()
        )
    })
}

/// Each photo outcome of a trash or restore report is `done`, or refused for `ok_refusal`
/// (already done by the interrupted run). Returns how many were done.
fn outcomes(ran: &Ran, ok_refusal: Option<&str>) -> std::result::Result<usize, String> {
    let r = json(ran)?;
    let photos = r["photos"].as_array().ok_or("no photos in the report")?;
    let mut bad = Vec::new();
    let mut done = 0;
    for p in photos {
        match (p["status"].as_str(), p["reason"].as_str()) {
            (Some("done"), _) => done += 1,
            (Some("refused"), reason) if reason.is_some() && reason == ok_refusal => {}
            (s, reason) => bad.push(format!("{}: {s:?} {reason:?}", p["id"])),
        }
    }
    if bad.is_empty() {
        Ok(done)
    } else {
        Err(bad.join("; "))
    }
}

impl Rig {
    /// Builds the work folder `dir` (wiped first): the gallery, its file hashes, and the two
    /// database templates (base indexed and labeled; whole gallery indexed), by running `exe`.
    /// `data_home` must be this process's `XDG_DATA_HOME` and on the file system of `dir`.
    pub fn setup(
        dir: &Path,
        data_home: &Path,
        exe: &Path,
        opts: RigOptions,
        runner: &mut dyn Runner,
    ) -> Result<Rig> {
        if std::env::var_os("XDG_DATA_HOME").as_deref() != Some(data_home.as_os_str()) {
            return Err(invalid(format!(
                "XDG_DATA_HOME must be {} in this process too (the rig's trash sandbox)",
                data_home.display()
            )));
        }
        if dir.exists() {
            std::fs::remove_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        std::fs::create_dir_all(dir.join("templates")).map_err(|e| Error::io(dir, e))?;
        let dir = dir.canonicalize().map_err(|e| Error::io(dir, e))?;
        let gallery = dir.join("gallery");
        copy_tree(&opts.base, &gallery.join("base"))?;
        let more = gallery.join("more");
        std::fs::create_dir_all(&more).map_err(|e| Error::io(&more, e))?;
        for p in &opts.extra {
            // Parent folder in the name: data sets reuse file names across classes.
            let parent = p.parent().and_then(|d| d.file_name()).unwrap_or_default();
            let name = format!(
                "{}_{}",
                parent.to_string_lossy(),
                p.file_name().unwrap_or_default().to_string_lossy()
            );
            std::fs::copy(p, more.join(&name)).map_err(|e| Error::io(p, e))?;
        }
        write_companions(&more, &opts.extra)?;
        let mut records = Vec::new();
        for e in walkdir::WalkDir::new(&gallery).sort_by_file_name() {
            let e = e.map_err(|e| invalid(e.to_string()))?;
            if e.file_type().is_file() {
                let hash = hash_file(e.path()).map_err(|err| Error::io(e.path(), err))?;
                records.push(FileRecord {
                    path: e.path().to_path_buf(),
                    hash,
                });
            }
        }
        let mut rig = Rig {
            db: dir.join("k.sqlite"),
            tpl_base: dir.join("templates/base.sqlite"),
            tpl_full: dir.join("templates/full.sqlite"),
            dir,
            gallery,
            startup_s: 0.0,
            files: records.len(),
            acted: 0,
            companion_files: 0,
            data_home: data_home.to_path_buf(),
            exe: exe.to_path_buf(),
            opts,
            records,
            labels: Vec::new(),
            index: BTreeMap::new(),
            acted_photos: Vec::new(),
            companions: HashMap::new(),
            chain: None,
        };
        rig.build_templates(runner)?;
        Ok(rig)
    }

    fn build_templates(&mut self, runner: &mut dyn Runner) -> Result<()> {
        Engine::remove_database(&self.db).map_err(|e| Error::io(&self.db, e))?;
        let base = self.gallery.join("base");
        self.run_ok(runner, &["scan".into(), base.display().to_string()])?;
        {
            let mut engine = Engine::open(&self.db)?;
            let ids: Vec<i64> = Connection::open(&self.db)?
                .prepare("SELECT id FROM photos WHERE state = 'indexed' ORDER BY display_path")?
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            // Every other photo, 20 train labels (keep and delete in turn), then 4 test labels.
            for (i, &id) in ids.iter().step_by(2).take(24).enumerate() {
                let label = if i % 2 == 0 {
                    Label::Keep
                } else {
                    Label::Delete
                };
                let split = if i < 20 { Split::Train } else { Split::Test };
                engine.set_label(id, label, split)?;
                self.labels.push((id, label, split));
            }
        }
        checkpoint(&self.db)?;
        copy_db(&self.db, &self.tpl_base)?;
        self.run_ok(runner, &self.args(Op::Scan))?;
        checkpoint(&self.db)?;
        {
            let c = Connection::open(&self.db)?;
            self.index = index_of(&c)?;
            self.acted_photos = c
                .prepare("SELECT id, locator FROM photos WHERE state = 'indexed' ORDER BY id")?
                .query_map([], |r| Ok((r.get(0)?, Locator(r.get(1)?).to_path())))?
                .collect::<rusqlite::Result<_>>()?;
            self.acted = self.acted_photos.len();
            let pairs: Vec<(i64, Vec<u8>)> = c
                .prepare(
                    "SELECT p.id, c.locator FROM companions c JOIN photos p ON p.locator = c.photo
                     ORDER BY c.locator",
                )?
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?;
            for (id, locator) in pairs {
                let path = Locator(locator).to_path();
                self.companions.entry(id).or_default().push(path);
                self.companion_files += 1;
            }
        }
        copy_db(&self.db, &self.tpl_full)?;
        let mut fastest = f64::MAX;
        for _ in 0..3 {
            let ran = self.run_ok(runner, &["models".into()])?;
            fastest = fastest.min(ran.wall_s);
        }
        self.startup_s = fastest;
        Ok(())
    }

    /// Acted photos whose asset has companion files.
    pub fn companions_assets(&self) -> usize {
        self.companions.len()
    }

    /// The `precious` command on the rig's database and trash sandbox, with JSON output.
    fn precious(&self, args: &[String]) -> Command {
        let mut c = Command::new(&self.exe);
        c.env("XDG_DATA_HOME", &self.data_home)
            .arg("--db")
            .arg(&self.db)
            .arg("--json")
            .args(args);
        c
    }

    fn run_ok(&self, runner: &mut dyn Runner, args: &[String]) -> Result<Ran> {
        let ran = runner.run(&mut self.precious(args), None)?;
        if ran.ended != Ended::Exited(0) {
            return Err(invalid(format!(
                "precious {}: {:?}: {}",
                args.join(" "),
                ran.ended,
                ran.stderr.trim()
            )));
        }
        Ok(ran)
    }

    fn ids(&self) -> Vec<String> {
        self.acted_photos
            .iter()
            .map(|(id, _)| id.to_string())
            .collect()
    }

    /// The command line of `op`.
    pub fn args(&self, op: Op) -> Vec<String> {
        let mut args = vec![op.name().to_string()];
        match op {
            Op::Scan => args.push(self.gallery.display().to_string()),
            Op::Train => args.extend(
                [
                    "--views",
                    &self.opts.views.to_string(),
                    "--steps",
                    &self.opts.steps.to_string(),
                    "--seed",
                    "0",
                ]
                .map(String::from),
            ),
            Op::Trash | Op::Restore => args.extend(self.ids()),
        }
        args
    }

    /// Puts the database and files in `op`'s start state. Scan: cycle `n` starts from an empty
    /// database when `n % 3 == 2`, else from the labeled base index. Train: the full index.
    /// Trash: every photo in place; restore: every photo in the trash (the previous cycle's
    /// last step leaves them so; the first cycle of each makes it).
    fn prepare(&mut self, runner: &mut dyn Runner, op: Op, n: usize) -> Result<()> {
        match op {
            Op::Scan if n % 3 == 2 => {
                Engine::remove_database(&self.db).map_err(|e| Error::io(&self.db, e))?
            }
            Op::Scan => copy_db(&self.tpl_base, &self.db)?,
            Op::Train => copy_db(&self.tpl_full, &self.db)?,
            Op::Trash | Op::Restore if self.chain == Some(op) => {}
            Op::Trash | Op::Restore => {
                self.finish(runner)?;
                copy_db(&self.tpl_full, &self.db)?;
                if op == Op::Restore {
                    let ran = self.run_ok(runner, &self.args(Op::Trash))?;
                    outcomes(&ran, None).map_err(invalid)?;
                }
            }
        }
        // Verify the start state: a previous cycle that failed its last step leaves a state
        // the next cycle must not inherit silently.
        if matches!(op, Op::Trash | Op::Restore) {
            let want = if op == Op::Trash { 0 } else { self.acted };
            let mut engine = Engine::open(&self.db)?;
            match self.placement(&mut engine) {
                Ok(t) if t.len() == want => {}
                Ok(t) => {
                    return Err(invalid(format!(
                        "{} start state: {} of {} photos in the trash, {want} expected",
                        op.name(),
                        t.len(),
                        self.acted
                    )))
                }
                Err(e) => return Err(invalid(format!("{} start state: {e}", op.name()))),
            }
        }
        self.chain = Some(op);
        Ok(())
    }

    /// Leaves every photo in place (restores them if a restore chain left them trashed).
    pub fn finish(&mut self, runner: &mut dyn Runner) -> Result<()> {
        if self.chain == Some(Op::Restore) {
            let ran = runner.run(&mut self.precious(&self.args(Op::Restore)), None)?;
            outcomes(&ran, Some("not in the trash")).map_err(invalid)?;
        }
        self.chain = None;
        Ok(())
    }

    /// One cycle: start state, the op killed after `kill_after` (or run to completion), the
    /// checks, the resumed run, and the step back to the op's start state.
    pub fn cycle(
        &mut self,
        runner: &mut dyn Runner,
        op: Op,
        n: usize,
        kill_after: Option<Duration>,
    ) -> Result<Cycle> {
        self.prepare(runner, op, n)?;
        let with_labels = !(op == Op::Scan && n % 3 == 2);
        let start = if self.db.exists() {
            let c = Connection::open(&self.db)?;
            Start {
                rows: committed_rows(&c)?,
                models: count(&c, "SELECT COUNT(*) FROM models")?,
            }
        } else {
            Start { rows: 0, models: 0 }
        };
        let ran = runner.run(&mut self.precious(&self.args(op)), kill_after)?;
        let mut f = Failures::default();
        match ran.ended {
            Ended::Killed => {}
            Ended::Exited(0) => {}
            Ended::Exited(code) => f.check(
                "exit",
                Err(format!("exited {code} by itself: {}", ran.stderr.trim())),
            ),
            Ended::Signaled(sig) => f.check("crash", Err(format!("died of signal {sig}"))),
        }
        let progress = self.progress(op, &start)?;
        let landing = match (ran.ended, kill_after) {
            (Ended::Killed, Some(k)) if k.as_secs_f64() <= self.startup_s => Landing::BeforeWork,
            (Ended::Killed, _) if progress.done >= progress.of && progress.in_flight == 0 => {
                Landing::AfterWork
            }
            (Ended::Killed, _) => Landing::MidWork,
            _ => Landing::Finished,
        };
        let labels: &[(i64, Label, Split)] = if with_labels { &self.labels } else { &[] };
        // What the kill left: checks 1-3.
        f.check("integrity", integrity(&self.db));
        let mut engine = Engine::open(&self.db)?;
        f.check("labels", labels_kept(&engine, labels));
        if op == Op::Train {
            f.check(
                "models",
                engine.models().map(drop).map_err(|e| e.to_string()),
            );
        }
        let recovered = engine.recover().map_err(|e| e.to_string());
        f.check("recover", recovered.map(drop));
        let placed = self.placement(&mut engine);
        f.check("placement", placed.as_ref().map(drop).map_err(Clone::clone));
        drop(engine);
        // Check 4: the next run resumes (a run to completion is its own resumed run).
        let resumed = if ran.ended == Ended::Exited(0) {
            ran.clone()
        } else {
            runner.run(&mut self.precious(&self.args(op)), None)?
        };
        // What a resumed scan must skip: everything committed before it started.
        let committed = if ran.ended == Ended::Exited(0) {
            start.rows
        } else {
            start.rows + progress.done
        };
        f.check("resume", self.resumed(runner, op, &resumed, committed));
        f.check("integrity", integrity(&self.db));
        let engine = Engine::open(&self.db)?;
        f.check("labels", labels_kept(&engine, labels));
        drop(engine);
        // Back to the start state, checking the way back.
        match op {
            Op::Trash => {
                let ran = runner.run(&mut self.precious(&self.args(Op::Restore)), None)?;
                f.check("restorable", self.all_moved(&ran, None, 0));
            }
            Op::Restore => {
                let ran = runner.run(&mut self.precious(&self.args(Op::Trash)), None)?;
                f.check("trashable", self.all_moved(&ran, None, self.acted));
            }
            Op::Scan | Op::Train => {}
        }
        Ok(Cycle {
            op,
            cycle: n,
            kill_after_s: kill_after.map(|d| d.as_secs_f64()),
            ended: ran.ended,
            wall_s: ran.wall_s,
            landing,
            progress,
            failures: f.0,
        })
    }

    /// The op's visible progress in the database and on disk, before any recovery.
    fn progress(&self, op: Op, start: &Start) -> Result<Progress> {
        let c = Connection::open(&self.db)?;
        // A kill during the first open may leave the schema partly migrated.
        let has = |table: &str| {
            c.query_row(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
                [table],
                |r| r.get::<_, bool>(0),
            )
        };
        let in_flight = if has("actions")? {
            count(&c, "SELECT COUNT(*) FROM actions WHERE state = 'planned'")?
        } else {
            0
        };
        Ok(match op {
            Op::Scan => Progress {
                done: if has("features")? {
                    committed_rows(&c)?.saturating_sub(start.rows)
                } else {
                    0
                },
                of: self.index.len() - start.rows,
                in_flight,
            },
            Op::Train => Progress {
                done: usize::from(count(&c, "SELECT COUNT(*) FROM views")? > 0)
                    + usize::from(count(&c, "SELECT COUNT(*) FROM models")? > start.models),
                of: 2,
                in_flight,
            },
            Op::Trash | Op::Restore => {
                let away = self
                    .acted_photos
                    .iter()
                    .filter(|(_, p)| p.symlink_metadata().is_err())
                    .count();
                Progress {
                    done: if op == Op::Trash {
                        away
                    } else {
                        self.acted - away
                    },
                    of: self.acted,
                    in_flight,
                }
            }
        })
    }

    /// Check 3: where every gallery file is, and whether the journal agrees. Returns the acted
    /// photos in the trash.
    fn placement(&self, engine: &mut Engine) -> std::result::Result<InTrash, String> {
        // The sandbox trash's items from the gallery, and the hash of each one's bytes.
        let items =
            trash::os_limited::list().map_err(|e| format!("cannot list the trash: {e:?}"))?;
        let mut trashed_bytes: HashMap<PathBuf, Vec<Option<[u8; 32]>>> = HashMap::new();
        for i in items
            .iter()
            .filter(|i| i.original_parent.starts_with(&self.gallery))
        {
            let bytes = item_file(Path::new(&i.id)).and_then(|f| hash_file(&f).ok());
            trashed_bytes
                .entry(i.original_path())
                .or_default()
                .push(bytes);
        }
        let mut problems = Vec::new();
        let mut in_trash_paths = BTreeSet::new();
        for r in &self.records {
            let here = match std::fs::read(&r.path) {
                Ok(b) if content_hash(&b) == r.hash => Some(true),
                Ok(_) => Some(false),
                Err(_) => None,
            };
            let copies = trashed_bytes
                .get(&r.path)
                .map_or(0, |v| v.iter().filter(|h| **h == Some(r.hash)).count());
            match (here, copies) {
                (Some(true), 0) => {}
                (None, 1) => {
                    in_trash_paths.insert(r.path.clone());
                }
                (Some(false), _) => problems.push(format!(
                    "{}: other bytes at its path ({copies} copies in the trash)",
                    r.path.display()
                )),
                (Some(true), n) => problems.push(format!(
                    "{}: at its path and {n} copies in the trash",
                    r.path.display()
                )),
                (None, n) => problems.push(format!(
                    "{}: not at its path, {n} copies in the trash",
                    r.path.display()
                )),
            }
        }
        // The journal: trashed exactly the photos whose bytes are in the trash.
        let journal: BTreeSet<i64> = engine
            .trashed()
            .map_err(|e| e.to_string())?
            .iter()
            .map(|t| t.id)
            .collect();
        let mut in_trash = InTrash::new();
        let mut asset_files = 0;
        for (id, path) in &self.acted_photos {
            let moved = in_trash_paths.contains(path);
            if moved {
                in_trash.insert(*id);
            }
            // An asset is whole: its companions are where its photo is.
            for c in self.companions.get(id).into_iter().flatten() {
                if in_trash_paths.contains(c) != moved {
                    problems.push(format!(
                        "half an asset: photo {id} {} but {} {}",
                        if moved { "in the trash" } else { "in place" },
                        c.display(),
                        if moved { "in place" } else { "in the trash" }
                    ));
                }
                asset_files += usize::from(moved);
            }
            if moved != journal.contains(id) {
                problems.push(format!(
                    "photo {id}: {} but the journal says {}",
                    if moved { "in the trash" } else { "in place" },
                    if moved { "in place" } else { "trashed" }
                ));
            }
        }
        if in_trash_paths.len() != in_trash.len() + asset_files {
            problems.push(format!(
                "{} files in the trash, {} of them photos acted on and {asset_files} their companions",
                in_trash_paths.len(),
                in_trash.len()
            ));
        }
        let conn = Connection::open(&self.db).map_err(|e| e.to_string())?;
        let rows: Vec<(i64, Option<Vec<u8>>, Vec<u8>)> = conn
            .prepare(
                "SELECT photo_id, trashed_as, content_hash FROM actions
                 WHERE kind = 'trash' AND state = 'done'",
            )
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                    .collect()
            })
            .map_err(|e| e.to_string())?;
        for (id, trashed_as, hash) in rows {
            let file = trashed_as
                .map(|t| Locator(t).to_path())
                .and_then(|info| item_file(&info));
            let holds = file.is_some_and(|f| hash_file(&f).is_ok_and(|h| h[..] == hash[..]));
            if !holds {
                problems.push(format!(
                    "photo {id}: its trash row names no trash item holding its bytes"
                ));
            }
        }
        let planned = count(
            &conn,
            "SELECT COUNT(*) FROM actions WHERE state = 'planned'",
        )
        .map_err(|e| e.to_string())?;
        if planned > 0 {
            problems.push(format!(
                "{planned} journal rows still planned after recover"
            ));
        }
        if problems.is_empty() {
            Ok(in_trash)
        } else {
            problems.truncate(5);
            Err(problems.join("; "))
        }
    }

    /// After a trash or restore request run to completion: each photo done (or refused for
    /// `ok_refusal`), and `want` photos in the trash.
    fn all_moved(
        &self,
        ran: &Ran,
        ok_refusal: Option<&str>,
        want: usize,
    ) -> std::result::Result<(), String> {
        if matches!(ran.ended, Ended::Signaled(_) | Ended::Killed) {
            return Err(format!("{:?}", ran.ended));
        }
        outcomes(ran, ok_refusal)?;
        let mut engine = Engine::open(&self.db).map_err(|e| e.to_string())?;
        let t = self.placement(&mut engine)?;
        if t.len() != want {
            return Err(format!(
                "{} of {} photos in the trash, {want} expected",
                t.len(),
                self.acted
            ));
        }
        Ok(())
    }

    /// Check 4: `resumed` (the op run again after the kill, or the uninterrupted run) completed.
    fn resumed(
        &self,
        runner: &mut dyn Runner,
        op: Op,
        resumed: &Ran,
        committed: usize,
    ) -> std::result::Result<(), String> {
        match op {
            Op::Scan => {
                if resumed.ended != Ended::Exited(0) {
                    return Err(format!("{:?}: {}", resumed.ended, resumed.stderr.trim()));
                }
                let report: ScanReport =
                    serde_json::from_str(&resumed.stdout).map_err(|e| e.to_string())?;
                // Exactly what was committed before is skipped: nothing lost, nothing redone.
                if report.unchanged != committed {
                    return Err(format!(
                        "{} files skipped as unchanged, {committed} were committed before",
                        report.unchanged
                    ));
                }
                self.index_complete()
            }
            Op::Train => {
                if resumed.ended != Ended::Exited(0) {
                    return Err(format!("{:?}: {}", resumed.ended, resumed.stderr.trim()));
                }
                let r = json(resumed)?;
                let set = &r["model"]["training_set"];
                let ids = |v: &serde_json::Value| -> BTreeSet<i64> {
                    v.as_array()
                        .map(|a| a.iter().filter_map(|x| x.as_i64()).collect())
                        .unwrap_or_default()
                };
                let want = |l: Label| -> BTreeSet<i64> {
                    self.labels
                        .iter()
                        .filter(|x| x.1 == l && x.2 == Split::Train)
                        .map(|x| x.0)
                        .collect()
                };
                if ids(&set["keep"]) != want(Label::Keep)
                    || ids(&set["delete"]) != want(Label::Delete)
                {
                    return Err(format!("the model was trained on other labels: {set}"));
                }
                let id = r["model"]["id"].as_i64().ok_or("no model id")?;
                let suggest = runner
                    .run(&mut self.precious(&["suggest".into()]), None)
                    .map_err(|e| e.to_string())?;
                if suggest.ended != Ended::Exited(0) {
                    return Err(format!(
                        "suggest: {:?}: {}",
                        suggest.ended,
                        suggest.stderr.trim()
                    ));
                }
                let s = json(&suggest)?;
                if s["model_id"].as_i64() != Some(id) {
                    return Err(format!(
                        "suggest used model {}, not the new {id}",
                        s["model_id"]
                    ));
                }
                Ok(())
            }
            Op::Trash => self.all_moved(resumed, Some("already in the trash"), self.acted),
            Op::Restore => self.all_moved(resumed, Some("not in the trash"), 0),
        }
    }

    /// The database holds the index an uninterrupted scan makes, with its derived rows.
    fn index_complete(&self) -> std::result::Result<(), String> {
        let c = Connection::open(&self.db).map_err(|e| e.to_string())?;
        let q = |sql: &str| count(&c, sql).map_err(|e| e.to_string());
        let index = index_of(&c).map_err(|e| e.to_string())?;
        let mut problems = Vec::new();
        if index != self.index {
            let differ: Vec<String> = self
                .index
                .iter()
                .filter(|(l, v)| index.get(*l) != Some(*v))
                .map(|(l, v)| {
                    format!(
                        "{}: {:?} expected {}",
                        Locator(l.clone()).display(),
                        index.get(l).map(|x| &x.0),
                        v.0
                    )
                })
                .chain(
                    index
                        .keys()
                        .filter(|l| !self.index.contains_key(*l))
                        .map(|l| format!("{}: unexpected row", Locator(l.clone()).display())),
                )
                .take(5)
                .collect();
            problems.push(format!("index differs: {}", differ.join("; ")));
        }
        let indexed = q("SELECT COUNT(*) FROM photos WHERE state = 'indexed'")?;
        let featured = count(
            &c,
            &format!(
                "SELECT COUNT(*) FROM photos p JOIN features f ON f.photo_id = p.id
                 WHERE p.state = 'indexed' AND f.version = {FEATURE_VERSION}"
            ),
        )
        .map_err(|e| e.to_string())?;
        if featured != indexed {
            problems.push(format!(
                "{featured} of {indexed} indexed photos have current features"
            ));
        }
        let projected = q(
            "SELECT COUNT(*) FROM hog_pca h JOIN photos p ON p.id = h.photo_id
             WHERE p.state = 'indexed'",
        )?;
        let hog_rows = q("SELECT COUNT(*) FROM hog_pca")?;
        if projected != indexed || hog_rows != indexed {
            problems.push(format!(
                "HOG-PCA projection is stale: {projected} of {indexed} indexed photos projected, {hog_rows} rows"
            ));
        }
        let thumbs = Thumbs::beside(&self.db);
        let missing = index
            .values()
            .filter(|(state, _)| state == "indexed")
            .filter_map(|(_, h)| <[u8; 32]>::try_from(h.as_deref()?).ok())
            .filter(|h| !thumbs.path(h).exists())
            .count();
        if missing > 0 {
            problems.push(format!("{missing} indexed photos have no thumbnail"));
        }
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems.join("; "))
        }
    }
}

struct Start {
    /// Rows a scan would skip as unchanged.
    rows: usize,
    models: usize,
}

/// Photo rows by locator: (state, content hash).
type Index = BTreeMap<Vec<u8>, (String, Option<Vec<u8>>)>;

fn index_of(c: &Connection) -> rusqlite::Result<Index> {
    c.prepare("SELECT locator, state, content_hash FROM photos")?
        .query_map([], |r| Ok((r.get(0)?, (r.get(1)?, r.get(2)?))))?
        .collect()
}

/// `run_child` as the rig's runner: SIGKILL at the deadline.
pub struct ChildRunner;

impl Runner for ChildRunner {
    fn run(&mut self, cmd: &mut Command, kill_after: Option<Duration>) -> Result<Ran> {
        let f = run_child(cmd, kill_after)?;
        Ok(Ran {
            ended: match f.ending {
                Ending::Exited(c) => Ended::Exited(c),
                Ending::Signaled(s) => Ended::Signaled(s),
                Ending::Killed => Ended::Killed,
            },
            wall_s: f.wall_s,
            stdout: f.stdout,
            stderr: f.stderr,
        })
    }
}
