//! The ONNX Runtime backbone backend (`ort` feature): same embeddings as tract, and a clean
//! fall-back to tract when the library is missing or is not ONNX Runtime.
//!
//! Needs the library: `tests/tools/fetch_onnxruntime` (or `ORT_DYLIB_PATH`). Without it the
//! parity test fails on purpose. Loaders get their library path explicitly
//! ([`Backbone::load_with`]) so that the tests never change the process environment.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::common::*;
use precious_engine::decode::{load, Strategy};
use precious_engine::features::backbone::{input_tensor, Backbone, Backend, Choice, EMBEDDING_DIM};
use rayon::prelude::*;

/// Working images (what the scan embeds) of the demo gallery's camera photos that decode.
fn working_images(n: usize) -> Vec<(PathBuf, image::RgbImage)> {
    sorted_files(&demo_gallery().join("DCIM/Camera"))
        .into_iter()
        .filter_map(|p| {
            let bytes = std::fs::read(&p).ok()?;
            let l = load(&bytes, Some("jpg"), Strategy::Fastest).ok()?;
            Some((p, l.decoded.image))
        })
        .take(n)
        .collect()
}

fn ort_backbone() -> Backbone {
    let b = Backbone::load_with(Choice::Ort, None).unwrap();
    assert_eq!(
        b.backend(),
        Backend::Ort,
        "ONNX Runtime did not load: {}",
        b.note()
    );
    b
}

#[test]
fn ort_embeddings_match_tract() {
    let ort = ort_backbone();
    assert!(ort.note().contains("ONNX Runtime"), "{}", ort.note());
    let tract = Backbone::load_with(Choice::Tract, None).unwrap();
    assert_eq!(tract.backend(), Backend::Tract);
    let images = working_images(16);
    assert!(
        images.len() >= 8,
        "only {} demo photos decode",
        images.len()
    );
    let mut max = 0f32;
    for (p, img) in &images {
        let a = tract.embed(img).unwrap();
        let b = ort.embed(img).unwrap();
        assert_eq!((a.len(), b.len()), (EMBEDDING_DIM, EMBEDDING_DIM));
        let d = max_abs_diff(&a, &b);
        assert!(d <= 1e-4, "{}: max abs diff {d}", p.display());
        max = max.max(d);
    }
    eprintln!(
        "tract vs ONNX Runtime on {} photos: max abs diff {max:e}",
        images.len()
    );
}

#[test]
fn ort_matches_the_pytorch_reference() {
    let r = models_dir().join("reference");
    let read = |p: &Path| -> Vec<f32> {
        std::fs::read(p)
            .unwrap()
            .chunks_exact(4)
            .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
            .collect()
    };
    let input = read(&r.join("input.f32"));
    let expected = read(&r.join("features.f32"));
    let tensor =
        tract_onnx::prelude::tract_ndarray::Array4::from_shape_vec((1, 3, 224, 224), input)
            .unwrap()
            .into();
    let got = ort_backbone().run(tensor).unwrap();
    let max = max_abs_diff(&got, &expected);
    assert!(max < 1e-4, "max abs diff {max}");
}

#[test]
fn runs_from_many_threads_at_once() {
    let ort = ort_backbone();
    let images = working_images(6);
    let alone: Vec<Vec<f32>> = images.iter().map(|(_, i)| ort.embed(i).unwrap()).collect();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(3)
        .build()
        .unwrap();
    let together: Vec<Vec<f32>> = pool.install(|| {
        images
            .par_iter()
            .map(|(_, i)| ort.embed(i).unwrap())
            .collect()
    });
    assert_eq!(alone, together);
}

fn assert_falls_back(library: &Path, reason: &str) {
    for choice in [Choice::Ort, Choice::Auto] {
        let b = Backbone::load_with(choice, Some(library)).unwrap();
        eprintln!("{choice:?}, {}: {}", library.display(), b.note());
        assert_eq!(b.backend(), Backend::Tract, "{choice:?}: {}", b.note());
        assert!(b.note().contains(reason), "{choice:?}: {}", b.note());
        assert!(
            b.note().contains("fetch_onnxruntime"),
            "{choice:?}: {}",
            b.note()
        );
        let emb = b.embed(&scene(300, 256)).unwrap();
        assert_eq!(emb.len(), EMBEDDING_DIM);
    }
}

#[test]
fn a_missing_library_falls_back_to_tract() {
    let tmp = tempfile::tempdir().unwrap();
    assert_falls_back(
        &tmp.path().join("libonnxruntime.so.1.32.0"),
        "ONNX Runtime not found at",
    );
}

#[test]
fn a_file_that_is_not_a_library_falls_back_to_tract() {
    let tmp = tempfile::tempdir().unwrap();
    let fake = tmp.path().join("libonnxruntime.so.1.32.0");
    std::fs::write(&fake, "not a shared library\n").unwrap();
    assert_falls_back(&fake, "is not a loadable library");
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[test]
fn a_library_that_is_not_onnx_runtime_falls_back_to_tract() {
    // A bare name goes to the dynamic loader: glibc's libm is always there.
    assert_falls_back(Path::new("libm.so.6"), "is not ONNX Runtime");
}

#[test]
fn tract_when_chosen() {
    let b = Backbone::load_with(Choice::Tract, None).unwrap();
    assert_eq!(b.backend(), Backend::Tract);
    assert_eq!(b.note(), "tract (chosen)");
}

/// Per-photo embedding time, one thread, and throughput on 2 rayon threads, for both backends:
/// `cargo test -p precious-engine --features ort --test ort_backend -- --ignored --nocapture`
/// (set `PRECIOUS_ORT_THREADS` to try more intra-op threads per run).
#[test]
#[ignore = "a measurement, not a check"]
fn measure_embedding_speed() {
    let images: Vec<image::RgbImage> = working_images(60).into_iter().map(|(_, i)| i).collect();
    eprintln!("{} working images", images.len());
    for backbone in [
        Backbone::load_with(Choice::Tract, None).unwrap(),
        ort_backbone(),
    ] {
        let name = backbone.backend().name();
        for img in images.iter().take(3) {
            backbone.embed(img).unwrap(); // warm up
        }
        let mut ms: Vec<f64> = images
            .iter()
            .map(|img| {
                let t = Instant::now();
                backbone.embed(img).unwrap();
                t.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        ms.sort_by(f64::total_cmp);
        let inputs: Vec<_> = images.iter().map(input_tensor).collect();
        let mut run_ms: Vec<f64> = inputs
            .into_iter()
            .map(|t| {
                let start = Instant::now();
                backbone.run(t).unwrap();
                start.elapsed().as_secs_f64() * 1e3
            })
            .collect();
        run_ms.sort_by(f64::total_cmp);
        eprintln!(
            "{name}: one thread, median {:.2} ms/photo (min {:.2}, max {:.2}); model alone {:.2}",
            ms[ms.len() / 2],
            ms[0],
            ms[ms.len() - 1],
            run_ms[run_ms.len() / 2]
        );
        for threads in [1, 2] {
            let pool = rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .unwrap();
            pool.install(|| {
                images.par_iter().for_each(|i| {
                    backbone.embed(i).unwrap();
                })
            });
            let rounds = 3;
            let t = Instant::now();
            for _ in 0..rounds {
                pool.install(|| {
                    images.par_iter().for_each(|i| {
                        backbone.embed(i).unwrap();
                    })
                });
            }
            let per_s = (rounds * images.len()) as f64 / t.elapsed().as_secs_f64();
            eprintln!("{name}: {threads} rayon threads, {per_s:.1} embeddings/s");
        }
        eprintln!("  ({})", backbone.note());
    }
}
