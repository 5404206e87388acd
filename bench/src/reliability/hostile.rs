//! Part `hostile`: a generated corpus of bad files (`tests/tools/make_hostile_corpus`: cut,
//! empty, random, mislabelled, decompression bombs, odd encodings, hostile EXIF, odd names,
//! symlink loops, unreadable files) scanned by this binary as a child process with a
//! deadline. Each input is judged against the corpus manifest from the database the child
//! wrote: indexed, or refused with a reason that names the problem, or not listed when it is
//! no photo candidate. Each bomb is also scanned alone, for its peak RSS.
//!
//! Files that vanish or change during a scan need a deterministic hook, which a child process
//! cannot give: `engine/tests/it/hostile.rs` covers them through a wrapping `GallerySource`, and
//! its cases are listed here as such, not measured.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use precious_engine::{Error, Result};
use serde::Deserialize;
use serde_json::json;

use super::{Args, Part};
use crate::tooling::{invalid, precious_exe, repo, run_child, run_tool, Ending, Finished};

/// The whole corpus is ~160 small files plus a few bombs: seconds in release, about a minute
/// in a debug build. Anything near this deadline is a hang.
const SCAN_DEADLINE: Duration = Duration::from_secs(600);
const BOMB_DEADLINE: Duration = Duration::from_secs(180);
const STATUS_DEADLINE: Duration = Duration::from_secs(60);
/// Peak RSS allowed for a scan of one bomb. A scan that loads the backbone peaks at ~90 MB;
/// the decode caps allow one decoded image of at most 160 MiB (`decode::MAX_DECODE_ALLOC`)
/// plus its RGB copy (at most 120 MB at 40 MP), or 240 MB of progressive-JPEG coefficients.
const BOMB_RSS_BOUND_MB: f64 = 400.0;
/// `nobody`: chmod 000 stops every reader but root.
const UNPRIVILEGED: u32 = 65534;

/// The vanish/change cases of `engine/tests/it/hostile.rs` (test name, what it asserts).
const CHANGE_CASES: &[(&str, &str, &str)] = &[
    (
        "a_file_deleted_after_listing_is_recorded_and_the_scan_goes_on",
        "deleted after listing, before its read",
        "failed, \"vanished during the scan\"; the other photos indexed; next scan marks it gone",
    ),
    (
        "a_file_rewritten_before_its_read_is_refused_then_indexed_consistently",
        "replaced by another photo (other size) after listing, before its read",
        "failed, \"changed during the scan\", no hash, no features; next scan indexes the new \
         bytes: stored size, hash and pixel size all the new file's",
    ),
    (
        "a_same_size_rewrite_is_caught_by_its_mtime",
        "rewritten with other bytes of the same length (new mtime) before its read",
        "failed, \"changed during the scan\"; never a row with the old mtime and new content",
    ),
    (
        "a_file_changed_after_its_read_is_refused",
        "rewritten right after its read (between the read and the row)",
        "failed, \"changed during the scan\"; next scan indexes the new bytes",
    ),
    (
        "a_root_removed_after_listing_marks_nothing_gone",
        "the whole folder removed after listing",
        "every new file failed \"vanished during the scan\"; no indexed photo marked gone",
    ),
];

#[derive(Deserialize)]
struct Manifest {
    seed: u64,
    pillow: String,
    jpegtran: Option<String>,
    content_sha256: String,
    not_generated: Vec<NotGenerated>,
    inputs: Vec<Input>,
}

#[derive(Deserialize, serde::Serialize, Clone)]
struct NotGenerated {
    category: String,
    what: String,
    why: String,
}

#[derive(Deserialize)]
struct Input {
    category: String,
    path: String,
    path_hex: String,
    what: String,
    expect: String,
    #[serde(default)]
    reason_any: Vec<String>,
    #[serde(default)]
    decode_path_not: Option<String>,
    #[serde(default)]
    taken_at_valid: bool,
    #[serde(default)]
    bomb: bool,
}

