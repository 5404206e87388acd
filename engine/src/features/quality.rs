//! Cheap image-quality signals that explain suggestions ("blurry", "dark") and feed the head.
//!
//! All come from the 256-px working image but one: [`blur`], measured in a window of the photo
//! at full resolution ([`detail_window`], decoded by [`crate::decode::detail`]), because a blur
//! of a few pixels of a 12 MP photo vanishes at 1/8 scale, and because the working image's
//! Laplacian variance ([`Quality::sharpness`]) measures texture as much as focus: a sharp photo
//! of a plain wall has almost none.
//!
//! # The blur measure, and why this one
//!
//! The width of the edges. At each edge point of the window (a local maximum of the gradient
//! across the edge, where the contrast across it, `C` = the difference of the 3x3-smoothed image
//! [`SPAN`] pixels to either side, is at least [`MIN_CONTRAST`] levels), the width is `C` over
//! the gradient there (Sobel on the unsmoothed luma): a step blurred by a Gaussian of sigma `s`
//! is about `2.5 s` wide, a sharp phone photo's edges 1-3 pixels, and the span caps widths near
//! `2 SPAN`. Edge points are binned by the orientation of the edge (4 bins), each bin with at
//! least [`MIN_EDGES`] points and a twentieth of them gives the lower quartile of its widths
//! (the sharpest quarter: the in-focus part of a photo whose background is soft; at least
//! [`MIN_WIDTH`]), and the measure is the median over the bins times the widest bin's over the
//! narrowest's: defocus widens every orientation, camera shake the ones across its direction. Contrast is what selects the edges, so a plain
//! wall, sky or sensor grain gives no edge points: the measure is then 0 (nothing there looks
//! blurred), never "blurry".
//!
//! Chosen on `precious-bench blur` (BENCHMARKS.md): 30 real photos at 12 MP, their Gaussian
//! (sigma 2, 4, 8 px) and motion-blurred (15, 30 px) copies, and plain crops with grain, as JPEG
//! q90. Against the working image's Laplacian variance (AUROC sharp vs blurred 0.55-0.82 by
//! kind) and, in the same window, Crete-Roffet et al.'s blur effect (2007; 0.83-0.96), the
//! Laplacian variance (0.78-1.0, but a plain crop scores blurrier than a sigma-2 copy) or the
//! single-orientation edge width (0.84-1.0), this one separated best (0.85-1.0, motion
//! 0.98-1.0), also with grain added (sigma 2 levels: 0.84-0.97) or re-encoded at q70; a window
//! chosen where the working image has the most gradient beat the centre by 0.05-0.2 AUROC.
//! Parameters from the same sweep: span 4 (3, 5, 6, 8 tried), contrast 8 (12, 20, 30), lower
//! quartile (median), Sobel gradient (central differences: less robust to grain).

use image::{GrayImage, RgbImage};
use serde::Serialize;

use crate::decode::Region;

#[derive(Clone, Copy, Debug, Default, Serialize, PartialEq)]
pub struct Quality {
    /// Variance of the 4-neighbour Laplacian on the working image (higher = sharper). Measured
    /// at 256 px, so it flags strong blur, not missed focus visible only at full size, and it
    /// is low for plain content; kept to rank near-duplicates (the sharpest shot of a group).
    pub sharpness: f32,
    /// Mean luma, 0..=255.
    pub brightness: f32,
    /// Share of pixels with luma <= 8 (crushed shadows).
    pub dark_share: f32,
    /// Share of pixels with luma >= 247 (blown highlights).
    pub bright_share: f32,
    /// Hasler and Suesstrunk's colorfulness (0 = grayscale; above ~60 = very colourful).
    pub colorfulness: f32,
    /// Blur at full resolution ([`blur`]): about the edges' width in pixels of the full image,
    /// times their anisotropy (higher = blurrier; sharp phone photos 1-6, [`BLURRY`] and
    /// above is blurry; 0 when there are no edges to judge, such as a plain wall or sky).
    /// `None`: not measured (no full-resolution window could be had, as for JPEGs in builds
    /// without libjpeg-turbo, or indexed before it existed).
    pub blur: Option<f32>,
}

/// [`Quality::blur`] at and above which a photo is blurry: chosen on `precious-bench blur`
/// (BENCHMARKS.md), where no sharp photo reached it while most copies blurred by a Gaussian of
/// sigma 4 px or more, or shaken over 15 px or more, did.
pub const BLURRY: f32 = 6.0;

/// Side of the square window, in pixels of the full image, where [`blur`] is measured.
pub const DETAIL_SIDE: u32 = 512;
/// Pixels to either side of an edge point over which its contrast is taken.
pub const SPAN: usize = 4;
/// Contrast (luma levels) across an edge below which the point is not an edge.
pub const MIN_CONTRAST: f32 = 8.0;
/// Edge points an orientation needs to count, and at least 1 / `MIN_SHARE` of all of them.
pub const MIN_EDGES: usize = 48;
pub const MIN_SHARE: usize = 20;
/// Narrowest width an orientation's quartile is taken as (pixels): narrower is texture finer
/// than an edge, and would make the anisotropy explode.
pub const MIN_WIDTH: f32 = 1.0;

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
        blur: None,
    }
}

