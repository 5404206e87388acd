//! `precious trash` and `precious restore`: run the engine's journaled moves and print what
//! happened to each photo. A request where some photo did not move exits non-zero, after
//! printing every outcome.

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use precious_engine::{ActReport, ActStatus, Engine, Error, Result, TrashedPhoto};

/// `trash ID...`, or `trash --list`.
pub fn trash(db: &Path, ids: &[i64], list: bool, json: bool) -> Result<()> {
    let mut engine = Engine::open(db)?;
    if list {
        let trashed = engine.trashed()?;
        if json {
            return super::print_json(&trashed);
        }
        print_trashed(&trashed);
        return Ok(());
    }
    finish(&engine.trash(ids)?, "moved to the trash", json)
}

/// `restore ID...`, or `restore` alone for the last trashed batch.
pub fn restore(db: &Path, ids: &[i64], json: bool) -> Result<()> {
    let mut engine = Engine::open(db)?;
    let report = if ids.is_empty() {
        engine.restore_last_batch()?
    } else {
        engine.restore(ids)?
    };
    finish(&report, "restored", json)
}

/// `empty-trash [ID...] --yes`: without `--yes` it only says what would be deleted for good.
pub fn empty_trash(db: &Path, ids: &[i64], yes: bool, json: bool) -> Result<()> {
    let mut engine = Engine::open(db)?;
    if !yes {
        let trashed = engine.trashed()?;
        let n = trashed
            .iter()
            .filter(|t| ids.is_empty() || ids.contains(&t.id))
            .count();
        return Err(Error::Invalid(format!(
            "this deletes {n} photos for good (they cannot be restored); run again with --yes"
        )));
    }
    finish(&engine.empty_trash(ids)?, "deleted for good", json)
}

pub fn finish(r: &ActReport, verb: &str, json: bool) -> Result<()> {
    if json {
        super::print_json(r)?;
    } else {
        print_report(r, verb);
    }
    let missed = r.photos.len() - r.done;
    if missed > 0 {
        let n = r.photos.len();
        return Err(Error::Invalid(format!(
            "{missed} of {n} photos were not {verb}"
        )));
    }
    Ok(())
}

fn print_report(r: &ActReport, verb: &str) {
    for s in &r.recovered.settled {
        println!(
            "Recovered an interrupted {:?} of photo {}: {:?}{}",
            s.kind,
            s.photo_id,
            s.status,
            because(&s.reason)
        );
    }
    if r.photos.is_empty() {
        println!("Nothing to do: no photo moved to the trash by precious is left there.");
        return;
    }
    for o in &r.photos {
        let status = match o.status {
            ActStatus::Done => "ok",
            ActStatus::Refused => "refused",
            ActStatus::Conflict => "conflict",
            ActStatus::Failed => "FAILED",
        };
        let what = [
            Some(o.path.as_str()).filter(|p| !p.is_empty()),
            o.reason.as_deref(),
        ];
        let what: Vec<&str> = what.into_iter().flatten().collect();
        println!("  [{:>5}] {status:<8} {}", o.id, what.join(": "));
    }
    let freed = if verb != "moved to the trash" {
        ""
    } else {
        ", freed when the trash is emptied"
    };
    println!(
        "{} of {} photos {verb} ({}{freed})",
        r.done,
        r.photos.len(),
        mb(r.bytes)
    );
}

fn print_trashed(t: &[TrashedPhoto]) {
    if t.is_empty() {
        println!("Nothing in the trash from precious.");
        return;
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    for p in t {
        println!(
            "  [{:>5}] {}  ({}, {}, batch {})",
            p.id,
            p.path,
            mb(p.bytes),
            ago(now - p.trashed_at),
            p.batch
        );
    }
    let bytes: u64 = t.iter().map(|p| p.bytes).sum();
    println!(
        "{} photos in the trash ({}); `precious restore ID...` puts them back",
        t.len(),
        mb(bytes)
    );
}

fn because(reason: &Option<String>) -> String {
    reason
        .as_ref()
        .map(|r| format!(": {r}"))
        .unwrap_or_default()
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

fn ago(secs: i64) -> String {
    match secs {
        ..60 => "just now".into(),
        60..3600 => format!("{} min ago", secs / 60),
        3600..86400 => format!("{} h ago", secs / 3600),
        _ => format!("{} days ago", secs / 86400),
    }
}
