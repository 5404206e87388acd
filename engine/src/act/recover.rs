//! Settling the `planned` journal rows a crash left ([`Engine::recover`]), from what is on
//! disk; every action runs it first.

use std::collections::BTreeMap;

use super::journal::{actions, live_trash, next_batch};
use super::listing::OsTrash;
use super::{ActStatus, ActionKind, RecoveryReport, Settled, SettledRow};
use crate::{Engine, Result};

impl Engine {
    /// Settles `planned` journal rows left by a crash from what is on disk: a file still at its
    /// path did not move (`failed`), one found in the trash did (`done`), and one in neither
    /// place is `failed` and left for the next scan to mark gone. Idempotent; `trash` and
    /// `restore` call it first.
    pub fn recover(&mut self) -> Result<RecoveryReport> {
        self.exclusively(|e| e.settle_planned())
    }

    pub(super) fn settle_planned(&mut self) -> Result<RecoveryReport> {
        let planned = actions(self.conn(), "state = 'planned'", [])?;
        let listed = if planned.is_empty() {
            OsTrash::default()
        } else {
            OsTrash::list()?
        };
        let mut report = RecoveryReport::default();
        // The rows of one asset's trash (same batch and photo) settle together; half restores
        // are found from the trash rows below, planned or not.
        let mut assets: BTreeMap<(i64, i64), Vec<SettledRow>> = BTreeMap::new();
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
                reason: reason.clone(),
            });
            if a.kind == ActionKind::Trash {
                let key = (a.batch, a.photo_id);
                assets.entry(key).or_default().push((a, status, reason));
            }
        }
        for ((batch, _), mut rows) in assets {
            let done = rows
                .iter()
                .filter(|(_, s, _)| *s == ActStatus::Done)
                .count();
            if done > 0 && done < rows.len() {
                // Killed between two files of an asset's trash: put back what moved.
                rows.sort_by_key(|(a, ..)| (a.companion, a.id));
                self.whole_asset(batch, rows)?;
            }
        }
        self.finish_half_restores()?;
        Ok(report)
    }

    /// Assets a kill left half restored: one file of a trashed asset is back (its trash row
    /// `undone`) while another is still in the trash. A restore plans each file's row just
    /// before moving it, so a kill between two files can leave no `planned` row at all: this
    /// looks at the trash rows themselves, and brings the rest back.
    fn finish_half_restores(&mut self) -> Result<()> {
        let half: Vec<i64> = self
            .conn()
            .prepare(
                "SELECT DISTINCT t.photo_id FROM actions t
                 WHERE t.kind = 'trash' AND t.state = 'done' AND EXISTS (
                     SELECT 1 FROM actions u WHERE u.kind = 'trash' AND u.state = 'undone'
                     AND u.photo_id = t.photo_id AND u.batch = t.batch)",
            )?
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        if half.is_empty() {
            return Ok(());
        }
        let listed = OsTrash::list()?;
        let batch = next_batch(self.conn())?;
        for id in half {
            for t in live_trash(self.conn(), id)? {
                self.restore_file(batch, t, &listed)?;
            }
        }
        Ok(())
    }
}
