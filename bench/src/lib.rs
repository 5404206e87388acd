//! precious-bench: the measuring tools, outside the product. Every benchmark drives the
//! engine through its public API (the same `Engine::train`, `Engine::pick`, `Engine::suggest`
//! the app and the CLI call) or runs the `precious` binary as a child process; nothing here is
//! compiled into what users run.
//!
//! - [`index`]: indexing speed on a phone-like gallery, beside the seed project's pipeline;
//! - [`duplicates`]: how well duplicate groups are found and the right shot kept, and how fast;
//! - [`blur`]: how well the full-resolution blur measure finds blurred photos, and its cost;
//! - [`learn`]: how well the model learns simulated users from few labels, beside sklearn;
//! - [`pick`]: how informative each labeling queue is;
//! - [`refresh`]: the time from a new label to refreshed suggestions;
//! - [`reliability`]: hostile inputs, kills mid-operation, two processes on one database,
//!   fuzzing; [`consistency`] is its kill-and-check cycle, shared with the kill test.
//!
//! Data sets are folders whose parent folder names are classes (`imagenette-val/<class>/*`).

pub mod blur;
pub mod consistency;
pub mod duplicates;
pub mod index;
pub mod learn;
pub mod pick;
pub mod refresh;
pub mod reliability;
pub mod tooling;

use std::path::Path;

use serde::Serialize;

#[derive(Clone, Copy, Debug, Serialize)]
pub struct MeanSd {
    pub mean: f64,
    pub sd: f64,
}

impl MeanSd {
    pub fn of(v: &[f64]) -> MeanSd {
        let n = v.len().max(1) as f64;
        let mean = v.iter().sum::<f64>() / n;
        let var = v.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / (n - 1.0).max(1.0);
        MeanSd {
            mean,
            sd: var.sqrt(),
        }
    }
}

/// A photo's class in a labelled data set: its parent folder's name.
pub(crate) fn class_of(path: &str) -> String {
    Path::new(path)
        .parent()
        .and_then(|p| p.file_name())
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// A scratch copy of the indexed data set at `template` (a consistent `VACUUM INTO`, no
/// thumbnails) with no labels and no models, so a benchmark never changes the data set it
/// reads and never starts from another run's labels.
pub fn scratch_copy(
    template: &Path,
    to: &Path,
) -> precious_engine::Result<precious_engine::Engine> {
    precious_engine::Engine::remove_database(to).map_err(|e| precious_engine::Error::io(to, e))?;
    let conn = rusqlite::Connection::open(template)?;
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    drop(conn);
    let copy = rusqlite::Connection::open(to)?;
    copy.execute_batch("DELETE FROM labels; DELETE FROM label_history; DELETE FROM models;")?;
    drop(copy);
    precious_engine::Engine::open(to)
}

/// Pretty JSON on stdout (`--json`).
pub fn print_json<T: Serialize>(v: &T) -> precious_engine::Result<()> {
    println!(
        "{}",
        serde_json::to_string_pretty(v)
            .map_err(|e| precious_engine::Error::Invalid(e.to_string()))?
    );
    Ok(())
}
