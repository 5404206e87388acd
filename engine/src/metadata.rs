//! Camera metadata from EXIF: date taken, make/model, orientation, GPS presence and the embedded
//! thumbnail's location. Broken EXIF never fails a photo: whatever could be read is kept.

use std::io::Cursor;
use std::ops::Range;

use exif::{In, Tag, Value};
use serde::Serialize;

/// EXIF orientation (1..=8): how the stored pixels must be turned to show the photo upright.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct Orientation(pub u8);

impl Default for Orientation {
    fn default() -> Self {
        Orientation::UPRIGHT
    }
}

impl Orientation {
    pub const UPRIGHT: Orientation = Orientation(1);

    /// Orientations 5..=8 swap width and height.
    pub fn swaps_axes(self) -> bool {
        (5..=8).contains(&self.0)
    }

    /// Turns stored pixels upright.
    pub fn apply<P: image::Pixel + 'static>(
        self,
        img: image::ImageBuffer<P, Vec<P::Subpixel>>,
    ) -> image::ImageBuffer<P, Vec<P::Subpixel>> {
        use image::imageops::{flip_horizontal, flip_vertical, rotate180, rotate270, rotate90};
        match self.0 {
            2 => flip_horizontal(&img),
            3 => rotate180(&img),
            4 => flip_vertical(&img),
            5 => flip_horizontal(&rotate90(&img)),
            6 => rotate90(&img),
            7 => flip_horizontal(&rotate270(&img)),
            8 => rotate270(&img),
            _ => img,
        }
    }
}

/// What EXIF says about a photo. Every field is optional because most images other than camera
/// photos (screenshots, downloads, edits) carry little or no EXIF.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Exif {
    pub orientation: Orientation,
    /// `DateTimeOriginal` (else `DateTime`) as `YYYY-MM-DDTHH:MM:SS`, with the offset when given.
    pub taken_at: Option<String>,
    pub make: Option<String>,
    pub model: Option<String>,
    pub has_gps: bool,
    /// Written by a camera: make, model or exposure settings present.
    pub has_camera_exif: bool,
    /// Byte range of the embedded JPEG thumbnail within the file.
    #[serde(skip)]
    pub thumbnail: Option<Range<usize>>,
}

/// Reads EXIF from a JPEG, PNG or WebP held in memory. Missing or unreadable EXIF yields the
/// default (upright, no camera data).
pub fn read_exif(bytes: &[u8]) -> Exif {
    let mut reader = exif::Reader::new();
    // Strict mode rejects EXIF from common tools (e.g. "Unexpected next IFD"); keep what parses.
    reader.continue_on_error(true);
    let parsed = match reader.read_from_container(&mut Cursor::new(bytes)) {
        Ok(e) => e,
        Err(exif::Error::PartialResult(p)) => p.into_inner().0,
        Err(_) => return Exif::default(),
    };
    let text = |tag: Tag| -> Option<String> {
        let f = parsed.get_field(tag, In::PRIMARY)?;
        match &f.value {
            Value::Ascii(parts) => {
                let s = parts
                    .iter()
                    .map(|p| {
                        String::from_utf8_lossy(p)
                            .trim_matches(['\0', ' '])
                            .to_string()
                    })
                    .find(|s| !s.is_empty())?;
                Some(s)
            }
            _ => None,
        }
    };
    let orientation = parsed
        .get_field(Tag::Orientation, In::PRIMARY)
        .and_then(|f| f.value.get_uint(0))
        .filter(|v| (1..=8).contains(v))
        .map_or(Orientation::UPRIGHT, |v| Orientation(v as u8));
    let taken_at = text(Tag::DateTimeOriginal)
        .or_else(|| text(Tag::DateTime))
        .and_then(|raw| exif_date(&raw, text(Tag::OffsetTimeOriginal).as_deref()));
    let make = text(Tag::Make);
    let model = text(Tag::Model);
    let has_gps = parsed.get_field(Tag::GPSLatitude, In::PRIMARY).is_some();
    let has_camera_exif = make.is_some()
        || model.is_some()
        || parsed.get_field(Tag::ExposureTime, In::PRIMARY).is_some()
        || parsed.get_field(Tag::FNumber, In::PRIMARY).is_some();
    Exif {
        orientation,
        taken_at,
        make,
        model,
        has_gps,
        has_camera_exif,
        thumbnail: thumbnail_range(&parsed, bytes),
    }
}

