//! Delete safety as properties, over randomized cases (seeded, so a failure replays): each
//! case copies a few demo photos into a fresh gallery, labels them at random, trains a small
//! model, modifies some files behind the index's back, asks to trash a random mix of ids
//! (suggested, labeled keep, unlabeled, unknown), restores some (some onto an occupied path)
//! and empties the trash. Checked every time:
//!
//! - only the explicitly requested ids move, and every unchanged requested one does;
//! - every changed or missing requested one is refused with its reason and left byte-identical
//!   (mtime only; same size with the mtime put back, so that only the hash tells; appended;
//!   deleted; replaced by another photo);
//! - the suggestions never contain a photo labeled keep;
//! - a restore puts back the exact bytes and mtime at the original path; onto an occupied path
//!   it is a conflict that leaves both files as they were;
//! - `empty_trash` deletes only precious's own, unchanged items: not the user's own trash, not
//!   an item whose bytes changed in the trash, nothing of another database;
//! - the CLI's `empty-trash` without `--yes` deletes nothing.
//!
//! The OS trash is sandboxed as in `trash.rs`: `XDG_DATA_HOME` points at a folder of this test
//! process (set once, before anything else), with the galleries beside it on the same mount.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use precious_engine::learn::head::Rng;
use precious_engine::{
    ActStatus, Engine, Label, Method, ScanOptions, Split, TrainConfig, TrainOptions,
};

const CASES: u64 = 40;

/// The tests look at the whole (sandboxed) OS trash: one at a time, and not beside `trash::`.
fn serial() -> std::sync::MutexGuard<'static, ()> {
    crate::common::os_trash_exclusive()
}

/// The sandboxed OS trash (see `crate::common::sandbox_os_trash`).
fn setup() -> &'static Path {
    crate::common::sandbox_os_trash()
}

/// The demo camera photos that index, checked once.
fn decodable() -> &'static [PathBuf] {
    static PHOTOS: OnceLock<Vec<PathBuf>> = OnceLock::new();
    PHOTOS.get_or_init(|| {
        let tmp = tempfile::tempdir().unwrap();
        crate::common::copy_demo_photos(usize::MAX, tmp.path());
        let names: HashSet<_> = crate::common::sorted_files(tmp.path())
            .iter()
            .map(|p| p.file_name().unwrap().to_owned())
            .collect();
        crate::common::sorted_files(&crate::common::demo_gallery().join("DCIM/Camera"))
            .into_iter()
            .filter(|p| names.contains(p.file_name().unwrap()))
            .collect()
    })
}

fn trash_files() -> PathBuf {
    setup().join("Trash/files")
}

/// Every item of the sandboxed OS trash: (original path, bytes' hash, trash id), sorted.
fn os_trash() -> Vec<(PathBuf, Option<[u8; 32]>, String)> {
    let mut items: Vec<_> = trash::os_limited::list()
        .unwrap()
        .into_iter()
        .map(|i| {
            let file = trash_files().join(Path::new(&i.id).file_stem().unwrap());
            (
                i.original_path(),
                hash(&file),
                i.id.to_string_lossy().into_owned(),
            )
        })
        .collect();
    items.sort();
    items
}

fn hash(p: &Path) -> Option<[u8; 32]> {
    std::fs::read(p).ok().map(|b| blake3::hash(&b).into())
}

/// A file as it is on disk: bytes and mtime, or nothing.
#[derive(Clone, Debug, PartialEq)]
struct OnDisk(Option<(Vec<u8>, SystemTime)>);

fn on_disk(p: &Path) -> OnDisk {
    OnDisk(
        std::fs::read(p)
            .ok()
            .map(|b| (b, std::fs::metadata(p).unwrap().modified().unwrap())),
    )
}

fn set_mtime(path: &Path, t: SystemTime) {
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Change {
    None,
    Touch,
    SameSizeFlip,
    Append,
    Delete,
    Replace,
}

impl Change {
    /// The start of the refusal reason, or None if the file must move.
    fn reason(self) -> Option<&'static str> {
        match self {
            Change::None => None,
            Change::Touch => Some("changed since it was indexed (modified time)"),
            Change::SameSizeFlip => Some("changed since it was indexed (content)"),
            Change::Append => Some("changed since it was indexed (size)"),
            Change::Delete => Some("missing"),
            Change::Replace => Some("changed since it was indexed"),
        }
    }

    fn apply(self, p: &Path, other: &Path) {
        match self {
            Change::None => {}
            Change::Touch => {
                let t = std::fs::metadata(p).unwrap().modified().unwrap();
                set_mtime(p, t + Duration::from_secs(61));
            }
            Change::SameSizeFlip => {
                let t = std::fs::metadata(p).unwrap().modified().unwrap();
                let mut b = std::fs::read(p).unwrap();
                let mid = b.len() / 2;
                b[mid] ^= 0x5A;
                std::fs::write(p, &b).unwrap();
                set_mtime(p, t);
            }
            Change::Append => {
                let mut b = std::fs::read(p).unwrap();
                b.extend_from_slice(b"appended");
                std::fs::write(p, &b).unwrap();
            }
            Change::Delete => std::fs::remove_file(p).unwrap(),
            Change::Replace => {
                // Another photo under this name, its mtime put back too.
                let t = std::fs::metadata(p).unwrap().modified().unwrap();
                std::fs::copy(other, p).unwrap();
                set_mtime(p, t);
            }
        }
    }
}

