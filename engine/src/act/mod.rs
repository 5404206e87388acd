//! Acting on photos: moving them to the OS trash and back, journaled.
//!
//! The product rule is that no photo is ever destroyed silently: files only go to the OS trash
//! (never deleted), only on an explicit request, only if they are exactly what was indexed
//! (size, mtime and blake3 hash of the bytes), and every move is journaled in `actions`: a
//! `planned` row is committed before the file is touched and settled (`done` or `failed`)
//! after. A crash in between leaves `planned` rows that [`Engine::recover`] settles from what is
//! on disk (the file still at its path, or in the trash).
//!
//! Photo rows are not written here (`ScanWriter` stays their only writer): the next scan marks
//! a trashed file `gone`, and finds a restored one back by its content hash (same id, same
//! labels). A photo is in the trash while it has a `trash` row in state `done`.
//!
//! One actor at a time: a lock file beside the database serialises trash, restore and recover
//! across processes (CLI and app), so recovery never settles another process's in-flight move.
//!
//! Here: the types the actions return, the lock, and small shared helpers. The actions are
//! [`trash`](Engine::trash) (`trash.rs`), [`restore`](Engine::restore) (`restore.rs`),
//! [`empty_trash`](Engine::empty_trash) (`purge.rs`) and [`recover`](Engine::recover)
//! (`recover.rs`), over the `actions` journal (`journal.rs`) and one listing of the OS trash
//! (`listing.rs`, on top of the platform seam `crate::os_trash`).

mod journal;
mod listing;
mod purge;
mod recover;
mod restore;
mod trash;

use std::collections::HashSet;
use std::path::PathBuf;

use serde::Serialize;

use crate::{Engine, Error, Result};

/// Beside the database: the lock file that keeps one actor at a time across processes.
pub(crate) const LOCK_SUFFIX: &str = ".act.lock";
const INTERRUPTED: &str = "interrupted before the move";

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    Trash,
    Restore,
    /// Deleting a trashed photo's bytes for good ("empty the trash").
    Purge,
}

impl ActionKind {
    fn as_str(self) -> &'static str {
        match self {
            ActionKind::Trash => "trash",
            ActionKind::Restore => "restore",
            ActionKind::Purge => "purge",
        }
    }
}

/// How one photo's request ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActStatus {
    /// Moved to the trash, or back to its path, and verified.
    Done,
    /// A precondition failed (changed, missing, not in the trash, ...): nothing was touched.
    Refused,
    /// Restore only: something already exists at the original path; nothing was overwritten.
    Conflict,
    /// The move failed or could not be verified; journaled as `failed` with the reason.
    Failed,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhotoOutcome {
    pub id: i64,
    /// Where the file was (trash) or goes back to (restore); empty for an unknown id.
    pub path: String,
    pub status: ActStatus,
    pub bytes: u64,
    pub reason: Option<String>,
}

/// What a trash or restore request did, photo by photo in request order.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ActReport {
    /// The journal batch of this request (it has no rows if nothing was attempted).
    pub batch: i64,
    pub photos: Vec<PhotoOutcome>,
    /// Photos moved.
    pub done: usize,
    /// Their bytes: what emptying the trash will free, or what came back.
    pub bytes: u64,
    /// Interrupted actions of earlier runs, settled before this request.
    pub recovered: RecoveryReport,
}

pub type TrashReport = ActReport;
pub type RestoreReport = ActReport;

impl ActReport {
    fn push(&mut self, o: PhotoOutcome) {
        if o.status == ActStatus::Done {
            self.done += 1;
            self.bytes += o.bytes;
        }
        self.photos.push(o);
    }
}

/// `planned` journal rows left by a crash and how they were settled.
#[derive(Clone, Debug, Default, Serialize)]
pub struct RecoveryReport {
    pub settled: Vec<Settled>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Settled {
    pub action: i64,
    pub photo_id: i64,
    pub kind: ActionKind,
    /// `Done` (it did happen) or `Failed` (it did not, or cannot be confirmed).
    pub status: ActStatus,
    pub reason: Option<String>,
}

/// A photo precious moved to the OS trash and has not restored.
#[derive(Clone, Debug, Serialize)]
pub struct TrashedPhoto {
    pub id: i64,
    pub path: String,
    pub bytes: u64,
    /// Unix seconds.
    pub trashed_at: i64,
    pub batch: i64,
}

fn outcome(
    id: i64,
    path: String,
    status: ActStatus,
    bytes: u64,
    reason: Option<String>,
) -> PhotoOutcome {
    PhotoOutcome {
        id,
        path,
        status,
        bytes: if status == ActStatus::Done { bytes } else { 0 },
        reason,
    }
}

fn refused(id: i64, path: String, reason: impl Into<String>) -> PhotoOutcome {
    outcome(id, path, ActStatus::Refused, 0, Some(reason.into()))
}

impl Engine {
    /// Runs `f` holding the act lock (`<db>.act.lock`, one actor across processes) with fully
    /// synchronous commits, so a `planned` row is on disk before its file moves, even across
    /// a power cut.
    fn exclusively<T>(&mut self, f: impl FnOnce(&mut Engine) -> Result<T>) -> Result<T> {
        let mut path = self.db_path().as_os_str().to_owned();
        path.push(LOCK_SUFFIX);
        let path = PathBuf::from(path);
        let lock = std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| Error::io(&path, e))?;
        lock.lock().map_err(|e| Error::io(&path, e))?;
        self.conn().pragma_update(None, "synchronous", "FULL")?;
        let out = f(self);
        self.conn().pragma_update(None, "synchronous", "NORMAL")?;
        out
    }
}

/// A journal row as settled: how it ended and why.
type SettledRow = (journal::Action, ActStatus, Option<String>);

/// `ids` without repeats, in first-seen order (a photo is acted on once per request).
fn unique(ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}