/// `2021:07:04 18:03:11` (+ `+02:00`) -> `2021-07-04T18:03:11+02:00`; `None` for zeroed or
/// malformed dates, which cameras write when their clock was never set. Fields out of range
/// (`2021:13:45 25:61:61`, or all nines from hostile EXIF) are malformed too, and so is an
/// offset that is not `+HH:MM`/`-HH:MM` within a day: stored dates must be real ones.
fn exif_date(raw: &str, offset: Option<&str>) -> Option<String> {
    let b = raw.as_bytes();
    if b.len() < 19
        || !b[..19].iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b':' || *c == b'-',
            10 => *c == b' ' || *c == b'T',
            13 | 16 => *c == b':',
            _ => c.is_ascii_digit(),
        })
    {
        return None;
    }
    if &raw[0..4] == "0000" {
        return None;
    }
    let num = |r: std::ops::Range<usize>| raw[r].parse::<u32>().unwrap_or(u32::MAX);
    let in_range = (1..=12).contains(&num(5..7))
        && (1..=31).contains(&num(8..10))
        && num(11..13) <= 23
        && num(14..16) <= 59
        && num(17..19) <= 60;
    if !in_range {
        return None;
    }
    let mut s = format!(
        "{}-{}-{}T{}",
        &raw[0..4],
        &raw[5..7],
        &raw[8..10],
        &raw[11..19]
    );
    let valid_offset = |o: &str| {
        let b = o.as_bytes();
        b.len() == 6
            && (b[0] == b'+' || b[0] == b'-')
            && b[3] == b':'
            && o[1..3].parse::<u32>().is_ok_and(|h| h <= 14)
            && o[4..6].parse::<u32>().is_ok_and(|m| m <= 59)
    };
    if let Some(o) = offset.filter(|o| valid_offset(o)) {
        s.push_str(o);
    }
    Some(s)
}

/// Locates IFD1's JPEG thumbnail within the file. Its offset is relative to the TIFF header,
/// which `exif` hands back as `buf()`; find that buffer inside the file to get absolute bounds.
fn thumbnail_range(parsed: &exif::Exif, bytes: &[u8]) -> Option<Range<usize>> {
    let offset = parsed
        .get_field(Tag::JPEGInterchangeFormat, In::THUMBNAIL)?
        .value
        .get_uint(0)? as usize;
    let len = parsed
        .get_field(Tag::JPEGInterchangeFormatLength, In::THUMBNAIL)?
        .value
        .get_uint(0)? as usize;
    let tiff = parsed.buf();
    let end = offset.checked_add(len)?;
    if len < 4 || end > tiff.len() || !tiff[offset..].starts_with(&[0xFF, 0xD8]) {
        return None;
    }
    // `buf()` is a copy for some containers (JPEG's APP1 among them); locate it by pointer when
    // it borrows from `bytes`, else by searching for its first 64 bytes, and then check that all
    // of it is there: the exif fuzz target (`engine/fuzz`) made a JPEG holding a partial copy of
    // the TIFF header before the real APP1, and the range found pointed at no thumbnail. Only the
    // first match is checked (no thumbnail then), which keeps the search linear.
    let base = {
        let (b, t) = (bytes.as_ptr() as usize, tiff.as_ptr() as usize);
        if t >= b && t + tiff.len() <= b + bytes.len() {
            t - b
        } else {
            let at = find(bytes, &tiff[..tiff.len().min(64)])?;
            if bytes.get(at..at + tiff.len()) != Some(tiff) {
                return None;
            }
            at
        }
    };
    Some(base + offset..base + end)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SS` (UTC), as EXIF dates are stored (video containers
/// give their creation time in seconds).
pub fn utc_datetime(secs: i64) -> String {
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_normalised_and_zero_dates_dropped() {
        assert_eq!(
            exif_date("2021:07:04 18:03:11", None).as_deref(),
            Some("2021-07-04T18:03:11")
        );
        assert_eq!(
            exif_date("2021:07:04 18:03:11", Some("+02:00")).as_deref(),
            Some("2021-07-04T18:03:11+02:00")
        );
        assert_eq!(exif_date("0000:00:00 00:00:00", None), None);
        assert_eq!(exif_date("    :  :     :  :  ", None), None);
        assert_eq!(exif_date("garbage", None), None);
        // Hostile EXIF (`precious-bench reliability`): out-of-range fields, bad offsets.
        assert_eq!(exif_date("2021:13:45 25:61:61", None), None);
        assert_eq!(exif_date("9999:99:99 99:99:99", None), None);
        assert_eq!(
            exif_date("2021:07:04 18:03:11", Some("+99:99")).as_deref(),
            Some("2021-07-04T18:03:11")
        );
    }

    #[test]
    fn unix_seconds_become_calendar_dates() {
        assert_eq!(utc_datetime(0), "1970-01-01T00:00:00");
        assert_eq!(utc_datetime(1_720_974_612), "2024-07-14T16:30:12");
        assert_eq!(utc_datetime(951_782_400), "2000-02-29T00:00:00");
    }

    #[test]
    fn no_exif_is_upright_and_not_a_camera() {
        let e = read_exif(b"\x89PNG\r\n\x1a\nnothing here");
        assert_eq!(e.orientation, Orientation::UPRIGHT);
        assert!(!e.has_camera_exif && e.thumbnail.is_none());
    }
}