struct Case {
    _tmp: tempfile::TempDir,
    dir: PathBuf,
    db: PathBuf,
}

impl Case {
    fn new(photos: &[PathBuf]) -> Case {
        let tmp = tempfile::tempdir_in(setup()).unwrap();
        let dir = tmp.path().canonicalize().unwrap().join("gallery");
        std::fs::create_dir_all(&dir).unwrap();
        for p in photos {
            std::fs::copy(p, dir.join(p.file_name().unwrap())).unwrap();
        }
        let db = tmp.path().join("db/precious.sqlite");
        Case { _tmp: tmp, dir, db }
    }

    fn indexed(&self) -> (Engine, Vec<(i64, PathBuf)>) {
        let mut engine = Engine::open(&self.db).unwrap();
        engine
            .scan_folders(
                std::slice::from_ref(&self.dir),
                &ScanOptions::default(),
                &mut |_| {},
            )
            .unwrap();
        let photos = crate::common::photos_by_path(&engine);
        (engine, photos)
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let ours: Vec<_> = trash::os_limited::list()
            .unwrap_or_default()
            .into_iter()
            .filter(|i| i.original_parent.starts_with(&self.dir))
            .collect();
        let _ = trash::os_limited::purge_all(ours);
    }
}

fn train_small(engine: &mut Engine) {
    let opts = TrainOptions {
        config: TrainConfig {
            method: Method::Logistic,
            steps: 40,
            ..TrainConfig::default()
        },
        view_sample: 0,
        ..TrainOptions::default()
    };
    engine.train(&opts).unwrap();
}

#[test]
fn delete_safety_properties_hold_over_random_cases() {
    setup();
    let _one = serial();
    let pool = decodable();
    assert!(pool.len() >= 12, "{} demo photos", pool.len());
    let mut checked = HashMap::<&str, usize>::new();
    for case in 0..CASES {
        let seed = 0xDE1E7E + case;
        let mut rng = Rng::new(seed);
        let ctx = format!("case {case} (seed {seed:#x})");
        run_case(&mut rng, pool, &ctx, &mut checked);
    }
    eprintln!("delete safety: {CASES} cases; properties checked: {checked:?}");
    assert!(checked["moved"] > 0 && checked["refused"] > 0 && checked["conflict"] > 0);
}