/// One `photos` row as the scan left it.
struct Row {
    state: String,
    reason: Option<String>,
    decode_path: Option<String>,
    taken_at: Option<String>,
}

/// Who runs the scans: root reads chmod-000 files, so as root they run as `nobody`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Reader {
    Me,
    Unprivileged,
    /// Root without a working `setpriv`: the unreadable category cannot be tested.
    RootOnly,
}

impl Reader {
    fn command(self, exe: &Path) -> Command {
        match self {
            Reader::Unprivileged => {
                let mut c = Command::new("setpriv");
                c.arg(format!("--reuid={UNPRIVILEGED}"))
                    .arg(format!("--regid={UNPRIVILEGED}"))
                    .arg("--clear-groups")
                    .arg(exe);
                c
            }
            _ => Command::new(exe),
        }
    }

    fn describe(self) -> String {
        match self {
            Reader::Me => "as the invoking (non-root) user".into(),
            Reader::Unprivileged => format!(
                "as uid/gid {UNPRIVILEGED} (nobody) through `setpriv`, because this ran as \
                 root and root reads chmod-000 files"
            ),
            Reader::RootOnly => "as root (no working `setpriv`): the unreadable category \
                                 is not tested"
                .into(),
        }
    }

    fn pick() -> Reader {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return Reader::Me;
        }
        let ok = Command::new("setpriv")
            .arg(format!("--reuid={UNPRIVILEGED}"))
            .arg(format!("--regid={UNPRIVILEGED}"))
            .args(["--clear-groups", "true"])
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            Reader::Unprivileged
        } else {
            Reader::RootOnly
        }
    }
}

/// The folder for the corpus and the databases, and the binary to run, both reachable by the
/// reader. An unprivileged reader may not reach a checkout under a private folder (a CI clone
/// in root's home): then both move to the temporary folder, the binary as a hard link (a copy
/// across file systems).
fn workplace(dir: &Path, reader: Reader) -> Result<(std::path::PathBuf, std::path::PathBuf)> {
    let exe = precious_exe()?;
    let prepare = |dir: &Path| -> Result<()> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let runs = dir.join("run");
        if runs.exists() {
            std::fs::remove_dir_all(&runs).map_err(|e| Error::io(&runs, e))?;
        }
        std::fs::create_dir_all(&runs).map_err(|e| Error::io(&runs, e))?;
        chmod(dir, 0o755)?;
        // The unprivileged reader writes its databases here.
        chmod(&runs, 0o777)
    };
    prepare(dir)?;
    if reader != Reader::Unprivileged {
        return Ok((dir.to_path_buf(), exe));
    }
    let can = |test: &str, p: &Path| {
        Reader::Unprivileged
            .command(Path::new("test"))
            .arg(test)
            .arg(p)
            .status()
            .is_ok_and(|s| s.success())
    };
    let dir = if can("-w", &dir.join("run")) {
        dir.to_path_buf()
    } else {
        let tmp = std::env::temp_dir().join("precious-reliability-hostile");
        prepare(&tmp)?;
        tmp
    };
    if can("-x", &exe) {
        return Ok((dir, exe));
    }
    let copy = dir.join("precious");
    let _ = std::fs::remove_file(&copy);
    if std::fs::hard_link(&exe, &copy).is_err() {
        std::fs::copy(&exe, &copy).map_err(|e| Error::io(&copy, e))?;
    }
    chmod(&copy, 0o755)?;
    Ok((dir, copy))
}

/// One input's fate.
struct Verdict {
    outcome: String,
    handled: bool,
    unrecorded: bool,
    problem: Option<String>,
}

#[derive(Default, Clone, serde::Serialize)]
struct Tally {
    tried: usize,
    handled: usize,
    crashes: usize,
    hangs: usize,
    unrecorded: usize,
    unexpected: usize,
    not_tested: usize,
}

