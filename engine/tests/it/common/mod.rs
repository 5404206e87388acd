//! Helpers shared by the engine's integration tests: where the test data is, and a minimal
//! EXIF writer to build JPEGs with chosen orientation and embedded thumbnails.
#![allow(dead_code)]

pub mod head_reference;

use std::path::PathBuf;

use image::RgbImage;

/// `../shared/data` beside the checkout (override with `PRECIOUS_SHARED_DATA`).
pub fn shared_data() -> PathBuf {
    let p = std::env::var_os("PRECIOUS_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data"))
        });
    assert!(
        p.is_dir(),
        "test data not found at {} (set PRECIOUS_SHARED_DATA)",
        p.display()
    );
    p
}

pub fn demo_gallery() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/demo/gallery"))
}

/// Files in `dir` (not recursive), sorted by name.
pub fn sorted_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .collect();
    v.sort();
    v
}

/// The first `n` demo camera photos that index (the demo also holds a deliberately truncated
/// one), copied into `into`.
pub fn copy_demo_photos(n: usize, into: &std::path::Path) {
    std::fs::create_dir_all(into).unwrap();
    let decodes = |p: &PathBuf| {
        let bytes = std::fs::read(p).unwrap();
        precious_engine::decode::load(
            &bytes,
            Some("jpg"),
            precious_engine::decode::Strategy::Fastest,
        )
        .is_ok()
    };
    let photos = sorted_files(&demo_gallery().join("DCIM/Camera"));
    let jpegs = photos
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "jpg"));
    for p in jpegs.filter(|p| decodes(p)).take(n) {
        std::fs::copy(p, into.join(p.file_name().unwrap())).unwrap();
    }
}

/// An engine over a fresh database in a temporary folder, with the demo gallery scanned.
pub fn demo_engine() -> (tempfile::TempDir, precious_engine::Engine) {
    let tmp = tempfile::tempdir().unwrap();
    let mut engine = precious_engine::Engine::open(&tmp.path().join("p.sqlite")).unwrap();
    let scan = precious_engine::ScanOptions::default();
    engine
        .scan_folders(&[demo_gallery()], &scan, &mut |_| {})
        .unwrap();
    (tmp, engine)
}

pub fn models_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../models"))
}

pub fn encode_jpeg(img: &RgbImage, quality: u8) -> Vec<u8> {
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(img)
        .unwrap();
    out
}

/// A smooth, detailed test scene (so that resampling differences stay small).
pub fn scene(w: u32, h: u32) -> RgbImage {
    RgbImage::from_fn(w, h, |x, y| {
        let (fx, fy) = (x as f32 / w as f32, y as f32 / h as f32);
        image::Rgb([
            (255.0 * fx) as u8,
            (128.0 + 100.0 * (fy * 9.0).sin() * (fx * 5.0).cos()) as u8,
            (255.0 * (1.0 - fy) * (0.5 + 0.5 * (fx * 13.0).sin())) as u8,
        ])
    })
}

/// Builds a JPEG of `main` whose APP1 carries Orientation, Make/Model (if `camera`) and, if
/// given, an IFD1 JPEG thumbnail: a little-endian TIFF written by hand.
pub fn jpeg_with_exif(
    main: &RgbImage,
    orientation: u16,
    camera: bool,
    thumb: Option<&RgbImage>,
) -> Vec<u8> {
    let thumb_jpeg = thumb.map(|t| encode_jpeg(t, 90));
    let mut entries0: Vec<(u16, u16, u32, Vec<u8>)> =
        vec![(0x0112, 3, 1, orientation.to_le_bytes().to_vec())];
    if camera {
        entries0.insert(0, (0x010F, 2, 8, b"TestCam\0".to_vec()));
        entries0.insert(1, (0x0110, 2, 8, b"Model 1\0".to_vec()));
    }
    // Layout: header(8) | IFD0 | IFD0 data | IFD1 | thumbnail.
    let ifd_len = |n: usize| 2 + n * 12 + 4;
    let ifd0_at = 8u32;
    let mut data0_at = ifd0_at + ifd_len(entries0.len()) as u32;
    let data0_len: u32 = entries0
        .iter()
        .filter(|e| e.3.len() > 4)
        .map(|e| e.3.len() as u32)
        .sum();
    let ifd1_at = data0_at + data0_len;
    let thumb_at = ifd1_at + ifd_len(2) as u32;
    let mut t = b"II*\0".to_vec();
    t.extend(ifd0_at.to_le_bytes());
    t.extend((entries0.len() as u16).to_le_bytes());
    let mut data0: Vec<u8> = Vec::new();
    for (tag, typ, count, val) in &entries0 {
        t.extend(tag.to_le_bytes());
        t.extend(typ.to_le_bytes());
        t.extend(count.to_le_bytes());
        if val.len() > 4 {
            t.extend(data0_at.to_le_bytes());
            data0_at += val.len() as u32;
            data0.extend(val);
        } else {
            let mut v = val.clone();
            v.resize(4, 0);
            t.extend(v);
        }
    }
    t.extend((if thumb_jpeg.is_some() { ifd1_at } else { 0 }).to_le_bytes());
    t.extend(data0);
    if let Some(tj) = &thumb_jpeg {
        t.extend(2u16.to_le_bytes());
        for (tag, val) in [(0x0201u16, thumb_at), (0x0202, tj.len() as u32)] {
            t.extend(tag.to_le_bytes());
            t.extend(4u16.to_le_bytes());
            t.extend(1u32.to_le_bytes());
            t.extend(val.to_le_bytes());
        }
        t.extend(0u32.to_le_bytes());
        t.extend(tj);
    }
    let mut app1 = vec![0xFF, 0xE1];
    app1.extend(((t.len() + 8) as u16).to_be_bytes());
    app1.extend(b"Exif\0\0");
    app1.extend(t);
    let body = encode_jpeg(main, 92);
    let mut out = body[..2].to_vec();
    out.extend(app1);
    out.extend(&body[2..]);
    out
}

