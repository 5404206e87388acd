//! Cheap image-quality signals that explain suggestions ("blurry", "dark") and feed the head.

use image::{GrayImage, RgbImage};
use serde::Serialize;

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Quality {
    /// Variance of the 4-neighbour Laplacian on the working image (higher = sharper). Measured
    /// at 256 px, so it flags strong blur, not missed focus visible only at full size.
    pub sharpness: f32,
    /// Mean luma, 0..=255.
    pub brightness: f32,
    /// Share of pixels with luma <= 8 (crushed shadows).
    pub dark_share: f32,
    /// Share of pixels with luma >= 247 (blown highlights).
    pub bright_share: f32,
    /// Hasler and Suesstrunk's colorfulness (0 = grayscale; above ~60 = very colourful).
    pub colorfulness: f32,
}

pub fn measure(rgb: &RgbImage, gray: &GrayImage) -> Quality {
    let n = (gray.width() * gray.height()).max(1) as f32;
    let (mut sum, mut dark, mut bright) = (0f64, 0u32, 0u32);
    for p in gray.pixels() {
        let v = p.0[0];
        sum += v as f64;
        dark += (v <= 8) as u32;
        bright += (v >= 247) as u32;
    }
    Quality {
        sharpness: laplacian_variance(gray),
        brightness: (sum / n as f64) as f32,
        dark_share: dark as f32 / n,
        bright_share: bright as f32 / n,
        colorfulness: colorfulness(rgb),
    }
}

fn laplacian_variance(g: &GrayImage) -> f32 {
    let (w, h) = (g.width() as usize, g.height() as usize);
    if w < 3 || h < 3 {
        return 0.0;
    }
    let px = g.as_raw();
    let (mut s, mut s2, mut n) = (0f64, 0f64, 0f64);
    for y in 1..h - 1 {
        for x in 1..w - 1 {
            let i = y * w + x;
            let l = px[i - 1] as f64 + px[i + 1] as f64 + px[i - w] as f64 + px[i + w] as f64
                - 4.0 * px[i] as f64;
            s += l;
            s2 += l * l;
            n += 1.0;
        }
    }
    let mean = s / n;
    (s2 / n - mean * mean) as f32
}

fn colorfulness(rgb: &RgbImage) -> f32 {
    let n = (rgb.width() * rgb.height()).max(1) as f64;
    let (mut srg, mut srg2, mut syb, mut syb2) = (0f64, 0f64, 0f64, 0f64);
    for p in rgb.pixels() {
        let [r, g, b] = p.0.map(|v| v as f64);
        let rg = r - g;
        let yb = 0.5 * (r + g) - b;
        srg += rg;
        srg2 += rg * rg;
        syb += yb;
        syb2 += yb * yb;
    }
    let (mrg, myb) = (srg / n, syb / n);
    let (vrg, vyb) = (
        (srg2 / n - mrg * mrg).max(0.0),
        (syb2 / n - myb * myb).max(0.0),
    );
    ((vrg + vyb).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt()) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blur_lowers_sharpness_and_gray_has_no_colour() {
        let rgb = RgbImage::from_fn(256, 256, |x, y| {
            image::Rgb([((x * 13) ^ (y * 7)) as u8, (x * 2) as u8, y as u8])
        });
        let gray = image::DynamicImage::ImageRgb8(rgb.clone()).into_luma8();
        let blurred = image::imageops::blur(&gray, 3.0);
        assert!(laplacian_variance(&blurred) < laplacian_variance(&gray) / 10.0);
        assert!(colorfulness(&rgb) > 10.0);
        let grey_rgb = image::DynamicImage::ImageLuma8(gray.clone()).to_rgb8();
        assert!(colorfulness(&grey_rgb) < 0.01);
        let dark = GrayImage::from_pixel(10, 10, image::Luma([3]));
        let q = measure(
            &image::DynamicImage::ImageLuma8(dark.clone()).to_rgb8(),
            &dark,
        );
        assert_eq!(q.dark_share, 1.0);
        assert_eq!(q.bright_share, 0.0);
    }
}