pub(crate) fn run(dir: &Path, args: &Args) -> Result<Part> {
    let reader = Reader::pick();
    let (dir, exe) = workplace(dir, reader)?;
    let dir = dir.as_path();
    let corpus = dir.join("corpus");
    let runs = dir.join("run");

    let t = Instant::now();
    run_tool(
        Command::new(repo().join("tests/tools/make_hostile_corpus"))
            .arg("--out")
            .arg(&corpus)
            .arg("--seed")
            .arg(args.seed.to_string()),
    )?;
    let generate_s = t.elapsed().as_secs_f64();
    let manifest_path = corpus.join("manifest.json");
    let manifest: Manifest = serde_json::from_slice(
        &std::fs::read(&manifest_path).map_err(|e| Error::io(&manifest_path, e))?,
    )
    .map_err(|e| invalid(format!("{}: {e}", manifest_path.display())))?;
    let root = std::fs::canonicalize(&corpus).map_err(|e| Error::io(&corpus, e))?;
    let locator = |input: &Input| -> Result<Vec<u8>> {
        let mut l = path_bytes(&root);
        l.push(b'/');
        l.extend(hex(&input.path_hex)?);
        Ok(l)
    };

    // The whole corpus in one scan, then the status a user would see.
    eprintln!(
        "reliability: hostile: scanning {} inputs",
        manifest.inputs.len()
    );
    let db = runs.join("h.sqlite");
    let scan = run_child(
        reader
            .command(&exe)
            .env("HOME", &runs)
            .arg("--db")
            .arg(&db)
            .args(["--json", "scan"])
            .arg(&corpus),
        Some(SCAN_DEADLINE),
    )?;
    let status = run_child(
        reader
            .command(&exe)
            .env("HOME", &runs)
            .arg("--db")
            .arg(&db)
            .args(["--json", "status"]),
        Some(STATUS_DEADLINE),
    )?;
    let rows = read_rows(&db)?;
    let mut findings: Vec<String> = Vec::new();
    // Runs that ended in an error, and a status that disagrees with the database.
    let mut errors = 0;
    let mut whole = Tally::default();
    for (what, run) in [("the corpus scan", &scan), ("the status", &status)] {
        match run.ending {
            Ending::Exited(0) => {}
            Ending::Exited(code) => {
                errors += 1;
                findings.push(format!(
                    "{what} exited with {code}: {}",
                    last_line(&run.stderr)
                ));
            }
            Ending::Signaled(sig) => {
                whole.crashes += 1;
                findings.push(format!("{what} crashed (signal {sig})"));
            }
            Ending::Killed => {
                whole.hangs += 1;
                findings.push(format!("{what} hung (killed at the deadline)"));
            }
        }
    }
    let scan_report: serde_json::Value =
        serde_json::from_str(&scan.stdout).unwrap_or(serde_json::Value::Null);
    let status_json: serde_json::Value =
        serde_json::from_str(&status.stdout).unwrap_or(serde_json::Value::Null);
    let disagreements = status_disagreements(&status_json, &rows);
    errors += disagreements.len();
    findings.extend(disagreements);

    // Each input against the manifest.
    let mut by_category: BTreeMap<String, Tally> = BTreeMap::new();
    let mut inputs_json = Vec::new();
    let mut known: HashSet<Vec<u8>> = HashSet::new();
    for input in &manifest.inputs {
        let loc = locator(input)?;
        let t = by_category.entry(input.category.clone()).or_default();
        t.tried += 1;
        let v = judge(input, rows.get(&loc));
        known.insert(loc);
        if input.category == "unreadable" && reader == Reader::RootOnly {
            t.not_tested += 1;
        } else {
            t.handled += usize::from(v.handled);
            t.unrecorded += usize::from(v.unrecorded);
            if v.unrecorded {
                findings.push(format!(
                    "{}: neither indexed nor recorded ({})",
                    input.path, input.what
                ));
            } else if let Some(p) = &v.problem {
                t.unexpected += 1;
                findings.push(format!("{}: {p} ({})", input.path, input.what));
            }
        }
        inputs_json.push(json!({
            "category": input.category, "path": input.path, "what": input.what,
            "expect": input.expect, "outcome": v.outcome, "handled": v.handled,
            "problem": v.problem,
        }));
    }
    let mut extra: Vec<String> = rows
        .keys()
        .filter(|l| !known.contains(*l))
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect();
    extra.sort();
    for l in &extra {
        whole.unexpected += 1;
        findings.push(format!("a row for {l}, which the corpus does not list"));
    }

    // Each bomb alone, for its own peak RSS.
    let mut bombs = Vec::new();
    for input in manifest.inputs.iter().filter(|i| i.bomb) {
        let file = corpus.join(std::ffi::OsStr::from_bytes(&hex(&input.path_hex)?));
        let folder = file.parent().unwrap_or(&corpus).to_path_buf();
        let name = folder
            .file_name()
            .map_or("bomb".into(), |n| n.to_string_lossy().into_owned());
        eprintln!("reliability: hostile: bomb {name} alone");
        let bomb_db = runs.join(format!("bomb-{name}.sqlite"));
        let run = run_child(
            reader
                .command(&exe)
                .env("HOME", &runs)
                .arg("--db")
                .arg(&bomb_db)
                .args(["--json", "scan"])
                .arg(&folder),
            Some(BOMB_DEADLINE),
        )?;
        let bomb_rows = read_rows(&bomb_db)?;
        let v = judge(input, bomb_rows.get(&locator(input)?));
        let t = by_category.entry(input.category.clone()).or_default();
        let mut problem = None;
        match run.ending {
            Ending::Exited(0) => {}
            Ending::Exited(code) => {
                errors += 1;
                problem = Some(format!("scan exited with {code}"));
            }
            Ending::Signaled(sig) => {
                t.crashes += 1;
                problem = Some(format!("scan crashed (signal {sig})"));
            }
            Ending::Killed => {
                t.hangs += 1;
                problem = Some("scan hung (killed at the deadline)".into());
            }
        }
        if problem.is_none() && run.peak_rss_mb > BOMB_RSS_BOUND_MB {
            t.unexpected += 1;
            problem = Some(format!(
                "peak RSS {:.0} MB over the {BOMB_RSS_BOUND_MB:.0} MB bound",
                run.peak_rss_mb
            ));
        }
        if let Some(p) = &problem {
            findings.push(format!("{} scanned alone: {p}", input.path));
        }
        bombs.push(json!({
            "path": input.path, "what": input.what, "outcome": v.outcome,
            "ending": run.ending, "wall_s": run.wall_s, "peak_rss_mb": run.peak_rss_mb,
            "problem": problem,
        }));
    }

    let mut reasons: BTreeMap<String, usize> = BTreeMap::new();
    for r in rows.values().filter(|r| r.state != "indexed") {
        *reasons
            .entry(format!(
                "{}: {}",
                r.state,
                r.reason.as_deref().unwrap_or("")
            ))
            .or_default() += 1;
    }
    let mut total = whole.clone();
    for t in by_category.values() {
        total.tried += t.tried;
        total.handled += t.handled;
        total.crashes += t.crashes;
        total.hangs += t.hangs;
        total.unrecorded += t.unrecorded;
        total.unexpected += t.unexpected;
        total.not_tested += t.not_tested;
    }
    let open = total.crashes + total.hangs + total.unrecorded + total.unexpected + errors;

    let markdown = markdown(&Report {
        manifest: &manifest,
        generate_s,
        reader,
        scan: &scan,
        scan_report: &scan_report,
        by_category: &by_category,
        whole: &whole,
        total: &total,
        bombs: &bombs,
        reasons: &reasons,
        findings: &findings,
    });
    let json = json!({
        "corpus": {
            "inputs": manifest.inputs.len(), "seed": manifest.seed,
            "pillow": manifest.pillow, "jpegtran": manifest.jpegtran,
            "content_sha256": manifest.content_sha256,
            "not_generated": manifest.not_generated, "generate_s": generate_s,
        },
        "reader": reader.describe(),
        "work_dir": dir,
        "scan": {
            "ending": scan.ending, "wall_s": scan.wall_s, "peak_rss_mb": scan.peak_rss_mb,
            "report": scan_report,
        },
        "status": {"ending": status.ending, "photos": status_json.get("photos")},
        "categories": by_category,
        "whole_corpus_runs": whole,
        "total": total,
        "bombs": bombs,
        "bomb_rss_bound_mb": BOMB_RSS_BOUND_MB,
        "reasons": reasons,
        "change_during_scan_cases": CHANGE_CASES.iter()
            .map(|(t, c, a)| json!({"test": t, "case": c, "asserted": a}))
            .collect::<Vec<_>>(),
        "inputs": inputs_json,
        "findings": findings,
        "open_findings": open,
    });
    Ok(Part {
        markdown,
        json,
        open_findings: open,
    })
}

