//! Settling the `planned` journal rows a crash left ([`Engine::recover`]), from what is on
//! disk; every action runs it first.

use std::collections::BTreeMap;

use super::journal::{actions, live_trash};
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
        // The rows of one asset's trash or restore (same batch and photo) settle together.
        let mut assets: BTreeMap<(i64, i64, bool), Vec<SettledRow>> = BTreeMap::new();
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
            if a.kind != ActionKind::Purge {
                let key = (a.batch, a.photo_id, a.kind == ActionKind::Trash);
                assets.entry(key).or_default().push((a, status, reason));
            }
        }
        for ((batch, photo_id, trash), mut rows) in assets {
            let done = rows
                .iter()
                .filter(|(_, s, _)| *s == ActStatus::Done)
                .count();
            if done == 0 || done == rows.len() {
                continue;
            }
            if trash {
                // Killed between two files of an asset's trash: put back what moved.
                rows.sort_by_key(|(a, ..)| (a.companion, a.id));
                self.whole_asset(batch, rows)?;
            } else {
                // Killed between two files of an asset's restore: bring back the rest.
                let listed = OsTrash::list()?;
                for t in live_trash(self.conn(), photo_id)? {
                    self.restore_file(batch, t, &listed)?;
                }
            }
        }
        Ok(report)
    }
}
