//! HEIC/HEIF photos (libheif, feature `heif`): every shared sample from real phones indexes
//! with its camera EXIF, comes out upright, and embeds like the same picture as a JPEG written
//! by libheif's own `heif-convert`; damaged HEIF files are refused with a reason.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::common::*;
use precious_engine::decode::{load, Strategy};
use precious_engine::features::backbone::{Backbone, Choice};
use precious_engine::format::Format;
use precious_engine::{Engine, ScanOptions};

fn samples() -> Vec<PathBuf> {
    let dir = shared_data().join("exif-samples/heic");
    let mut v: Vec<PathBuf> = walk(&dir);
    v.sort();
    assert_eq!(v.len(), 5, "the shared HEIC samples: {v:?}");
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (n(a) * n(b))
}

#[test]
fn every_shared_heic_sample_is_indexed_with_its_exif() {
    let tmp = tempfile::tempdir().unwrap();
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let dir = shared_data().join("exif-samples/heic");
    let report = engine
        .scan_folders(&[dir], &ScanOptions::default(), &mut |_| {})
        .unwrap();
    assert_eq!(
        (report.indexed, report.failed, report.unsupported),
        (5, 0, 0),
        "{report:?}"
    );
    let mut seen = 0;
    for id in 1..=5 {
        let p = engine.photo(id).unwrap();
        assert_eq!(p.format.as_deref(), Some("heif"), "{}", p.path);
        // Upright sizes as libheif reports them after the files' own rotations.
        let expected = match Path::new(&p.path).file_name().unwrap().to_str().unwrap() {
            "IMG_5195.HEIC" => (2566, 3313),
            "samplefilehub.heif" => (640, 426),
            "HMD_Nokia_8.3_5G.heif" => (3456, 4608),
            "HMD_Nokia_8.3_5G_hdr.heif" => (4608, 3456),
            "iphone_13_pro_max.HEIC" => {
                assert_eq!(p.make.as_deref(), Some("Apple"));
                assert_eq!(p.model.as_deref(), Some("iPhone 13 Pro Max"));
                assert_eq!(p.taken_at.as_deref(), Some("2022-02-16T12:55:41+01:00"));
                assert_eq!(p.has_camera_exif, Some(true));
                // Its EXIF says 6 (rotate), but libheif has applied the file's rotation.
                assert_eq!(p.orientation, Some(1));
                (3024, 4032)
            }
            other => panic!("unexpected sample {other}"),
        };
        assert_eq!((p.width, p.height), (Some(expected.0), Some(expected.1)));
        seen += 1;
    }
    assert_eq!(seen, 5);
}

/// The same picture through two decoders: libheif's `heif-convert` writes it as a JPEG (q95),
/// and both go through the scan's decode and the backbone. The only differences left are the
/// JPEG re-encode and libheif's colour conversion, so the embeddings must be near-identical;
/// a decode that lost the rotation, swapped channels or read the thumbnail would not be.
#[test]
fn heic_embeds_like_the_same_picture_as_jpeg() {
    let tmp = tempfile::tempdir().unwrap();
    let backbone = Backbone::load_with(Choice::Tract, None).unwrap();
    let mut worst = f32::MAX;
    for heic in samples() {
        let jpg = tmp.path().join("converted.jpg");
        let out = Command::new("heif-convert")
            .args(["-q", "95"])
            .arg(&heic)
            .arg(&jpg)
            .output()
            .expect("heif-convert (apt libheif-examples) is needed by this test");
        assert!(out.status.success(), "{out:?}");
        let h = load(&std::fs::read(&heic).unwrap(), None, Strategy::Fastest).unwrap();
        let j = load(&std::fs::read(&jpg).unwrap(), None, Strategy::Full).unwrap();
        assert_eq!(h.format, Format::Heif);
        // heif-convert keeps the EXIF orientation tag (6 on the iPhone) although its pixels are
        // already upright: compare against the JPEG's pixels as stored.
        let j_image = if j.exif.orientation.0 == 1 {
            j.decoded.image
        } else {
            let mut exif = j.exif.clone();
            exif.orientation = precious_engine::metadata::Orientation::UPRIGHT;
            precious_engine::decode::decode_with(
                &std::fs::read(&jpg).unwrap(),
                Format::Jpeg,
                &exif,
                Strategy::Full,
            )
            .unwrap()
            .image
        };
        assert_eq!(h.decoded.image.dimensions(), j_image.dimensions());
        let c = cosine(
            &backbone.embed(&h.decoded.image).unwrap(),
            &backbone.embed(&j_image).unwrap(),
        );
        eprintln!("{}: cosine {c:.4}", heic.display());
        worst = worst.min(c);
    }
    // Measured 2026-12-07: 0.99 and above for all five.
    assert!(
        worst > 0.98,
        "HEIC and JPEG embeddings differ: cosine {worst}"
    );
}

/// Cut, corrupted and mislabelled HEIF: each is refused with a reason (never a panic or a
/// hang), and the scan goes on to index the intact one beside them.
#[test]
fn damaged_heif_files_get_a_reason() {
    let good = std::fs::read(shared_data().join("exif-samples/heic/samplefilehub.heif")).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("g");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("good.heic"), &good).unwrap();
    let mut cases: Vec<(&str, Vec<u8>)> = vec![
        ("half.heic", good[..good.len() / 2].to_vec()),
        ("header.heic", good[..600].to_vec()),
        ("ftyp-only.heic", good[..24].to_vec()),
    ];
    let mut flipped = good.clone();
    for i in (good.len() / 2..good.len()).step_by(97) {
        flipped[i] ^= 0x5A;
    }
    cases.push(("flipped.heic", flipped));
    for (name, bytes) in &cases {
        std::fs::write(dir.join(name), bytes).unwrap();
    }
    let mut engine = Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let report = engine
        .scan_folders(&[dir], &ScanOptions::default(), &mut |_| {})
        .unwrap();
    // The flipped bytes sit in the coded data: libheif may decode it with artefacts.
    assert!(report.indexed >= 1, "{report:?}");
    assert!(report.failed >= 3, "{report:?}");
    let status = engine.status().unwrap();
    for e in &status.errors {
        assert!(!e.reason.is_empty(), "{e:?}");
        assert!(!e.reason.contains("crashed"), "{e:?}");
        eprintln!("{}: {}", e.path, e.reason);
    }
    let failed: Vec<&str> = status.errors.iter().map(|e| e.path.as_str()).collect();
    for name in ["half.heic", "header.heic", "ftyp-only.heic"] {
        assert!(
            failed.iter().any(|p| p.ends_with(name)),
            "{name}: {failed:?}"
        );
    }
}