/// Judges one input's row (or its absence) against the manifest.
fn judge(input: &Input, row: Option<&Row>) -> Verdict {
    let expect = input.expect.as_str();
    let Some(row) = row else {
        let listed = expect != "not_listed";
        return Verdict {
            outcome: "no row".into(),
            handled: !listed,
            unrecorded: listed,
            problem: None,
        };
    };
    let mut problem = None;
    let outcome;
    let handled;
    match row.state.as_str() {
        "indexed" => {
            handled = true;
            outcome = format!("indexed ({})", row.decode_path.as_deref().unwrap_or("?"));
            if !matches!(expect, "indexed" | "indexed_or_refused") {
                problem = Some(format!("indexed, expected {expect}"));
            } else if row.decode_path.is_some() && row.decode_path == input.decode_path_not {
                problem = Some(format!(
                    "indexed through the {} path, which must not be used",
                    row.decode_path.as_deref().unwrap_or("")
                ));
            } else if let Some(t) = row.taken_at.as_deref().filter(|_| input.taken_at_valid) {
                if !valid_date(t) {
                    problem = Some(format!("stored an impossible date taken: {t}"));
                }
            }
        }
        "failed" | "unsupported" => {
            let reason = row.reason.as_deref().unwrap_or("").trim();
            handled = !reason.is_empty();
            outcome = format!("{}: {reason}", row.state);
            let lower = reason.to_lowercase();
            let named = input.reason_any.is_empty()
                || input.reason_any.iter().any(|k| lower.contains(k.as_str()));
            if !handled {
                problem = Some(format!("{} without a reason", row.state));
            } else if !matches!(expect, "refused" | "indexed_or_refused") {
                problem = Some(format!("{outcome}, expected {expect}"));
            } else if !named {
                problem = Some(format!(
                    "{outcome}: the reason does not name the problem (expected one of {:?})",
                    input.reason_any
                ));
            }
        }
        other => {
            handled = false;
            outcome = other.into();
            problem = Some(format!("state {other}, expected {expect}"));
        }
    }
    Verdict {
        outcome,
        handled,
        unrecorded: false,
        problem,
    }
}