fn run_case(
    rng: &mut Rng,
    pool: &[PathBuf],
    ctx: &str,
    checked: &mut HashMap<&'static str, usize>,
) {
    let mut count = |k: &'static str| *checked.entry(k).or_default() += 1;
    let mut chosen = pool.to_vec();
    rng.shuffle(&mut chosen);
    let n = 6 + rng.below(4);
    let case = Case::new(&chosen[..n]);
    let spare = &chosen[n];
    let (mut engine, photos) = case.indexed();
    assert_eq!(photos.len(), n, "{ctx}: all photos index");

    // Random labels: some keep, some delete, some unlabeled (both kinds at least once).
    let mut labels: HashMap<i64, Label> = HashMap::new();
    for (i, &(id, _)) in photos.iter().enumerate() {
        let label = match (i, rng.below(3)) {
            (0, _) => Some(Label::Keep),
            (1, _) => Some(Label::Delete),
            (_, 0) => Some(Label::Keep),
            (_, 1) => Some(Label::Delete),
            _ => None,
        };
        if let Some(l) = label {
            engine.set_label(id, l, Split::Train).unwrap();
            labels.insert(id, l);
        }
    }
    train_small(&mut engine);
    let suggested: Vec<i64> = engine
        .suggest()
        .unwrap()
        .photos
        .iter()
        .map(|s| s.id)
        .collect();
    for id in &suggested {
        assert_ne!(
            labels.get(id),
            Some(&Label::Keep),
            "{ctx}: photo {id} is labeled keep and suggested"
        );
    }
    count("suggestions without keep");

    // Random modifications behind the index's back.
    let changes: HashMap<i64, Change> = photos
        .iter()
        .map(|&(id, _)| {
            let c = match rng.below(12) {
                0 => Change::Touch,
                1 => Change::SameSizeFlip,
                2 => Change::Append,
                3 => Change::Delete,
                4 => Change::Replace,
                _ => Change::None,
            };
            (id, c)
        })
        .collect();
    for (id, p) in &photos {
        changes[id].apply(p, spare);
    }
    let before: HashMap<i64, OnDisk> = photos.iter().map(|(id, p)| (*id, on_disk(p))).collect();
    let trash_before = os_trash();

    // A random request mixing suggested, keep-labeled and unlabeled photos, an unknown id and
    // repeats; some photos are never asked about.
    let mut requested: Vec<i64> = Vec::new();
    for &(id, _) in &photos {
        let wanted = match labels.get(&id) {
            _ if suggested.contains(&id) => rng.below(4) != 0,
            Some(Label::Keep) => rng.below(3) == 0,
            _ => rng.below(2) == 0,
        };
        if wanted {
            requested.push(id);
        }
    }
    if requested.is_empty() {
        requested.push(photos[0].0);
    }
    let unknown = 1_000_000 + rng.below(1000) as i64;
    requested.push(unknown);
    requested.push(requested[0]);
    rng.shuffle(&mut requested);

    let r = engine.trash(&requested).unwrap();
    let by_id: HashMap<i64, _> = r.photos.iter().map(|o| (o.id, o)).collect();
    assert_eq!(
        r.photos.len(),
        requested.iter().collect::<HashSet<_>>().len(),
        "{ctx}: one outcome per requested photo"
    );
    let u = by_id[&unknown];
    assert_eq!(
        (u.status, u.reason.as_deref()),
        (ActStatus::Refused, Some("no such photo")),
        "{ctx}"
    );
    let mut moved: Vec<(i64, PathBuf)> = Vec::new();
    for (id, p) in &photos {
        let asked = requested.contains(id);
        let change = changes[id];
        match (asked, change.reason()) {
            (false, _) => {
                assert!(!by_id.contains_key(id), "{ctx}: {id} not asked about");
                assert_eq!(
                    on_disk(p),
                    before[id],
                    "{ctx}: photo {id} not asked: untouched"
                );
                count("untouched when not asked");
            }
            (true, None) => {
                let o = by_id[id];
                assert_eq!(o.status, ActStatus::Done, "{ctx}: photo {id}: {o:?}");
                assert!(!p.exists(), "{ctx}: {} left its folder", p.display());
                let (bytes, _) = before[id].0.clone().unwrap();
                let h: [u8; 32] = blake3::hash(&bytes).into();
                assert!(
                    os_trash().iter().any(|t| &t.0 == p && t.1 == Some(h)),
                    "{ctx}: {} is in the OS trash with its bytes",
                    p.display()
                );
                moved.push((*id, p.clone()));
                count("moved");
            }
            (true, Some(why)) => {
                let o = by_id[id];
                assert_eq!(o.status, ActStatus::Refused, "{ctx}: {change:?} {o:?}");
                let reason = o.reason.as_deref().unwrap_or_default();
                assert!(
                    reason.starts_with(why),
                    "{ctx}: {change:?}: reason {reason:?}, expected {why:?}"
                );
                assert_eq!(on_disk(p), before[id], "{ctx}: refused {id} left as it was");
                count("refused");
            }
        }
    }
    assert_eq!(r.done, moved.len(), "{ctx}");
    // Nothing else entered the trash.
    let added = os_trash().len() - trash_before.len();
    assert_eq!(
        added,
        moved.len(),
        "{ctx}: only the moved photos are in the trash"
    );

    // Restores: some onto an occupied path (a conflict), some back for real, some left.
    let mut restored = Vec::new();
    let mut conflicts = Vec::new();
    let mut left = Vec::new();
    for (id, p) in &moved {
        match rng.below(3) {
            0 => {
                std::fs::write(p, format!("a new file where photo {id} was")).unwrap();
                conflicts.push((*id, p.clone(), on_disk(p)));
            }
            1 => restored.push((*id, p.clone())),
            _ => left.push((*id, p.clone())),
        }
    }
    let ids: Vec<i64> = conflicts
        .iter()
        .map(|c| c.0)
        .chain(restored.iter().map(|r| r.0))
        .collect();
    if !ids.is_empty() {
        let trash_now = os_trash();
        let r = engine.restore(&ids).unwrap();
        let by_id: HashMap<i64, _> = r.photos.iter().map(|o| (o.id, o)).collect();
        for (id, p) in &restored {
            assert_eq!(by_id[id].status, ActStatus::Done, "{ctx}: {:?}", by_id[id]);
            assert_eq!(on_disk(p), before[id], "{ctx}: exact bytes and mtime back");
            count("restored exactly");
        }
        for (id, p, occupant) in &conflicts {
            let o = by_id[id];
            assert_eq!(o.status, ActStatus::Conflict, "{ctx}: {o:?}");
            assert!(
                o.reason.as_deref().unwrap().contains("already exists"),
                "{ctx}: {o:?}"
            );
            assert_eq!(&on_disk(p), occupant, "{ctx}: the occupant is untouched");
            let in_trash: Vec<_> = trash_now.iter().filter(|t| &t.0 == p).collect();
            assert_eq!(in_trash.len(), 1, "{ctx}");
            assert!(
                os_trash().contains(in_trash[0]),
                "{ctx}: the trashed photo stays in the trash, its bytes unchanged"
            );
            count("conflict");
        }
    }

    // Emptying: the user's own trash item and a precious item whose bytes changed in the
    // trash must stay; so must everything of other cases (other databases).
    let theirs = case.dir.join("theirs.txt");
    std::fs::write(&theirs, b"the user's own file").unwrap();
    trash::delete(&theirs).unwrap();
    let ours: Vec<(i64, PathBuf)> = left
        .iter()
        .cloned()
        .chain(conflicts.iter().map(|c| (c.0, c.1.clone())))
        .collect();
    let tampered = (!ours.is_empty() && rng.below(2) == 0).then(|| ours[0].clone());
    if let Some((_, p)) = &tampered {
        let item = os_trash().into_iter().find(|t| &t.0 == p).unwrap();
        let file = trash_files().join(Path::new(&item.2).file_stem().unwrap());
        let mut b = std::fs::read(&file).unwrap();
        b.push(0);
        std::fs::write(&file, b).unwrap();
    }
    let foreign: Vec<_> = os_trash()
        .into_iter()
        .filter(|t| !t.0.starts_with(&case.dir) || t.0 == theirs)
        .collect();
    let r = engine.empty_trash(&[]).unwrap();
    let after = os_trash();
    for t in &foreign {
        assert!(
            after.contains(t),
            "{ctx}: {} stays in the trash",
            t.0.display()
        );
    }
    count("foreign trash kept");
    for (id, p) in &ours {
        let o = r.photos.iter().find(|o| o.id == *id).unwrap();
        let still = after.iter().any(|t| &t.0 == p);
        if tampered.as_ref().is_some_and(|t| t.0 == *id) {
            assert_eq!(o.status, ActStatus::Refused, "{ctx}: {o:?}");
            assert!(still, "{ctx}: a tampered item is left alone");
            count("tampered kept");
        } else {
            assert_eq!(o.status, ActStatus::Done, "{ctx}: {o:?}");
            assert!(!still, "{ctx}: {} deleted for good", p.display());
            count("purged");
        }
    }
    assert_eq!(
        r.photos.len(),
        ours.len(),
        "{ctx}: only precious's own items"
    );
    // The gallery itself is as the restores left it.
    for (id, p) in &restored {
        assert_eq!(on_disk(p), before[id], "{ctx}");
    }
}