/// Where blur is worth measuring: the [`DETAIL_SIDE`] square of the upright full image (`full`
/// = its size; smaller images: their shorter side) whose footprint in the working image
/// holds the most gradient (of `(r + 2g + b) / 4`), so the window falls on the subject's
/// detail rather than on sky, and on the in-focus part rather than on a soft background.
pub fn detail_window(working: &RgbImage, full: (u32, u32)) -> Region {
    let gray: Vec<u8> = working
        .pixels()
        .map(|p| ((p.0[0] as u16 + 2 * p.0[1] as u16 + p.0[2] as u16) / 4) as u8)
        .collect();
    let (gw, gh) = (working.width() as usize, working.height() as usize);
    let (fw, fh) = full;
    let side = DETAIL_SIDE.min(fw).min(fh).max(1);
    let centre = if gw < 2 || gh < 2 {
        (fw / 2, fh / 2)
    } else {
        // The window's footprint in the working image.
        let scale = gw.min(gh) as f64 / fw.min(fh).max(1) as f64;
        let ws = ((side as f64 * scale).round() as usize).clamp(1, gw.min(gh) - 1);
        let px = &gray;
        // Integral image of |dx| + |dy| over the (gw - 1) x (gh - 1) grid.
        let (iw, ih) = (gw - 1, gh - 1);
        let mut ii = vec![0u64; (iw + 1) * (ih + 1)];
        for y in 0..ih {
            let mut row = 0u64;
            for x in 0..iw {
                let i = y * gw + x;
                let g = px[i].abs_diff(px[i + 1]) as u64 + px[i].abs_diff(px[i + gw]) as u64;
                row += g;
                ii[(y + 1) * (iw + 1) + x + 1] = ii[y * (iw + 1) + x + 1] + row;
            }
        }
        let at = |x: usize, y: usize| ii[y * (iw + 1) + x];
        let mut best = (0u64, 0usize, 0usize);
        // Every other position: the window is 40-odd pixels wide here.
        for y in (0..=ih.saturating_sub(ws)).step_by(2) {
            for x in (0..=iw.saturating_sub(ws)).step_by(2) {
                let s = at(x + ws, y + ws) + at(x, y) - at(x + ws, y) - at(x, y + ws);
                if s > best.0 {
                    best = (s, x, y);
                }
            }
        }
        let (cx, cy) = (
            best.1 as f64 + ws as f64 / 2.0,
            best.2 as f64 + ws as f64 / 2.0,
        );
        (
            (cx * fw as f64 / gw as f64) as u32,
            (cy * fh as f64 / gh as f64) as u32,
        )
    };
    let start = |c: u32, len: u32| c.saturating_sub(side / 2).min(len - side);
    Region {
        x: start(centre.0, fw),
        y: start(centre.1, fh),
        w: side,
        h: side,
    }
}

