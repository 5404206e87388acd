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

use std::collections::HashSet;
use std::io;
use std::path::{Path, PathBuf};

use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

use crate::os_trash::{self as trash, TrashItem};
use crate::source::{hash_file, io_reason, mtime_ns, Locator};
use crate::store::now_secs;
use crate::{Engine, Error, Result};

/// Beside the database: the lock file that keeps one actor at a time across processes.
pub(crate) const LOCK_SUFFIX: &str = ".act.lock";
const CHANGED: &str = "changed since it was indexed";
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

/// One journal row: what is (or was) acted on, as checked before acting.
#[derive(Clone, Debug)]
struct Action {
    id: i64,
    photo_id: i64,
    kind: ActionKind,
    original: Locator,
    size: u64,
    mtime_ns: i64,
    hash: [u8; 32],
    trashed_as: Option<Vec<u8>>,
}

/// One photo of a trash request between the move and its settlement.
enum Step {
    /// Refused: nothing was journaled or touched.
    Finished(PhotoOutcome),
    /// Journaled and handed to the trash; the move's error, if it returned one.
    Moved(Action, Option<String>),
}

impl Action {
    fn outcome(&self, status: ActStatus, reason: Option<String>) -> PhotoOutcome {
        outcome(
            self.photo_id,
            self.original.display(),
            status,
            self.size,
            reason,
        )
    }
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
    /// Moves photos to the OS trash. Each must be indexed and its file exactly as indexed (size,
    /// mtime and content hash); any other is refused with a reason and not touched, and the
    /// rest go on. Settles interrupted actions first.
    pub fn trash(&mut self, ids: &[i64]) -> Result<TrashReport> {
        self.exclusively(|e| {
            let recovered = e.settle_planned()?;
            let batch = next_batch(e.conn())?;
            let mut steps = Vec::with_capacity(ids.len());
            for id in unique(ids) {
                steps.push(match e.plan_trash(batch, id)? {
                    Ok(a) => {
                        let failure = trash::delete(a.original.to_path()).err();
                        Step::Moved(a, failure.map(|f| trash_reason(&f)))
                    }
                    Err(o) => Step::Finished(o),
                });
            }
            // What moved is identified with one listing of the trash, not one per photo.
            let listed = if steps.iter().any(|s| matches!(s, Step::Moved(..))) {
                OsTrash::list()?
            } else {
                OsTrash::default()
            };
            let mut report = ActReport {
                batch,
                recovered,
                ..ActReport::default()
            };
            for step in steps {
                report.push(match step {
                    Step::Finished(o) => o,
                    Step::Moved(a, failure) => {
                        let (status, reason) = e.settle_trash(&a, &listed, failure)?;
                        a.outcome(status, reason)
                    }
                });
            }
            Ok(report)
        })
    }

    /// Puts trashed photos back at their original paths through the OS trash, never over an
    /// existing file (that is a conflict), and verifies the restored bytes' hash.
    pub fn restore(&mut self, ids: &[i64]) -> Result<RestoreReport> {
        self.exclusively(|e| {
            let recovered = e.settle_planned()?;
            let listed = OsTrash::list()?;
            let mut report = ActReport {
                batch: next_batch(e.conn())?,
                recovered,
                ..ActReport::default()
            };
            for id in unique(ids) {
                let o = e.restore_one(report.batch, id, &listed)?;
                report.push(o);
            }
            Ok(report)
        })
    }