/// `YYYY-MM-DDTHH:MM:SS` (+ `±HH:MM`) with every field in range.
fn valid_date(t: &str) -> bool {
    let b = t.as_bytes();
    let num = |r: std::ops::Range<usize>| {
        t.get(r)
            .and_then(|s| s.parse::<u32>().ok())
            .unwrap_or(u32::MAX)
    };
    b.len() >= 19
        && b[10] == b'T'
        && (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) <= 23
        && num(14..16) <= 59
        && num(17..19) <= 60
        && (b.len() == 19 || (b.len() == 25 && num(20..22) <= 14 && num(23..25) <= 59))
}

/// Every `photos` row by locator bytes (empty if the scan left no database).
fn read_rows(db: &Path) -> Result<HashMap<Vec<u8>, Row>> {
    if !db.exists() {
        return Ok(HashMap::new());
    }
    let conn =
        rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let mut stmt =
        conn.prepare("SELECT locator, state, reason, decode_path, taken_at FROM photos")?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, Vec<u8>>(0)?,
                Row {
                    state: r.get(1)?,
                    reason: r.get(2)?,
                    decode_path: r.get(3)?,
                    taken_at: r.get(4)?,
                },
            ))
        })?
        .collect::<rusqlite::Result<HashMap<_, _>>>()?;
    Ok(rows)
}

