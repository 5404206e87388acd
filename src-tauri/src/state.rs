//! The managed state: three engine handles on the same database.
//!
//! `Engine` holds a SQLite connection (`Send`, not `Sync`), so each handle sits in a `Mutex`.
//! Long jobs (scan, train, suggest, trash, restore) lock `work` for minutes at a time; quick
//! calls (status, the label queue, labels, photo details, thumbnails, duplicate groups and
//! decisions) use `quick`, a second connection (SQLite WAL lets it read and write meanwhile),
//! so the user can keep swiping while a model trains and thumbnails keep loading during a
//! scan. A third connection,
//! `thumbs`, only reads (WAL readers never wait for writers), so thumbnails never queue
//! behind a label write.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex, MutexGuard};

use precious_engine::Engine;

#[derive(Clone)]
pub struct AppState {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) work: Mutex<Engine>,
    pub(crate) quick: Mutex<Engine>,
    /// Thumbnail lookups only (reads): never queued behind a label write that waits for the
    /// database's write lock while a long job writes.
    pub(crate) thumbs: Mutex<Engine>,
    /// Fixed at open: read on every thumbnail request without taking a lock.
    db_path: PathBuf,
    thumbs_dir: PathBuf,
    /// Set by `cancel_scan`, cleared when a scan starts.
    pub(crate) cancel_scan: AtomicBool,
    /// The long job running now (`"scan"`, `"train"`, ...), to refuse a second one.
    pub(crate) busy: Mutex<Option<&'static str>>,
    /// Photo id -> thumbnail file, filled by the `thumb:` scheme, emptied after each scan.
    pub(crate) thumb_paths: Mutex<HashMap<i64, PathBuf>>,
}

impl AppState {
    /// Opens (creating and migrating as needed) the database at `db`.
    pub fn open(db: &Path) -> precious_engine::Result<AppState> {
        let work = Engine::open(db)?;
        let quick = Engine::open(db)?;
        let thumbs = Engine::open(db)?;
        Ok(AppState {
            inner: Arc::new(Inner {
                db_path: work.db_path().to_path_buf(),
                thumbs_dir: work.thumbs_dir().to_path_buf(),
                work: Mutex::new(work),
                quick: Mutex::new(quick),
                thumbs: Mutex::new(thumbs),
                cancel_scan: AtomicBool::new(false),
                busy: Mutex::new(None),
                thumb_paths: Mutex::new(HashMap::new()),
            }),
        })
    }

    /// The database file this state was opened on.
    pub fn db_path(&self) -> PathBuf {
        self.inner.db_path.clone()
    }

    /// The folder the `thumb:` scheme may serve from.
    pub fn thumbs_dir(&self) -> PathBuf {
        self.inner.thumbs_dir.clone()
    }
}

/// Locks, going on after a panic in another holder: every engine change is one SQLite
/// transaction, so a panic mid-call leaves the database consistent.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}