    /// Restores the most recent trash request that still has photos in the trash (an undo;
    /// calling it again undoes the one before). Empty when nothing is in the trash.
    pub fn restore_last_batch(&mut self) -> Result<RestoreReport> {
        let ids: Vec<i64> = self
            .conn()
            .prepare(
                "SELECT photo_id FROM actions WHERE kind = 'trash' AND state = 'done' AND batch =
                    (SELECT MAX(batch) FROM actions WHERE kind = 'trash' AND state = 'done')
                 ORDER BY id",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        self.restore(&ids)
    }

    /// Empties precious's part of the OS trash: deletes for good the trashed photos `ids`
    /// (all of them when `ids` is empty), and nothing else the trash holds. Irreversible, so
    /// front ends ask twice before calling it. A trashed file whose bytes changed in the trash
    /// is refused; one already gone from the trash (emptied by other means) is recorded so.
    pub fn empty_trash(&mut self, ids: &[i64]) -> Result<ActReport> {
        self.exclusively(|e| {
            let recovered = e.settle_planned()?;
            let listed = OsTrash::list()?;
            let mut trashed = actions(e.conn(), "kind = 'trash' AND state = 'done'", [])?;
            if !ids.is_empty() {
                let wanted: HashSet<i64> = ids.iter().copied().collect();
                trashed.retain(|a| wanted.contains(&a.photo_id));
                for id in unique(ids) {
                    if !trashed.iter().any(|a| a.photo_id == id) {
                        let why = not_trashed(e.conn(), id)?;
                        return Err(Error::Invalid(format!("photo {id}: {why}")));
                    }
                }
            }
            let mut report = ActReport {
                batch: next_batch(e.conn())?,
                recovered,
                ..ActReport::default()
            };
            for t in trashed {
                let o = e.purge_one(report.batch, t, &listed)?;
                report.push(o);
            }
            Ok(report)
        })
    }

    fn purge_one(&mut self, batch: i64, trashed: Action, listed: &OsTrash) -> Result<PhotoOutcome> {
        let trash_row = trashed.id;
        let mut a = Action {
            kind: ActionKind::Purge,
            ..trashed
        };
        let item = listed.item_of(&a).cloned();
        let Some(item) = item else {
            a.id = journal_planned(self.conn(), batch, &a)?;
            let note = "already gone from the OS trash (emptied by other means)";
            self.finish_purge(&a, trash_row, Some(note))?;
            return Ok(a.outcome(ActStatus::Done, Some(note.into())));
        };
        if let Some(p) = file_in_trash(&item) {
            if !hash_file(&p).is_ok_and(|h| h == a.hash) {
                let why = "its bytes in the trash differ from what precious trashed; left alone";
                return Ok(a.outcome(ActStatus::Refused, Some(why.into())));
            }
        }
        a.id = journal_planned(self.conn(), batch, &a)?;
        match trash::os_limited::purge_all([item]) {
            Ok(()) => {
                self.finish_purge(&a, trash_row, None)?;
                Ok(a.outcome(ActStatus::Done, None))
            }
            Err(err) => {
                let why = trash_reason(&err);
                settle(self.conn(), a.id, "failed", None, Some(&why))?;
                Ok(a.outcome(ActStatus::Failed, Some(why)))
            }
        }
    }

    /// Settles a purge row `done` and turns the photo's trash row `purged`, in one transaction.
    fn finish_purge(&mut self, a: &Action, trash_row: i64, note: Option<&str>) -> Result<()> {
        let tx = self.store.transaction()?;
        settle(&tx, a.id, "done", None, note)?;
        tx.execute(
            "UPDATE actions SET state = 'purged', finished_at = ?2 WHERE id = ?1",
            params![trash_row, now_secs()],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Settles a planned purge row from the trash listing: still there, it did not happen.
    fn settle_purge(
        &mut self,
        a: &Action,
        listed: &OsTrash,
    ) -> Result<(ActStatus, Option<String>)> {
        if listed.item_of(a).is_some() {
            settle(self.conn(), a.id, "failed", None, Some(INTERRUPTED))?;
            return Ok((ActStatus::Failed, Some(INTERRUPTED.into())));
        }
        let trash_row: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM actions WHERE kind = 'trash' AND state = 'done' AND photo_id = ?1",
                [a.photo_id],
                |r| r.get(0),
            )
            .optional()?;
        match trash_row {
            Some(t) => self.finish_purge(a, t, None)?,
            None => settle(self.conn(), a.id, "done", None, None)?,
        }
        Ok((ActStatus::Done, None))
    }

    /// Settles `planned` journal rows left by a crash from what is on disk: a file still at its
    /// path did not move (`failed`), one found in the trash did (`done`), and one in neither
    /// place is `failed` and left for the next scan to mark gone. Idempotent; `trash` and
    /// `restore` call it first.
    pub fn recover(&mut self) -> Result<RecoveryReport> {
        self.exclusively(|e| e.settle_planned())
    }

    /// What precious moved to the OS trash and has not restored, newest first. From the
    /// journal: an item emptied from the trash by other means is still listed.
    pub fn trashed(&self) -> Result<Vec<TrashedPhoto>> {
        let mut stmt = self.conn().prepare(
            "SELECT photo_id, original, size, finished_at, batch FROM actions
             WHERE kind = 'trash' AND state = 'done' ORDER BY finished_at DESC, id DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(TrashedPhoto {
                id: r.get(0)?,
                path: Locator(r.get(1)?).display(),
                bytes: r.get::<_, i64>(2)? as u64,
                trashed_at: r.get::<_, Option<i64>>(3)?.unwrap_or_default(),
                batch: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Test seam (feature `testing`, which only the engine's own tests turn on): everything
    /// [`Engine::trash`] does up to and including the committed `planned` rows, then stops, as
    /// a crash just before the move would. Returns the refusals.
    #[cfg(feature = "testing")]
    pub fn trash_journal_only(&mut self, ids: &[i64]) -> Result<Vec<PhotoOutcome>> {
        self.exclusively(|e| {
            let batch = next_batch(e.conn())?;
            let mut refusals = Vec::new();
            for &id in ids {
                if let Err(o) = e.plan_trash(batch, id)? {
                    refusals.push(o);
                }
            }
            Ok(refusals)
        })
    }

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

    /// Checks one photo and journals a committed `planned` trash row, or says why not.
    fn plan_trash(&self, batch: i64, id: i64) -> Result<Result<Action, PhotoOutcome>> {
        let conn = self.conn();
        let row = conn
            .query_row(
                "SELECT locator, size, mtime_ns, content_hash, state FROM photos WHERE id = ?1",
                [id],
                |r| {
                    Ok((
                        Locator(r.get(0)?),
                        r.get::<_, i64>(1)? as u64,
                        r.get::<_, i64>(2)?,
                        r.get::<_, Option<Vec<u8>>>(3)?,
                        r.get::<_, String>(4)?,
                    ))
                },
            )
            .optional()?;
        let Some((original, size, mtime, hash, state)) = row else {
            return Ok(Err(refused(id, String::new(), "no such photo")));
        };
        let path = original.display();
        if state != "indexed" {
            let why = format!("not an indexed photo (it is {state})");
            return Ok(Err(refused(id, path, why)));
        }
        if live_trash(conn, id)?.is_some() {
            return Ok(Err(refused(id, path, "already in the trash")));
        }
        let Some(hash) = hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
            return Ok(Err(refused(id, path, "no content hash was stored")));
        };
        if let Some(why) = differs(&original.to_path(), size, mtime, &hash) {
            return Ok(Err(refused(id, path, why)));
        }
        let mut a = Action {
            id: 0,
            photo_id: id,
            kind: ActionKind::Trash,
            original,
            size,
            mtime_ns: mtime,
            hash,
            trashed_as: None,
        };
        a.id = journal_planned(conn, batch, &a)?;
        Ok(Ok(a))
    }

    /// Settles a planned trash row from disk. `failure` is the error the move returned, if any.
    fn settle_trash(
        &self,
        a: &Action,
        listed: &OsTrash,
        failure: Option<String>,
    ) -> Result<(ActStatus, Option<String>)> {
        let conn = self.conn();
        let path = a.original.to_path();
        if hash_file(&path).is_ok_and(|h| h == a.hash) {
            let why = failure.unwrap_or_else(|| INTERRUPTED.into());
            settle(conn, a.id, "failed", None, Some(&why))?;
            return Ok((ActStatus::Failed, Some(why)));
        }
        if let Some(item) = listed.find(&as_trash_records(&path), &a.hash, &claimed(conn)?) {
            settle(conn, a.id, "done", Some(&os_bytes(&item.id)), None)?;
            return Ok((ActStatus::Done, None));
        }
        let why = format!(
            "{}the file is neither at its path nor in the trash with the checked content",
            failure.map(|f| f + "; ").unwrap_or_default()
        );
        settle(conn, a.id, "failed", None, Some(&why))?;
        Ok((ActStatus::Failed, Some(why)))
    }

    /// Settles a planned restore row from disk.
    fn settle_restore(
        &mut self,
        a: &Action,
        listed: &OsTrash,
    ) -> Result<(ActStatus, Option<String>)> {
        if hash_file(&a.original.to_path()).is_ok_and(|h| h == a.hash) {
            self.finish_restore(a, "done", None, true)?;
            return Ok((ActStatus::Done, None));
        }
        let in_trash = listed.item_of(a);
        let why = if in_trash.is_some() {
            // The trash crate creates an empty placeholder at the target before renaming the
            // trashed file over it: a kill in between leaves it there, and it would turn every
            // later restore of the photo into a conflict. Nothing else was at the path when
            // the restore was planned (else it was refused), so an empty file is ours.
            remove_placeholder(&a.original.to_path());
            INTERRUPTED
        } else {
            "the file is neither in the trash nor at its path with the trashed content"
        };
        self.finish_restore(a, "failed", Some(why), false)?;
        Ok((ActStatus::Failed, Some(why.into())))
    }

    fn settle_planned(&mut self) -> Result<RecoveryReport> {
        let planned = actions(self.conn(), "state = 'planned'", [])?;
        let listed = if planned.is_empty() {
            OsTrash::default()
        } else {
            OsTrash::list()?
        };
        let mut report = RecoveryReport::default();
        for a in planned {
            let (status, reason) = match a.kind {
                ActionKind::Trash => self.settle_trash(&a, &listed, None)?,
                ActionKind::Restore => self.settle_restore(&a, &listed)?,
                ActionKind::Purge => self.settle_purge(&a, &listed)?,
            };
            report.settled.push(Settled {
                action: a.id,
                photo_id: a.photo_id,
                kind: a.kind,
                status,
                reason,
            });
        }
        Ok(report)
    }

    fn restore_one(&mut self, batch: i64, id: i64, listed: &OsTrash) -> Result<PhotoOutcome> {
        let Some(trashed) = live_trash(self.conn(), id)? else {
            return Ok(refused(id, String::new(), not_trashed(self.conn(), id)?));
        };
        let mut a = Action {
            kind: ActionKind::Restore,
            ..trashed
        };
        let item = listed.item_of(&a).cloned();
        let Some(item) = item else {
            if hash_file(&a.original.to_path()).is_ok_and(|h| h == a.hash) {
                // Put back by other means (a file manager): record it so the journal is true.
                a.id = journal_planned(self.conn(), batch, &a)?;
                let note = "already back at its path (restored outside precious)";
                self.finish_restore(&a, "done", Some(note), true)?;
                return Ok(a.outcome(ActStatus::Done, Some(note.into())));
            }
            let why = "no longer in the OS trash (emptied, or restored elsewhere)";
            return Ok(a.outcome(ActStatus::Refused, Some(why.into())));
        };
        let target = item.original_path();
        if target.symlink_metadata().is_ok() {
            return Ok(a.outcome(ActStatus::Conflict, Some(conflict(&target))));
        }
        a.id = journal_planned(self.conn(), batch, &a)?;
        match trash::os_limited::restore_all([item]) {
            Err(trash::Error::RestoreCollision { path, .. }) => {
                let why = conflict(&path);
                self.finish_restore(&a, "failed", Some(&why), false)?;
                Ok(a.outcome(ActStatus::Conflict, Some(why)))
            }
            Err(err) => {
                remove_placeholder(&target);
                let why = trash_reason(&err);
                self.finish_restore(&a, "failed", Some(&why), false)?;
                Ok(a.outcome(ActStatus::Failed, Some(why)))
            }
            Ok(()) if hash_file(&target).is_ok_and(|h| h == a.hash) => {
                self.finish_restore(&a, "done", None, true)?;
                Ok(a.outcome(ActStatus::Done, None))
            }
            Ok(()) => {
                // Out of the trash, but not the journaled bytes: say so, never claim success.
                let why = "restored, but its content differs from what was trashed";
                self.finish_restore(&a, "failed", Some(why), true)?;
                Ok(a.outcome(ActStatus::Failed, Some(why.into())))
            }
        }
    }

    /// Settles a restore row and, if the file left the trash (`out_of_trash`), turns the
    /// photo's live trash row `undone`, in one transaction.
    fn finish_restore(
        &mut self,
        a: &Action,
        state: &str,
        reason: Option<&str>,
        out_of_trash: bool,
    ) -> Result<()> {
        let tx = self.store.transaction()?;
        settle(&tx, a.id, state, None, reason)?;
        if out_of_trash {
            tx.execute(
                "UPDATE actions SET state = 'undone', finished_at = ?2
                 WHERE kind = 'trash' AND state = 'done' AND photo_id = ?1",
                params![a.photo_id, now_secs()],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

/// `ids` without repeats, in first-seen order (a photo is acted on once per request).
fn unique(ids: &[i64]) -> Vec<i64> {
    let mut seen = HashSet::new();
    ids.iter().copied().filter(|id| seen.insert(*id)).collect()
}

fn conflict(path: &Path) -> String {
    format!(
        "conflict: {} already exists; nothing was overwritten",
        path.display()
    )
}

/// Why the file at `path` is not exactly what was indexed, or `None` if it is. Size and mtime
/// are checked first (cheap), then the hash of the bytes read. A symbolic link is refused: the
/// trash would take the link, not the photo.
fn differs(path: &Path, size: u64, mtime: i64, hash: &[u8; 32]) -> Option<String> {
    let meta = match path.symlink_metadata() {
        Ok(m) => m,
        Err(e) => return Some(file_problem(&e)),
    };
    if meta.file_type().is_symlink() {
        return Some("a symbolic link (act on the file it points to)".into());
    }
    if meta.len() != size {
        return Some(format!("{CHANGED} (size)"));
    }
    if mtime_ns(&meta) != mtime {
        return Some(format!("{CHANGED} (modified time)"));
    }
    match hash_file(path) {
        Err(e) => Some(file_problem(&e)),
        Ok(h) if h != *hash => Some(format!("{CHANGED} (content)")),
        Ok(_) => None,
    }
}

fn file_problem(e: &io::Error) -> String {
    if e.kind() == io::ErrorKind::NotFound {
        "missing".into()
    } else {
        io_reason(e)
    }
}

/// Removes the empty placeholder the trash crate creates at the target before renaming the
/// trashed file over it, when that rename failed (e.g. across file systems). Only an empty
/// regular file, and only right after we saw nothing there.
fn remove_placeholder(path: &Path) {
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.is_file() && m.len() == 0)
    {
        let _ = std::fs::remove_file(path);
    }
}

/// The path as the trash records it: the trash crate canonicalises the parent folder.
fn as_trash_records(path: &Path) -> PathBuf {
    match (
        path.parent().and_then(|p| p.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => path.to_path_buf(),
    }
}

fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    Locator::from_path(Path::new(s)).0
}

fn trash_reason(e: &trash::Error) -> String {
    match e {
        #[cfg(all(
            unix,
            not(target_os = "macos"),
            not(target_os = "ios"),
            not(target_os = "android")
        ))]
        trash::Error::FileSystem { path, source } => {
            format!("the trash failed: {}: {source}", path.display())
        }
        trash::Error::Unknown { description } => format!("the trash failed: {description}"),
        other => format!("the trash failed: {other:?}"),
    }
}

/// The OS trash, listed once per request.
#[derive(Default)]
struct OsTrash {
    items: Vec<TrashItem>,
}

impl OsTrash {
    fn list() -> Result<OsTrash> {
        let items = trash::os_limited::list().map_err(|e| {
            Error::Invalid(format!("cannot list the OS trash: {}", trash_reason(&e)))
        })?;
        Ok(OsTrash { items })
    }

    /// The trash item a journal row stands for, if it is still in the trash.
    fn item_of(&self, a: &Action) -> Option<&TrashItem> {
        let id = a.trashed_as.as_deref()?;
        self.items.iter().find(|i| os_bytes(&i.id) == id)
    }

    /// The newest item trashed from `original` that holds exactly `hash` and is not `claimed`
    /// by another journal row (the user may have trashed older versions of the same name).
    fn find(
        &self,
        original: &Path,
        hash: &[u8; 32],
        claimed: &HashSet<Vec<u8>>,
    ) -> Option<&TrashItem> {
        let mut candidates: Vec<&TrashItem> = self
            .items
            .iter()
            .filter(|i| i.original_path() == original && !claimed.contains(&os_bytes(&i.id)))
            .collect();
        candidates.sort_by_key(|i| std::cmp::Reverse(i.time_deleted));
        candidates
            .into_iter()
            .find(|i| file_in_trash(i).is_none_or(|p| hash_file(&p).is_ok_and(|h| h == *hash)))
    }
}

/// Where the trash keeps an item's bytes, to verify them. Freedesktop: the item whose id is
/// `$trash/info/NAME.trashinfo` is the file `$trash/files/NAME`. Unknown elsewhere.
#[cfg(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
))]
fn file_in_trash(item: &TrashItem) -> Option<PathBuf> {
    let info = Path::new(&item.id);
    Some(
        info.parent()?
            .parent()?
            .join("files")
            .join(info.file_stem()?),
    )
}

#[cfg(not(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
)))]
fn file_in_trash(_: &TrashItem) -> Option<PathBuf> {
    None
}