/// `precious status` must tell the user what the database holds: the same counts, and every
/// failed or unsupported file among its errors.
fn status_disagreements(status: &serde_json::Value, rows: &HashMap<Vec<u8>, Row>) -> Vec<String> {
    let mut out = Vec::new();
    let count = |state: &str| rows.values().filter(|r| r.state == state).count() as u64;
    for state in ["indexed", "failed", "unsupported"] {
        let said = status["photos"][state].as_u64();
        if said != Some(count(state)) {
            out.push(format!(
                "the status disagrees with the database: {said:?} {state}, the database holds {}",
                count(state)
            ));
        }
    }
    let errors = status["errors"].as_array().map_or(0, Vec::len) as u64;
    if errors != count("failed") + count("unsupported") {
        out.push(format!(
            "the status disagrees with the database: it lists {errors} errors, the database \
             holds {} failed or unsupported files",
            count("failed") + count("unsupported")
        ));
    }
    out
}

struct Report<'a> {
    manifest: &'a Manifest,
    generate_s: f64,
    reader: Reader,
    scan: &'a Finished,
    scan_report: &'a serde_json::Value,
    by_category: &'a BTreeMap<String, Tally>,
    whole: &'a Tally,
    total: &'a Tally,
    bombs: &'a [serde_json::Value],
    reasons: &'a BTreeMap<String, usize>,
    findings: &'a [String],
}

