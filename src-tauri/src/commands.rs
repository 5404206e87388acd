//! The commands the UI invokes. Each is small and typed: it takes photo ids (never a path
//! from the page, except the folders the user picked in the dialog to scan), runs the engine
//! on a blocking thread, and returns plain engine data or an error sentence the UI shows.
//!
//! Events: `scan-progress` ([`ScanProgressEvent`], throttled to ~10 a second) and `job`
//! ([`JobEvent`]: a long job started or ended).

use std::path::{Component, PathBuf};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use precious_engine::learn::record::Model;
use precious_engine::{
    Decision, DuplicateOptions, Duplicates, Engine, Evaluation, Label, PhotoDetails, PickedPhoto,
    RestoreReport, ScanOptions, ScanProgress, ScanReport, Split, Status, Suggestions, TrainOptions,
    TrainReport, TrashReport, TrashedPhoto,
};
use serde::{Deserialize, Serialize};
use tauri::{AppHandle, Emitter, Runtime, State};

use crate::state::{lock, AppState};

/// What a command returns: the value, or a sentence for the UI.
pub type CmdResult<T> = Result<T, String>;

/// The most photo ids one request may name: more than any selection of the UI, few enough
/// that the request is answered in seconds (the page is not trusted to be sensible).
pub const MAX_IDS: usize = 100_000;
/// The most folders one scan may name, and the longest path accepted.
pub const MAX_FOLDERS: usize = 1_000;
const MAX_PATH_BYTES: usize = 4_096;
/// The longest label queue one call may ask for.
pub const MAX_QUEUE: usize = 500;
/// The most duplicate groups one request may name (each is looked up among the listed groups).
pub const MAX_GROUPS: usize = 10_000;
/// A duplicate group's id: this many lowercase hex digits (6 bytes of its members' hash).
pub const GROUP_ID_LEN: usize = 12;

/// A request's photo ids: at least one, at most [`MAX_IDS`].
fn check_ids(ids: &[i64]) -> CmdResult<()> {
    if ids.is_empty() {
        return Err("no photos selected".into());
    }
    if ids.len() > MAX_IDS {
        return Err(format!(
            "too many photos in one request ({}; at most {MAX_IDS})",
            ids.len()
        ));
    }
    Ok(())
}

/// A duplicate group's id as the engine lists it: [`GROUP_ID_LEN`] lowercase hex digits.
fn check_group(id: &str) -> CmdResult<()> {
    let hex = |b: u8| b.is_ascii_digit() || (b'a'..=b'f').contains(&b);
    if id.len() == GROUP_ID_LEN && id.bytes().all(hex) {
        Ok(())
    } else {
        Err("not a duplicate group id (12 lowercase hex digits)".into())
    }
}

/// A request's duplicate groups: at least one, at most [`MAX_GROUPS`], each a well-formed
/// id; repeats are one request for the group.
fn check_groups(groups: Vec<String>) -> CmdResult<Vec<String>> {
    if groups.is_empty() {
        return Err("no duplicate groups selected".into());
    }
    if groups.len() > MAX_GROUPS {
        return Err(format!(
            "too many duplicate groups in one request ({}; at most {MAX_GROUPS})",
            groups.len()
        ));
    }
    let mut seen = std::collections::HashSet::with_capacity(groups.len());
    let mut out = Vec::with_capacity(groups.len());
    for g in groups {
        check_group(&g)?;
        if seen.insert(g.clone()) {
            out.push(g);
        }
    }
    Ok(out)
}

/// Refuses to group duplicates while a scan runs: the index is half-updated and its
/// neighbour graph is refreshed only when the scan ends (grouping would refresh it itself, on
/// the quick handle the label screens use).
fn not_while_scanning(state: &AppState) -> CmdResult<()> {
    if *lock(&state.inner.busy) == Some("scan") {
        return Err("a scan is running: duplicates are found when it has finished".into());
    }
    Ok(())
}

