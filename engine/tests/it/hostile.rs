//! Hostile conditions a child process cannot create deterministically (`precious-bench
//! reliability`, part hostile, lists these cases): files that vanish or change while a scan
//! runs, through a source that acts on the disk at a chosen moment; and the reasons given for
//! broken symbolic links.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::common::*;
use precious_engine::{Engine, FsSource, GallerySource, Listed, Locator, ScanOptions};

/// What the hooked source does to `target`, once.
enum Act {
    /// Deletes it just before its read.
    DeleteBeforeRead,
    /// Replaces its bytes (and moves its mtime a second on) just before its read.
    RewriteBeforeRead(Vec<u8>),
    /// Replaces its bytes right after its read.
    RewriteAfterRead(Vec<u8>),
    /// Removes the whole root right after the listing.
    RemoveRootAfterListing(PathBuf),
}

/// An `FsSource` that acts on the disk at one chosen moment of the scan.
struct Hooked {
    inner: FsSource,
    target: PathBuf,
    act: Act,
    done: AtomicBool,
}

impl Hooked {
    fn new(root: &Path, target: &Path, act: Act) -> Self {
        Hooked {
            inner: FsSource::new(&[root.to_path_buf()]),
            target: std::fs::canonicalize(target).unwrap_or_else(|_| target.to_path_buf()),
            act,
            done: AtomicBool::new(false),
        }
    }

    fn is_target(&self, l: &Locator) -> bool {
        l.to_path() == self.target && !self.done.swap(true, Ordering::SeqCst)
    }
}

fn rewrite(path: &Path, bytes: &[u8]) {
    let before = std::fs::metadata(path).unwrap().modified().unwrap();
    std::fs::write(path, bytes).unwrap();
    // A later edit: a distinct mtime even on file systems with coarse timestamps.
    let f = std::fs::File::options().write(true).open(path).unwrap();
    f.set_modified(before + Duration::from_secs(1)).unwrap();
}

impl GallerySource for Hooked {
    fn roots(&self) -> Vec<Locator> {
        self.inner.roots()
    }
    fn list(&self, visit: &mut dyn FnMut(Listed)) {
        self.inner.list(visit);
        if let Act::RemoveRootAfterListing(root) = &self.act {
            std::fs::remove_dir_all(root).unwrap();
        }
    }
    fn read(&self, l: &Locator) -> io::Result<Vec<u8>> {
        let hit = self.is_target(l);
        match &self.act {
            Act::DeleteBeforeRead if hit => std::fs::remove_file(&self.target).unwrap(),
            Act::RewriteBeforeRead(bytes) if hit => rewrite(&self.target, bytes),
            _ => {}
        }
        let read = self.inner.read(l);
        if let Act::RewriteAfterRead(bytes) = &self.act {
            if hit {
                rewrite(&self.target, bytes);
            }
        }
        read
    }
    fn stat(&self, l: &Locator) -> io::Result<(u64, i64)> {
        self.inner.stat(l)
    }
}

/// A stored row, read straight from the database.
#[derive(Debug)]
struct Row {
    state: String,
    reason: Option<String>,
    size: i64,
    hash: Option<Vec<u8>>,
    width: Option<u32>,
    height: Option<u32>,
    has_features: bool,
}

fn row(db: &Path, path: &Path) -> Row {
    let conn = rusqlite::Connection::open(db).unwrap();
    let locator = Locator::from_path(&std::fs::canonicalize(path.parent().unwrap()).unwrap())
        .0
        .into_iter()
        .chain(b"/".iter().copied())
        .chain(path.file_name().unwrap().as_encoded_bytes().iter().copied())
        .collect::<Vec<u8>>();
    conn.query_row(
        "SELECT state, reason, size, content_hash, width, height,
                EXISTS (SELECT 1 FROM features WHERE photo_id = photos.id)
         FROM photos WHERE locator = ?1",
        [locator],
        |r| {
            Ok(Row {
                state: r.get(0)?,
                reason: r.get(1)?,
                size: r.get(2)?,
                hash: r.get(3)?,
                width: r.get(4)?,
                height: r.get(5)?,
                has_features: r.get(6)?,
            })
        },
    )
    .unwrap()
}