fn markdown(r: &Report) -> String {
    use std::fmt::Write;
    let m = r.manifest;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{} inputs in {} categories, generated by `tests/tools/make_hostile_corpus --seed {}` \
         (Pillow {}, jpegtran {}; content sha256 `{}`) in {:.1} s, scanned by `precious scan` \
         as a child process ({} s deadline) {}, then `precious status`; each input judged \
         from the database against the manifest's expectation. *Handled*: indexed, refused \
         (failed/unsupported) with a reason, or not listed when it is no photo candidate \
         (FIFO, device, folder loop, `.txt`).\n",
        m.inputs.len(),
        r.by_category.len(),
        m.seed,
        m.pillow,
        m.jpegtran.as_deref().unwrap_or("missing"),
        &m.content_sha256[..16.min(m.content_sha256.len())],
        r.generate_s,
        SCAN_DEADLINE.as_secs(),
        r.reader.describe(),
    );
    if m.not_generated.is_empty() {
        s.push_str("Every category was generated.\n\n");
    } else {
        for n in &m.not_generated {
            let _ = writeln!(
                s,
                "**Not generated**: {}: {} ({}).",
                n.category, n.what, n.why
            );
        }
        s.push('\n');
    }
    s.push_str(
        "| category | tried | handled | crashes | hangs | unrecorded | unexpected |\n\
         |---|--:|--:|--:|--:|--:|--:|\n",
    );
    let row = |s: &mut String, name: &str, t: &Tally| {
        let handled = if t.not_tested > 0 {
            format!("{} ({} not tested)", t.handled, t.not_tested)
        } else {
            t.handled.to_string()
        };
        let _ = writeln!(
            s,
            "| {name} | {} | {handled} | {} | {} | {} | {} |",
            t.tried, t.crashes, t.hangs, t.unrecorded, t.unexpected
        );
    };
    for (name, t) in r.by_category {
        row(&mut s, name, t);
    }
    for n in m
        .not_generated
        .iter()
        .filter(|n| !r.by_category.contains_key(&n.category))
    {
        let _ = writeln!(s, "| {} | not generated | - | - | - | - | - |", n.category);
    }
    row(&mut s, "whole-corpus scan and status", r.whole);
    row(&mut s, "**total**", r.total);
    let rep = r.scan_report;
    let _ = writeln!(
        s,
        "\nThe corpus scan: {} after {:.1} s, peak RSS {:.0} MB; listed {}, indexed {}, \
         failed {}, unsupported {}. Bombs are in it too, and also scanned alone (crashes and \
         hangs above count those runs).\n",
        ending(r.scan.ending),
        r.scan.wall_s,
        r.scan.peak_rss_mb,
        rep["listed"],
        rep["indexed"],
        rep["failed"],
        rep["unsupported"],
    );
    let _ = writeln!(
        s,
        "Decompression bombs, each scanned alone (bound: peak RSS under {BOMB_RSS_BOUND_MB:.0} \
         MB; a scan that loads the backbone starts near 90 MB):\n\n\
         | bomb | outcome | wall | peak RSS |\n|---|---|--:|--:|"
    );
    for b in r.bombs {
        let _ = writeln!(
            s,
            "| {} | {} | {:.1} s | {:.0} MB |",
            b["what"].as_str().unwrap_or(""),
            b["problem"]
                .as_str()
                .or(b["outcome"].as_str())
                .unwrap_or(""),
            b["wall_s"].as_f64().unwrap_or(0.0),
            b["peak_rss_mb"].as_f64().unwrap_or(0.0),
        );
    }
    s.push_str(
        "\nFiles that vanish or change during a scan (not measured here: a child process \
         cannot race a scan deterministically; asserted by `engine/tests/it/hostile.rs` through a \
         wrapping `GallerySource`, run by `cargo test` in CI):\n\n\
         | case | asserted | test |\n|---|---|---|\n",
    );
    for (test, case, asserted) in CHANGE_CASES {
        let _ = writeln!(s, "| {case} | {asserted} | `{test}` |");
    }
    s.push_str("\nReasons recorded by the corpus scan:\n\n| reason | files |\n|---|--:|\n");
    let mut reasons: Vec<_> = r.reasons.iter().collect();
    reasons.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    for (reason, n) in reasons {
        let mut reason = reason.replace('|', "\\|").replace('\n', " ");
        if reason.chars().count() > 140 {
            reason = reason.chars().take(140).collect::<String>() + "...";
        }
        let _ = writeln!(s, "| {reason} | {n} |");
    }
    if r.findings.is_empty() {
        s.push_str("\nFindings: none.\n");
    } else {
        s.push_str("\nFindings:\n\n");
        for f in r.findings {
            let _ = writeln!(s, "- {}", f.replace('\n', " "));
        }
    }
    s
}

fn chmod(p: &Path, mode: u32) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).map_err(|e| Error::io(p, e))
}

fn path_bytes(p: &Path) -> Vec<u8> {
    p.as_os_str().as_bytes().to_vec()
}

fn hex(s: &str) -> Result<Vec<u8>> {
    (0..s.len())
        .step_by(2)
        .map(|i| {
            s.get(i..i + 2)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| invalid(format!("bad path_hex in the manifest: {s}")))
        })
        .collect()
}

fn ending(e: Ending) -> String {
    match e {
        Ending::Exited(code) => format!("exit status {code}"),
        Ending::Signaled(sig) => format!("killed by signal {sig}"),
        Ending::Killed => "killed at the deadline".into(),
    }
}

fn last_line(s: &str) -> &str {
    s.lines().rev().find(|l| !l.trim().is_empty()).unwrap_or("")
}
