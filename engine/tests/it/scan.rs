//! The incremental scan on a real SQLite file and real photos: rescans, moves, removals,
//! duplicates, bad files, symlink loops, and labels surviving all of it.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::common::*;
use precious_engine::{
    Engine, FsSource, GallerySource, Label, Listed, Locator, ScanOptions, Split,
};

/// An `FsSource` that counts content reads, to prove a no-change rescan reads nothing.
struct Counting {
    inner: FsSource,
    reads: AtomicUsize,
}

impl GallerySource for Counting {
    fn roots(&self) -> Vec<Locator> {
        self.inner.roots()
    }
    fn list(&self, visit: &mut dyn FnMut(Listed)) {
        self.inner.list(visit)
    }
    fn read(&self, l: &Locator) -> io::Result<Vec<u8>> {
        self.reads.fetch_add(1, Ordering::Relaxed);
        self.inner.read(l)
    }
    fn stat(&self, l: &Locator) -> io::Result<(u64, i64)> {
        self.inner.stat(l)
    }
}

/// A small gallery of real photos (from the demo gallery) in a temporary folder.
fn gallery(n: usize) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("gallery");
    copy_demo_photos(n, &dir.join("Camera"));
    (tmp, dir)
}

fn scan(engine: &mut Engine, dir: &Path) -> precious_engine::ScanReport {
    engine
        .scan_folders(&[dir.to_path_buf()], &ScanOptions::default(), &mut |_| {})
        .unwrap()
}

