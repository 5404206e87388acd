//! Moving photos to the real OS trash and back, with real files, isolated from the user's trash.
//!
//! Isolation: trash 5's freedesktop backend locates the home trash in `home_trash()`
//! (src/freedesktop.rs), which reads `XDG_DATA_HOME` (else `HOME`) on every call and caches
//! nothing; `list()` also looks at `.Trash-$uid` folders of every mount point, read-only. So
//! [`setup`], the first statement of every test, points `XDG_DATA_HOME` at a fresh folder once
//! per process (a `Once`: setting the environment while other threads read it is racy, so it
//! happens before any test does anything else). A file goes to the home trash only if it is
//! on the same mount (otherwise the crate creates `$mount/.Trash-$uid`), so the galleries
//! live beside it, under cargo's target tmp folder. Each gallery purges what it left in the
//! trash when dropped.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use crate::common::copy_demo_photos;
use precious_engine::{ActStatus, Engine, Label, ScanOptions, Split};

/// The sandboxed OS trash (see `crate::common::sandbox_os_trash`).
fn setup() -> &'static Path {
    crate::common::sandbox_os_trash()
}

/// A few real photos (from the demo gallery) in a fresh folder beside the test trash, with
/// their own database.
struct Gallery {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
    /// Held until the gallery's items are purged from the shared trash (fields drop after
    /// `Drop::drop`).
    _trash: std::sync::MutexGuard<'static, ()>,
}

impl Gallery {
    fn new(n: usize) -> Gallery {
        let trash = crate::common::os_trash_exclusive();
        let tmp = tempfile::tempdir_in(setup()).unwrap();
        let dir = tmp.path().canonicalize().unwrap().join("gallery");
        copy_demo_photos(n, &dir);
        let db = tmp.path().join("db/precious.sqlite");
        Gallery {
            _tmp: tmp,
            dir,
            db,
            _trash: trash,
        }
    }

    fn scan(&self, engine: &mut Engine) -> precious_engine::ScanReport {
        engine
            .scan_folders(
                std::slice::from_ref(&self.dir),
                &ScanOptions::default(),
                &mut |_| {},
            )
            .unwrap()
    }

    /// Opens the database and indexes the gallery; returns the engine and (id, path) of every
    /// photo, by path.
    fn indexed(&self) -> (Engine, Vec<(i64, PathBuf)>) {
        let mut engine = Engine::open(&self.db).unwrap();
        self.scan(&mut engine);
        let photos = crate::common::photos_by_path(&engine);
        (engine, photos)
    }

    /// The journal as (kind, state) pairs, oldest first.
    fn journal(&self) -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut stmt = conn
            .prepare("SELECT kind, state FROM actions ORDER BY id")
            .unwrap();
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?))).unwrap();
        rows.map(Result::unwrap).collect()
    }
}

impl Drop for Gallery {
    fn drop(&mut self) {
        let ours: Vec<_> = trash::os_limited::list()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.original_parent.starts_with(&self.dir))
            .collect();
        let _ = trash::os_limited::purge_all(ours);
    }
}

fn in_os_trash(path: &Path) -> bool {
    trash::os_limited::list()
        .unwrap()
        .iter()
        .any(|i| i.original_path() == path)
}

