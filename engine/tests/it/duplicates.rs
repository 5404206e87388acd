//! Duplicate groups on the real demo gallery (its bursts, exposure variants and messaging-app
//! copies are known from its manifest) plus an edited crop and a shrunk copy made here: every
//! group holds one scene only, every known copy is found, copies of one capture are "same
//! photo" and captures seconds apart "similar shots", the camera original is kept, decisions
//! are remembered across rescans and moves, and "trash the rest" goes through the real OS
//! trash and comes back.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use precious_engine::duplicates::{Group, Why};
use precious_engine::{Decision, DuplicateOptions, Engine, ScanOptions, Tier};

const ORIGINAL: &str = "DCIM/Camera/IMG_20020101_020506.jpg";
const CROP: &str = "Pictures/Edited/IMG_20020101_020506-crop.jpg";
const SHRUNK: &str = "Download/IMG_20020101_020506-small.jpg";

/// Each indexable file's scene: the manifest's `from`, else itself (and the two copies made
/// here). Files the demo breaks on purpose (`expected_error`) are left out.
fn roots(gallery: &Path) -> HashMap<PathBuf, PathBuf> {
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(gallery.join("manifest.json")).unwrap()).unwrap();
    let mut roots: HashMap<PathBuf, PathBuf> = manifest["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["expected_error"].is_null())
        .map(|f| {
            let p = f["path"].as_str().unwrap();
            let root = f["from"].as_str().unwrap_or(p);
            (gallery.join(p), gallery.join(root))
        })
        .collect();
    for copy in [CROP, SHRUNK] {
        roots.insert(gallery.join(copy), gallery.join(ORIGINAL));
    }
    roots
}

fn make_copies(gallery: &Path) {
    let img = image::open(gallery.join(ORIGINAL)).unwrap().to_rgb8();
    let (w, h) = img.dimensions();
    let crop =
        image::imageops::crop_imm(&img, w * 5 / 100, h * 3 / 100, w * 92 / 100, h * 92 / 100)
            .to_image();
    std::fs::create_dir_all(gallery.join(CROP).parent().unwrap()).unwrap();
    std::fs::write(gallery.join(CROP), crate::common::encode_jpeg(&crop, 90)).unwrap();
    let small = image::imageops::resize(&img, w / 2, h / 2, image::imageops::FilterType::Lanczos3);
    std::fs::write(gallery.join(SHRUNK), crate::common::encode_jpeg(&small, 80)).unwrap();
}

fn group_of<'a>(groups: &'a [Group], path: &Path) -> Option<&'a Group> {
    groups
        .iter()
        .find(|g| g.members.iter().any(|m| Path::new(&m.path) == path))
}

fn member_id(g: &Group, path: &Path) -> i64 {
    g.members
        .iter()
        .find(|m| Path::new(&m.path) == path)
        .unwrap()
        .id
}

/// A group's members as (path, copy_of, best) for messages.
fn shown(g: &Group) -> Vec<(&str, usize, bool)> {
    g.members
        .iter()
        .map(|m| (m.path.rsplit("gallery/").next().unwrap(), m.copy_of, m.best))
        .collect()
}

fn scan(engine: &mut Engine, gallery: &Path) {
    engine
        .scan_folders(
            &[gallery.to_path_buf()],
            &ScanOptions::default(),
            &mut |_| {},
        )
        .unwrap();
}