/// Three photos of different sizes and pictures in `<tmp>/g`, an engine on `<tmp>/p.sqlite`.
fn setup() -> (tempfile::TempDir, PathBuf, Engine) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    for (i, (w, h)) in [(640, 480), (480, 640), (800, 600)].into_iter().enumerate() {
        let img = image::imageops::rotate180(&scene(w, h));
        let img = if i == 1 { scene(w, h) } else { img };
        std::fs::write(
            dir.join(format!("p{i}.jpg")),
            encode_jpeg(&img, 80 + i as u8),
        )
        .unwrap();
    }
    let engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    (tmp, dir, engine)
}

fn scan(engine: &mut Engine, source: &dyn GallerySource) -> precious_engine::ScanReport {
    engine
        .scan(source, &ScanOptions::default(), &mut |_| {})
        .unwrap()
}

fn scan_dir(engine: &mut Engine, dir: &Path) -> precious_engine::ScanReport {
    scan(engine, &FsSource::new(&[dir.to_path_buf()]))
}

#[test]
fn a_file_deleted_after_listing_is_recorded_and_the_scan_goes_on() {
    let (tmp, dir, mut engine) = setup();
    let target = dir.join("p1.jpg");
    let r = scan(
        &mut engine,
        &Hooked::new(&dir, &target, Act::DeleteBeforeRead),
    );
    assert_eq!((r.indexed, r.failed), (2, 1), "{r:?}");
    let db = tmp.path().join("p.sqlite");
    let row = row(&db, &target);
    assert_eq!(row.state, "failed");
    assert_eq!(row.reason.as_deref(), Some("vanished during the scan"));
    assert!(!row.has_features);
    let r = scan_dir(&mut engine, &dir);
    assert_eq!(r.gone, 1, "{r:?}");
}

#[test]
fn a_file_rewritten_before_its_read_is_refused_then_indexed_consistently() {
    let (tmp, dir, mut engine) = setup();
    let target = dir.join("p0.jpg");
    let new = encode_jpeg(&scene(1000, 500), 95);
    assert_ne!(new.len() as u64, std::fs::metadata(&target).unwrap().len());
    let hooked = Hooked::new(&dir, &target, Act::RewriteBeforeRead(new.clone()));
    let r = scan(&mut engine, &hooked);
    assert_eq!((r.indexed, r.failed), (2, 1), "{r:?}");
    let db = tmp.path().join("p.sqlite");
    let first = row(&db, &target);
    assert_eq!(first.state, "failed");
    assert!(
        first
            .reason
            .as_deref()
            .unwrap()
            .contains("changed during the scan"),
        "{first:?}"
    );
    // Nothing of the new content is stored beside the listing's size and mtime.
    assert!(first.hash.is_none() && !first.has_features, "{first:?}");
    // The next scan sees the change and indexes the new bytes, and only them.
    let r = scan_dir(&mut engine, &dir);
    assert_eq!((r.indexed, r.unchanged), (1, 2), "{r:?}");
    let second = row(&db, &target);
    assert_eq!(second.state, "indexed");
    assert_eq!(second.size, new.len() as i64);
    assert_eq!(
        second.hash.as_deref(),
        Some(blake3::hash(&new).as_bytes().as_slice())
    );
    assert_eq!((second.width, second.height), (Some(1000), Some(500)));
    assert!(second.has_features);
}

