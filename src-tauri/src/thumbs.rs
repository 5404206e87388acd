//! The `thumb:` URI scheme: `thumb://localhost/<photo id>` (on Windows and Android
//! `http://thumb.localhost/<photo id>`) answers with that photo's thumbnail JPEG.
//!
//! The page names a photo id, never a path. The id is looked up in the engine, and the file
//! it names is served only if, with every symlink resolved, it lies inside the engine's
//! thumbnail folder; anything else is 400 (not an id), 404 (no such photo or no thumbnail)
//! or 403 (outside the folder).

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use precious_engine::Error;
use tauri::http::{header, Response, StatusCode};

use crate::state::{lock, AppState};

pub const SCHEME: &str = "thumb";

/// The response for a request path such as `/42`.
pub fn respond(state: &AppState, path: &str) -> Response<Cow<'static, [u8]>> {
    match serve(state, path) {
        Ok(bytes) => Response::builder()
            .status(StatusCode::OK)
            .header(header::CONTENT_TYPE, "image/jpeg")
            .header(header::CACHE_CONTROL, "private, max-age=60")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .body(Cow::Owned(bytes))
            .expect("static headers are valid"),
        Err((status, why)) => Response::builder()
            .status(status)
            .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
            .body(Cow::Owned(why.into_bytes()))
            .expect("static headers are valid"),
    }
}

/// Before the database is open.
pub fn unavailable() -> Response<Cow<'static, [u8]>> {
    Response::builder()
        .status(StatusCode::SERVICE_UNAVAILABLE)
        .body(Cow::Borrowed(&b"not ready"[..]))
        .expect("static headers are valid")
}

type Refusal = (StatusCode, String);

/// The thumbnail's bytes, or why not.
pub fn serve(state: &AppState, path: &str) -> Result<Vec<u8>, Refusal> {
    let id = parse_id(path)
        .ok_or_else(|| (StatusCode::BAD_REQUEST, "expected /<photo id>".to_string()))?;
    let cached = lock(&state.inner.thumb_paths).get(&id).cloned();
    let file = match cached {
        Some(file) => file,
        None => lookup(state, id)?,
    };
    let file = inside(&file, &state.thumbs_dir())?;
    match std::fs::read(&file) {
        Ok(bytes) => {
            lock(&state.inner.thumb_paths).insert(id, file);
            Ok(bytes)
        }
        Err(_) => {
            lock(&state.inner.thumb_paths).remove(&id);
            Err((
                StatusCode::NOT_FOUND,
                format!("photo {id}: thumbnail missing"),
            ))
        }
    }
}

/// `/42` -> 42: digits only, so no path syntax gets through.
fn parse_id(path: &str) -> Option<i64> {
    let s = path.strip_prefix('/').unwrap_or(path);
    if s.is_empty() || s.len() > 18 || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// The engine's thumbnail path for photo `id`.
fn lookup(state: &AppState, id: i64) -> Result<PathBuf, Refusal> {
    let engine = lock(&state.inner.thumbs);
    let file = engine.thumbnail_path(id).map_err(|e| match e {
        Error::NoSuchPhoto(_) => (StatusCode::NOT_FOUND, format!("no photo with id {id}")),
        e => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })?;
    let file = file.ok_or_else(|| {
        (
            StatusCode::NOT_FOUND,
            format!("photo {id} has no thumbnail"),
        )
    })?;
    Ok(file)
}

/// `file` with symlinks resolved, if it is a regular file inside `dir` (also resolved).
fn inside(file: &Path, dir: &Path) -> Result<PathBuf, Refusal> {
    let missing = || (StatusCode::NOT_FOUND, "thumbnail missing".to_string());
    let dir = dir.canonicalize().map_err(|_| missing())?;
    let file = file.canonicalize().map_err(|_| missing())?;
    if !file.starts_with(&dir) || !file.is_file() {
        return Err((
            StatusCode::FORBIDDEN,
            "outside the thumbnail folder".to_string(),
        ));
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::parse_id;

    #[test]
    fn ids_are_digits_only() {
        assert_eq!(parse_id("/42"), Some(42));
        assert_eq!(parse_id("42"), Some(42));
        for bad in [
            "",
            "/",
            "/-1",
            "/1/2",
            "/../1",
            "/1?x",
            "/%2e%2e",
            "/1.jpg",
            "/99999999999999999999",
        ] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
