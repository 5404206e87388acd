//! Checking that two photos that look alike to the embedding are one picture: is one of them,
//! scaled, a window of the other (a crop, or a screenshot's photo area) pixel for pixel?
//!
//! The embedding's cosine is high for any two photos of one kind of scene (two anglers holding
//! a tench), so on its own it groups different photos, as Immich found. The hash is exact but
//! breaks under crops and borders. This check closes the gap: both upright thumbnails are
//! reduced to [`SIDE`] px grey images and one is slid over the other at scales covering
//! [`MIN_COVER`]..1 of its width; the best normalised cross-correlation of the gradient
//! magnitudes (blind to exposure and colour edits; on edges, not on flat areas, so two app
//! screenshots with the same bars and pale body do not match) is the match. Different photos
//! score far below copies.

use image::imageops::FilterType;
use image::GrayImage;

/// Long side of the compared grey images.
pub const SIDE: u32 = 32;
/// The smallest share of the other picture's width a window may cover (crops up to ~25%).
const MIN_COVER: f32 = 0.74;
const SCALES: usize = 8;

/// A photo reduced for matching.
pub struct Print {
    img: GrayImage,
}

impl Print {
    pub fn of(thumb: &image::DynamicImage) -> Print {
        let g = thumb.to_luma8();
        let (w, h) = g.dimensions();
        let k = SIDE as f32 / w.max(h).max(1) as f32;
        let size = |v: u32| ((v as f32 * k).round() as u32).max(1);
        Print {
            img: image::imageops::resize(&g, size(w), size(h), FilterType::Triangle),
        }
    }
}

/// The best correlation of either print, scaled, inside the other (-1..1).
pub fn matched(a: &Print, b: &Print) -> f32 {
    inside(&a.img, &b.img).max(inside(&b.img, &a.img))
}

/// The best correlation of `inner`, scaled to cover a share of `outer`'s width, at any
/// position wholly inside `outer`.
fn inside(inner: &GrayImage, outer: &GrayImage) -> f32 {
    let (ow, oh) = outer.dimensions();
    let outer = &edges(outer);
    let mut best = -1f32;
    for s in 0..SCALES {
        let cover = 1.0 - (1.0 - MIN_COVER) * s as f32 / (SCALES - 1) as f32;
        let w = (ow as f32 * cover).round() as u32;
        let h = (inner.height() as f32 * w as f32 / inner.width() as f32).round() as u32;
        if w < 8 || h < 8 || h > oh {
            continue;
        }
        let small = edges(&image::imageops::resize(inner, w, h, FilterType::Triangle));
        let a: Vec<f32> = small.pixels().map(|p| p.0[0] as f32).collect();
        let mean = a.iter().sum::<f32>() / a.len() as f32;
        let a: Vec<f32> = a.iter().map(|v| v - mean).collect();
        let norm_a = a.iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm_a < 1e-3 {
            continue;
        }
        for y in 0..=oh - h {
            for x in 0..=ow - w {
                best = best.max(ncc(&a, norm_a, outer, x, y, w, h));
            }
        }
    }
    best
}

/// Gradient magnitude (|dx| + |dy|, forward differences, halved to fit a byte), then a 3x3
/// box blur so a sub-pixel misalignment of the two prints costs little.
fn edges(g: &GrayImage) -> GrayImage {
    let (w, h) = g.dimensions();
    let raw = GrayImage::from_fn(w, h, |x, y| {
        let p = g.get_pixel(x, y).0[0] as i32;
        let dx = g.get_pixel((x + 1).min(w - 1), y).0[0] as i32 - p;
        let dy = g.get_pixel(x, (y + 1).min(h - 1)).0[0] as i32 - p;
        image::Luma([((dx.abs() + dy.abs()) / 2).min(255) as u8])
    });
    GrayImage::from_fn(w, h, |x, y| {
        let (mut sum, mut n) = (0u32, 0u32);
        for yy in y.saturating_sub(1)..=(y + 1).min(h - 1) {
            for xx in x.saturating_sub(1)..=(x + 1).min(w - 1) {
                sum += raw.get_pixel(xx, yy).0[0] as u32;
                n += 1;
            }
        }
        image::Luma([(sum / n) as u8])
    })
}

fn ncc(a: &[f32], norm_a: f32, outer: &GrayImage, x: u32, y: u32, w: u32, h: u32) -> f32 {
    let (mut sum, mut sum2, mut dot) = (0f32, 0f32, 0f32);
    let stride = outer.width() as usize;
    let raw = outer.as_raw();
    for r in 0..h as usize {
        let row = &raw[(y as usize + r) * stride + x as usize..][..w as usize];
        let ar = &a[r * w as usize..][..w as usize];
        for (&p, &q) in row.iter().zip(ar) {
            let p = p as f32;
            sum += p;
            sum2 += p * p;
            dot += p * q;
        }
    }
    let n = (w * h) as f32;
    // sum(a) is 0, so the window's mean drops out of the dot product.
    let var_b = (sum2 - sum * sum / n).max(0.0);
    if var_b < 1e-3 {
        return -1.0;
    }
    dot / (norm_a * var_b.sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(w: u32, h: u32, seed: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let (x, y, s) = (x as f32, y as f32, seed as f32);
            let v =
                (x / (23.0 + s) + s).sin() * 60.0 + (y / (31.0 - s) + x / 57.0 * s).cos() * 50.0;
            image::Luma([(120.0 + v) as u8])
        })
    }

    #[test]
    fn a_crop_matches_its_original_and_another_scene_does_not() {
        let orig = scene(400, 300, 1);
        let crop = image::imageops::crop_imm(&orig, 20, 15, 360, 270).to_image();
        let darker = GrayImage::from_fn(360, 270, |x, y| {
            image::Luma([(f32::from(crop.get_pixel(x, y).0[0]) * 0.8) as u8])
        });
        let other = scene(400, 300, 7);
        let p = |g: &GrayImage| Print::of(&image::DynamicImage::ImageLuma8(g.clone()));
        let (same, different) = (
            matched(&p(&orig), &p(&darker)),
            matched(&p(&orig), &p(&other)),
        );
        assert!(same > 0.8 && different < 0.5, "{same} {different}");
    }
}