#[test]
fn a_same_size_rewrite_is_caught_by_its_mtime() {
    let (tmp, dir, mut engine) = setup();
    let target = dir.join("p2.jpg");
    let old = std::fs::read(&target).unwrap();
    // Same length, other bytes: a comment segment's text changes.
    let with_comment = |text: &[u8; 4]| {
        let mut b = old[..2].to_vec();
        b.extend([0xFF, 0xFE, 0x00, 0x06]);
        b.extend(text);
        b.extend(&old[2..]);
        b
    };
    std::fs::write(&target, with_comment(b"AAAA")).unwrap();
    let new = with_comment(b"BBBB");
    let hooked = Hooked::new(&dir, &target, Act::RewriteBeforeRead(new.clone()));
    let r = scan(&mut engine, &hooked);
    assert_eq!((r.indexed, r.failed), (2, 1), "{r:?}");
    let db = tmp.path().join("p.sqlite");
    let first = row(&db, &target);
    assert_eq!(first.state, "failed", "{first:?}");
    assert!(first.hash.is_none() && !first.has_features);
    scan_dir(&mut engine, &dir);
    let second = row(&db, &target);
    assert_eq!(second.state, "indexed");
    assert_eq!(
        second.hash.as_deref(),
        Some(blake3::hash(&new).as_bytes().as_slice())
    );
}

#[test]
fn a_file_changed_after_its_read_is_refused() {
    let (tmp, dir, mut engine) = setup();
    let target = dir.join("p1.jpg");
    let new = encode_jpeg(&scene(300, 200), 70);
    let hooked = Hooked::new(&dir, &target, Act::RewriteAfterRead(new.clone()));
    let r = scan(&mut engine, &hooked);
    assert_eq!((r.indexed, r.failed), (2, 1), "{r:?}");
    let db = tmp.path().join("p.sqlite");
    let first = row(&db, &target);
    assert!(
        first
            .reason
            .as_deref()
            .unwrap()
            .contains("changed during the scan"),
        "{first:?}"
    );
    scan_dir(&mut engine, &dir);
    let second = row(&db, &target);
    assert_eq!(second.state, "indexed");
    assert_eq!(second.size, new.len() as i64);
    assert_eq!((second.width, second.height), (Some(300), Some(200)));
}

#[test]
fn a_root_removed_after_listing_marks_nothing_gone() {
    let (tmp, dir, mut engine) = setup();
    let r = scan_dir(&mut engine, &dir);
    assert_eq!(r.indexed, 3);
    let extra = dir.join("new.jpg");
    std::fs::write(&extra, encode_jpeg(&scene(500, 500), 85)).unwrap();
    let hooked = Hooked::new(&dir, &extra, Act::RemoveRootAfterListing(dir.clone()));
    let r = scan(&mut engine, &hooked);
    assert_eq!((r.unchanged, r.failed, r.gone), (3, 1, 0), "{r:?}");
    let status = engine.status().unwrap();
    assert_eq!((status.photos.indexed, status.photos.gone), (3, 0));
    assert_eq!(status.errors.len(), 1);
    assert_eq!(status.errors[0].reason, "vanished during the scan");
    drop(tmp);
}

#[test]
fn broken_and_looping_symbolic_links_are_named() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("real.jpg"), encode_jpeg(&scene(320, 240), 90)).unwrap();
    std::os::unix::fs::symlink("missing.jpg", dir.join("dangling.jpg")).unwrap();
    std::os::unix::fs::symlink("self.jpg", dir.join("self.jpg")).unwrap();
    std::os::unix::fs::symlink(".", dir.join("loop")).unwrap();
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let r = scan_dir(&mut engine, &dir);
    assert_eq!((r.indexed, r.failed), (1, 2), "{r:?}");
    let reasons: Vec<(String, String)> = engine
        .status()
        .unwrap()
        .errors
        .into_iter()
        .map(|e| (e.path.rsplit('/').next().unwrap().to_string(), e.reason))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "dangling.jpg".to_string(),
                "broken symbolic link: its target does not exist".to_string()
            ),
            (
                "self.jpg".to_string(),
                "symbolic link loop: the link leads back to itself".to_string()
            ),
        ]
    );
}