/// `precious empty-trash` without `--yes` only says what it would delete.
#[test]
fn cli_empty_trash_without_yes_deletes_nothing() {
    let data_home = setup();
    let _one = serial();
    let pool = decodable();
    let case = Case::new(&pool[..3]);
    let (mut engine, photos) = case.indexed();
    let ids: Vec<i64> = photos.iter().map(|p| p.0).collect();
    assert_eq!(engine.trash(&ids).unwrap().done, 3);
    drop(engine);
    let before = os_trash();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_precious"))
            .env("XDG_DATA_HOME", data_home)
            .arg("--db")
            .arg(&case.db)
            .args(args)
            .output()
            .unwrap()
    };
    let one = ids[0].to_string();
    for args in [vec!["empty-trash"], vec!["empty-trash", one.as_str()]] {
        let out = run(&args);
        assert!(!out.status.success(), "{args:?} without --yes must fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("--yes"), "{args:?}: {err}");
        assert_eq!(os_trash(), before, "{args:?}: nothing deleted");
    }
    let engine = Engine::open(&case.db).unwrap();
    assert_eq!(engine.trashed().unwrap().len(), 3);
    // With --yes it does delete them.
    drop(engine);
    let out = run(&["empty-trash", "--yes"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let ours = os_trash()
        .iter()
        .filter(|t| t.0.starts_with(&case.dir))
        .count();
    assert_eq!(ours, 0);
}
