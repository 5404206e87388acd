//! The head's input rows, assembled from a real scan of the demo gallery.

use crate::common::*;
use precious_engine::learn::dataset::{self, signal_names, Standardizer};
use precious_engine::{Engine, ScanOptions};

#[test]
fn rows_carry_embedding_and_signals() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.sqlite");
    let mut engine = Engine::open(&db).unwrap();
    engine
        .scan_folders(&[demo_gallery()], &ScanOptions::default(), &mut |_| {})
        .unwrap();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let d = dataset::load(&conn).unwrap();
    let indexed = engine.status().unwrap().photos.indexed as usize;
    assert_eq!(d.ids.len(), indexed);
    assert_eq!(d.embedding_dims, 1280);
    let names = signal_names(64);
    assert_eq!(d.x.ncols(), 1280 + names.len());
    let col = |name: &str| 1280 + names.iter().position(|n| n == name).unwrap();
    for (i, id) in d.ids.iter().enumerate() {
        let p = engine.photo(*id).unwrap();
        let row = d.x.row(i);
        let norm: f32 = row.iter().take(1280).map(|v| v * v).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-3, "embedding is L2-normalised");
        assert_eq!(
            row[col("folder_screenshot")] == 1.0,
            p.path.to_lowercase().contains("screenshot")
        );
        assert_eq!(row[col("png")] == 1.0, p.format.as_deref() == Some("png"));
        assert_eq!(
            row[col("camera_exif")] == 1.0,
            p.has_camera_exif == Some(true)
        );
        assert!(row.iter().all(|v| v.is_finite()));
    }
    assert!(
        d.near_duplicates.iter().any(|&n| n > 0),
        "the demo's bursts are near-duplicates"
    );
    let s = Standardizer::fit(&d.x, d.embedding_dims);
    let z = s.apply(&d.x);
    let c = z.column(col("brightness"));
    assert!((c.sum() / c.len() as f32).abs() < 1e-4);
    assert_eq!(
        z.column(0),
        d.x.column(0),
        "embedding columns are left as they are"
    );
}
