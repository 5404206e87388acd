//! The `actions` journal: one row per photo acted on, committed `planned` before the file is
//! touched and settled after; read back to recover, restore and purge.

use std::collections::HashSet;

use rusqlite::{params, Connection};

use super::{outcome, ActStatus, ActionKind, PhotoOutcome};
use crate::source::Locator;
use crate::store::now_secs;
use crate::Result;

/// One journal row: what is (or was) acted on, as checked before acting.
#[derive(Clone, Debug)]
pub(super) struct Action {
    pub(super) id: i64,
    pub(super) batch: i64,
    pub(super) photo_id: i64,
    pub(super) kind: ActionKind,
    pub(super) original: Locator,
    pub(super) size: u64,
    pub(super) mtime_ns: i64,
    pub(super) hash: [u8; 32],
    pub(super) trashed_as: Option<Vec<u8>>,
    /// A companion file of the photo's asset (`crate::assets`), not the photo's own file.
    pub(super) companion: bool,
}

impl Action {
    pub(super) fn outcome(&self, status: ActStatus, reason: Option<String>) -> PhotoOutcome {
        outcome(
            self.photo_id,
            self.original.display(),
            status,
            self.size,
            reason,
        )
    }
}

pub(super) fn next_batch(conn: &Connection) -> Result<i64> {
    Ok(
        conn.query_row("SELECT COALESCE(MAX(batch), 0) + 1 FROM actions", [], |r| {
            r.get(0)
        })?,
    )
}

/// Inserts `a` as a `planned` row (committed at once: no transaction is open) and returns its id.
pub(super) fn journal_planned(conn: &Connection, batch: i64, a: &Action) -> Result<i64> {
    conn.execute(
        "INSERT INTO actions (batch, photo_id, kind, state, original, size, mtime_ns, content_hash,
                              trashed_as, created_at, companion)
         VALUES (?1, ?2, ?3, 'planned', ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            batch,
            a.photo_id,
            a.kind.as_str(),
            a.original.0,
            a.size as i64,
            a.mtime_ns,
            a.hash.to_vec(),
            a.trashed_as,
            now_secs(),
            a.companion
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub(super) fn settle(
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
pub(super) fn actions(
    conn: &Connection,
    filter: &str,
    args: impl rusqlite::Params,
) -> Result<Vec<Action>> {
    let sql = format!(
        "SELECT id, photo_id, kind, original, size, mtime_ns, content_hash, trashed_as, companion,
                batch
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
            companion: r.get(8)?,
            batch: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The photo's `done` trash rows, its own file's first, then its companions': the photo is in
/// the trash while it has any.
pub(super) fn live_trash(conn: &Connection, photo_id: i64) -> Result<Vec<Action>> {
    let filter = "kind = 'trash' AND state = 'done' AND photo_id = ?1";
    let mut rows = actions(conn, filter, [photo_id])?;
    rows.sort_by_key(|a| (a.companion, a.id));
    Ok(rows)
}

/// Why photo `id`, which has no live trash row, cannot be restored or purged.
pub(super) fn not_trashed(conn: &Connection, id: i64) -> Result<&'static str> {
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
pub(super) fn claimed(conn: &Connection) -> Result<HashSet<Vec<u8>>> {
    let mut stmt = conn.prepare(
        "SELECT trashed_as FROM actions
         WHERE kind = 'trash' AND state = 'done' AND trashed_as IS NOT NULL",
    )?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
