//! Emptying precious's part of the OS trash ([`Engine::empty_trash`]): deleting trashed
//! photos for good, and nothing else the trash holds.

use std::collections::HashSet;

use rusqlite::{params, OptionalExtension};

use super::journal::{actions, journal_planned, next_batch, not_trashed, settle, Action};
use super::listing::{file_in_trash, trash_reason, OsTrash};
use super::{unique, ActReport, ActStatus, ActionKind, PhotoOutcome, INTERRUPTED};
use crate::os_trash as trash;
use crate::source::hash_file;
use crate::store::now_secs;
use crate::{Engine, Error, Result};

impl Engine {
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
                let companion = t.companion;
                let o = e.purge_one(report.batch, t, &listed)?;
                match (companion, o.status) {
                    // A companion file of an asset: its bytes count, the photo is listed once.
                    (true, ActStatus::Done) => report.bytes += o.bytes,
                    _ => report.push(o),
                }
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
    pub(super) fn settle_purge(
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
                "SELECT id FROM actions
                 WHERE kind = 'trash' AND state = 'done' AND photo_id = ?1 AND original = ?2",
                params![a.photo_id, a.original.0],
                |r| r.get(0),
            )
            .optional()?;
        match trash_row {
            Some(t) => self.finish_purge(a, t, None)?,
            None => settle(self.conn(), a.id, "done", None, None)?,
        }
        Ok((ActStatus::Done, None))
    }
}
