//! [`Engine`]: the public face of the library. Every front end (CLI, app) goes through it and
//! gets plain data back (ids, counts, reasons), never database handles or pixels.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use rusqlite::{params, OptionalExtension};
use serde::Serialize;

use crate::features::quality::Quality;
use crate::pick::{self, Pick, PickOptions, PickedPhoto};
use crate::scan::{self, ScanOptions, ScanProgress, ScanReport};
use crate::source::{FsSource, GallerySource};
use crate::store::{decode_f16, now_secs, Store};
use crate::thumbs::{hex, Thumbs};
use crate::{Error, Result};

/// Identifier shared with the app (`tauri.conf.json`), so both find the same data folder.
pub const APP_ID: &str = "org.precious.app";
const DB_FILE: &str = "precious.sqlite";

pub struct Engine {
    pub(crate) store: Store,
    pub(crate) thumbs: Thumbs,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Label {
    Keep,
    Delete,
    Skip,
}

impl Label {
    pub fn as_str(self) -> &'static str {
        match self {
            Label::Keep => "keep",
            Label::Delete => "delete",
            Label::Skip => "skip",
        }
    }
}

/// `train` labels teach the model; `test` labels are held out to measure it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Train,
    Test,
}

impl Split {
    pub fn as_str(self) -> &'static str {
        match self {
            Split::Train => "train",
            Split::Test => "test",
        }
    }
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct PhotoCounts {
    pub indexed: u64,
    pub failed: u64,
    pub unsupported: u64,
    pub gone: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct FileError {
    pub id: i64,
    pub path: String,
    pub state: String,
    pub reason: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct LabelCounts {
    pub keep: u64,
    pub delete: u64,
    pub skip: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Status {
    pub photos: PhotoCounts,
    /// Files that could not be indexed (failed or unsupported), with the reason.
    pub errors: Vec<FileError>,
    /// All labels, then by split.
    pub labels: LabelCounts,
    pub train_labels: LabelCounts,
    pub test_labels: LabelCounts,
    pub db_path: String,
    pub db_bytes: u64,
    /// Indexed photos by how their working image was decoded.
    pub decode_paths: BTreeMap<String, u64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct FeatureSummary {
    pub embedding_dim: usize,
    pub embedding_norm: f32,
    pub hog_dim: usize,
    pub quality: Quality,
    pub phash: String,
    /// Other indexed photos within the near-duplicate distance.
    pub near_duplicates: Vec<i64>,
}

#[derive(Clone, Debug, Serialize)]
pub struct PhotoDetails {
    pub id: i64,
    pub path: String,
    pub state: String,
    pub reason: Option<String>,
    pub bytes: u64,
    pub content_hash: Option<String>,
    pub format: Option<String>,
    pub width: Option<u32>,
    pub height: Option<u32>,
    pub orientation: Option<u8>,
    pub taken_at: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub has_gps: Option<bool>,
    pub has_camera_exif: Option<bool>,
    pub decode_path: Option<String>,
    /// Videos: duration and codec (`format` is the container; the features are the poster
    /// frame's).
    pub duration_ms: Option<u64>,
    pub codec: Option<String>,
    pub label: Option<Label>,
    pub split: Option<Split>,
    pub thumbnail: Option<String>,
    pub features: Option<FeatureSummary>,
    /// The other files of its asset (a Live Photo's video, a RAW+JPEG's RAW), trashed and
    /// restored with it.
    pub companions: Vec<CompanionFile>,
}

/// A file that belongs to a photo's asset (`crate::assets`).
#[derive(Clone, Debug, Serialize)]
pub struct CompanionFile {
    pub path: String,
    pub kind: crate::assets::CompanionKind,
    pub bytes: u64,
}

pub(crate) fn parse_label(s: &str) -> Label {
    match s {
        "keep" => Label::Keep,
        "delete" => Label::Delete,
        _ => Label::Skip,
    }
}

pub(crate) fn parse_split(s: &str) -> Split {
    if s == "test" {
        Split::Test
    } else {
        Split::Train
    }
}

/// A stored (label, split) pair, as read from nullable columns.
pub(crate) fn parse_labeled(label: Option<&str>, split: Option<&str>) -> Option<(Label, Split)> {
    Some((parse_label(label?), parse_split(split?)))
}

/// Alternates two queues (`b` from the second place on), without repeats, up to `n`.
fn interleave(a: Vec<PickedPhoto>, b: Vec<PickedPhoto>, n: usize) -> Vec<PickedPhoto> {
    let mut out: Vec<PickedPhoto> = Vec::with_capacity(n);
    let (mut a, mut b) = (a.into_iter(), b.into_iter());
    while out.len() < n {
        let next = if out.len() % 2 == 1 {
            b.next().or_else(|| a.next())
        } else {
            a.next().or_else(|| b.next())
        };
        match next {
            Some(p) if out.iter().any(|q| q.id == p.id) => continue,
            Some(p) => out.push(p),
            None => break,
        }
    }
    out
}

/// Runs a `SELECT key, COUNT(*) ... GROUP BY key` query into a map.
fn count_by(conn: &rusqlite::Connection, sql: &str) -> Result<BTreeMap<String, u64>> {
    let mut stmt = conn.prepare(sql)?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            r.get::<_, i64>(1)? as u64,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

impl Engine {
    /// The per-user database location (`$XDG_DATA_HOME/org.precious.app/` on Linux), the same
    /// folder the app uses.
    pub fn default_db_path() -> PathBuf {
        dirs::data_dir()
            .unwrap_or_else(|| PathBuf::from("."))
            .join(APP_ID)
            .join(DB_FILE)
    }

    /// Opens (creating and migrating as needed) the database at `db`.
    pub fn open(db: &Path) -> Result<Engine> {
        Ok(Engine {
            store: Store::open(db)?,
            thumbs: Thumbs::beside(db),
        })
    }

    /// Deletes the database at `db` and everything the engine keeps beside it (WAL, shared
    /// memory, act lock, thumbnails); photos are never touched. For tools that start afresh.
    pub fn remove_database(db: &Path) -> std::io::Result<()> {
        for suffix in ["", "-wal", "-shm", crate::act::LOCK_SUFFIX] {
            let mut p = db.as_os_str().to_owned();
            p.push(suffix);
            match std::fs::remove_file(&p) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
        match std::fs::remove_dir_all(Thumbs::beside(db).dir()) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    pub fn db_path(&self) -> &Path {
        self.store.path()
    }

    pub fn thumbs_dir(&self) -> &Path {
        self.thumbs.dir()
    }

    /// Scans folders (recursively). See [`Engine::scan`].
    pub fn scan_folders(
        &mut self,
        dirs: &[PathBuf],
        opts: &ScanOptions,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<ScanReport> {
        for d in dirs {
            if !d.is_dir() {
                return Err(Error::Invalid(format!("{}: not a folder", d.display())));
            }
        }
        self.scan(&FsSource::new(dirs), opts, progress)
    }

    /// Indexes what is new or changed in `source`, then refreshes derived gallery-wide data.
    pub fn scan(
        &mut self,
        source: &dyn GallerySource,
        opts: &ScanOptions,
        progress: &mut dyn FnMut(&ScanProgress),
    ) -> Result<ScanReport> {
        let report = scan::scan(&mut self.store, &self.thumbs, source, opts, progress)?;
        // Also when a kill left the projection behind the index (`Store::hog_pca_stale`).
        if report.indexed + report.duplicates + report.moved + report.gone > 0
            || self.store.hog_pca_stale()?
        {
            pick::refresh_hog_pca(&mut self.store, 0)?;
        }
        if report.indexed + report.duplicates + report.moved + report.gone > 0
            || self.store.neighbours_stale()?
        {
            crate::neighbours::refresh(&mut self.store)?;
        }
        Ok(report)
    }

    pub fn status(&self) -> Result<Status> {
        let conn = self.store.conn();
        let states = count_by(conn, "SELECT state, COUNT(*) FROM photos GROUP BY state")?;
        let n = |m: &BTreeMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
        let photos = PhotoCounts {
            indexed: n(&states, "indexed"),
            failed: n(&states, "failed"),
            unsupported: n(&states, "unsupported"),
            gone: n(&states, "gone"),
        };
        let mut stmt = conn.prepare(
            "SELECT id, display_path, state, reason FROM photos WHERE state IN ('failed','unsupported') ORDER BY display_path",
        )?;
        let errors = stmt
            .query_map([], |r| {
                Ok(FileError {
                    id: r.get(0)?,
                    path: r.get(1)?,
                    state: r.get(2)?,
                    reason: r.get::<_, Option<String>>(3)?.unwrap_or_default(),
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        let l = count_by(
            conn,
            "SELECT split || ' ' || label, COUNT(*) FROM labels GROUP BY split, label",
        )?;
        let counts = |split: &str| LabelCounts {
            keep: n(&l, &format!("{split} keep")),
            delete: n(&l, &format!("{split} delete")),
            skip: n(&l, &format!("{split} skip")),
        };
        let (train_labels, test_labels) = (counts("train"), counts("test"));
        let labels = LabelCounts {
            keep: train_labels.keep + test_labels.keep,
            delete: train_labels.delete + test_labels.delete,
            skip: train_labels.skip + test_labels.skip,
        };
        let decode_paths = count_by(
            conn,
            "SELECT decode_path, COUNT(*) FROM photos WHERE state = 'indexed' GROUP BY decode_path",
        )?;
        let page: i64 = conn.pragma_query_value(None, "page_size", |r| r.get(0))?;
        let pages: i64 = conn.pragma_query_value(None, "page_count", |r| r.get(0))?;
        Ok(Status {
            photos,
            errors,
            labels,
            train_labels,
            test_labels,
            db_path: self.db_path().display().to_string(),
            db_bytes: (page * pages) as u64,
            decode_paths,
        })
    }

    /// Picks up to `opts.n` photos to label first (see [`crate::pick`]).
    pub fn pick(&self, opts: &PickOptions) -> Result<Pick> {
        pick::pick(self.store.conn(), opts)
    }

    pub(crate) fn conn(&self) -> &rusqlite::Connection {
        self.store.conn()
    }

    /// Every indexed photo's vector in a feature space (for learning and benchmarks).
    pub fn photo_vectors(&self, space: crate::Space) -> Result<Vec<crate::store::PhotoVector>> {
        crate::store::photo_vectors(self.store.conn(), space)
    }

    /// Records the user's label; relabeling replaces it and the history keeps every change.
    pub fn set_label(&mut self, id: i64, label: Label, split: Split) -> Result<()> {
        self.set_labels(&[(id, label)], split)
    }

    /// Records several labels in one transaction: all of them, or none if an id is unknown.
    pub fn set_labels(&mut self, labels: &[(i64, Label)], split: Split) -> Result<()> {
        let now = now_secs();
        let tx = self.store.transaction()?;
        for &(id, label) in labels {
            ensure_photo(&tx, id)?;
            tx.execute(
                "INSERT OR REPLACE INTO labels (photo_id, label, split, labeled_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, label.as_str(), split.as_str(), now],
            )?;
            tx.execute(
                "INSERT INTO label_history (photo_id, label, split, labeled_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, label.as_str(), split.as_str(), now],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Undoes the last label change of a photo: its previous label comes back, or none.
    /// Returns the label now in force.
    pub fn undo_label(&mut self, id: i64) -> Result<Option<(Label, Split)>> {
        let now = now_secs();
        let tx = self.store.transaction()?;
        ensure_photo(&tx, id)?;
        let mut stmt = tx.prepare(
            "SELECT label, split FROM label_history WHERE photo_id = ?1 ORDER BY id DESC LIMIT 2",
        )?;
        let recent: Vec<(Option<String>, Option<String>)> = stmt
            .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        drop(stmt);
        let previous = recent
            .get(1)
            .and_then(|(l, s)| Some((parse_label(l.as_deref()?), parse_split(s.as_deref()?))));
        match previous {
            Some((label, split)) => tx.execute(
                "INSERT OR REPLACE INTO labels (photo_id, label, split, labeled_at) VALUES (?1, ?2, ?3, ?4)",
                params![id, label.as_str(), split.as_str(), now],
            )?,
            None => tx.execute("DELETE FROM labels WHERE photo_id = ?1", [id])?,
        };
        tx.execute(
            "INSERT INTO label_history (photo_id, label, split, labeled_at) VALUES (?1, ?2, ?3, ?4)",
            params![id, previous.map(|p| p.0.as_str()), previous.map(|p| p.1.as_str()), now],
        )?;
        tx.commit()?;
        Ok(previous)
    }

    /// The next photos to ask about: for `train`, the K-means queue (see [`Engine::pick`]),
    /// and once a model exists, every other photo is one it is least sure of (active
    /// labeling); for `test`, a seeded random sample of unlabeled photos, so that evaluation
    /// is unbiased.
    pub fn label_queue(&self, split: Split, n: usize, seed: u64) -> Result<Vec<PickedPhoto>> {
        let mut queue = self.queue(split, n, seed)?;
        for p in &mut queue {
            (p.duration_ms, p.companions) = crate::store::media_facts(self.store.conn(), p.id)?;
        }
        Ok(queue)
    }

    fn queue(&self, split: Split, n: usize, seed: u64) -> Result<Vec<PickedPhoto>> {
        match split {
            Split::Train => {
                let representative = self
                    .pick(&PickOptions {
                        n,
                        seed,
                        ..PickOptions::default()
                    })?
                    .photos;
                // Up to n, not n/2: an uncertain photo may also be a representative one, and
                // the interleave then takes the next uncertain photo instead.
                let uncertain = self.uncertain_photos(n)?;
                Ok(interleave(representative, uncertain, n))
            }
            Split::Test => pick::random_unlabeled(self.store.conn(), n, seed),
        }
    }

    /// The thumbnail file of photo `id`, if one was written: one indexed lookup, for front
    /// ends that show many thumbnails (`photo` also finds near-duplicates, an O(n) scan).
    pub fn thumbnail_path(&self, id: i64) -> Result<Option<PathBuf>> {
        let hash: Option<Vec<u8>> = self
            .store
            .conn()
            .query_row("SELECT content_hash FROM photos WHERE id = ?1", [id], |r| {
                r.get(0)
            })
            .optional()?
            .ok_or(Error::NoSuchPhoto(id))?;
        Ok(hash
            .as_deref()
            .and_then(|h| <[u8; 32]>::try_from(h).ok())
            .map(|h| self.thumbs.path(&h))
            .filter(|p| p.exists()))
    }

    /// Everything known about one photo.
    pub fn photo(&self, id: i64) -> Result<PhotoDetails> {
        let conn = self.store.conn();
        let mut d = conn
            .query_row(
                "SELECT p.id, p.display_path, p.state, p.reason, p.size, p.content_hash, p.format, p.width,
                        p.height, p.orientation, p.taken_at, p.make, p.model, p.has_gps, p.has_camera_exif,
                        p.decode_path, l.label, l.split, p.duration_ms, p.codec
                 FROM photos p LEFT JOIN labels l ON l.photo_id = p.id WHERE p.id = ?1",
                [id],
                |r| {
                    let hash: Option<Vec<u8>> = r.get(5)?;
                    let label: Option<String> = r.get(16)?;
                    let split: Option<String> = r.get(17)?;
                    Ok(PhotoDetails {
                        id: r.get(0)?,
                        path: r.get(1)?,
                        state: r.get(2)?,
                        reason: r.get(3)?,
                        bytes: r.get::<_, i64>(4)? as u64,
                        content_hash: hash.as_deref().map(hex),
                        format: r.get(6)?,
                        width: r.get(7)?,
                        height: r.get(8)?,
                        orientation: r.get(9)?,
                        taken_at: r.get(10)?,
                        make: r.get(11)?,
                        model: r.get(12)?,
                        has_gps: r.get(13)?,
                        has_camera_exif: r.get(14)?,
                        decode_path: r.get(15)?,
                        duration_ms: r.get::<_, Option<i64>>(18)?.map(|d| d as u64),
                        codec: r.get(19)?,
                        label: label.as_deref().map(parse_label),
                        split: split.as_deref().map(parse_split),
                        thumbnail: hash
                            .as_deref()
                            .and_then(|h| <[u8; 32]>::try_from(h).ok())
                            .map(|h| self.thumbs.path(&h))
                            .filter(|p| p.exists())
                            .map(|p| p.display().to_string()),
                        features: None,
                        companions: Vec::new(),
                    })
                },
            )
            .optional()?
            .ok_or(Error::NoSuchPhoto(id))?;
        d.companions = crate::store::companions::of_photo(conn, id)?
            .into_iter()
            .map(|c| CompanionFile {
                path: c.locator.display(),
                kind: c.kind,
                bytes: c.size,
            })
            .collect();
        let feat = conn
            .query_row(
                "SELECT embedding, length(hog), sharpness, brightness, dark_share, bright_share, colorfulness, phash,
                        blur
                 FROM features WHERE photo_id = ?1",
                [id],
                |r| {
                    Ok((
                        r.get::<_, Vec<u8>>(0)?,
                        r.get::<_, i64>(1)? as usize,
                        Quality {
                            sharpness: r.get(2)?,
                            brightness: r.get(3)?,
                            dark_share: r.get(4)?,
                            bright_share: r.get(5)?,
                            colorfulness: r.get(6)?,
                            blur: r.get(8)?,
                        },
                        r.get::<_, i64>(7)? as u64,
                    ))
                },
            )
            .optional()?;
        if let Some((emb, hog_dim, quality, phash)) = feat {
            let e = decode_f16(&emb);
            let mut stmt = conn.prepare(
                "SELECT p.id, f.phash FROM features f JOIN photos p ON p.id = f.photo_id
                 WHERE p.state = 'indexed' AND p.id != ?1",
            )?;
            let near_duplicates = stmt
                .query_map([id], |r| {
                    Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64))
                })?
                .filter_map(|r| r.ok())
                .filter(|(_, h)| {
                    crate::features::phash::distance(*h, phash)
                        <= crate::features::phash::NEAR_DUPLICATE_BITS
                })
                .map(|(i, _)| i)
                .collect();
            d.features = Some(FeatureSummary {
                embedding_dim: e.len(),
                embedding_norm: e.iter().map(|v| v * v).sum::<f32>().sqrt(),
                hog_dim,
                quality,
                phash: format!("{phash:016x}"),
                near_duplicates,
            });
        }
        Ok(d)
    }
}

/// `NoSuchPhoto` unless a photo row with this id exists (checked inside the caller's
/// transaction, so a label never points at nothing).
fn ensure_photo(conn: &rusqlite::Connection, id: i64) -> Result<()> {
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM photos WHERE id = ?1)",
        [id],
        |r| r.get(0),
    )?;
    if exists {
        Ok(())
    } else {
        Err(Error::NoSuchPhoto(id))
    }
}