/// The id of the photo present at `path` (gone rows keep showing where they were).
fn id_of(engine: &Engine, path: &Path) -> i64 {
    let path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let status_ids: Vec<i64> = (1..1000).collect();
    for id in status_ids {
        match engine.photo(id) {
            Ok(d) if Path::new(&d.path) == path && d.state != "gone" => return id,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    panic!("{} not in the index", path.display());
}

#[test]
fn rescan_moves_removals_and_labels() {
    let (tmp, dir) = gallery(6);
    let db = tmp.path().join("db/precious.sqlite");
    let mut engine = Engine::open(&db).unwrap();

    let r = scan(&mut engine, &dir);
    assert_eq!((r.listed, r.indexed, r.failed), (6, 6, 0), "{r:?}");
    assert_eq!(engine.status().unwrap().photos.indexed, 6);

    // A no-change rescan lists and stats only: zero content reads, nothing indexed.
    let counting = Counting {
        inner: FsSource::new(std::slice::from_ref(&dir)),
        reads: AtomicUsize::new(0),
    };
    let r = engine
        .scan(&counting, &ScanOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(
        (
            r.unchanged,
            r.indexed,
            counting.reads.load(Ordering::Relaxed)
        ),
        (6, 0, 0)
    );

    let files = sorted_files(&dir.join("Camera"));
    let (a, b, c) = (&files[0], &files[1], &files[2]);
    let (ida, idb) = (id_of(&engine, a), id_of(&engine, b));
    engine.set_label(ida, Label::Delete, Split::Train).unwrap();
    engine.set_label(idb, Label::Keep, Split::Test).unwrap();

    // Move `a` to another folder, remove `b`, exact-copy `c`.
    std::fs::create_dir_all(dir.join("Album")).unwrap();
    let moved_to = dir.join("Album/renamed.jpg");
    std::fs::rename(a, &moved_to).unwrap();
    let b_bytes = std::fs::read(b).unwrap();
    std::fs::remove_file(b).unwrap();
    std::fs::copy(c, dir.join("Album/copy.jpg")).unwrap();

    let r = scan(&mut engine, &dir);
    assert_eq!(
        (r.moved, r.gone, r.duplicates, r.indexed),
        (1, 1, 1, 0),
        "{r:?}"
    );
    let moved = engine.photo(ida).unwrap();
    assert_eq!(
        Path::new(&moved.path),
        std::fs::canonicalize(&moved_to).unwrap(),
        "the row followed the file"
    );
    assert_eq!(moved.label, Some(Label::Delete), "its label followed too");
    let gone = engine.photo(idb).unwrap();
    assert_eq!(
        (gone.state.as_str(), gone.label),
        ("gone", Some(Label::Keep)),
        "gone, not forgotten"
    );
    let s = engine.status().unwrap();
    assert_eq!((s.photos.indexed, s.photos.gone), (6, 1));
    let copy = engine
        .photo(id_of(&engine, &dir.join("Album/copy.jpg")))
        .unwrap();
    assert_eq!(
        copy.content_hash,
        engine.photo(id_of(&engine, c)).unwrap().content_hash
    );
    assert!(copy.features.is_some(), "features copied for the duplicate");

    // `b` comes back under a new name: same row, same label.
    std::fs::write(dir.join("Camera/back.jpg"), &b_bytes).unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!((r.moved, r.gone, r.indexed), (1, 0, 0), "{r:?}");
    let back = engine.photo(idb).unwrap();
    assert_eq!(
        (back.state.as_str(), back.label),
        ("indexed", Some(Label::Keep))
    );

    // A changed file (same path, new content) is re-indexed in place.
    let img = image::open(&moved_to).unwrap().to_rgb8();
    std::fs::write(
        &moved_to,
        encode_jpeg(&image::imageops::flip_vertical(&img), 80),
    )
    .unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!((r.indexed, r.moved), (1, 0), "{r:?}");
    assert_eq!(id_of(&engine, &moved_to), ida);
    assert_eq!(engine.photo(ida).unwrap().label, Some(Label::Delete));

    // Reopening the database (as the next run would) keeps everything.
    drop(engine);
    let engine = Engine::open(&db).unwrap();
    assert_eq!(engine.status().unwrap().photos.indexed, 7);
    assert_eq!(engine.status().unwrap().labels.keep, 1);
}

#[test]
fn bad_files_are_recorded_and_the_scan_goes_on() {
    let (tmp, dir) = gallery(2);
    let d = shared_data().join("exif-samples");
    let bad = dir.join("bad");
    std::fs::create_dir_all(&bad).unwrap();
    let mut expected = 0;
    for sub in ["invalid", "heic", "heic/mobile"] {
        for e in std::fs::read_dir(d.join(sub)).unwrap() {
            let p = e.unwrap().path();
            if p.is_file() && precious_engine::source::has_image_extension(&p) {
                std::fs::copy(
                    &p,
                    bad.join(format!(
                        "{}-{}",
                        sub.replace('/', "_"),
                        p.file_name().unwrap().to_string_lossy()
                    )),
                )
                .unwrap();
                expected += 1;
            }
        }
    }
    std::fs::write(bad.join("empty.jpg"), b"").unwrap();
    std::fs::write(
        bad.join("noise.png"),
        (0..5000u32)
            .map(|i| (i * 7919 % 251) as u8)
            .collect::<Vec<_>>(),
    )
    .unwrap();
    let jpeg = encode_jpeg(&scene(800, 600), 90);
    std::fs::write(bad.join("truncated.jpg"), &jpeg[..jpeg.len() / 3]).unwrap();
    std::fs::write(bad.join("photo.NEF"), b"II*\0\x08\0\0\0rest of a raw file").unwrap();
    std::fs::write(bad.join("notes.txt"), b"not a photo, not looked at").unwrap();
    expected += 4;

    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!(
        r.listed,
        expected + 2,
        "every image-named file listed, the .txt ignored"
    );
    let s = engine.status().unwrap();
    assert_eq!(
        s.photos.indexed + s.photos.failed + s.photos.unsupported,
        (expected + 2) as u64
    );
    assert!(s.photos.indexed >= 2);
    let reason = |name: &str| {
        s.errors
            .iter()
            .find(|e| e.path.ends_with(name))
            .map(|e| e.reason.clone())
            .unwrap_or_default()
    };
    assert!(reason("empty.jpg").contains("empty"));
    assert!(reason("noise.png").contains("not an image"));
    assert!(reason("truncated.jpg").contains("truncated"));
    assert!(reason("photo.NEF").contains("RAW"));
    // HEIC/HEIF index where libheif is built in (tests/it/heif.rs), else get a reason.
    let heif = cfg!(feature = "heif");
    assert_eq!(reason("heic-IMG_5195.HEIC").contains("HEIC"), !heif);
    assert!(s.errors.iter().all(|e| !e.reason.is_empty()));
    assert_eq!(
        s.errors.iter().filter(|e| e.state == "unsupported").count(),
        if heif { 1 } else { 6 },
        "1 RAW (+ 5 HEIC/HEIF without libheif): {:#?}",
        s.errors
    );

    // Unchanged bad files are not retried on a rescan.
    let r = scan(&mut engine, &dir);
    assert_eq!((r.unchanged, r.indexed, r.failed), (expected + 2, 0, 0));
}

#[cfg(unix)]
#[test]
fn symlink_loops_and_hidden_folders() {
    let (tmp, dir) = gallery(2);
    std::os::unix::fs::symlink(&dir, dir.join("Camera/loop")).unwrap();
    std::fs::create_dir_all(dir.join(".thumbnails")).unwrap();
    std::fs::copy(
        std::fs::read_dir(dir.join("Camera"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| p.is_file())
            .unwrap(),
        dir.join(".thumbnails/t.jpg"),
    )
    .unwrap();
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!((r.listed, r.indexed), (2, 2), "{r:?}");
}

#[test]
fn a_missing_root_is_an_error_and_marks_nothing_gone() {
    let (tmp, dir) = gallery(2);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    scan(&mut engine, &dir);
    let moved_away = tmp.path().join("unmounted");
    std::fs::rename(&dir, &moved_away).unwrap();
    assert!(engine
        .scan_folders(
            std::slice::from_ref(&dir),
            &ScanOptions::default(),
            &mut |_| {}
        )
        .is_err());
    assert_eq!(engine.status().unwrap().photos.gone, 0);
}

#[test]
fn cancelling_keeps_what_was_done_and_marks_nothing_gone() {
    let (tmp, dir) = gallery(6);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let cancel = std::sync::atomic::AtomicBool::new(true);
    let r = engine
        .scan_folders(
            std::slice::from_ref(&dir),
            &ScanOptions {
                cancel: Some(&cancel),
            },
            &mut |_| {},
        )
        .unwrap();
    assert!(r.cancelled);
    assert_eq!(r.gone, 0);
    let r = scan(&mut engine, &dir);
    assert_eq!(r.indexed + r.unchanged, 6, "the next scan finishes the job");
}

#[test]
fn a_reused_path_never_inherits_a_gone_photos_row_or_label() {
    let (tmp, dir) = gallery(4);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    scan(&mut engine, &dir);
    let files = sorted_files(&dir.join("Camera"));
    let (a, b, c) = (&files[0], &files[1], &files[2]);
    let (ida, idb) = (id_of(&engine, a), id_of(&engine, b));
    engine.set_label(ida, Label::Delete, Split::Train).unwrap();

    // `a` disappears (e.g. trashed); later `b` is renamed to `a`'s name.
    std::fs::remove_file(a).unwrap();
    scan(&mut engine, &dir);
    std::fs::rename(b, a).unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!(r.moved, 1, "{r:?}");
    assert_eq!(id_of(&engine, a), idb, "the moved photo keeps its own row");
    let old = engine.photo(ida).unwrap();
    assert_eq!(
        (old.state.as_str(), old.label),
        ("gone", Some(Label::Delete)),
        "the gone photo keeps its label"
    );
    assert_eq!(engine.photo(idb).unwrap().label, None);

    // New, different content at a gone photo's path is a new photo, without the old label.
    let idc = id_of(&engine, c);
    engine.set_label(idc, Label::Delete, Split::Train).unwrap();
    let img = image::open(c).unwrap().to_rgb8();
    std::fs::remove_file(c).unwrap();
    scan(&mut engine, &dir);
    std::fs::write(c, encode_jpeg(&image::imageops::rotate180(&img), 85)).unwrap();
    let r = scan(&mut engine, &dir);
    assert_eq!(r.indexed, 1, "{r:?}");
    let new_id = id_of(&engine, c);
    assert_ne!(new_id, idc);
    assert_eq!(engine.photo(new_id).unwrap().label, None);
    assert_eq!(engine.photo(idc).unwrap().label, Some(Label::Delete));
    assert_eq!(engine.photo(idc).unwrap().state, "gone");
}

/// A kill after a scan's last batch and before its HOG-PCA refresh left the projection behind
/// the index, and the next scan, with nothing new to index, never refreshed it (found by
/// `precious-bench reliability --only kills`): the next scan now refreshes a stale projection.
#[test]
fn a_projection_left_stale_by_a_kill_is_refreshed_by_the_next_scan() {
    let (tmp, dir) = gallery(6);
    let db = tmp.path().join("p.sqlite");
    let mut engine = Engine::open(&db).unwrap();
    assert_eq!(scan(&mut engine, &dir).indexed, 6);
    let projected = |db: &Path| -> i64 {
        let c = rusqlite::Connection::open(db).unwrap();
        c.query_row(
            "SELECT COUNT(*) FROM hog_pca h JOIN photos p ON p.id = h.photo_id
             WHERE p.state = 'indexed'",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert_eq!(projected(&db), 6);
    // What the kill leaves: the last photos committed, the projection of the photos before.
    rusqlite::Connection::open(&db)
        .unwrap()
        .execute(
            "DELETE FROM hog_pca WHERE photo_id IN (SELECT id FROM photos ORDER BY id DESC LIMIT 2)",
            [],
        )
        .unwrap();
    assert_eq!(projected(&db), 4);
    let again = scan(&mut engine, &dir);
    assert_eq!((again.indexed, again.unchanged), (0, 6), "{again:?}");
    assert_eq!(
        projected(&db),
        6,
        "the next scan refreshes the stale projection"
    );
    assert!(!precious_engine::store::Store::open(&db)
        .unwrap()
        .hog_pca_stale()
        .unwrap());
}
