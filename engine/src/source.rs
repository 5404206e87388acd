//! Where photos come from. A [`GallerySource`] lists entries and reads their bytes; the scan
//! knows nothing else about the platform. The desktop source walks folders; an Android
//! (MediaStore) or iOS (PhotoKit) source implements the same trait with content URIs or asset ids
//! as locators.

use std::io;
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

/// An opaque, source-specific address of one photo: a file path's bytes for [`FsSource`], a
/// content URI or an asset identifier for a mobile source. Stored as a BLOB so that non-UTF-8
/// file names survive the round trip and can be acted on later.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Locator(pub Vec<u8>);

impl Locator {
    pub fn from_path(path: &Path) -> Self {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            Locator(path.as_os_str().as_bytes().to_vec())
        }
        #[cfg(not(unix))]
        {
            Locator(path.to_string_lossy().into_owned().into_bytes())
        }
    }

    /// The file path this locator names, for file-system sources.
    pub fn to_path(&self) -> PathBuf {
        #[cfg(unix)]
        {
            use std::os::unix::ffi::OsStrExt;
            PathBuf::from(std::ffi::OsStr::from_bytes(&self.0))
        }
        #[cfg(not(unix))]
        {
            PathBuf::from(String::from_utf8_lossy(&self.0).into_owned())
        }
    }

    /// Human-readable form (lossy for non-UTF-8 names).
    pub fn display(&self) -> String {
        String::from_utf8_lossy(&self.0).into_owned()
    }

    pub fn starts_with(&self, prefix: &Locator) -> bool {
        self.0.starts_with(&prefix.0)
    }
}

/// One listed photo candidate with the cheap identity facts the incremental scan compares.
#[derive(Clone, Debug)]
pub struct Entry {
    pub locator: Locator,
    pub size: u64,
    /// Modification time in nanoseconds since the Unix epoch (0 when unknown).
    pub mtime_ns: i64,
}

/// What listing a source yields: an entry, or a problem with something that looked like a photo.
#[derive(Debug)]
pub enum Listed {
    Entry(Entry),
    Problem { locator: Locator, reason: String },
}

/// A gallery: enumerates photos and reads them. Implementations must be cheap to list (no
/// content reads while listing) so a no-change rescan costs only the listing.
pub trait GallerySource: Sync {
    /// Prefixes that this source covers completely: a stored photo under one of them that is not
    /// listed any more is marked gone. A root that cannot be read is not returned (so an
    /// unmounted card does not mark a whole gallery gone).
    fn roots(&self) -> Vec<Locator>;
    /// Calls `visit` for every photo candidate.
    fn list(&self, visit: &mut dyn FnMut(Listed));
    /// Reads the whole content of an entry.
    fn read(&self, locator: &Locator) -> io::Result<Vec<u8>>;
    /// Reads the first `n` bytes (fewer if the entry is shorter): what sniffing a format
    /// needs, without reading a whole video.
    fn read_head(&self, locator: &Locator, n: usize) -> io::Result<Vec<u8>> {
        let mut bytes = self.read(locator)?;
        bytes.truncate(n);
        Ok(bytes)
    }
    /// A seekable stream of the entry's bytes, for what must not be read whole (videos).
    fn open(&self, locator: &Locator) -> io::Result<Box<dyn crate::video::ReadSeek + '_>> {
        Ok(Box::new(io::Cursor::new(self.read(locator)?)))
    }
    /// The entry as a file on this device, for programs that read files (ffmpeg), if it is one.
    fn local_path(&self, _locator: &Locator) -> Option<PathBuf> {
        None
    }
    /// Current size and mtime, to check that a file is unchanged before acting on it.
    fn stat(&self, locator: &Locator) -> io::Result<(u64, i64)>;
    /// The platform's decoder for formats the engine's build cannot decode (HEIF on phones).
    fn decoder(&self) -> Option<&dyn crate::decode::PlatformDecoder> {
        None
    }
}

/// Image file extensions worth looking at (videos: [`crate::video::EXTENSIONS`]). Anything
/// else (documents, sidecars) is ignored.
/// The content decides the format; the extension only decides whether to look.
const IMAGE_EXTENSIONS: &[&str] = &[
    "jpg", "jpeg", "jpe", "jfif", "png", "webp", "gif", "heic", "heif", "hif", "avif", "bmp",
    "tif", "tiff", "dng", "cr2", "cr3", "crw", "nef", "nrw", "arw", "srf", "sr2", "raf", "orf",
    "rw2", "pef", "srw", "x3f", "raw", "rwl", "3fr", "iiq",
];

/// Folder names that hold caches, trash or system files rather than a user's photos.
const SKIPPED_DIRS: &[&str] = &[
    "@eaDir",
    "$RECYCLE.BIN",
    "System Volume Information",
    "lost+found",
];

pub fn has_image_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| IMAGE_EXTENSIONS.iter().any(|x| x.eq_ignore_ascii_case(e)))
}

/// An image or a video (which may be a Live Photo's other half: [`crate::assets`]).
fn is_listed(path: &Path) -> bool {
    has_image_extension(path) || crate::video::has_video_extension(path)
}

fn is_skipped_name(name: &std::ffi::OsStr) -> bool {
    let name = name.to_string_lossy();
    name.starts_with('.') || SKIPPED_DIRS.iter().any(|s| s.eq_ignore_ascii_case(&name))
}

