//! The OS trash behind the one interface `act` uses. On desktops it is the `trash` crate
//! (freedesktop trash on Linux). On Android and iOS the system trash belongs to the gallery
//! (MediaStore trash requests, PhotoKit's Recently Deleted) and is reached through the app's
//! platform plugin (docs/mobile.md), which does not exist yet: there every call is refused
//! with a reason, so `trash` and `restore` report "refused/failed", never a silent success.

#[cfg(not(any(target_os = "android", target_os = "ios")))]
pub use trash::{delete, os_limited, Error, TrashItem};

#[cfg(any(target_os = "android", target_os = "ios"))]
pub use mobile::*;

#[cfg(any(target_os = "android", target_os = "ios"))]
mod mobile {
    use std::ffi::OsString;
    use std::path::{Path, PathBuf};

    const NOT_YET: &str = "the system trash on this platform goes through the gallery app \
        (MediaStore / PhotoKit), which precious does not reach yet";

    /// The fields of `trash::TrashItem` that `act` reads.
    #[derive(Clone, Debug)]
    pub struct TrashItem {
        pub id: OsString,
        pub name: OsString,
        pub original_parent: PathBuf,
        pub time_deleted: i64,
    }

    impl TrashItem {
        pub fn original_path(&self) -> PathBuf {
            self.original_parent.join(&self.name)
        }
    }

    /// The variants of `trash::Error` that `act` matches on.
    #[derive(Debug)]
    pub enum Error {
        Unknown {
            description: String,
        },
        /// Matched by `act`; never produced while every call is refused.
        #[allow(dead_code)]
        RestoreCollision {
            path: PathBuf,
            remaining_items: Vec<TrashItem>,
        },
    }

    fn refused() -> Error {
        Error::Unknown {
            description: NOT_YET.into(),
        }
    }

    pub fn delete(_: impl AsRef<Path>) -> Result<(), Error> {
        Err(refused())
    }

    pub mod os_limited {
        use super::{refused, Error, TrashItem};

        pub fn list() -> Result<Vec<TrashItem>, Error> {
            Err(refused())
        }

        pub fn restore_all(_: impl IntoIterator<Item = TrashItem>) -> Result<(), Error> {
            Err(refused())
        }

        pub fn purge_all(_: impl IntoIterator<Item = TrashItem>) -> Result<(), Error> {
            Err(refused())
        }
    }
}
