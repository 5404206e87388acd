//! The OS trash as the actions see it: listed once per request, its items matched to journal
//! rows. The platform itself is behind `crate::os_trash`.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use super::journal::Action;
use crate::os_trash::{self as trash, TrashItem};
use crate::source::{hash_file, Locator};
use crate::{Error, Result};

/// The path as the trash records it: the trash crate canonicalises the parent folder.
pub(super) fn as_trash_records(path: &Path) -> PathBuf {
    match (
        path.parent().and_then(|p| p.canonicalize().ok()),
        path.file_name(),
    ) {
        (Some(parent), Some(name)) => parent.join(name),
        _ => path.to_path_buf(),
    }
}

pub(super) fn os_bytes(s: &std::ffi::OsStr) -> Vec<u8> {
    Locator::from_path(Path::new(s)).0
}

pub(super) fn trash_reason(e: &trash::Error) -> String {
    match e {
        #[cfg(all(
            unix,
            not(target_os = "macos"),
            not(target_os = "ios"),
            not(target_os = "android")
        ))]
        trash::Error::FileSystem { path, source } => {
            format!("the trash failed: {}: {source}", path.display())
        }
        trash::Error::Unknown { description } => format!("the trash failed: {description}"),
        other => format!("the trash failed: {other:?}"),
    }
}

/// The OS trash, listed once per request.
#[derive(Default)]
pub(super) struct OsTrash {
    items: Vec<TrashItem>,
}

impl OsTrash {
    pub(super) fn list() -> Result<OsTrash> {
        let items = trash::os_limited::list().map_err(|e| {
            Error::Invalid(format!("cannot list the OS trash: {}", trash_reason(&e)))
        })?;
        Ok(OsTrash { items })
    }

    /// The trash item a journal row stands for, if it is still in the trash.
    pub(super) fn item_of(&self, a: &Action) -> Option<&TrashItem> {
        let id = a.trashed_as.as_deref()?;
        self.items.iter().find(|i| os_bytes(&i.id) == id)
    }

    /// The newest item trashed from `original` that holds exactly `hash` and is not `claimed`
    /// by another journal row (the user may have trashed older versions of the same name).
    pub(super) fn find(
        &self,
        original: &Path,
        hash: &[u8; 32],
        claimed: &HashSet<Vec<u8>>,
    ) -> Option<&TrashItem> {
        let mut candidates: Vec<&TrashItem> = self
            .items
            .iter()
            .filter(|i| i.original_path() == original && !claimed.contains(&os_bytes(&i.id)))
            .collect();
        candidates.sort_by_key(|i| std::cmp::Reverse(i.time_deleted));
        candidates
            .into_iter()
            .find(|i| file_in_trash(i).is_none_or(|p| hash_file(&p).is_ok_and(|h| h == *hash)))
    }
}

/// Where the trash keeps an item's bytes, to verify them. Freedesktop: the item whose id is
/// `$trash/info/NAME.trashinfo` is the file `$trash/files/NAME`. Unknown elsewhere.
#[cfg(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
))]
pub(super) fn file_in_trash(item: &TrashItem) -> Option<PathBuf> {
    let info = Path::new(&item.id);
    Some(
        info.parent()?
            .parent()?
            .join("files")
            .join(info.file_stem()?),
    )
}

#[cfg(not(all(
    unix,
    not(target_os = "macos"),
    not(target_os = "ios"),
    not(target_os = "android")
)))]
pub(super) fn file_in_trash(_: &TrashItem) -> Option<PathBuf> {
    None
}