#[test]
fn trash_restore_round_trip_keeps_bytes_id_and_label() {
    setup();
    let g = Gallery::new(3);
    let (mut engine, photos) = g.indexed();
    let (id, path) = photos[0].clone();
    let bytes = std::fs::read(&path).unwrap();
    let mtime = std::fs::metadata(&path).unwrap().modified().unwrap();
    engine.set_label(id, Label::Delete, Split::Train).unwrap();

    let r = engine.trash(&[id]).unwrap();
    assert_eq!((r.done, r.bytes), (1, bytes.len() as u64), "{r:?}");
    assert_eq!(r.photos[0].status, ActStatus::Done);
    assert!(!path.exists());
    assert!(in_os_trash(&path));
    let trashed = engine.trashed().unwrap();
    assert_eq!(trashed.len(), 1);
    assert_eq!(
        (trashed[0].id, Path::new(&trashed[0].path), trashed[0].bytes),
        (id, path.as_path(), bytes.len() as u64)
    );
    assert!(trashed[0].trashed_at > 0);
    // Trashing it again is refused, not an error.
    let again = engine.trash(&[id]).unwrap();
    assert_eq!(again.photos[0].status, ActStatus::Refused);
    assert_eq!(
        again.photos[0].reason.as_deref(),
        Some("already in the trash")
    );

    // The file left its folder: the next scan marks the photo gone; its label stays.
    let s = g.scan(&mut engine);
    assert_eq!((s.gone, s.indexed), (1, 0), "{s:?}");
    let d = engine.photo(id).unwrap();
    assert_eq!((d.state.as_str(), d.label), ("gone", Some(Label::Delete)));

    let r = engine.restore(&[id]).unwrap();
    assert_eq!((r.done, r.bytes), (1, bytes.len() as u64), "{r:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&path).unwrap().modified().unwrap(), mtime);
    assert!(!in_os_trash(&path));
    assert!(engine.trashed().unwrap().is_empty());
    assert_eq!(
        g.journal(),
        [
            ("trash".into(), "undone".into()),
            ("restore".into(), "done".into())
        ]
    );

    // The next scan finds it back as the same photo (a move back, by content hash).
    let s = g.scan(&mut engine);
    assert_eq!((s.moved, s.gone, s.indexed), (1, 0, 0), "{s:?}");
    let d = engine.photo(id).unwrap();
    assert_eq!(
        (d.state.as_str(), Path::new(&d.path), d.label),
        ("indexed", path.as_path(), Some(Label::Delete))
    );
    assert_eq!(engine.status().unwrap().photos.indexed, 3);
    // Restoring twice is refused.
    let r = engine.restore(&[id]).unwrap();
    assert_eq!(r.photos[0].reason.as_deref(), Some("not in the trash"));
}

#[test]
fn changed_or_missing_files_are_refused_and_left_in_place() {
    setup();
    let g = Gallery::new(5);
    let (mut engine, photos) = g.indexed();
    let [grown, same_size, touched, missing, fine] = [0, 1, 2, 3, 4].map(|i| photos[i].clone());

    // Content changed (and so the size).
    let mut b = std::fs::read(&grown.1).unwrap();
    b.extend_from_slice(b"more");
    std::fs::write(&grown.1, &b).unwrap();
    // Different content of the same size, with the indexed mtime put back: only the hash tells.
    let before = std::fs::metadata(&same_size.1).unwrap().modified().unwrap();
    let mut b = std::fs::read(&same_size.1).unwrap();
    let mid = b.len() / 2;
    b[mid] ^= 0xFF;
    std::fs::write(&same_size.1, &b).unwrap();
    set_mtime(&same_size.1, before);
    // Same bytes, only the mtime touched.
    let before = std::fs::metadata(&touched.1).unwrap().modified().unwrap();
    set_mtime(&touched.1, before + Duration::from_secs(60));
    std::fs::remove_file(&missing.1).unwrap();
    let contents: Vec<Vec<u8>> = [&grown, &same_size, &touched]
        .iter()
        .map(|p| std::fs::read(&p.1).unwrap())
        .collect();

    let fine_bytes = std::fs::metadata(&fine.1).unwrap().len();

    let ids = [grown.0, same_size.0, touched.0, missing.0, 9999, fine.0];
    let r = engine.trash(&ids).unwrap();
    let outcomes: Vec<(i64, ActStatus, String)> = r
        .photos
        .iter()
        .map(|o| (o.id, o.status, o.reason.clone().unwrap_or_default()))
        .collect();
    let refused = |id, why: &str| (id, ActStatus::Refused, why.to_string());
    assert_eq!(
        outcomes,
        [
            refused(grown.0, "changed since it was indexed (size)"),
            refused(same_size.0, "changed since it was indexed (content)"),
            refused(touched.0, "changed since it was indexed (modified time)"),
            refused(missing.0, "missing"),
            refused(9999, "no such photo"),
            (fine.0, ActStatus::Done, String::new()),
        ]
    );
    assert_eq!((r.done, r.bytes), (1, fine_bytes));
    assert!(!fine.1.exists());
    // The refused files are exactly as they were, and not in the trash; only the one that
    // moved was journaled.
    for (p, c) in [&grown, &same_size, &touched].iter().zip(&contents) {
        assert_eq!(&std::fs::read(&p.1).unwrap(), c);
        assert!(!in_os_trash(&p.1));
    }
    assert_eq!(g.journal(), [("trash".into(), "done".into())]);
    assert_eq!(engine.trashed().unwrap().len(), 1);
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[test]
fn restore_never_overwrites_an_occupied_path() {
    setup();
    let g = Gallery::new(1);
    let (mut engine, photos) = g.indexed();
    let (id, path) = photos[0].clone();
    let bytes = std::fs::read(&path).unwrap();
    engine.trash(&[id]).unwrap();
    std::fs::write(&path, b"a new file with the same name").unwrap();

    let r = engine.restore(&[id]).unwrap();
    assert_eq!((r.done, r.photos[0].status), (0, ActStatus::Conflict));
    assert!(r.photos[0].reason.as_deref().unwrap().contains("conflict"));
    assert_eq!(
        std::fs::read(&path).unwrap(),
        b"a new file with the same name"
    );
    assert!(in_os_trash(&path));
    assert_eq!(engine.trashed().unwrap().len(), 1);

    // Once the path is free, the photo comes back.
    std::fs::remove_file(&path).unwrap();
    let r = engine.restore(&[id]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn recover_after_a_crash_before_the_move() {
    setup();
    let g = Gallery::new(1);
    let (mut engine, photos) = g.indexed();
    let (id, path) = photos[0].clone();
    let bytes = std::fs::read(&path).unwrap();

    assert!(engine.trash_journal_only(&[id]).unwrap().is_empty());
    assert_eq!(g.journal(), [("trash".into(), "planned".into())]);
    let r = engine.recover().unwrap();
    assert_eq!(r.settled.len(), 1);
    assert_eq!(r.settled[0].status, ActStatus::Failed);
    assert_eq!(
        r.settled[0].reason.as_deref(),
        Some("interrupted before the move")
    );
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
    assert!(!in_os_trash(&path));
    assert!(engine.trashed().unwrap().is_empty());
    // Idempotent, and the photo can be trashed for real afterwards.
    assert!(engine.recover().unwrap().settled.is_empty());
    assert_eq!(g.journal(), [("trash".into(), "failed".into())]);
    assert_eq!(engine.trash(&[id]).unwrap().done, 1);
}

#[test]
fn recover_after_a_crash_after_the_move() {
    setup();
    let g = Gallery::new(2);
    let (mut engine, photos) = g.indexed();
    let (id, path) = photos[0].clone();
    let bytes = std::fs::read(&path).unwrap();

    engine.trash_journal_only(&[id]).unwrap();
    trash::delete(&path).unwrap();
    // The move happened but its row is still `planned`: recovery finds the file in the trash.
    let r = engine.recover().unwrap();
    assert_eq!(r.settled[0].status, ActStatus::Done, "{r:?}");
    assert!(engine.recover().unwrap().settled.is_empty());
    assert_eq!(engine.trashed().unwrap()[0].id, id);

    let r = engine.restore(&[id]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

/// A kill inside the trash crate's restore, after it created the empty placeholder at the
/// photo's path and before it renamed the trashed file over it, left the placeholder there:
/// recovery settled the restore as interrupted, and every later restore was a conflict.
#[test]
fn recover_after_a_crash_inside_the_restore_move() {
    setup();
    let g = Gallery::new(1);
    let (mut engine, photos) = g.indexed();
    let (id, path) = photos[0].clone();
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(engine.trash(&[id]).unwrap().done, 1);
    // The state the kill leaves: a planned restore row, the bytes still in the trash, and an
    // empty file at the path.
    rusqlite::Connection::open(&g.db)
        .unwrap()
        .execute(
            "INSERT INTO actions (batch, photo_id, kind, state, original, size, mtime_ns,
                                  content_hash, trashed_as, created_at)
             SELECT batch + 1, photo_id, 'restore', 'planned', original, size, mtime_ns,
                    content_hash, trashed_as, created_at
             FROM actions WHERE kind = 'trash' AND state = 'done'",
            [],
        )
        .unwrap();
    std::fs::File::create(&path).unwrap();

    let r = engine.recover().unwrap();
    assert_eq!(r.settled.len(), 1, "{r:?}");
    assert_eq!(r.settled[0].status, ActStatus::Failed);
    assert_eq!(
        r.settled[0].reason.as_deref(),
        Some("interrupted before the move")
    );
    assert!(!path.exists(), "the placeholder is removed");
    assert!(in_os_trash(&path));
    assert_eq!(engine.trashed().unwrap()[0].id, id);
    let r = engine.restore(&[id]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(std::fs::read(&path).unwrap(), bytes);
}

#[test]
fn restore_last_batch_undoes_requests_newest_first() {
    setup();
    let g = Gallery::new(3);
    let (mut engine, photos) = g.indexed();
    let ids: Vec<i64> = photos.iter().map(|p| p.0).collect();
    engine.trash(&ids[..1]).unwrap();
    engine.trash(&ids[1..]).unwrap();
    assert!(photos.iter().all(|p| !p.1.exists()));

    let r = engine.restore_last_batch().unwrap();
    assert_eq!(r.photos.iter().map(|o| o.id).collect::<Vec<_>>(), &ids[1..]);
    assert!(photos[1..].iter().all(|p| p.1.exists()) && !photos[0].1.exists());
    let r = engine.restore_last_batch().unwrap();
    assert_eq!((r.done, r.photos[0].id), (1, ids[0]));
    assert!(photos[0].1.exists());
    assert!(engine.restore_last_batch().unwrap().photos.is_empty());
}

/// Emptying deletes for good only what precious trashed (and only what was asked), leaves the
/// rest of the OS trash alone, and journals it; a purged photo can no longer be restored.
#[test]
fn empty_trash_purges_only_precious_items() {
    setup();
    let g = Gallery::new(3);
    let (mut engine, photos) = g.indexed();
    let ids: Vec<i64> = photos.iter().map(|p| p.0).collect();
    engine.trash(&ids[..2]).unwrap();
    // Something the user trashed themselves, from the same folder.
    let theirs = g.dir.join("theirs.txt");
    std::fs::write(&theirs, b"not a photo of precious").unwrap();
    trash::delete(&theirs).unwrap();

    // Only a trashed photo may be named.
    assert!(engine.empty_trash(&[ids[2]]).is_err());
    let r = engine.empty_trash(&[ids[0]]).unwrap();
    assert_eq!((r.done, r.photos.len()), (1, 1), "{r:?}");
    assert!(!in_os_trash(&photos[0].1) && in_os_trash(&photos[1].1));
    let r = engine.empty_trash(&[]).unwrap();
    assert_eq!(r.photos.iter().map(|o| o.id).collect::<Vec<_>>(), [ids[1]]);
    assert!(!in_os_trash(&photos[1].1));
    assert!(in_os_trash(&theirs), "the user's own trash item must stay");
    assert!(engine.trashed().unwrap().is_empty());
    let r = engine.restore(&[ids[0]]).unwrap();
    assert_eq!(r.photos[0].reason.as_deref(), Some("not in the trash"));
    assert_eq!(
        g.journal(),
        [
            ("trash".into(), "purged".into()),
            ("trash".into(), "purged".into()),
            ("purge".into(), "done".into()),
            ("purge".into(), "done".into()),
        ]
    );
    assert!(photos[2].1.exists());
}

/// The `precious trash` / `restore` commands with `--json`: outcomes, the listing, and a
/// non-zero exit when a photo was refused.
#[test]
fn cli_trash_list_restore() {
    let data_home = setup();
    let g = Gallery::new(2);
    let (engine, photos) = g.indexed();
    drop(engine);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_precious"))
            .env("XDG_DATA_HOME", data_home)
            .arg("--db")
            .arg(&g.db)
            .arg("--json")
            .args(args)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        (out.status.success(), json)
    };
    let (a, b) = (photos[0].0.to_string(), photos[1].0.to_string());
    std::fs::write(&photos[1].1, b"changed").unwrap();

    let (ok, r) = run(&["trash", &a, &b]);
    assert!(!ok, "a refused photo makes the command fail");
    assert_eq!(r["done"], 1);
    assert_eq!(r["photos"][0]["status"], "done");
    assert_eq!(r["photos"][1]["status"], "refused");
    assert_eq!(
        r["photos"][1]["reason"],
        "changed since it was indexed (size)"
    );
    assert!(r["bytes"].as_u64().unwrap() > 0);
    let (ok, list) = run(&["trash", "--list"]);
    assert!(ok);
    assert_eq!(list[0]["id"], photos[0].0);
    assert_eq!(list[0]["path"], photos[0].1.to_str().unwrap());

    let (ok, r) = run(&["restore"]);
    assert!(ok, "{r}");
    assert_eq!(
        (&r["done"], &r["photos"][0]["status"]),
        (&1.into(), &"done".into())
    );
    assert!(photos[0].1.exists());
    assert_eq!(run(&["trash", "--list"]).1, serde_json::json!([]));
}

/// Files in a gallery folder, by name.
fn names_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// A Live Photo (image + `.MOV` of the same name) and a RAW+JPEG pair are one asset each:
/// listed once, their space counted whole, trashed and restored together; a changed companion
/// refuses the whole asset; and a kill between two files of an asset is settled by putting
/// back what moved. The companions' bytes are stand-ins (a QuickTime `ftyp` box, a TIFF
/// header): pairing and acting never read them beyond their hash.
#[test]
fn live_photos_and_raw_pairs_are_trashed_and_restored_whole() {
    setup();
    let g = Gallery::new(3);
    let jpegs = names_in(&g.dir);
    let stem = |n: &str| n.trim_end_matches(".jpg").to_string();
    let live = g.dir.join(format!("{}.MOV", stem(&jpegs[0])));
    let raw = g.dir.join(format!("{}.DNG", stem(&jpegs[1])));
    let lone_raw = g.dir.join("DSC_9999.NEF");
    let lone_video = g.dir.join("clip.mp4");
    let mut mov = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ".to_vec();
    mov.extend((0..50_000u32).map(|i| (i * 31 % 251) as u8));
    std::fs::write(&live, &mov).unwrap();
    let mut dng = b"II*\0\x08\0\0\0".to_vec();
    dng.extend((0..80_000u32).map(|i| (i * 17 % 253) as u8));
    std::fs::write(&raw, &dng).unwrap();
    std::fs::write(&lone_raw, b"II*\0\x08\0\0\0a lone raw").unwrap();
    std::fs::write(&lone_video, &mov).unwrap();

    let mut engine = Engine::open(&g.db).unwrap();
    let s = g.scan(&mut engine);
    assert_eq!(
        (s.indexed, s.unsupported, s.companions),
        (3, 1, 2),
        "3 photos, the lone NEF unsupported, the MOV and DNG paired, the lone MP4 a video of its own: {s:?}"
    );
    let photos = crate::common::photos_by_path(&engine);
    assert_eq!(photos.len(), 3, "{photos:?}");
    let id_of = |name: &str| photos.iter().find(|(_, p)| p.ends_with(name)).unwrap().0;
    let (a, b) = (id_of(&jpegs[0]), id_of(&jpegs[1]));
    let da = engine.photo(a).unwrap();
    assert_eq!(da.companions.len(), 1);
    assert_eq!(Path::new(&da.companions[0].path), live.as_path());
    assert_eq!(da.companions[0].bytes, mov.len() as u64);
    assert_eq!(engine.photo(b).unwrap().companions.len(), 1);

    // Trash both assets: four files leave the folder, two photos are reported.
    let size = |p: &Path| std::fs::metadata(p).unwrap().len();
    let (pa, pb) = (g.dir.join(&jpegs[0]), g.dir.join(&jpegs[1]));
    let whole = size(&pa) + size(&live) + size(&pb) + size(&raw);
    let r = engine.trash(&[a, b]).unwrap();
    assert_eq!((r.done, r.bytes), (2, whole), "{r:?}");
    for p in [&pa, &live, &pb, &raw] {
        assert!(!p.exists() && in_os_trash(p), "{}", p.display());
    }
    let trashed = engine.trashed().unwrap();
    assert_eq!(trashed.len(), 2, "{trashed:?}");
    assert_eq!(trashed.iter().map(|t| t.bytes).sum::<u64>(), whole);

    // Undo: every file back, byte for byte.
    let r = engine.restore_last_batch().unwrap();
    assert_eq!((r.done, r.bytes), (2, whole), "{r:?}");
    assert_eq!(std::fs::read(&live).unwrap(), mov);
    assert_eq!(std::fs::read(&raw).unwrap(), dng);
    assert!(pa.exists() && pb.exists());
    assert!(engine.trashed().unwrap().is_empty());

    // A companion changed since the listing: the whole asset is refused, nothing moves.
    std::fs::write(&live, b"edited elsewhere").unwrap();
    let r = engine.trash(&[a]).unwrap();
    assert_eq!(r.photos[0].status, ActStatus::Refused, "{r:?}");
    let why = r.photos[0].reason.clone().unwrap();
    assert!(why.contains(".MOV") && why.contains("changed"), "{why}");
    assert!(pa.exists() && live.exists());

    // Killed between the two files of an asset: recovery puts the moved one back.
    engine.trash_first_file_only(&[b]).unwrap();
    assert!(
        !pb.exists() && raw.exists(),
        "the seam moves the photo's file only"
    );
    let rec = engine.recover().unwrap();
    assert_eq!(rec.settled.len(), 2, "{rec:?}");
    assert!(
        pb.exists() && raw.exists(),
        "both files back at their paths"
    );
    assert!(!in_os_trash(&pb) && !in_os_trash(&raw));
    assert!(engine.trashed().unwrap().is_empty());
    assert_eq!(std::fs::read(&raw).unwrap(), dng);
    // And the asset can be trashed whole afterwards.
    let r = engine.trash(&[b]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert!(!pb.exists() && !raw.exists());

    // Killed between two files of its restore (no journal row is left planned then): the
    // next action brings the rest back.
    engine.restore_first_file_only(&[b]).unwrap();
    assert!(
        pb.exists() && !raw.exists(),
        "the seam restores the photo's file only"
    );
    engine.recover().unwrap();
    assert!(pb.exists() && raw.exists() && !in_os_trash(&raw));
    assert_eq!(std::fs::read(&raw).unwrap(), dng);
    assert!(engine.trashed().unwrap().is_empty());
}

/// An iPhone's edited copy (`IMG_E0042.JPG` beside `IMG_0042.JPG`) is part of its original's
/// asset: not a photo of its own, counted, trashed and restored with it.
#[test]
fn an_edited_copy_goes_with_its_original() {
    setup();
    let g = Gallery::new(1);
    let first = g.dir.join(&names_in(&g.dir)[0]);
    let original = g.dir.join("IMG_0042.JPG");
    std::fs::rename(&first, &original).unwrap();
    let edited = g.dir.join("IMG_E0042.JPG");
    let edit = crate::common::encode_jpeg(&crate::common::scene(640, 480), 90);
    std::fs::write(&edited, &edit).unwrap();
    let mut engine = Engine::open(&g.db).unwrap();
    let s = g.scan(&mut engine);
    assert_eq!((s.indexed, s.companions), (1, 1), "{s:?}");
    let d = engine.photo(1).unwrap();
    assert_eq!(d.companions.len(), 1);
    assert_eq!(Path::new(&d.companions[0].path), edited.as_path());
    assert_eq!(
        d.companions[0].kind,
        precious_engine::assets::CompanionKind::Edited
    );
    let whole = std::fs::metadata(&original).unwrap().len() + edit.len() as u64;
    let r = engine.trash(&[1]).unwrap();
    assert_eq!((r.done, r.bytes), (1, whole), "{r:?}");
    assert!(!original.exists() && !edited.exists());
    assert!(in_os_trash(&edited));
    let r = engine.restore(&[1]).unwrap();
    assert_eq!(r.done, 1, "{r:?}");
    assert_eq!(std::fs::read(&edited).unwrap(), edit);
    assert!(original.exists());
}
