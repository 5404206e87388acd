//! The `companions` table: the files that belong to a photo's asset (`crate::assets`), as the
//! last complete listing found them.

use std::collections::HashMap;

use rusqlite::{params, Connection, Transaction};

use crate::assets::{Companion, CompanionKind};
use crate::source::Locator;
use crate::Result;

/// A companion file as listed: where it is and the size and mtime it had.
#[derive(Clone, Debug)]
pub struct StoredCompanion {
    pub locator: Locator,
    pub kind: CompanionKind,
    pub size: u64,
    pub mtime_ns: i64,
}

/// Replaces the companions under `roots` with this listing's. A row of a companion that was a
/// lone file before (a RAW whose JPEG arrived) is removed if nothing refers to it: it was never
/// indexed, so it holds no label and no journal.
pub fn replace(tx: &Transaction, roots: &[Locator], companions: &[Companion]) -> Result<()> {
    for root in roots {
        tx.execute(
            "DELETE FROM companions WHERE substr(locator, 1, ?2) = ?1",
            params![root.0, root.0.len() as i64],
        )?;
    }
    let mut insert = tx.prepare(
        "INSERT OR REPLACE INTO companions (locator, photo, kind, size, mtime_ns)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?;
    let mut orphan = tx.prepare(
        "DELETE FROM photos WHERE locator = ?1 AND state != 'indexed'
           AND id NOT IN (SELECT photo_id FROM labels)
           AND id NOT IN (SELECT photo_id FROM label_history)
           AND id NOT IN (SELECT photo_id FROM actions)",
    )?;
    for c in companions {
        insert.execute(params![
            c.entry.locator.0,
            c.photo.0,
            c.kind.as_str(),
            c.entry.size as i64,
            c.entry.mtime_ns
        ])?;
        orphan.execute([&c.entry.locator.0])?;
    }
    Ok(())
}

/// Every stored companion's size and mtime, by locator: the scan re-reads only the ones that
/// changed.
pub fn listed(conn: &Connection) -> Result<HashMap<Locator, (u64, i64)>> {
    let mut stmt = conn.prepare("SELECT locator, size, mtime_ns FROM companions")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            Locator(r.get(0)?),
            (r.get::<_, i64>(1)? as u64, r.get::<_, i64>(2)?),
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The kinds of a photo's companions from SQL `group_concat(kind)` (`None`: none).
pub fn kinds(concatenated: Option<String>) -> Vec<String> {
    concatenated.map_or_else(Vec::new, |k| k.split(',').map(String::from).collect())
}

/// The companions of photo `id`, in locator order.
pub fn of_photo(conn: &Connection, id: i64) -> Result<Vec<StoredCompanion>> {
    let mut stmt = conn.prepare_cached(
        "SELECT c.locator, c.kind, c.size, c.mtime_ns FROM companions c
         JOIN photos p ON p.locator = c.photo WHERE p.id = ?1 ORDER BY c.locator",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(StoredCompanion {
            locator: Locator(r.get(0)?),
            kind: CompanionKind::parse(&r.get::<_, String>(1)?).unwrap_or(CompanionKind::Raw),
            size: r.get::<_, i64>(2)? as u64,
            mtime_ns: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