/// Largest absolute difference between two vectors (embeddings, probabilities).
pub fn max_abs_diff(a: &[f32], b: &[f32]) -> f32 {
    assert_eq!(a.len(), b.len());
    a.iter()
        .zip(b)
        .map(|(x, y)| (x - y).abs())
        .fold(0f32, f32::max)
}

/// Mean absolute difference of two same-sized images, in 0..=255 levels.
pub fn mean_abs_diff(a: &RgbImage, b: &RgbImage) -> f64 {
    assert_eq!(a.dimensions(), b.dimensions());
    let s: u64 = a
        .as_raw()
        .iter()
        .zip(b.as_raw())
        .map(|(x, y)| (*x as i32 - *y as i32).unsigned_abs() as u64)
        .sum();
    s as f64 / a.as_raw().len() as f64
}

pub fn cosine(a: &[f32], b: &[f32]) -> f32 {
    let dot: f32 = a.iter().zip(b).map(|(x, y)| x * y).sum();
    let n = |v: &[f32]| v.iter().map(|x| x * x).sum::<f32>().sqrt();
    dot / (n(a) * n(b))
}

/// The demo gallery's simulated user (as in `precious demo`).
pub fn demo_categories() -> precious_engine::simulated::ManifestUser {
    precious_engine::simulated::ManifestUser::load(&demo_gallery()).expect("demo manifest")
}

/// The label the demo's simulated user gives the photo at `path` (a display path), if the
/// manifest knows it.
pub fn demo_label(
    user: &precious_engine::simulated::ManifestUser,
    path: &str,
) -> Option<precious_engine::Label> {
    user.label(path)
}

/// Points the OS trash of this test process at a fresh folder (set once, before any trash
/// call: `XDG_DATA_HOME`), under the target folder so the galleries made beside it share its
/// mount, and returns it. Every test binary that moves files to the trash calls this first.
pub fn sandbox_os_trash() -> &'static std::path::Path {
    static DATA_HOME: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DATA_HOME.get_or_init(|| {
        let dir = tempfile::Builder::new()
            .prefix("os-trash-")
            .tempdir_in(env!("CARGO_TARGET_TMPDIR"))
            .unwrap()
            .keep();
        std::env::set_var("XDG_DATA_HOME", &dir);
        dir
    })
}

/// Exclusive use of the sandboxed OS trash for one test: tests that look at the whole trash
/// (`delete_safety`) must not see another test's items arrive meanwhile, and every module of
/// this one test binary shares the one trash.
pub fn os_trash_exclusive() -> std::sync::MutexGuard<'static, ()> {
    static ONE: std::sync::Mutex<()> = std::sync::Mutex::new(());
    sandbox_os_trash();
    ONE.lock().unwrap_or_else(|p| p.into_inner())
}

/// A fresh database at `db` holding the scanned demo gallery and `n` train labels from the
/// demo's simulated user (the first `n` of the train queue), ready for `Engine::train`.
pub fn labeled_demo(db: &std::path::Path, n: usize) -> precious_engine::Engine {
    use precious_engine::{Engine, ScanOptions, Split};
    let mut engine = Engine::open(db).unwrap();
    engine
        .scan_folders(&[demo_gallery()], &ScanOptions::default(), &mut |_| {})
        .unwrap();
    let user = demo_categories();
    for p in engine.label_queue(Split::Train, n, 0).unwrap() {
        let label = user
            .label(&p.path)
            .unwrap_or_else(|| panic!("{} is not in the manifest", p.path));
        engine.set_label(p.id, label, Split::Train).unwrap();
    }
    engine
}

/// Trains with `opts` on the native trainer (whatever `opts` asked for), checking that the
/// model says so: the baseline the ONNX Runtime trainer's tests compare with.
pub fn train_natively(
    engine: &mut precious_engine::Engine,
    opts: precious_engine::TrainOptions,
) -> precious_engine::learn::record::Model {
    let opts = precious_engine::TrainOptions {
        trainer: precious_engine::TrainerChoice::Native,
        ..opts
    };
    let model = engine.train(&opts).unwrap().model;
    let trainer = &model.metrics.train.trainer;
    assert!(
        trainer.starts_with("native (") && !trainer.contains("ONNX Runtime"),
        "{trainer}"
    );
    model
}

/// Every indexed photo as (id, path), sorted by path.
pub fn photos_by_path(engine: &precious_engine::Engine) -> Vec<(i64, PathBuf)> {
    let mut photos: Vec<(i64, PathBuf)> = engine
        .photo_vectors(precious_engine::Space::Embedding)
        .unwrap()
        .into_iter()
        .map(|v| (v.id, PathBuf::from(v.path)))
        .collect();
    photos.sort_by(|a, b| a.1.cmp(&b.1));
    photos
}

/// Copies the folder tree `from` to `to`.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}
