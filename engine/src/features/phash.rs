//! DCT perceptual hash (pHash): 32x32 grayscale, 2-D DCT, the 8x8 lowest frequencies (without
//! the DC term's influence on the threshold) compared with their median. Robust to resizing,
//! re-compression and small exposure changes, which is what near-duplicate shots differ by.

use image::GrayImage;
use std::f32::consts::PI;

/// Photos whose hashes differ in at most this many bits are near-duplicates.
pub const NEAR_DUPLICATE_BITS: u32 = 6;

pub fn phash(gray: &GrayImage) -> u64 {
    const N: usize = 32;
    let small = image::imageops::resize(
        gray,
        N as u32,
        N as u32,
        image::imageops::FilterType::Triangle,
    );
    let px: Vec<f32> = small.pixels().map(|p| p.0[0] as f32).collect();
    // cos table: c[k][n] = cos(pi * (2n + 1) * k / 2N), only the 8 lowest k are needed.
    let mut c = [[0f32; N]; 8];
    for (k, row) in c.iter_mut().enumerate() {
        for (n, v) in row.iter_mut().enumerate() {
            *v = (PI * (2 * n + 1) as f32 * k as f32 / (2 * N) as f32).cos();
        }
    }
    // Rows first (32 rows x 8 coefficients), then columns.
    let mut rows = [[0f32; 8]; N];
    for (y, r) in rows.iter_mut().enumerate() {
        for (k, v) in r.iter_mut().enumerate() {
            *v = (0..N).map(|x| px[y * N + x] * c[k][x]).sum();
        }
    }
    let mut coeffs = [0f32; 64];
    for u in 0..8 {
        for v in 0..8 {
            coeffs[v * 8 + u] = (0..N).map(|y| rows[y][u] * c[v][y]).sum();
        }
    }
    let mut sorted: Vec<f32> = coeffs[1..].to_vec();
    sorted.sort_by(f32::total_cmp);
    let median = sorted[sorted.len() / 2];
    coeffs
        .iter()
        .enumerate()
        .fold(0u64, |h, (i, &v)| if v > median { h | (1 << i) } else { h })
}

pub fn distance(a: u64, b: u64) -> u32 {
    (a ^ b).count_ones()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scene(w: u32, h: u32, shift: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let (fx, fy) = ((x + shift) as f32 / w as f32, y as f32 / h as f32);
            image::Luma([(128.0 + 100.0 * (fx * 6.0).sin() * (fy * 4.0).cos()) as u8])
        })
    }

    #[test]
    fn resized_copy_is_near_and_other_scene_is_far() {
        let a = phash(&scene(400, 300, 0));
        let b = phash(&image::imageops::resize(
            &scene(400, 300, 0),
            200,
            150,
            image::imageops::FilterType::Triangle,
        ));
        let c = phash(&GrayImage::from_fn(400, 300, |x, y| {
            image::Luma([((x ^ y) % 256) as u8])
        }));
        assert!(distance(a, b) <= NEAR_DUPLICATE_BITS, "{}", distance(a, b));
        assert!(distance(a, c) > 16, "{}", distance(a, c));
    }
}