/// The folders of a scan, as the folder dialog gives them: absolute paths without `..`
/// (anything else did not come from the dialog), without NUL, of sane length and number.
/// Whether each is a folder is the engine's check.
fn check_folders(folders: Vec<String>) -> CmdResult<Vec<PathBuf>> {
    if folders.is_empty() {
        return Err("choose at least one folder to scan".into());
    }
    if folders.len() > MAX_FOLDERS {
        return Err(format!(
            "too many folders in one scan ({}; at most {MAX_FOLDERS})",
            folders.len()
        ));
    }
    folders
        .into_iter()
        .map(|f| {
            if f.contains('\0') {
                return Err("a folder path cannot contain a NUL character".to_string());
            }
            if f.len() > MAX_PATH_BYTES {
                return Err(format!(
                    "a folder path is too long ({} bytes; at most {MAX_PATH_BYTES})",
                    f.len()
                ));
            }
            let p = PathBuf::from(&f);
            if !p.is_absolute() {
                return Err(format!(
                    "{f}: not an absolute path; choose the folder in the dialog"
                ));
            }
            if p.components().any(|c| c == Component::ParentDir) {
                return Err(format!(
                    "{f}: a path with \"..\" is not accepted; choose the folder in the dialog"
                ));
            }
            Ok(p)
        })
        .collect()
}

/// Runs `f` on a blocking thread with the quick engine handle.
async fn quick<T, F>(state: &AppState, f: F) -> CmdResult<T>
where
    T: Send + 'static,
    F: FnOnce(&mut Engine) -> precious_engine::Result<T> + Send + 'static,
{
    let s = state.clone();
    tauri::async_runtime::spawn_blocking(move || f(&mut lock(&s.inner.quick)))
        .await
        .map_err(|e| format!("internal error: {e}"))?
        .map_err(|e| e.to_string())
}

/// Runs the long job `name` on a blocking thread with the work engine handle, announcing it
/// with `job` events; refuses to start while another long job runs.
async fn long<R, T, F>(
    app: &AppHandle<R>,
    state: &AppState,
    name: &'static str,
    f: F,
) -> CmdResult<T>
where
    R: Runtime,
    T: Send + 'static,
    F: FnOnce(&mut Engine) -> precious_engine::Result<T> + Send + 'static,
{
    {
        let mut busy = lock(&state.inner.busy);
        if let Some(other) = *busy {
            return Err(format!(
                "busy: {other} is running; try again when it has finished"
            ));
        }
        *busy = Some(name);
    }
    let _ = app.emit(
        "job",
        JobEvent {
            job: name,
            state: "started",
            error: None,
        },
    );
    let s = state.clone();
    // A thread of its own, at background priority (the blocking pool's threads are reused by
    // quick calls, and a thread cannot raise its priority back).
    let job = move || {
        std::thread::spawn(move || {
            crate::priority::lower_this_thread();
            f(&mut lock(&s.inner.work))
        })
        .join()
        .map_err(|_| precious_engine::Error::Invalid(format!("{name} crashed")))?
    };
    let result = tauri::async_runtime::spawn_blocking(job)
        .await
        .map_err(|e| format!("internal error: {e}"))
        .and_then(|r| r.map_err(|e| e.to_string()));
    *lock(&state.inner.busy) = None;
    let _ = app.emit(
        "job",
        JobEvent {
            job: name,
            state: if result.is_ok() { "finished" } else { "failed" },
            error: result.as_ref().err().cloned(),
        },
    );
    result
}

/// A long job started, finished or failed.
#[derive(Clone, Debug, Serialize)]
pub struct JobEvent {
    pub job: &'static str,
    /// `started`, `finished` or `failed`.
    pub state: &'static str,
    pub error: Option<String>,
}

/// `scan-progress`: the engine's progress plus rate and ETA, so the page only draws.
#[derive(Clone, Debug, Serialize)]
pub struct ScanProgressEvent {
    #[serde(flatten)]
    pub progress: ScanProgress,
    /// Photos indexed per second so far.
    pub rate: f64,
    /// Seconds left at that rate; `None` until there is a rate.
    pub eta_s: Option<f64>,
}