fn next_batch(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(batch), 0) + 1 FROM actions", [], |r| {
            r.get(0)
        })?,
    )
}

/// Inserts `a` as a `planned` row (committed at once: no transaction is open) and returns its id.
fn journal_planned(conn: &Connection, batch: i64, a: &Action) -> Result<i64> {
    conn.execute(
        "INSERT INTO actions (batch, photo_id, kind, state, original, size, mtime_ns, content_hash,
                              trashed_as, created_at)
         VALUES (?1, ?2, ?3, 'planned', ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            batch,
            a.photo_id,
            a.kind.as_str(),
            a.original.0,
            a.size as i64,
            a.mtime_ns,
            a.hash.to_vec(),
            a.trashed_as,
            now_secs()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn settle(
    conn: &Connection,
    id: i64,
    state: &str,
    trashed_as: Option<&[u8]>,
    reason: Option<&str>,
) -> Result<()> {
    conn.execute(
        "UPDATE actions SET state = ?2, trashed_as = COALESCE(?3, trashed_as), reason = ?4,
                finished_at = ?5 WHERE id = ?1",
        params![id, state, trashed_as, reason, now_secs()],
    )?;
    Ok(())
}

/// Journal rows matching `filter`, oldest first.
fn actions(conn: &Connection, filter: &str, args: impl rusqlite::Params) -> Result<Vec<Action>> {
    let sql = format!(
        "SELECT id, photo_id, kind, original, size, mtime_ns, content_hash, trashed_as
         FROM actions WHERE {filter} ORDER BY id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(args, |r| {
        let hash: Vec<u8> = r.get(6)?;
        Ok(Action {
            id: r.get(0)?,
            photo_id: r.get(1)?,
            kind: match r.get::<_, String>(2)?.as_str() {
                "restore" => ActionKind::Restore,
                "purge" => ActionKind::Purge,
                _ => ActionKind::Trash,
            },
            original: Locator(r.get(3)?),
            size: r.get::<_, i64>(4)? as u64,
            mtime_ns: r.get(5)?,
            hash: hash.try_into().unwrap_or_default(),
            trashed_as: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The photo's `done` trash row: the photo is in the trash.
fn live_trash(conn: &Connection, photo_id: i64) -> Result<Option<Action>> {
    let filter = "kind = 'trash' AND state = 'done' AND photo_id = ?1";
    Ok(actions(conn, filter, [photo_id])?.pop())
}

/// Why photo `id`, which has no live trash row, cannot be restored or purged.
fn not_trashed(conn: &Connection, id: i64) -> Result<&'static str> {
    let known: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM photos WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    Ok(if known {
        "not in the trash"
    } else {
        "no such photo"
    })
}

/// Trash items that journal rows already stand for.
fn claimed(conn: &Connection) -> Result<HashSet<Vec<u8>>> {
    let mut stmt = conn.prepare(
        "SELECT trashed_as FROM actions
         WHERE kind = 'trash' AND state = 'done' AND trashed_as IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
