//! FixMatch (Sohn et al. 2020) views of the working image: the weak view's prediction becomes
//! the pseudo-label that the model must reproduce on the strong view.
//!
//! Ops follow PIL's semantics (every reference implementation is PIL-based), so the paper's
//! magnitude ranges (Table 12) mean what they meant there. Pixels a geometric op uncovers are
//! filled with gray 127: the official code round-trips through RGBA and maps PIL's transparent
//! fill to the normalised 0, i.e. mid-gray, the colour Cutout uses too.

use image::{Rgb, RgbImage};
use imageproc::geometric_transformations::{rotate, translate, warp_with, Border, Interpolation};
use rand_xoshiro::rand_core::{RngCore, SeedableRng};
use rand_xoshiro::Xoshiro256PlusPlus;

/// Fill of uncovered pixels (Rotate, Shear, Translate) and of the Cutout square.
const FILL: Rgb<u8> = Rgb([127; 3]);
/// Weak-view shift bound per side, as a fraction of that side (FixMatch: 4 px of 32, 12 of 96).
const WEAK_SHIFT: f32 = 0.125;
/// RandAugment ops per strong view (FixMatch's N = 2).
const STRONG_OPS: usize = 2;
/// Largest Cutout side, as a fraction of the shorter side.
const CUTOUT_MAX: f32 = 0.5;

/// Weak view: horizontal flip with p = 0.5, then a random translation of up to 12.5% of each side (reflect padding, as in FixMatch).
///
/// The shift is a whole number of pixels, uniform in `[-r, r]` with `r = round(0.125 * side)`
/// per axis: FixMatch's reflect-pad-then-random-crop. Reflection does not repeat the edge pixel.
pub fn weak(img: &RgbImage, seed: u64) -> RgbImage {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let (w, h) = img.dimensions();
    let flip = rng.next_u64() >> 63 == 1;
    let mut shift = |side: u32| {
        let r = (WEAK_SHIFT * side as f32).round() as u32;
        i64::from(below(&mut rng, 2 * r + 1)) - i64::from(r)
    };
    let (dx, dy) = (shift(w), shift(h));
    RgbImage::from_fn(w, h, |x, y| {
        let sx = reflect(i64::from(x) - dx, w);
        let sx = if flip { w - 1 - sx } else { sx };
        *img.get_pixel(sx, reflect(i64::from(y) - dy, h))
    })
}

/// Strong view: RandAugment as FixMatch uses it: 2 ops drawn uniformly from the pool, each with a magnitude drawn uniformly from its range, then Cutout (a gray (127) square of side up to 0.5 * shorter side at a random centre).
///
/// Ops are drawn with replacement and always applied. The Cutout side is uniform in
/// `(0, 0.5]` of the shorter side (at least 1 px); the square is clipped at the borders.
pub fn strong(img: &RgbImage, seed: u64) -> RgbImage {
    strong_traced(img, seed).0
}

/// [`strong`], also returning what it drew: the ops with their magnitudes and the Cutout box
/// `[x0, y0, x1, y1)`.
fn strong_traced(img: &RgbImage, seed: u64) -> (RgbImage, [(Op, f32); STRONG_OPS], [u32; 4]) {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let ops: [(Op, f32); STRONG_OPS] = std::array::from_fn(|_| {
        let op = Op::ALL[below(&mut rng, Op::ALL.len() as u32) as usize];
        (op, unit(&mut rng))
    });
    let mut out = ops
        .iter()
        .fold(img.clone(), |acc, &(op, m)| op.apply(&acc, m));
    let (w, h) = out.dimensions();
    if w == 0 || h == 0 {
        return (out, ops, [0; 4]);
    }
    let side = ((CUTOUT_MAX * w.min(h) as f32 * (1.0 - unit(&mut rng))).round() as i64).max(1);
    let (cx, cy) = (below(&mut rng, w), below(&mut rng, h));
    let span = |c: u32, n: u32| {
        let lo = i64::from(c) - side / 2;
        (lo.max(0) as u32, (lo + side).min(i64::from(n)) as u32)
    };
    let ((x0, x1), (y0, y1)) = (span(cx, w), span(cy, h));
    for y in y0..y1 {
        for x in x0..x1 {
            out.put_pixel(x, y, FILL);
        }
    }
    (out, ops, [x0, y0, x1, y1])
}

