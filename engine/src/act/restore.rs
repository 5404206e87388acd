//! Putting trashed photos back at their paths ([`Engine::restore`], its undo
//! [`Engine::restore_last_batch`]), never over an existing file.

use std::path::Path;

use rusqlite::params;

use super::journal::{journal_planned, live_trash, next_batch, not_trashed, settle, Action};
use super::listing::{trash_reason, OsTrash};
use super::{
    outcome, refused, unique, ActReport, ActStatus, ActionKind, PhotoOutcome, RestoreReport,
    INTERRUPTED,
};
use crate::os_trash as trash;
use crate::source::hash_file;
use crate::store::now_secs;
use crate::{Engine, Result};

impl Engine {
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

    /// Settles a planned restore row from disk.
    pub(super) fn settle_restore(
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

    /// Test seam (feature `testing`): restores only the first file of each photo's asset and
    /// stops, as a kill between two files of an asset's restore would.
    #[cfg(feature = "testing")]
    pub fn restore_first_file_only(&mut self, ids: &[i64]) -> Result<()> {
        self.exclusively(|e| {
            let listed = OsTrash::list()?;
            let batch = next_batch(e.conn())?;
            for &id in ids {
                if let Some(first) = live_trash(e.conn(), id)?.into_iter().next() {
                    e.restore_file(batch, first, &listed)?;
                }
            }
            Ok(())
        })
    }

    /// Restores photo `id` with every file of its asset that went to the trash with it, or none
    /// of them: each must still be in the trash (or already back) and its path free.
    fn restore_one(&mut self, batch: i64, id: i64, listed: &OsTrash) -> Result<PhotoOutcome> {
        let rows = live_trash(self.conn(), id)?;
        if rows.is_empty() {
            return Ok(refused(id, String::new(), not_trashed(self.conn(), id)?));
        }
        let main = rows[0].clone();
        for t in &rows {
            match listed.item_of(t) {
                Some(item) if item.original_path().symlink_metadata().is_ok() => {
                    let why = conflict(&item.original_path());
                    return Ok(main.outcome(ActStatus::Conflict, Some(why)));
                }
                Some(_) => {}
                None if hash_file(&t.original.to_path()).is_ok_and(|h| h == t.hash) => {}
                None => {
                    let why = format!(
                        "{}: no longer in the OS trash (emptied, or restored elsewhere)",
                        t.original.display()
                    );
                    return Ok(main.outcome(ActStatus::Refused, Some(why)));
                }
            }
        }
        let bytes: u64 = rows.iter().map(|t| t.size).sum();
        let mut problem = None;
        for t in rows {
            let o = self.restore_file(batch, t, listed)?;
            if o.status != ActStatus::Done && problem.is_none() {
                problem = Some(o);
            }
        }
        Ok(problem
            .unwrap_or_else(|| outcome(id, main.original.display(), ActStatus::Done, bytes, None)))
    }

    /// Puts one trashed file back (a photo's own, or a companion of its asset).
    pub(super) fn restore_file(
        &mut self,
        batch: i64,
        trashed: Action,
        listed: &OsTrash,
    ) -> Result<PhotoOutcome> {
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

    /// Settles a restore row and, if the file left the trash (`out_of_trash`), turns the live
    /// trash row of that file `undone`, in one transaction.
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
                 WHERE kind = 'trash' AND state = 'done' AND photo_id = ?1 AND original = ?3",
                params![a.photo_id, now_secs(), a.original.0],
            )?;
        }
        tx.commit()?;
        Ok(())
    }
}

fn conflict(path: &Path) -> String {
    format!(
        "conflict: {} already exists; nothing was overwritten",
        path.display()
    )
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
