//! The SQLite store: one file, WAL journal, versioned migrations, every multi-row change in one
//! transaction. Photos on disk and labels are ground truth; every other table is derived and
//! can be rebuilt by a rescan.

mod blob;
pub mod companions;
mod migrations;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use rusqlite::{params, Connection, OptionalExtension, Transaction};

pub use blob::{decode_f16, decode_f32, decode_u8_unit, encode_f16, encode_f32, encode_u8_unit};

use crate::decode::DecodePath;
use crate::features::{Features, Space, FEATURE_VERSION};
use crate::metadata::Exif;
use crate::source::{Entry, Locator};
use crate::{Error, Result};

pub struct Store {
    conn: Connection,
    path: PathBuf,
}

pub(crate) fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

/// What the store already knows about a listed locator.
#[derive(Clone, Debug)]
pub struct Known {
    pub id: i64,
    pub size: u64,
    pub mtime_ns: i64,
    pub state: String,
    pub hash: Option<[u8; 32]>,
    /// Features exist and are of the current version.
    pub current_features: bool,
}

impl Store {
    pub fn open(path: &Path) -> Result<Store> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        let db_err = |source| Error::Db {
            path: path.to_path_buf(),
            source,
        };
        let conn = Connection::open(path).map_err(db_err)?;
        // The busy timeout turns short lock waits into waits, not errors; set first, so that
        // even the pragmas below wait for another process (app and CLI) instead of failing.
        conn.busy_timeout(std::time::Duration::from_secs(10))
            .map_err(db_err)?;
        // WAL lets the app read while the CLI scans; NORMAL sync is durable at checkpoints and
        // never corrupts.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(db_err)?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(db_err)?;
        let mut store = Store {
            conn,
            path: path.to_path_buf(),
        };
        store.migrate()?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .pragma_query_value(None, "user_version", |r| r.get(0))?)
    }

    fn migrate(&mut self) -> Result<()> {
        let known = migrations::MIGRATIONS.len() as i64;
        let found = self.schema_version()?;
        if found > known {
            return Err(Error::SchemaTooNew { found, known });
        }
        for (i, sql) in migrations::MIGRATIONS
            .iter()
            .enumerate()
            .skip(found as usize)
        {
            let tx = self.transaction()?;
            // Another process (the app and the CLI opening a new database at once) may have
            // applied it while this one waited for the write lock.
            let now: i64 = tx.pragma_query_value(None, "user_version", |r| r.get(0))?;
            if now > i as i64 {
                continue;
            }
            tx.execute_batch(sql)?;
            tx.pragma_update(None, "user_version", i as i64 + 1)?;
            tx.commit()?;
        }
        Ok(())
    }

    /// A write transaction, `BEGIN IMMEDIATE`: it takes the write lock at once, waiting for it
    /// under the busy timeout. A deferred one that reads first and writes later would hold an
    /// older snapshot by then if another process (app or CLI) committed meanwhile, and SQLite
    /// answers that upgrade with SQLITE_BUSY at once, without waiting: "database is locked".
    pub fn transaction(&mut self) -> Result<Transaction<'_>> {
        Ok(self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?)
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Whether the stored HOG-PCA projection (`hog_pca`, derived) no longer covers exactly the
    /// indexed photos with features. A scan refreshes it after its last batch, so a kill in
    /// between leaves the new photos unprojected, and the next scan, finding nothing new to
    /// index, would never refresh it (found by `precious-bench reliability --only kills`).
    /// Below 3 photos there is no projection to make, so only leftover rows are stale.
    pub fn hog_pca_stale(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM photos p JOIN features f ON f.photo_id = p.id
                     WHERE p.state = 'indexed') AS indexed,
                    (SELECT COUNT(*) FROM hog_pca h JOIN photos p ON p.id = h.photo_id
                     JOIN features f ON f.photo_id = p.id WHERE p.state = 'indexed') AS projected,
                    (SELECT COUNT(*) FROM hog_pca) AS rows",
            [],
            |r| {
                let (indexed, projected, rows): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(rows != projected || (indexed >= 3 && projected != indexed))
            },
        )?)
    }

    /// Whether the stored neighbour graph (`neighbours`, derived) no longer covers exactly the
    /// indexed photos, as [`Store::hog_pca_stale`] for the projection.
    pub fn neighbours_stale(&self) -> Result<bool> {
        Ok(self.conn.query_row(
            "SELECT (SELECT COUNT(*) FROM photos p JOIN features f ON f.photo_id = p.id
                     WHERE p.state = 'indexed') AS indexed,
                    (SELECT COUNT(*) FROM neighbours n JOIN photos p ON p.id = n.photo_id
                     JOIN features f ON f.photo_id = p.id WHERE p.state = 'indexed') AS covered,
                    (SELECT COUNT(*) FROM neighbours) AS rows",
            [],
            |r| {
                let (indexed, covered, rows): (i64, i64, i64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                Ok(rows != covered || (indexed >= 2 && covered != indexed))
            },
        )?)
    }

    /// Every stored photo by locator, for the incremental scan's comparison.
    pub fn known(&self) -> Result<HashMap<Locator, Known>> {
        let mut stmt = self.conn.prepare(
            "SELECT p.locator, p.id, p.size, p.mtime_ns, p.state, p.content_hash, f.version
             FROM photos p LEFT JOIN features f ON f.photo_id = p.id",
        )?;
        let rows = stmt.query_map([], |r| {
            let hash: Option<Vec<u8>> = r.get(5)?;
            let version: Option<i64> = r.get(6)?;
            Ok((
                Locator(r.get(0)?),
                Known {
                    id: r.get(1)?,
                    size: r.get::<_, i64>(2)? as u64,
                    mtime_ns: r.get(3)?,
                    state: r.get(4)?,
                    hash: hash.and_then(|h| h.try_into().ok()),
                    current_features: version == Some(FEATURE_VERSION),
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Everything the scan learnt about one newly indexed file.
pub struct IndexedPhoto {
    pub hash: [u8; 32],
    /// The stored format name: an image [`crate::format::Format`]'s, or a video's container.
    pub format: &'static str,
    pub exif: Exif,
    /// Upright size of the full image.
    pub size: (u32, u32),
    pub decode_path: DecodePath,
    pub features: Features,
    /// For a video: its duration and codec (its features are its poster frame's).
    pub video: Option<crate::video::VideoInfo>,
}

/// Writes of one scan batch, all inside the caller's transaction.
pub struct ScanWriter<'t> {
    pub tx: &'t Transaction<'t>,
    pub now: i64,
}

impl ScanWriter<'_> {
    /// Inserts or updates the photo row for `entry`, returning its id.
    fn upsert_photo(
        &self,
        entry: &Entry,
        hash: Option<&[u8; 32]>,
        state: &str,
        reason: Option<&str>,
    ) -> Result<i64> {
        // A gone photo's path now holding other content is a new photo: the old row (its
        // labels, its trash journal) must not be handed to it.
        self.displace(
            &entry.locator,
            "state = 'gone' AND content_hash IS NOT ?2",
            hash.map(|h| h.to_vec()),
        )?;
        let id = self.tx.query_row(
            "INSERT INTO photos (locator, display_path, size, mtime_ns, content_hash, state, reason,
                                 first_seen, last_changed)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)
             ON CONFLICT(locator) DO UPDATE SET
                size = excluded.size, mtime_ns = excluded.mtime_ns,
                content_hash = excluded.content_hash, state = excluded.state,
                reason = excluded.reason, last_changed = excluded.last_changed, gone_at = NULL
             RETURNING id",
            params![
                entry.locator.0,
                entry.locator.display(),
                entry.size as i64,
                entry.mtime_ns,
                hash.map(|h| h.to_vec()),
                state,
                reason,
                self.now
            ],
            |r| r.get(0),
        )?;
        Ok(id)
    }

    pub fn indexed(&self, entry: &Entry, p: &IndexedPhoto) -> Result<i64> {
        let (exif, f) = (&p.exif, &p.features);
        let id = self.upsert_photo(entry, Some(&p.hash), "indexed", None)?;
        self.tx.execute(
            "UPDATE photos SET format = ?2, width = ?3, height = ?4, orientation = ?5, taken_at = ?6,
                make = ?7, model = ?8, has_gps = ?9, has_camera_exif = ?10, decode_path = ?11,
                duration_ms = ?12, codec = ?13
             WHERE id = ?1",
            params![
                id,
                p.format,
                p.size.0,
                p.size.1,
                exif.orientation.0,
                exif.taken_at,
                exif.make,
                exif.model,
                exif.has_gps,
                exif.has_camera_exif,
                p.decode_path.as_str(),
                p.video.as_ref().map(|v| v.duration_ms as i64),
                p.video.as_ref().map(|v| v.codec.as_str())
            ],
        )?;
        let q = &f.quality;
        self.tx.execute(
            "INSERT OR REPLACE INTO features (photo_id, version, embedding, hog, sharpness, brightness,
                dark_share, bright_share, colorfulness, phash, blur)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                id,
                FEATURE_VERSION,
                encode_f16(&f.embedding),
                encode_u8_unit(&f.hog),
                q.sharpness,
                q.brightness,
                q.dark_share,
                q.bright_share,
                q.colorfulness,
                f.phash as i64,
                q.blur
            ],
        )?;
        Ok(id)
    }

    pub fn failed(
        &self,
        entry: &Entry,
        hash: Option<&[u8; 32]>,
        unsupported: bool,
        reason: &str,
    ) -> Result<i64> {
        let state = if unsupported { "unsupported" } else { "failed" };
        let id = self.upsert_photo(entry, hash, state, Some(reason))?;
        self.tx
            .execute("DELETE FROM features WHERE photo_id = ?1", [id])?;
        Ok(id)
    }

    /// The same bytes as stored photo `from` appeared at `entry`: if `from` is gone this is a
    /// move (the row, its id and its labels follow the file); else an exact duplicate whose
    /// metadata and features are copied instead of recomputed. Returns the id and whether it moved.
    /// Moves the row holding `locator` (if it matches `condition`, where `?2` is `arg`) out of
    /// the way as a gone photo: rows are never deleted, since labels and the trash journal point
    /// at them. The NUL byte cannot occur in a real path, so the parked locator is unique.
    fn displace(
        &self,
        locator: &Locator,
        condition: &str,
        arg: impl rusqlite::ToSql,
    ) -> Result<()> {
        let id: Option<i64> = self
            .tx
            .query_row(
                &format!("SELECT id FROM photos WHERE locator = ?1 AND {condition}"),
                params![locator.0, arg],
                |r| r.get(0),
            )
            .optional()?;
        if let Some(id) = id {
            let mut parked = locator.0.clone();
            parked.push(0);
            parked.extend(id.to_string().as_bytes());
            self.tx.execute(
                "UPDATE photos SET locator = ?2, state = 'gone', gone_at = COALESCE(gone_at, ?3) WHERE id = ?1",
                params![id, parked, self.now],
            )?;
        }
        Ok(())
    }

    pub fn same_content(&self, entry: &Entry, from: i64, moved: bool) -> Result<i64> {
        if moved {
            self.displace(&entry.locator, "id != ?2", from)?;
            self.tx.execute(
                "UPDATE photos SET locator = ?2, display_path = ?3, size = ?4, mtime_ns = ?5,
                    state = 'indexed', reason = NULL, gone_at = NULL, last_changed = ?6 WHERE id = ?1",
                params![from, entry.locator.0, entry.locator.display(), entry.size as i64, entry.mtime_ns, self.now],
            )?;
            return Ok(from);
        }
        let hash: Vec<u8> = self.tx.query_row(
            "SELECT content_hash FROM photos WHERE id = ?1",
            [from],
            |r| r.get(0),
        )?;
        let hash: [u8; 32] = hash
            .try_into()
            .map_err(|_| Error::Invalid("bad stored hash".into()))?;
        let id = self.upsert_photo(entry, Some(&hash), "indexed", None)?;
        self.tx.execute(
            "UPDATE photos SET (format, width, height, orientation, taken_at, make, model, has_gps,
                has_camera_exif, decode_path, duration_ms, codec) =
                (SELECT format, width, height, orientation, taken_at, make, model, has_gps,
                        has_camera_exif, decode_path, duration_ms, codec FROM photos WHERE id = ?2)
             WHERE id = ?1",
            params![id, from],
        )?;
        self.tx.execute(
            "INSERT OR REPLACE INTO features (photo_id, version, embedding, hog, sharpness,
                brightness, dark_share, bright_share, colorfulness, phash, blur)
             SELECT ?1, version, embedding, hog, sharpness, brightness, dark_share, bright_share,
                    colorfulness, phash, blur FROM features WHERE photo_id = ?2",
            params![id, from],
        )?;
        Ok(id)
    }

    pub fn gone(&self, id: i64) -> Result<()> {
        self.tx.execute(
            "UPDATE photos SET state = 'gone', gone_at = ?2 WHERE id = ?1 AND state != 'gone'",
            params![id, self.now],
        )?;
        Ok(())
    }
}