/// The op pool, names as in the FixMatch paper (Table 12): AutoContrast, Brightness, Color, Contrast, Equalize, Identity, Posterize, Rotate, Sharpness, ShearX, ShearY, Solarize, TranslateX, TranslateY.
///
/// [`Op::apply`] maps `magnitude` in 0..1 linearly onto the op's Table 12 range, low end first:
///
/// | op | parameter at magnitude 0 → 1 | effect |
/// |---|---|---|
/// | AutoContrast, Equalize, Identity | none | PIL `ImageOps.autocontrast` / `equalize` per channel; no-op |
/// | Brightness, Color, Contrast, Sharpness | factor 0.05 → 0.95 | PIL `ImageEnhance` (1 = identity, 0 = black / gray / mean gray / smoothed) |
/// | Posterize | bits 4 → 8 (`4 + ⌊5m⌋`, capped) | keep the top bits of each channel |
/// | Rotate | −30° → 30° (positive = counter-clockwise, as PIL) | about the centre, bilinear |
/// | ShearX, ShearY | −0.3 → 0.3 | `x += s·(y − cy)` (or `y += s·(x − cx)`), bilinear |
/// | Solarize | threshold 0 → 256 | invert channel values `>=` threshold (0 inverts all, 256 none) |
/// | TranslateX, TranslateY | −0.3 → 0.3 of the width / height | whole pixels (`trunc`) |
///
/// The enhance factors follow the paper's Table 12 (and the common PyTorch port), which only
/// ever degrades; the official TF code instead draws `0.1 + 1.8 * level / 10` with level in
/// 1..=9 (about 0.28..1.72), i.e. it also over-enhances. Shear is about the centre rather than
/// PIL's top-left corner, so that the backbone's centre crop keeps the subject.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Op {
    AutoContrast,
    Brightness,
    Color,
    Contrast,
    Equalize,
    Identity,
    Posterize,
    Rotate,
    Sharpness,
    ShearX,
    ShearY,
    Solarize,
    TranslateX,
    TranslateY,
}

impl Op {
    pub const ALL: [Op; 14] = [
        Op::AutoContrast,
        Op::Brightness,
        Op::Color,
        Op::Contrast,
        Op::Equalize,
        Op::Identity,
        Op::Posterize,
        Op::Rotate,
        Op::Sharpness,
        Op::ShearX,
        Op::ShearY,
        Op::Solarize,
        Op::TranslateX,
        Op::TranslateY,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Op::AutoContrast => "AutoContrast",
            Op::Brightness => "Brightness",
            Op::Color => "Color",
            Op::Contrast => "Contrast",
            Op::Equalize => "Equalize",
            Op::Identity => "Identity",
            Op::Posterize => "Posterize",
            Op::Rotate => "Rotate",
            Op::Sharpness => "Sharpness",
            Op::ShearX => "ShearX",
            Op::ShearY => "ShearY",
            Op::Solarize => "Solarize",
            Op::TranslateX => "TranslateX",
            Op::TranslateY => "TranslateY",
        }
    }

    /// Table 12 range of the op's parameter; `None` for the parameterless ones.
    fn range(self) -> Option<(f32, f32)> {
        match self {
            Op::AutoContrast | Op::Equalize | Op::Identity => None,
            Op::Brightness | Op::Color | Op::Contrast | Op::Sharpness => Some((0.05, 0.95)),
            Op::Posterize => Some((4.0, 8.0)),
            Op::Rotate => Some((-30.0, 30.0)),
            Op::ShearX | Op::ShearY | Op::TranslateX | Op::TranslateY => Some((-0.3, 0.3)),
            Op::Solarize => Some((0.0, 256.0)),
        }
    }

    /// Applies the op at `magnitude` (0..1, clamped) of its range; see [`Op`].
    pub fn apply(self, img: &RgbImage, magnitude: f32) -> RgbImage {
        let (w, h) = img.dimensions();
        if w == 0 || h == 0 {
            return img.clone();
        }
        let m = magnitude.clamp(0.0, 1.0);
        let v = self.range().map_or(0.0, |(lo, hi)| lo + m * (hi - lo));
        let (cx, cy) = ((w - 1) as f32 / 2.0, (h - 1) as f32 / 2.0);
        let fill = Border::Constant(FILL);
        match self {
            Op::Identity => img.clone(),
            Op::AutoContrast => map_channels(img, autocontrast_lut),
            Op::Equalize => map_channels(img, equalize_lut),
            Op::Brightness => blend(&RgbImage::new(w, h), img, v),
            Op::Color => {
                let gray = RgbImage::from_fn(w, h, |x, y| Rgb([luma(img.get_pixel(x, y)); 3]));
                blend(&gray, img, v)
            }
            Op::Contrast => {
                let sum: u64 = img.pixels().map(|p| u64::from(luma(p))).sum();
                let mean = (sum as f64 / f64::from(w * h)).round() as u8;
                blend(&RgbImage::from_pixel(w, h, Rgb([mean; 3])), img, v)
            }
            Op::Sharpness => blend(&smooth(img), img, v),
            Op::Posterize => {
                let mask = 0xffu8 << (4 - ((m * 5.0) as u32).min(4));
                map_channels(img, |_| std::array::from_fn(|i| i as u8 & mask))
            }
            Op::Solarize => {
                let t = v.round() as usize;
                map_channels(img, |_| {
                    std::array::from_fn(|i| if i >= t { 255 - i as u8 } else { i as u8 })
                })
            }
            Op::Rotate => rotate(
                img,
                (cx, cy),
                -v.to_radians(),
                Interpolation::Bilinear,
                fill,
            ),
            Op::ShearX => warp_with(
                img,
                move |x, y| (x + v * (y - cy), y),
                Interpolation::Bilinear,
                fill,
            ),
            Op::ShearY => warp_with(
                img,
                move |x, y| (x, y + v * (x - cx)),
                Interpolation::Bilinear,
                fill,
            ),
            Op::TranslateX => translate(img, ((v * w as f32) as i32, 0), fill),
            Op::TranslateY => translate(img, (0, (v * h as f32) as i32), fill),
        }
    }
}

