//! Moving photos to the OS trash ([`Engine::trash`]), each checked unchanged since it was
//! indexed first, and listing what precious trashed ([`Engine::trashed`]).

use std::io;
use std::path::Path;

use rusqlite::OptionalExtension;

use super::journal::{claimed, journal_planned, live_trash, next_batch, settle, Action};
use super::listing::{as_trash_records, os_bytes, trash_reason, OsTrash};
use super::{
    outcome, refused, unique, ActReport, ActStatus, ActionKind, PhotoOutcome, SettledRow,
    TrashReport, TrashedPhoto, INTERRUPTED,
};
use crate::os_trash as trash;
use crate::source::{hash_file, io_reason, mtime_ns, Locator};
use crate::{Engine, Result};

const CHANGED: &str = "changed since it was indexed";

/// One photo of a trash request between the moves and their settlement.
enum Step {
    /// Refused: nothing was journaled or touched.
    Finished(PhotoOutcome),
    /// Journaled and handed to the trash, file by file (the photo's own first, then its
    /// companions'), each with the move's error if it returned one.
    Moved(Vec<(Action, Option<String>)>),
}

impl Engine {
    /// Moves photos to the OS trash, each with the other files of its asset (a Live Photo's
    /// video, a RAW+JPEG's RAW: `crate::assets`). Each must be indexed and every file exactly
    /// as indexed or listed (size, mtime, and the photo's content hash); any other is refused
    /// with a reason and not touched, and the rest go on. An asset goes whole or not at all: if
    /// one of its files cannot be moved, those that were are put back. Settles interrupted
    /// actions first.
    pub fn trash(&mut self, ids: &[i64]) -> Result<TrashReport> {
        self.exclusively(|e| {
            let recovered = e.settle_planned()?;
            let batch = next_batch(e.conn())?;
            let mut steps = Vec::with_capacity(ids.len());
            for id in unique(ids) {
                steps.push(match e.plan_trash(batch, id)? {
                    // Once a file of the asset fails to move, the rest are not tried: they
                    // would only be put back (their rows settle as not moved).
                    Ok(parts) => {
                        let mut failed = false;
                        Step::Moved(
                            parts
                                .into_iter()
                                .map(|a| {
                                    let failure = (!failed)
                                        .then(|| trash::delete(a.original.to_path()).err())
                                        .flatten()
                                        .map(|f| trash_reason(&f));
                                    failed |= failure.is_some();
                                    (a, failure)
                                })
                                .collect(),
                        )
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
                    Step::Moved(parts) => {
                        let mut settled = Vec::with_capacity(parts.len());
                        for (a, failure) in parts {
                            let (status, reason) = e.settle_trash(&a, &listed, failure)?;
                            settled.push((a, status, reason));
                        }
                        e.whole_asset(batch, settled)?
                    }
                });
            }
            Ok(report)
        })
    }

    /// One outcome for an asset's settled trash rows. If some files moved and others did not,
    /// the moved ones are put back (journaled restores), so no asset is ever half in the trash.
    pub(super) fn whole_asset(
        &mut self,
        batch: i64,
        settled: Vec<SettledRow>,
    ) -> Result<PhotoOutcome> {
        let main = settled[0].0.clone();
        let bytes: u64 = settled.iter().map(|(a, ..)| a.size).sum();
        let failed = settled.iter().find(|(_, s, _)| *s != ActStatus::Done);
        let Some((failed, status, reason)) = failed else {
            return Ok(outcome(
                main.photo_id,
                main.original.display(),
                ActStatus::Done,
                bytes,
                None,
            ));
        };
        let mut why = format!(
            "{}: {}",
            failed.original.display(),
            reason.clone().unwrap_or_default()
        );
        let status = *status;
        if settled.iter().any(|(_, s, _)| *s == ActStatus::Done) {
            let listed = OsTrash::list()?;
            let mut back = true;
            for (a, ..) in settled.iter().filter(|(_, s, _)| *s == ActStatus::Done) {
                let trash_row = live_trash(self.conn(), a.photo_id)?
                    .into_iter()
                    .find(|t| t.original == a.original);
                if let Some(t) = trash_row {
                    back &= self.restore_file(batch, t, &listed)?.status == ActStatus::Done;
                }
            }
            why += if back {
                "; the asset's other files were put back"
            } else {
                "; putting the asset's other files back failed too: see `precious trash --list`"
            };
        }
        Ok(outcome(
            main.photo_id,
            main.original.display(),
            status,
            0,
            Some(why),
        ))
    }

    /// What precious moved to the OS trash and has not restored, newest first. From the
    /// journal: an item emptied from the trash by other means is still listed.
    pub fn trashed(&self) -> Result<Vec<TrashedPhoto>> {
        // One entry per photo, its asset's companion files' bytes included.
        let mut stmt = self.conn().prepare(
            "SELECT photo_id, original, size + COALESCE((SELECT SUM(c.size) FROM actions c
                    WHERE c.kind = 'trash' AND c.state = 'done' AND c.companion = 1
                      AND c.photo_id = a.photo_id AND c.batch = a.batch), 0),
                    finished_at, batch
             FROM actions a
             WHERE kind = 'trash' AND state = 'done' AND companion = 0
             ORDER BY finished_at DESC, id DESC",
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

    /// Test seam (feature `testing`): plans the trash of each photo's asset, moves only its
    /// first file and stops, as a kill between two files of an asset would.
    #[cfg(feature = "testing")]
    pub fn trash_first_file_only(&mut self, ids: &[i64]) -> Result<()> {
        self.exclusively(|e| {
            let batch = next_batch(e.conn())?;
            for &id in ids {
                if let Ok(parts) = e.plan_trash(batch, id)? {
                    trash::delete(parts[0].original.to_path())
                        .map_err(|err| crate::Error::Invalid(trash_reason(&err)))?;
                }
            }
            Ok(())
        })
    }

    /// Checks one photo and the other files of its asset, and journals a committed `planned`
    /// trash row for each (the photo's first), or says why not. Nothing is journaled unless
    /// every file checks out.
    fn plan_trash(&self, batch: i64, id: i64) -> Result<Result<Vec<Action>, PhotoOutcome>> {
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
        if !live_trash(conn, id)?.is_empty() {
            return Ok(Err(refused(id, path, "already in the trash")));
        }
        let Some(hash) = hash.and_then(|h| <[u8; 32]>::try_from(h).ok()) else {
            return Ok(Err(refused(id, path, "no content hash was stored")));
        };
        if let Some(why) = differs(&original.to_path(), size, mtime, Some(&hash)) {
            return Ok(Err(refused(id, path, why)));
        }
        let mut parts = vec![Action {
            id: 0,
            batch,
            photo_id: id,
            kind: ActionKind::Trash,
            original,
            size,
            mtime_ns: mtime,
            hash,
            trashed_as: None,
            companion: false,
        }];
        // Companions are checked against the listing (size and mtime), and their hash is taken
        // now: the trash is searched for exactly these bytes afterwards.
        for c in crate::store::companions::of_photo(conn, id)? {
            let p = c.locator.to_path();
            let checked = differs(&p, c.size, c.mtime_ns, None)
                .map(Err)
                .unwrap_or_else(|| hash_file(&p).map_err(|e| file_problem(&e)));
            match checked {
                Ok(hash) => parts.push(Action {
                    original: c.locator,
                    size: c.size,
                    mtime_ns: c.mtime_ns,
                    hash,
                    companion: true,
                    ..parts[0].clone()
                }),
                Err(why) => {
                    let why = format!("{} ({}): {why}", c.locator.display(), c.kind.as_str());
                    return Ok(Err(refused(id, path, why)));
                }
            }
        }
        for a in &mut parts {
            a.id = journal_planned(conn, batch, a)?;
        }
        Ok(Ok(parts))
    }

    /// Settles a planned trash row from disk. `failure` is the error the move returned, if any.
    pub(super) fn settle_trash(
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
}

/// Why the file at `path` is not exactly what was indexed, or `None` if it is. Size and mtime
/// are checked first (cheap), then the hash of the bytes read (when one is given). A symbolic link is refused: the
/// trash would take the link, not the photo.
fn differs(path: &Path, size: u64, mtime: i64, hash: Option<&[u8; 32]>) -> Option<String> {
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
    let hash = hash?;
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