/// Folders on the local file system, walked recursively. Symbolic links are followed with loop
/// detection; hidden (dot) and system folders are skipped.
pub struct FsSource {
    roots: Vec<PathBuf>,
}

impl FsSource {
    /// Roots are made absolute and canonical so that the same photo always has the same locator.
    pub fn new(roots: &[PathBuf]) -> Self {
        let roots = roots
            .iter()
            .map(|r| std::fs::canonicalize(r).unwrap_or_else(|_| r.clone()))
            .collect();
        FsSource { roots }
    }
}

pub(crate) fn mtime_ns(meta: &std::fs::Metadata) -> i64 {
    meta.modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_nanos() as i64)
}

impl GallerySource for FsSource {
    fn roots(&self) -> Vec<Locator> {
        self.roots
            .iter()
            .filter(|r| std::fs::read_dir(r).is_ok())
            .map(|r| {
                // A trailing separator so that `/a/b` does not cover `/a/bc`.
                let mut l = Locator::from_path(r);
                if !l.0.ends_with(b"/") {
                    l.0.push(b'/');
                }
                l
            })
            .collect()
    }

    fn list(&self, visit: &mut dyn FnMut(Listed)) {
        for root in &self.roots {
            let walker = walkdir::WalkDir::new(root)
                .follow_links(true)
                .sort_by_file_name()
                .into_iter()
                .filter_entry(|e| e.depth() == 0 || !is_skipped_name(e.file_name()));
            for item in walker {
                match item {
                    Ok(e) if e.file_type().is_file() && is_listed(e.path()) => match e.metadata() {
                        Ok(m) => visit(Listed::Entry(Entry {
                            locator: Locator::from_path(e.path()),
                            size: m.len(),
                            mtime_ns: mtime_ns(&m),
                        })),
                        Err(err) => visit(Listed::Problem {
                            locator: Locator::from_path(e.path()),
                            reason: io_reason(&err.into()),
                        }),
                    },
                    Ok(_) => {}
                    Err(err) => {
                        // Unreadable folders and symlink loops: report the ones that could hold
                        // photos; a loop is not a photo, so it is skipped quietly.
                        if err.loop_ancestor().is_some() {
                            continue;
                        }
                        if let Some(path) = err.path() {
                            if path.is_dir() || has_image_extension(path) {
                                visit(Listed::Problem {
                                    locator: Locator::from_path(path),
                                    reason: walk_reason(&err, path),
                                });
                            }
                        }
                    }
                }
            }
        }
    }

    fn read(&self, locator: &Locator) -> io::Result<Vec<u8>> {
        std::fs::read(locator.to_path())
    }

    fn read_head(&self, locator: &Locator, n: usize) -> io::Result<Vec<u8>> {
        use std::io::Read;
        let mut head = Vec::with_capacity(n);
        std::fs::File::open(locator.to_path())?
            .take(n as u64)
            .read_to_end(&mut head)?;
        Ok(head)
    }

    fn open(&self, locator: &Locator) -> io::Result<Box<dyn crate::video::ReadSeek + '_>> {
        Ok(Box::new(std::fs::File::open(locator.to_path())?))
    }

    fn local_path(&self, locator: &Locator) -> Option<PathBuf> {
        Some(locator.to_path())
    }

    fn stat(&self, locator: &Locator) -> io::Result<(u64, i64)> {
        let m = std::fs::metadata(locator.to_path())?;
        Ok((m.len(), mtime_ns(&m)))
    }
}

/// The reason for an entry the walk could not follow. A link whose target does not exist is
/// said so: the plain I/O reason ("vanished during the scan") would blame a race that never
/// happened (found by `precious-bench reliability`, part hostile).
fn walk_reason(err: &walkdir::Error, path: &Path) -> String {
    let Some(io) = err.io_error() else {
        return format!("read error: {err}");
    };
    let is_link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
    if is_link && io.kind() == io::ErrorKind::NotFound {
        return "broken symbolic link: its target does not exist".into();
    }
    io_reason(io)
}

/// The content hash the index keys photos by: blake3 of the bytes. Every check that a file is
/// still what was indexed (views, trash, restore) compares against it.
pub fn content_hash(bytes: &[u8]) -> [u8; 32] {
    blake3::hash(bytes).into()
}

/// [`content_hash`] of a stream, read in pieces (a video is never held whole), and its length.
pub fn hash_stream(mut reader: impl io::Read) -> io::Result<([u8; 32], u64)> {
    let mut hasher = blake3::Hasher::new();
    let len = io::copy(&mut reader, &mut hasher)?;
    Ok((hasher.finalize().into(), len))
}

/// [`content_hash`] of a file's bytes.
pub fn hash_file(path: &Path) -> io::Result<[u8; 32]> {
    Ok(hash_stream(std::fs::File::open(path)?)?.0)
}

/// A short, human reason for an I/O failure on one file.
pub fn io_reason(err: &io::Error) -> String {
    // A chain of symbolic links that leads back to itself (ELOOP), named as such rather than
    // as the OS's "too many levels of symbolic links" with the path repeated.
    #[cfg(unix)]
    if err.raw_os_error() == Some(libc::ELOOP) {
        return "symbolic link loop: the link leads back to itself".into();
    }
    match err.kind() {
        io::ErrorKind::PermissionDenied => "permission denied".into(),
        io::ErrorKind::NotFound => "vanished during the scan".into(),
        _ => format!("read error: {err}"),
    }
}
