//! The UI thumbnail store: one small JPEG per distinct content, in a folder beside the
//! database, named by content hash (so moved and duplicate files share one, and the app can
//! serve exactly this folder and nothing else).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use image::RgbImage;

use crate::decode::JpegCodec;

const QUALITY: u8 = 80;

pub struct Thumbs {
    dir: PathBuf,
}

impl Thumbs {
    /// Thumbnails of `db.sqlite` live in `db.thumbs/`.
    pub fn beside(db: &Path) -> Thumbs {
        Thumbs {
            dir: db.with_extension("thumbs"),
        }
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    pub fn path(&self, hash: &[u8; 32]) -> PathBuf {
        let hex = hex(hash);
        self.dir.join(&hex[..2]).join(format!("{hex}.jpg"))
    }

    /// Writes atomically (temporary file + rename), so a kill never leaves half a JPEG.
    pub fn write(&self, hash: &[u8; 32], img: &RgbImage) -> std::io::Result<()> {
        let path = self.path(hash);
        if path.exists() {
            return Ok(());
        }
        let dir = path.parent().expect("thumbnail paths have a parent");
        std::fs::create_dir_all(dir)?;
        let buf = encode_jpeg(img, JpegCodec::DEFAULT)?;
        // Unique per process and call: two workers may write the same content at once.
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let seq = SEQ.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(
            ".{}.{}-{seq}.tmp",
            path.file_name().unwrap().to_string_lossy(),
            std::process::id()
        ));
        std::fs::write(&tmp, &buf)?;
        std::fs::rename(&tmp, &path)
    }
}

/// A thumbnail's JPEG bytes: baseline, quality 80, no chroma subsampling, whichever codec.
pub fn encode_jpeg(img: &RgbImage, codec: JpegCodec) -> std::io::Result<Vec<u8>> {
    #[cfg(feature = "turbojpeg")]
    if codec == JpegCodec::LibjpegTurbo {
        return crate::decode::turbo::encode_rgb(img, QUALITY).map_err(std::io::Error::other);
    }
    let _ = codec;
    let mut buf = Vec::with_capacity(32 << 10);
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, QUALITY)
        .encode_image(img)
        .map_err(std::io::Error::other)?;
    Ok(buf)
}

pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