/// Uniform in [0, 1).
fn unit(rng: &mut impl RngCore) -> f32 {
    (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32
}

/// Uniform in [0, n) (n > 0), by the widening multiply.
fn below(rng: &mut impl RngCore, n: u32) -> u32 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u32
}

/// Index `i` into `0..n` mirrored about the edge pixels (TF/NumPy "reflect").
fn reflect(i: i64, n: u32) -> u32 {
    let n = i64::from(n);
    if n == 1 {
        return 0;
    }
    let i = i.rem_euclid(2 * (n - 1));
    (if i < n { i } else { 2 * (n - 1) - i }) as u32
}

/// PIL's `convert("L")`: ITU-R 601-2 luma in 16-bit fixed point.
fn luma(p: &Rgb<u8>) -> u8 {
    let [r, g, b] = p.0.map(u32::from);
    ((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16) as u8
}

/// PIL's `Image.blend(degenerate, img, factor)`, the core of every `ImageEnhance` op.
fn blend(degenerate: &RgbImage, img: &RgbImage, factor: f32) -> RgbImage {
    let mut out = img.clone();
    for (o, (&d, &s)) in out.iter_mut().zip(degenerate.iter().zip(img.iter())) {
        let (d, s) = (f32::from(d), f32::from(s));
        *o = (d + factor * (s - d)).round().clamp(0.0, 255.0) as u8;
    }
    out
}

/// PIL's `ImageFilter.SMOOTH` (3x3, centre weight 5 of 13); border pixels are kept, as in PIL.
fn smooth(img: &RgbImage) -> RgbImage {
    let (w, h) = img.dimensions();
    let mut out = img.clone();
    for y in 1..h.saturating_sub(1) {
        for x in 1..w.saturating_sub(1) {
            let mut acc = [0u32; 3];
            for (dy, dx) in (0..3).flat_map(|dy| (0..3).map(move |dx| (dy, dx))) {
                let k = if (dx, dy) == (1, 1) { 5 } else { 1 };
                let p = img.get_pixel(x + dx - 1, y + dy - 1);
                for c in 0..3 {
                    acc[c] += k * u32::from(p[c]);
                }
            }
            out.put_pixel(x, y, Rgb(acc.map(|a| ((a + 6) / 13) as u8)));
        }
    }
    out
}

/// Applies, to each channel, the look-up table `lut` builds from that channel's histogram.
fn map_channels(img: &RgbImage, lut: impl Fn(&[u32; 256]) -> [u8; 256]) -> RgbImage {
    let mut hist = [[0u32; 256]; 3];
    for p in img.pixels() {
        for c in 0..3 {
            hist[c][usize::from(p[c])] += 1;
        }
    }
    let luts = hist.map(|h| lut(&h));
    let mut out = img.clone();
    for p in out.pixels_mut() {
        for c in 0..3 {
            p[c] = luts[c][usize::from(p[c])];
        }
    }
    out
}

/// PIL's `ImageOps.autocontrast` (cutoff 0): stretch [min, max] to [0, 255].
fn autocontrast_lut(h: &[u32; 256]) -> [u8; 256] {
    let lo = h.iter().position(|&n| n > 0).unwrap_or(0);
    let hi = h.iter().rposition(|&n| n > 0).unwrap_or(0);
    if hi <= lo {
        return std::array::from_fn(|i| i as u8);
    }
    let scale = 255.0 / (hi - lo) as f32;
    std::array::from_fn(|i| ((i as f32 - lo as f32) * scale).round().clamp(0.0, 255.0) as u8)
}

/// PIL's `ImageOps.equalize`: map each level to its cumulative count before it, scaled so the
/// top level's own count is left out (so the brightest level lands on 255).
fn equalize_lut(h: &[u32; 256]) -> [u8; 256] {
    let identity = std::array::from_fn(|i| i as u8);
    let Some(last) = h.iter().rposition(|&n| n > 0) else {
        return identity;
    };
    let step = (h.iter().sum::<u32>() - h[last]) / 255;
    if step == 0 {
        return identity;
    }
    let mut n = step / 2;
    std::array::from_fn(|i| {
        let v = (n / step).min(255) as u8;
        n += h[i];
        v
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    const GRAY: Rgb<u8> = Rgb([127, 127, 127]);

    /// 64x48, left/right asymmetric: red ramps along x, green along y, a blue box top-left.
    fn sample() -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let b = if (8..24).contains(&x) && (10..30).contains(&y) {
                200
            } else {
                40
            };
            Rgb([(x * 4) as u8, (y * 5) as u8, b])
        })
    }

    /// Channel values within 100..=150 (each channel spans the whole range).
    fn low_contrast() -> RgbImage {
        RgbImage::from_fn(64, 48, |x, y| {
            let v = 100 + (x * 7 + y * 3) % 26 + (x * 5 + y * 11) % 25;
            Rgb([v as u8, (250 - v) as u8, v as u8])
        })
    }

    #[test]
    fn same_seed_same_output_and_seeds_differ() {
        let img = sample();
        for seed in [0, 1, 42, u64::MAX] {
            assert_eq!(weak(&img, seed), weak(&img, seed));
            assert_eq!(strong(&img, seed), strong(&img, seed));
        }
        let weak_views: HashSet<Vec<u8>> = (0..16).map(|s| weak(&img, s).into_raw()).collect();
        let strong_views: HashSet<Vec<u8>> = (0..16).map(|s| strong(&img, s).into_raw()).collect();
        assert!(
            weak_views.len() >= 14,
            "{} distinct weak views",
            weak_views.len()
        );
        assert!(
            strong_views.len() >= 15,
            "{} distinct strong views",
            strong_views.len()
        );
    }

    #[test]
    fn ops_keep_dimensions_and_do_something() {
        let img = sample();
        for op in Op::ALL {
            let mut changed = false;
            for m in [0.0, 0.2, 0.37, 0.8, 1.0] {
                let out = op.apply(&img, m);
                assert_eq!(out.dimensions(), img.dimensions(), "{}", op.name());
                changed |= out != img;
            }
            assert_eq!(changed, op != Op::Identity, "{}", op.name());
        }
        assert_eq!(strong(&img, 3).dimensions(), img.dimensions());
        assert_eq!(weak(&img, 3).dimensions(), img.dimensions());
        let names: HashSet<&str> = Op::ALL.iter().map(|op| op.name()).collect();
        assert_eq!(names.len(), 14);
    }

    #[test]
    fn identity_and_neutral_magnitudes_are_exact() {
        let img = sample();
        assert_eq!(Op::Identity.apply(&img, 0.3), img);
        // Midpoint of a symmetric range = no motion; top of Posterize / Solarize = no change.
        for op in [
            Op::Rotate,
            Op::ShearX,
            Op::ShearY,
            Op::TranslateX,
            Op::TranslateY,
        ] {
            assert_eq!(op.apply(&img, 0.5), img, "{}", op.name());
        }
        assert_eq!(Op::Posterize.apply(&img, 1.0), img);
        assert_eq!(Op::Solarize.apply(&img, 1.0), img);
    }

    #[test]
    fn equalize_flattens_the_histogram_of_a_low_contrast_image() {
        let img = low_contrast();
        let out = Op::Equalize.apply(&img, 0.5);
        let total = (img.width() * img.height()) as f32;
        for c in 0..3 {
            let values: Vec<u8> = out.pixels().map(|p| p[c]).collect();
            assert_eq!(values.iter().max(), Some(&255));
            assert!(*values.iter().min().unwrap() < 16);
            // Quarters of the range hold a quarter of the pixels each (stretching alone
            // would leave the triangular input at about 12/38/38/12 %).
            for q in 0..4u8 {
                let n = values.iter().filter(|&&v| v / 64 == q).count() as f32;
                assert!(
                    (n / total - 0.25).abs() < 0.06,
                    "channel {c} quarter {q}: {}",
                    n / total
                );
            }
        }
    }

    #[test]
    fn solarize_zero_threshold_inverts_and_mid_threshold_splits() {
        let img = sample();
        let mut inverted = img.clone();
        inverted.iter_mut().for_each(|v| *v = 255 - *v);
        assert_eq!(Op::Solarize.apply(&img, 0.0), inverted);
        let half = Op::Solarize.apply(&img, 0.5); // threshold 128
        for (&o, &i) in half.iter().zip(img.iter()) {
            assert_eq!(o, if i >= 128 { 255 - i } else { i });
        }
    }

    #[test]
    fn posterize_four_bits_leaves_sixteen_levels() {
        let img = sample();
        let out = Op::Posterize.apply(&img, 0.0);
        for c in 0..3 {
            let levels: HashSet<u8> = out.pixels().map(|p| p[c]).collect();
            assert!(
                levels.len() <= 16 && levels.iter().all(|v| v % 16 == 0),
                "{levels:?}"
            );
        }
        let reds: HashSet<u8> = out.pixels().map(|p| p[0]).collect();
        assert_eq!(reds.len(), 16); // 64 red levels in, 16 out
    }

    #[test]
    fn autocontrast_stretches_to_full_range() {
        let img = low_contrast();
        let out = Op::AutoContrast.apply(&img, 0.5);
        for c in 0..3 {
            let (lo, hi) = out
                .pixels()
                .fold((255, 0), |(lo, hi), p| (p[c].min(lo), p[c].max(hi)));
            assert_eq!((lo, hi), (0, 255), "channel {c}");
        }
        // Monotone: order of values preserved.
        let mut pairs: Vec<(u8, u8)> = img
            .pixels()
            .zip(out.pixels())
            .map(|(i, o)| (i[0], o[0]))
            .collect();
        pairs.sort();
        assert!(pairs.windows(2).all(|w| w[0].1 <= w[1].1));
    }

    #[test]
    fn enhance_ops_degrade_towards_their_degenerate_image() {
        let img = sample();
        let dark = Op::Brightness.apply(&img, 0.0); // factor 0.05
        for (&o, &i) in dark.iter().zip(img.iter()) {
            assert!((f32::from(o) - 0.05 * f32::from(i)).abs() <= 1.0);
        }
        let gray = Op::Color.apply(&img, 0.0);
        assert!(gray
            .pixels()
            .all(|p| p.0.iter().max().unwrap() - p.0.iter().min().unwrap() <= 13));
        let spread = |im: &RgbImage| {
            let v: Vec<f32> = im.pixels().map(|p| f32::from(luma(p))).collect();
            let mean = v.iter().sum::<f32>() / v.len() as f32;
            (v.iter().map(|x| (x - mean).powi(2)).sum::<f32>() / v.len() as f32).sqrt()
        };
        assert!(spread(&Op::Contrast.apply(&img, 0.0)) < 0.1 * spread(&img));
        let checker = RgbImage::from_fn(16, 16, |x, y| {
            Rgb([if (x + y) % 2 == 0 { 0 } else { 255 }; 3])
        });
        let soft = Op::Sharpness.apply(&checker, 0.0);
        assert_eq!(soft.get_pixel(0, 0), checker.get_pixel(0, 0)); // border kept, as in PIL
        let p = soft.get_pixel(5, 5)[0]; // was 0; smoothed = 4 * 255 / 13 = 78
        assert!((70..=80).contains(&p), "{p}");
    }

    #[test]
    fn translate_moves_whole_pixels_and_fills_gray() {
        let img = sample();
        let out = Op::TranslateX.apply(&img, 1.0); // 0.3 * 64 = 19.2 -> 19 px
        for (x, y, p) in out.enumerate_pixels() {
            let want = if x < 19 {
                GRAY
            } else {
                *img.get_pixel(x - 19, y)
            };
            assert_eq!(*p, want, "({x}, {y})");
        }
        let rotated = Op::Rotate.apply(&img, 0.0); // -30 degrees: corners uncovered
        assert_eq!(*rotated.get_pixel(0, 0), GRAY);
        assert_eq!(*rotated.get_pixel(63, 47), GRAY);
    }

    /// Independent reference for the weak view: flip, then shift with mirrored borders.
    fn shifted(img: &RgbImage, flip: bool, dx: i64, dy: i64) -> RgbImage {
        let mirror = |mut i: i64, n: i64| loop {
            if i < 0 {
                i = -i;
            } else if i >= n {
                i = 2 * (n - 1) - i;
            } else {
                return i as u32;
            }
        };
        let (w, h) = img.dimensions();
        RgbImage::from_fn(w, h, |x, y| {
            let sx = mirror(i64::from(x) - dx, i64::from(w));
            let sx = if flip { w - 1 - sx } else { sx };
            *img.get_pixel(sx, mirror(i64::from(y) - dy, i64::from(h)))
        })
    }

    #[test]
    fn weak_is_a_flip_and_a_bounded_reflect_shift() {
        let img = sample();
        let (mut flips, mut shifts) = (0, HashSet::new());
        for seed in 0..64 {
            let out = weak(&img, seed);
            // The only (flip, dx, dy) within 12.5% (8 x 6 px) whose interior matches...
            let matches: Vec<(bool, i64, i64)> = [false, true]
                .into_iter()
                .flat_map(|f| (-8..=8).flat_map(move |dx| (-6..=6).map(move |dy| (f, dx, dy))))
                .filter(|&(f, dx, dy)| {
                    let want = shifted(&img, f, dx, dy);
                    (8..56).all(|x| (6..42).all(|y| out.get_pixel(x, y) == want.get_pixel(x, y)))
                })
                .collect();
            assert_eq!(matches.len(), 1, "seed {seed}: {matches:?}");
            // ...and it explains the border too (reflect padding).
            let (f, dx, dy) = matches[0];
            assert_eq!(out, shifted(&img, f, dx, dy), "seed {seed}");
            flips += usize::from(f);
            shifts.insert((dx, dy));
        }
        assert!((20..=44).contains(&flips), "{flips} flips in 64");
        assert!(shifts.len() > 30, "{} distinct shifts", shifts.len());
    }

    #[test]
    fn strong_is_two_uniform_ops_then_a_gray_cutout() {
        let img = sample();
        let mut seen = HashSet::new();
        let mut big = 0;
        for seed in 0..300 {
            let (out, ops, [x0, y0, x1, y1]) = strong_traced(&img, seed);
            assert_eq!(out, strong(&img, seed));
            assert!(x0 < x1 && y0 < y1 && x1 <= 64 && y1 <= 48);
            assert!(
                x1 - x0 <= 24 && y1 - y0 <= 24,
                "cutout side up to half of 48"
            );
            big += usize::from((x1 - x0) * (y1 - y0) >= 100);
            let before_cutout = ops
                .iter()
                .fold(img.clone(), |acc, &(op, m)| op.apply(&acc, m));
            for (x, y, p) in out.enumerate_pixels() {
                let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
                assert_eq!(
                    *p,
                    if inside {
                        GRAY
                    } else {
                        *before_cutout.get_pixel(x, y)
                    }
                );
            }
            seen.extend(ops.iter().map(|(op, _)| *op));
            assert!(ops.iter().all(|(_, m)| (0.0..1.0).contains(m)));
        }
        assert_eq!(seen.len(), 14, "every op gets drawn");
        assert!(big > 100, "{big} of 300 cutouts cover >= 100 px");
    }
}
