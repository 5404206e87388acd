//! Settling the `planned` journal rows a crash left ([`Engine::recover`]), from what is on
//! disk; every action runs it first.

use super::journal::actions;
use super::listing::OsTrash;
use super::{ActionKind, RecoveryReport, Settled};
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
}