/// A video's duration and the kinds of the other files of a photo's asset.
pub fn media_facts(conn: &Connection, id: i64) -> Result<(Option<u64>, Vec<String>)> {
    let (duration, kinds): (Option<i64>, Option<String>) = conn
        .prepare_cached(
            "SELECT p.duration_ms,
                    (SELECT group_concat(c.kind) FROM companions c WHERE c.photo = p.locator)
             FROM photos p WHERE p.id = ?1",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?
        .unwrap_or_default();
    Ok((duration.map(|d| d.max(0) as u64), companions::kinds(kinds)))
}

/// Reads a photo's id by its stored locator.
pub fn photo_id(conn: &Connection, locator: &Locator) -> Result<Option<i64>> {
    Ok(conn
        .query_row(
            "SELECT id FROM photos WHERE locator = ?1",
            [&locator.0],
            |r| r.get(0),
        )
        .optional()?)
}

/// One indexed photo's vector in a feature space, with what picking and learning need.
#[derive(Clone, Debug)]
pub struct PhotoVector {
    pub id: i64,
    pub path: String,
    pub phash: u64,
    pub sharpness: f64,
    pub labeled: bool,
    pub vector: Vec<f32>,
}

/// Every indexed photo's vector in `space`, ordered by content hash: ids depend on the order
/// in which a scan happened to finish files, content does not, so picks made from this order
/// are the same for the same gallery in any database.
pub fn photo_vectors(conn: &Connection, space: Space) -> Result<Vec<PhotoVector>> {
    let sql = match space {
        Space::Embedding => {
            "SELECT p.id, p.display_path, f.phash, f.sharpness, l.photo_id IS NOT NULL, f.embedding
             FROM photos p JOIN features f ON f.photo_id = p.id LEFT JOIN labels l ON l.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.content_hash, p.id"
        }
        Space::HogPca => {
            "SELECT p.id, p.display_path, f.phash, f.sharpness, l.photo_id IS NOT NULL, h.vector
             FROM photos p JOIN features f ON f.photo_id = p.id JOIN hog_pca h ON h.photo_id = p.id
             LEFT JOIN labels l ON l.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.content_hash, p.id"
        }
    };
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        let blob: Vec<u8> = r.get(5)?;
        Ok(PhotoVector {
            id: r.get(0)?,
            path: r.get(1)?,
            phash: r.get::<_, i64>(2)? as u64,
            sharpness: r.get(3)?,
            labeled: r.get(4)?,
            vector: match space {
                Space::Embedding => decode_f16(&blob),
                Space::HogPca => decode_f32(&blob),
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
