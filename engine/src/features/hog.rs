//! Histogram of oriented gradients on a 128x128 grayscale version of the photo: the seed
//! project's layout feature, kept for clustering comparisons and as a cheap learning input.
//!
//! Parameters (the seed used 8 orientations, 8-px cells, 1x1 blocks = 2,048 values): 9 unsigned
//! orientations, 16-px cells, 2x2-cell blocks with stride 1 (L2-normalised by imageproc) =
//! 7*7*4*9 = 1,764 values. Larger cells describe layout at thumbnail scale rather than texture,
//! and block normalisation makes the descriptor robust to exposure, which the seed's 1x1 blocks
//! were not.

use image::GrayImage;
use imageproc::hog::HogOptions;

pub const HOG_SIDE: u32 = 128;
pub const HOG_DIM: usize = 1764;

fn options() -> HogOptions {
    HogOptions {
        orientations: 9,
        signed: false,
        cell_side: 16,
        block_side: 2,
        block_stride: 1,
    }
}

/// HOG of the image squashed to 128x128 (as the seed did: aspect ratio is not kept).
pub fn hog(gray: &GrayImage) -> Vec<f32> {
    let small = image::imageops::resize(
        gray,
        HOG_SIDE,
        HOG_SIDE,
        image::imageops::FilterType::Triangle,
    );
    imageproc::hog::hog(&small, options()).expect("128x128 fits the HOG layout")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimension_and_range() {
        let img = GrayImage::from_fn(300, 200, |x, y| {
            image::Luma([((x * 7 + y * 3) % 256) as u8])
        });
        let h = hog(&img);
        assert_eq!(h.len(), HOG_DIM);
        assert!(h.iter().all(|v| (0.0..=1.0001).contains(v)));
        assert!(h.iter().any(|v| *v > 0.0));
    }

    #[test]
    fn vertical_and_horizontal_edges_differ() {
        let v = GrayImage::from_fn(128, 128, |x, _| {
            image::Luma([if (x / 8) % 2 == 0 { 0 } else { 255 }])
        });
        let h = GrayImage::from_fn(128, 128, |_, y| {
            image::Luma([if (y / 8) % 2 == 0 { 0 } else { 255 }])
        });
        let (a, b) = (hog(&v), hog(&h));
        let dot: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        let na: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        let nb: f32 = b.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!(dot / (na * nb) < 0.5, "cosine {}", dot / (na * nb));
    }
}