impl ScanProgressEvent {
    fn new(p: &ScanProgress) -> Self {
        let rate = if p.elapsed_s > 0.0 {
            p.done as f64 / p.elapsed_s
        } else {
            0.0
        };
        let left = p.to_index.saturating_sub(p.done) as f64;
        ScanProgressEvent {
            progress: p.clone(),
            rate,
            eta_s: (rate > 0.0).then_some(left / rate),
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LabelArg {
    Keep,
    Delete,
    Skip,
}

impl From<LabelArg> for Label {
    fn from(l: LabelArg) -> Label {
        match l {
            LabelArg::Keep => Label::Keep,
            LabelArg::Delete => Label::Delete,
            LabelArg::Skip => Label::Skip,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SplitArg {
    #[default]
    Train,
    Test,
}

impl From<SplitArg> for Split {
    fn from(s: SplitArg) -> Split {
        match s {
            SplitArg::Train => Split::Train,
            SplitArg::Test => Split::Test,
        }
    }
}

/// The label in force after an undo.
#[derive(Clone, Debug, Serialize)]
pub struct LabelNow {
    pub label: Label,
    pub split: Split,
}

/// Counts, labels, the files that could not be indexed, and the long job running now.
#[derive(Clone, Debug, Serialize)]
pub struct AppStatus {
    #[serde(flatten)]
    pub status: Status,
    /// Train labels the newest model has not learned yet (progress toward the next training).
    pub labels_since_model: u64,
    pub busy: Option<&'static str>,
    pub thumbs_dir: String,
}

#[tauri::command]
pub async fn status(state: State<'_, AppState>) -> CmdResult<AppStatus> {
    let busy = *lock(&state.inner.busy);
    quick(&state, move |e| {
        Ok(AppStatus {
            status: e.status()?,
            labels_since_model: e.labels_since_model()?,
            busy,
            thumbs_dir: e.thumbs_dir().display().to_string(),
        })
    })
    .await
}

/// Indexes the folders the user chose in the folder dialog, emitting `scan-progress`.
#[tauri::command]
pub async fn scan<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    folders: Vec<String>,
) -> CmdResult<ScanReport> {
    let dirs = check_folders(folders)?;
    state.inner.cancel_scan.store(false, Ordering::SeqCst);
    let s = state.inner().clone();
    let emitter = app.clone();
    let report = long(&app, &state, "scan", move |e| {
        let mut last = Instant::now() - Duration::from_secs(1);
        let mut last_phase = None;
        let mut on_progress = |p: &ScanProgress| {
            if last.elapsed() >= Duration::from_millis(100) || last_phase != Some(p.phase) {
                last = Instant::now();
                last_phase = Some(p.phase);
                let _ = emitter.emit("scan-progress", ScanProgressEvent::new(p));
            }
        };
        let opts = ScanOptions {
            cancel: Some(&s.inner.cancel_scan),
        };
        e.scan_folders(&dirs, &opts, &mut on_progress)
    })
    .await;
    // Content may have changed under the same ids.
    lock(&state.inner.thumb_paths).clear();
    report
}

/// Asks a running scan to stop; what was indexed so far is kept.
#[tauri::command]
pub async fn cancel_scan(state: State<'_, AppState>) -> CmdResult<()> {
    state.inner.cancel_scan.store(true, Ordering::SeqCst);
    Ok(())
}

/// The next `n` photos to label: the K-means/uncertainty queue for `train`, a random sample of
/// unlabeled photos for `test`.
#[tauri::command]
pub async fn label_queue(
    state: State<'_, AppState>,
    split: SplitArg,
    n: usize,
    seed: Option<u64>,
) -> CmdResult<Vec<PickedPhoto>> {
    if !(1..=MAX_QUEUE).contains(&n) {
        return Err(format!(
            "the queue length must be between 1 and {MAX_QUEUE} (got {n})"
        ));
    }
    quick(&state, move |e| {
        e.label_queue(split.into(), n, seed.unwrap_or(1))
    })
    .await
}

#[tauri::command]
pub async fn photo(state: State<'_, AppState>, id: i64) -> CmdResult<PhotoDetails> {
    quick(&state, move |e| e.photo(id)).await
}

#[tauri::command]
pub async fn set_label(
    state: State<'_, AppState>,
    id: i64,
    label: LabelArg,
    split: SplitArg,
) -> CmdResult<()> {
    quick(&state, move |e| e.set_label(id, label.into(), split.into())).await
}

/// Undoes the last label change of photo `id`; returns the label now in force, if any.
#[tauri::command]
pub async fn undo_label(state: State<'_, AppState>, id: i64) -> CmdResult<Option<LabelNow>> {
    quick(&state, move |e| {
        Ok(e.undo_label(id)?
            .map(|(label, split)| LabelNow { label, split }))
    })
    .await
}

#[tauri::command]
pub async fn train<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<TrainReport> {
    long(&app, &state, "train", |e| e.train(&TrainOptions::default())).await
}

#[tauri::command]
pub async fn evaluate(state: State<'_, AppState>) -> CmdResult<Evaluation> {
    quick(&state, |e| e.evaluate()).await
}

/// Delete suggestions (refreshing the model first when train labels changed).
#[tauri::command]
pub async fn suggest<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
) -> CmdResult<Suggestions> {
    long(&app, &state, "suggest", |e| e.suggest()).await
}

/// Moves photos to the OS trash (each only if unchanged since indexing).
#[tauri::command]
pub async fn trash<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ids: Vec<i64>,
) -> CmdResult<TrashReport> {
    check_ids(&ids)?;
    long(&app, &state, "trash", move |e| e.trash(&ids)).await
}

/// Puts photos back from the trash: `ids`, or without ids the latest batch still there (an
/// empty list is refused: it is not a request for the latest batch).
#[tauri::command]
pub async fn restore<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ids: Option<Vec<i64>>,
) -> CmdResult<RestoreReport> {
    if let Some(ids) = &ids {
        check_ids(ids)?;
    }
    long(&app, &state, "restore", move |e| match ids {
        Some(ids) => e.restore(&ids),
        None => e.restore_last_batch(),
    })
    .await
}

/// Deletes for good what precious put in the trash (`ids`, or without ids all of it; an empty
/// list is refused, never read as "all"). Irreversible: the page asks twice before calling it.
#[tauri::command]
pub async fn empty_trash<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    ids: Option<Vec<i64>>,
) -> CmdResult<TrashReport> {
    if let Some(ids) = &ids {
        check_ids(ids)?;
    }
    long(&app, &state, "empty-trash", move |e| {
        e.empty_trash(ids.as_deref().unwrap_or_default())
    })
    .await
}

/// What precious put in the trash and has not restored.
#[tauri::command]
pub async fn trashed(state: State<'_, AppState>) -> CmdResult<Vec<TrashedPhoto>> {
    quick(&state, |e| e.trashed()).await
}

/// Every trained model, newest first.
#[tauri::command]
pub async fn models(state: State<'_, AppState>) -> CmdResult<Vec<Model>> {
    quick(&state, |e| e.models()).await
}

/// The gallery's duplicate groups (copies of one photo, shots moments apart), largest
/// reclaimable space first, each with the shot it keeps and why.
#[tauri::command]
pub async fn duplicates(state: State<'_, AppState>) -> CmdResult<Duplicates> {
    not_while_scanning(&state)?;
    quick(&state, |e| e.duplicates(&DuplicateOptions::default())).await
}

/// Remembers the user's decision on group `group`: not duplicates, keep all, or the photo to
/// keep (`{"kind":"best","photo":ID}`).
#[tauri::command]
pub async fn duplicates_decide(
    state: State<'_, AppState>,
    group: String,
    decision: Decision,
) -> CmdResult<()> {
    check_group(&group)?;
    not_while_scanning(&state)?;
    quick(&state, move |e| e.decide_duplicates(&group, decision)).await
}

/// Keeps each group's best shot (and the photos kept or labeled keep) and moves the rest to
/// the OS trash, each only if unchanged since indexing; undone by `restore`.
#[tauri::command]
pub async fn duplicates_trash_rest<R: Runtime>(
    app: AppHandle<R>,
    state: State<'_, AppState>,
    groups: Vec<String>,
) -> CmdResult<TrashReport> {
    let groups = check_groups(groups)?;
    long(&app, &state, "trash-duplicates", move |e| {
        e.trash_duplicates(&groups)
    })
    .await
}