/// The blur measure (see the module documentation) of a full-resolution luma window: 0 when it
/// holds too few edges to judge; `None` if it is too small to hold any.
///
/// In integers where it can be (3x3 sums, not means; Sobel sums), along the 8 directions of the
/// pixel grid (the contrast is taken [`SPAN`] pixels away along the axis, or 3 diagonal steps,
/// 4.2 pixels), on every other row and column (edges are lines: a textured window keeps
/// thousands of points), and on squared widths (the quartile of the squares is the square of
/// the quartile): about 1 ms per window.
pub fn blur(luma: &GrayImage) -> Option<f32> {
    let (w, h) = (luma.width() as usize, luma.height() as usize);
    let margin = SPAN + 2;
    if w <= 2 * margin || h <= 2 * margin {
        return None;
    }
    let f = luma.as_raw();
    let m = box3_sums(f, w, h);
    // Gradient of the smoothed image (central differences of 3x3 sums: 18 per level per
    // pixel): the edge's normal, and the non-maximum suppression that finds its steepest point.
    let at = |i: usize| m[i] as i32;
    let mag2 = |i: usize| {
        let (sx, sy) = (at(i + 1) - at(i - 1), at(i + w) - at(i - w));
        sx * sx + sy * sy
    };
    // Below 1 level per pixel at its steepest, an edge cannot reach the contrast over the span.
    let min_grad = (18.0 * MIN_CONTRAST / (2 * SPAN) as f32) as i32;
    let min_contrast = (9.0 * MIN_CONTRAST) as i32;
    let (wi, span, diag) = (w as isize, SPAN as isize, (SPAN as isize * 3).div_euclid(4));
    let mut bins: [Vec<f32>; 4] = Default::default();
    for y in (margin..h - margin).step_by(2) {
        for x in (margin..w - margin).step_by(2) {
            let i = y * w + x;
            let (sx, sy) = (at(i + 1) - at(i - 1), at(i + w) - at(i - w));
            let here = sx * sx + sy * sy;
            if here < min_grad * min_grad {
                continue;
            }
            // The edge's orientation to the nearest 45 degrees (tan 22.5 = 0.4142), the
            // neighbour across it, and the offset its contrast is taken at.
            let (ax, ay) = (sx.abs() as i64, sy.abs() as i64);
            let (bin, step, reach) = if ay * 10_000 <= ax * 4_142 {
                (0, 1, span)
            } else if ax * 10_000 <= ay * 4_142 {
                (2, wi, span * wi)
            } else if (sx > 0) == (sy > 0) {
                (1, wi + 1, diag * (wi + 1))
            } else {
                (3, wi - 1, diag * (wi - 1))
            };
            if here < mag2(i.wrapping_add_signed(step))
                || here <= mag2(i.wrapping_add_signed(-step))
            {
                continue;
            }
            let c = (at(i.wrapping_add_signed(reach)) - at(i.wrapping_add_signed(-reach))).abs();
            if c < min_contrast {
                continue;
            }
            // Sobel on the unsmoothed luma (8 per level per pixel).
            let px = |k: usize| f[k] as i32;
            let (up, down) = (i - w, i + w);
            let gx = px(up + 1) + 2 * px(i + 1) + px(down + 1)
                - px(up - 1)
                - 2 * px(i - 1)
                - px(down - 1);
            let gy =
                px(down - 1) + 2 * px(down) + px(down + 1) - px(up - 1) - 2 * px(up) - px(up + 1);
            let g2 = (gx * gx + gy * gy).max(1) as f32;
            // (c / 9) / (g / 8), squared.
            let c = c as f32 * (8.0 / 9.0);
            bins[bin].push(c * c / g2);
        }
    }
    // An orientation counts with enough edges of its own and a share of the window's: a few
    // soft cloud edges across a sharp horizon are content, not shake.
    let total: usize = bins.iter().map(Vec::len).sum();
    let enough = MIN_EDGES.max(total / MIN_SHARE);
    let mut quartiles: Vec<f32> = bins
        .iter_mut()
        .filter(|b| b.len() >= enough)
        .map(|b| lower_quartile(b).sqrt().max(MIN_WIDTH))
        .collect();
    if quartiles.is_empty() {
        let mut all: Vec<f32> = bins.concat();
        if all.len() < MIN_EDGES {
            return Some(0.0);
        }
        quartiles.push(lower_quartile(&mut all).sqrt().max(MIN_WIDTH));
    }
    quartiles.sort_by(f32::total_cmp);
    let n = quartiles.len();
    let median = (quartiles[(n - 1) / 2] + quartiles[n / 2]) / 2.0;
    let (lo, hi) = (quartiles[0], quartiles[n - 1]);
    Some(median * hi / lo)
}

/// The lower quartile of `v` (linear interpolation between order statistics, as numpy's
/// default); `v` is reordered.
fn lower_quartile(v: &mut [f32]) -> f32 {
    let pos = 0.25 * (v.len() - 1) as f32;
    let k = pos.floor() as usize;
    let (_, &mut a, rest) = v.select_nth_unstable_by(k, f32::total_cmp);
    let b = rest.iter().copied().min_by(f32::total_cmp).unwrap_or(a);
    a + (b - a) * (pos - k as f32)
}

/// 3x3 box sums (edges replicated), written so the compiler vectorises them.
fn box3_sums(f: &[u8], w: usize, h: usize) -> Vec<u16> {
    let mut rows = vec![0u16; w * h];
    for (r, out) in f.chunks_exact(w).zip(rows.chunks_exact_mut(w)) {
        for ((o, a), (b, c)) in out[1..w - 1]
            .iter_mut()
            .zip(&r[..w - 2])
            .zip(r[1..w - 1].iter().zip(&r[2..]))
        {
            *o = *a as u16 + *b as u16 + *c as u16;
        }
        out[0] = 2 * r[0] as u16 + r[1] as u16;
        out[w - 1] = r[w - 2] as u16 + 2 * r[w - 1] as u16;
    }
    let mut out = vec![0u16; w * h];
    for y in 0..h {
        let (up, down) = (y.saturating_sub(1) * w, (y + 1).min(h - 1) * w);
        let (a, b, c) = (
            &rows[up..up + w],
            &rows[y * w..(y + 1) * w],
            &rows[down..down + w],
        );
        for (o, ((a, b), c)) in out[y * w..(y + 1) * w]
            .iter_mut()
            .zip(a.iter().zip(b).zip(c))
        {
            *o = a + b + c;
        }
    }
    out
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
