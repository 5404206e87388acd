//! The bundled backbone run by tract equals the PyTorch export, and the process's backbone
//! (ONNX Runtime with `--features ort`) classifies known photos.

use crate::common::*;
use precious_engine::decode::{load, Strategy};
use precious_engine::features::backbone::{
    input_tensor, load_onnx, Backbone, Choice, EMBEDDING_DIM,
};
use tract_onnx::prelude::*;

fn read_f32(p: &std::path::Path) -> Vec<f32> {
    std::fs::read(p)
        .unwrap()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes(c.try_into().unwrap()))
        .collect()
}

#[test]
fn tract_matches_the_pytorch_reference() {
    let r = models_dir().join("reference");
    let input = read_f32(&r.join("input.f32"));
    let expected = read_f32(&r.join("features.f32"));
    let tensor: Tensor = tract_ndarray::Array4::from_shape_vec((1, 3, 224, 224), input)
        .unwrap()
        .into();
    let tract = Backbone::load_with(Choice::Tract, None).unwrap();
    let got = tract.run(tensor).unwrap();
    assert_eq!(got.len(), EMBEDDING_DIM);
    let max = max_abs_diff(&got, &expected);
    assert!(max < 1e-4, "max abs diff {max}");
}

#[test]
fn rust_preprocessing_matches_the_python_reference() {
    let r = models_dir().join("reference");
    let bytes = std::fs::read(r.join("synthetic.png")).unwrap();
    let l = load(&bytes, Some("png"), Strategy::Full).unwrap();
    let ours = input_tensor(&l.decoded.image);
    let ours: Vec<f32> = ours
        .to_plain_array_view::<f32>()
        .unwrap()
        .iter()
        .copied()
        .collect();
    let theirs = read_f32(&r.join("input.f32"));
    let mean = ours
        .iter()
        .zip(&theirs)
        .map(|(a, b)| (a - b).abs())
        .sum::<f32>()
        / ours.len() as f32;
    // One 8-bit level is 1/128 = 0.0078 after normalisation.
    assert!(mean < 0.0078, "mean abs diff {mean} (> one 8-bit level)");
}

#[test]
fn known_photos_get_their_imagenet_class() {
    let checks: serde_json::Value = serde_json::from_slice(
        &std::fs::read(models_dir().join("reference/imagenet_checks.json")).unwrap(),
    )
    .unwrap();
    let head = load_onnx(
        &std::fs::read(models_dir().join("imagenet_head.onnx")).unwrap(),
        InferenceFact::dt_shape(f32::datum_type(), [1usize, EMBEDDING_DIM]),
    )
    .unwrap();
    let backbone = Backbone::shared().unwrap();
    let checks = checks["checks"].as_array().unwrap();
    assert!(checks.len() >= 5);
    for c in checks {
        let p = shared_data().join(c["path"].as_str().unwrap());
        let l = load(&std::fs::read(&p).unwrap(), None, Strategy::Fastest).unwrap();
        let emb = backbone.embed(&l.decoded.image).unwrap();
        let t: Tensor = tract_ndarray::Array2::from_shape_vec((1, EMBEDDING_DIM), emb)
            .unwrap()
            .into();
        let logits = head.run(tvec!(t.into())).unwrap();
        let logits = logits[0].to_plain_array_view::<f32>().unwrap();
        let top = logits
            .iter()
            .enumerate()
            .max_by(|a, b| a.1.total_cmp(b.1))
            .unwrap()
            .0;
        assert_eq!(
            top as u64,
            c["expected_index"].as_u64().unwrap(),
            "{}",
            p.display()
        );
    }
}

#[test]
fn model_files_match_their_checksums() {
    use sha2::{Digest, Sha256};
    let sums = std::fs::read_to_string(models_dir().join("SHA256SUMS")).unwrap();
    let mut checked = 0;
    for line in sums.lines().filter(|l| !l.trim().is_empty()) {
        let (hash, name) = line.split_once("  ").expect("sha256sum format");
        let bytes = std::fs::read(models_dir().join(name.trim())).unwrap();
        let got: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(got, hash, "{name}");
        checked += 1;
    }
    assert!(sums.contains("efficientnet_lite0_features.onnx") && checked >= 2);
}