#[test]
fn groups_keep_the_original_remember_decisions_and_trash_the_rest() {
    let _trash = crate::common::os_trash_exclusive();
    let tmp = tempfile::tempdir_in(crate::common::sandbox_os_trash()).unwrap();
    let gallery = tmp.path().canonicalize().unwrap().join("gallery");
    crate::common::copy_dir(&crate::common::demo_gallery(), &gallery);
    make_copies(&gallery);
    let roots = roots(&gallery);
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    scan(&mut engine, &gallery);
    let d = engine.duplicates(&DuplicateOptions::default()).unwrap();

    // Precision: one scene per group. Recall: every known variant is with its scene.
    for g in &d.groups {
        let scenes: std::collections::HashSet<&PathBuf> = g
            .members
            .iter()
            .map(|m| &roots[Path::new(&m.path)])
            .collect();
        assert_eq!(
            scenes.len(),
            1,
            "group {} mixes scenes: {:?}",
            g.id,
            shown(g)
        );
    }
    let mut known = 0;
    for (file, root) in &roots {
        if file != root {
            let g = group_of(&d.groups, file).unwrap_or_else(|| panic!("{file:?} in no group"));
            assert!(
                group_of(&d.groups, root).is_some_and(|r| r.id == g.id),
                "{file:?}"
            );
            known += 1;
        }
    }
    assert!(known >= 18, "only {known} known variants");

    // Tiers: the copies made here and the messaging-app downloads are the same photo as their
    // camera original; shots taken seconds apart are similar shots. The original is kept.
    let original = gallery.join(ORIGINAL);
    let g = group_of(&d.groups, &original).unwrap();
    assert_eq!(g.tier, Tier::Same, "{:?}", shown(g));
    assert_eq!(g.best, member_id(g, &original), "{:?}", shown(g));
    assert!(g.why.contains(&Why::CameraOriginal) || g.why.contains(&Why::Larger));
    let wa = gallery.join("WhatsApp/Media/WhatsApp Images/IMG-20240511-WA0003.jpg");
    let g = group_of(&d.groups, &wa).unwrap();
    assert_eq!(g.tier, Tier::Same);
    assert_eq!(
        g.best,
        member_id(g, &gallery.join("DCIM/Camera/IMG_20240916_195015.jpg"))
    );
    let dark = gallery.join("DCIM/Camera/IMG_20150906_184701.jpg");
    let g = group_of(&d.groups, &dark).unwrap();
    assert_eq!(g.tier, Tier::Similar);
    assert_eq!(
        g.best,
        member_id(g, &gallery.join("DCIM/Camera/IMG_20150906_184657.jpg"))
    );

    // The user's choice of best shot overrides, and is remembered.
    let g = group_of(&d.groups, &original).unwrap().clone();
    let crop_id = member_id(&g, &gallery.join(CROP));
    engine
        .decide_duplicates(&g.id, Decision::Best(crop_id))
        .unwrap();
    let d = engine.duplicates(&DuplicateOptions::default()).unwrap();
    let g = group_of(&d.groups, &original).unwrap();
    assert_eq!(
        (g.best, g.why.as_slice()),
        (crop_id, &[Why::YourChoice][..])
    );

    // "Not duplicates" survives a move and a rescan; "keep all" hides the group.
    let burst = gallery.join("DCIM/Camera/IMG_20150721_161745.jpg");
    let g = group_of(&d.groups, &burst).unwrap().clone();
    engine
        .decide_duplicates(&g.id, Decision::NotDuplicates)
        .unwrap();
    let moved = gallery.join("Pictures/IMG_20150721_161745.jpg");
    std::fs::rename(&burst, &moved).unwrap();
    scan(&mut engine, &gallery);
    let d = engine.duplicates(&DuplicateOptions::default()).unwrap();
    assert!(
        group_of(&d.groups, &moved).is_none(),
        "{:?}",
        group_of(&d.groups, &moved).map(shown)
    );
    let g = group_of(&d.groups, &wa).unwrap().clone();
    engine.decide_duplicates(&g.id, Decision::KeepAll).unwrap();
    let after = engine.duplicates(&DuplicateOptions::default()).unwrap();
    assert!(group_of(&after.groups, &wa).is_none());
    assert_eq!(after.hidden, d.hidden + 1);

    // Keep the best, trash the rest: the rest is in the OS trash, the best stays; undo.
    let g = group_of(
        &after.groups,
        &gallery.join("DCIM/Camera/IMG_20140429_142526.jpg"),
    )
    .unwrap()
    .clone();
    let rest: Vec<&str> = g
        .members
        .iter()
        .filter(|m| !m.kept)
        .map(|m| m.path.as_str())
        .collect();
    assert_eq!(rest.len(), g.members.len() - 1);
    let report = engine
        .trash_duplicates(std::slice::from_ref(&g.id))
        .unwrap();
    assert_eq!(report.done, rest.len());
    assert!(rest.iter().all(|p| !Path::new(p).exists()));
    let best = g.members.iter().find(|m| m.best).unwrap();
    assert!(Path::new(&best.path).exists());
    let d = engine.duplicates(&DuplicateOptions::default()).unwrap();
    assert!(d.groups.iter().all(|x| x.id != g.id));
    assert!(engine
        .trash_duplicates(std::slice::from_ref(&g.id))
        .is_err());
    let back = engine.restore_last_batch().unwrap();
    assert_eq!(back.done, rest.len());
    assert!(rest.iter().all(|p| Path::new(p).exists()));
}

/// A copy's Live Photo clip is freed with it: a group's space to free counts the whole asset
/// of every member that is not kept.
#[test]
fn space_to_free_counts_the_other_files_of_each_asset() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    let photo = std::fs::read(crate::common::demo_gallery().join(ORIGINAL)).unwrap();
    let clip = |n: usize| {
        let mut mov = b"\0\0\0\x14ftypqt  \0\0\0\0qt  ".to_vec();
        mov.resize(n, 7);
        mov
    };
    for (name, mov) in [("IMG_0001", clip(5_000)), ("IMG_0002", clip(7_000))] {
        std::fs::write(dir.join(format!("{name}.jpg")), &photo).unwrap();
        std::fs::write(dir.join(format!("{name}.MOV")), &mov).unwrap();
    }
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    engine
        .scan_folders(&[dir], &ScanOptions::default(), &mut |_| {})
        .unwrap();
    let d = engine.duplicates(&DuplicateOptions::default()).unwrap();
    assert_eq!(d.groups.len(), 1, "{d:?}");
    let g = &d.groups[0];
    let freed: Vec<_> = g.members.iter().filter(|m| !m.kept).collect();
    assert_eq!(freed.len(), 1, "{g:?}");
    let clip_len = if freed[0].path.ends_with("IMG_0001.jpg") {
        5_000
    } else {
        7_000
    };
    assert_eq!(freed[0].companion_bytes, clip_len);
    assert_eq!(g.reclaimable_bytes, photo.len() as u64 + clip_len);
}
