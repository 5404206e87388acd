//! The incremental scan: list the source, compare with the store by (locator, size, mtime),
//! and index only what is new or changed: read, hash, decode once, extract features, write the
//! UI thumbnail, store. Decoding runs on all cores; one thread writes the database in batches.
//!
//! A scan never fails because of one file: each failure becomes a row with a reason. Content
//! hashes recognise moved files (the row, and so its labels, follow the file) and exact
//! duplicates (features copied, not recomputed). Files no longer listed are marked gone, never
//! deleted from the store.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::decode::{self, DecodePath, FailReason, Loaded, Strategy};
use crate::features::{self, Backbone};
use crate::format::Sniffed;
use crate::source::{io_reason, Entry, GallerySource, Listed, Locator};
use crate::store::{now_secs, IndexedPhoto, ScanWriter, Store};
use crate::thumbs::Thumbs;
use crate::video::Container;
use crate::Result;

/// Results written per transaction: large enough to amortise the commit, small enough that
/// a kill loses at most a second or two of work.
const BATCH: usize = 64;
const BATCH_MAX_WAIT: Duration = Duration::from_millis(1000);

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    #[default]
    Listing,
    Indexing,
    Finishing,
    Done,
}

/// Progress of a running scan, reported after each photo.
#[derive(Clone, Debug, Default, Serialize)]
pub struct ScanProgress {
    pub phase: Phase,
    /// Photo candidates listed so far.
    pub listed: usize,
    /// Listed files that are new or changed and must be indexed.
    pub to_index: usize,
    /// Of those, how many are done (successfully or not).
    pub done: usize,
    pub failed: usize,
    pub elapsed_s: f64,
}

/// What a scan did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct ScanReport {
    /// Photos and videos listed (companions apart): unchanged + indexed + moved + duplicates +
    /// failed + unsupported.
    pub listed: usize,
    pub unchanged: usize,
    /// New or changed files decoded and featurised.
    pub indexed: usize,
    /// Files whose content was already known at a path that disappeared: the row followed.
    pub moved: usize,
    /// New files with the same bytes as an indexed photo: features copied.
    pub duplicates: usize,
    pub failed: usize,
    pub unsupported: usize,
    /// Previously present photos no longer listed.
    pub gone: usize,
    /// Files paired with a photo as part of its asset (Live Photo videos, RAWs of RAW+JPEG).
    #[serde(default)]
    pub companions: usize,
    pub decode_paths: DecodePathCounts,
    pub stage_seconds: StageSeconds,
    pub cancelled: bool,
    pub elapsed_s: f64,
    /// The backbone that embedded the photos ("tract" or "ort"; empty if none was needed).
    #[serde(default)]
    pub backbone: String,
}

#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct DecodePathCounts {
    pub exif_thumbnail: usize,
    pub dct_scaled: usize,
    pub full: usize,
}

impl DecodePathCounts {
    fn add(&mut self, p: DecodePath) {
        match p {
            DecodePath::ExifThumbnail => self.exif_thumbnail += 1,
            DecodePath::DctScaled => self.dct_scaled += 1,
            DecodePath::Full => self.full += 1,
        }
    }
}

/// Options of one scan.
#[derive(Default)]
pub struct ScanOptions<'a> {
    /// Set to stop early; what was indexed so far is kept, and nothing is marked gone.
    pub cancel: Option<&'a AtomicBool>,
}

/// The result of indexing one file, computed on a worker thread.
enum Outcome {
    Indexed(Box<IndexedPhoto>),
    /// The content is already stored as photo `from`.
    SameAs {
        from: i64,
    },
    Failed {
        hash: Option<[u8; 32]>,
        reason: FailReason,
    },
}

/// Everything a worker needs, shared read-only across threads.
struct Worker<'a> {
    source: &'a dyn GallerySource,
    backbone: &'a Backbone,
    thumbs: &'a Thumbs,
    /// Content hash -> photo whose features can be reused.
    by_hash: &'a HashMap<[u8; 32], i64>,
    stages: &'a StageClocks,
}

/// Time spent per stage, summed over worker threads (nanoseconds).
#[derive(Default)]
struct StageClocks {
    read: AtomicU64,
    hash: AtomicU64,
    decode: AtomicU64,
    embed: AtomicU64,
    describe: AtomicU64,
    thumbnail: AtomicU64,
    db_write: AtomicU64,
}

struct Clock(Instant);

impl Clock {
    /// Adds the time since the last lap to `stage`.
    fn lap(&mut self, stage: &AtomicU64) {
        let now = Instant::now();
        stage.fetch_add((now - self.0).as_nanos() as u64, Ordering::Relaxed);
        self.0 = now;
    }
}

impl StageClocks {
    fn clock(&self) -> Clock {
        Clock(Instant::now())
    }

    fn seconds(&self) -> StageSeconds {
        let s = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64 / 1e9;
        StageSeconds {
            read: s(&self.read),
            hash: s(&self.hash),
            decode: s(&self.decode),
            embed: s(&self.embed),
            hog_quality_phash: s(&self.describe),
            thumbnail: s(&self.thumbnail),
            db_write: s(&self.db_write),
        }
    }
}

/// Seconds spent per stage, summed over the worker threads (so they can exceed wall time).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct StageSeconds {
    pub read: f64,
    pub hash: f64,
    /// EXIF, format sniffing and the decode to the working image.
    pub decode: f64,
    pub embed: f64,
    pub hog_quality_phash: f64,
    pub thumbnail: f64,
    /// On the writer thread, overlapping the workers.
    pub db_write: f64,
}

impl Worker<'_> {
    fn process(&self, entry: &Entry) -> Outcome {
        // A video is hashed as a stream and read by its headers, never held whole: its name
        // says to look, its first bytes decide.
        if crate::video::has_video_extension(&entry.locator.to_path()) {
            if let Some(container) = self.video_container(entry) {
                return self.process_video(entry, container);
            }
        }
        let mut clock = self.stages.clock();
        let bytes = match self.source.read(&entry.locator) {
            Ok(b) => b,
            Err(e) => {
                return Outcome::Failed {
                    hash: None,
                    reason: FailReason::Io(io_reason(&e)),
                }
            }
        };
        if let Some(reason) = self.changed(entry, bytes.len() as u64) {
            return Outcome::Failed { hash: None, reason };
        }
        // A video under a photo's name (an MP4 named .heic): content decides.
        if let Sniffed::Video(container) = crate::format::sniff(&bytes[..bytes.len().min(64)], None)
        {
            drop(bytes);
            return self.process_video(entry, container);
        }
        clock.lap(&self.stages.read);
        let hash = crate::source::content_hash(&bytes);
        clock.lap(&self.stages.hash);
        if let Some(&from) = self.by_hash.get(&hash) {
            return Outcome::SameAs { from };
        }
        let mut loaded =
            match decode::load_from(self.source, &entry.locator, &bytes, Strategy::Fastest) {
                Ok(l) => l,
                Err(reason) => {
                    return Outcome::Failed {
                        hash: Some(hash),
                        reason,
                    }
                }
            };
        // The blur measure's window at full resolution: cut from the full image if the decode
        // made one, else decoded on its own (a region of a JPEG).
        let (width, height) = (loaded.decoded.width, loaded.decoded.height);
        let window = features::quality::detail_window(&loaded.decoded.image, (width, height));
        let detail = decode::detail(&bytes, &mut loaded, window);
        let Loaded {
            format,
            exif,
            decoded,
        } = loaded;
        drop(bytes);
        clock.lap(&self.stages.decode);
        self.describe(
            hash,
            &decoded.image,
            detail.as_ref().map(|d| &d.luma),
            clock,
            |features| IndexedPhoto {
                hash,
                format: format.name(),
                exif,
                size: (decoded.width, decoded.height),
                decode_path: decoded.path,
                features,
                video: None,
            },
        )
    }

    /// A file rewritten between the listing and the end of the read would be stored with the
    /// listing's size and mtime beside the new content's hash and features: refused instead
    /// (the row keeps the listing's size and mtime, so the next scan sees a change and indexes
    /// the new content). A file deleted meanwhile failed the read.
    fn changed(&self, entry: &Entry, read_len: u64) -> Option<FailReason> {
        let now = self.source.stat(&entry.locator);
        if read_len == entry.size && now.as_ref().ok() == Some(&(entry.size, entry.mtime_ns)) {
            return None;
        }
        Some(FailReason::Io(match now {
            Err(e) => io_reason(&e),
            Ok(_) => "changed during the scan: it will be indexed by the next one".into(),
        }))
    }

    fn video_container(&self, entry: &Entry) -> Option<Container> {
        match crate::format::sniff(&self.source.read_head(&entry.locator, 64).ok()?, None) {
            Sniffed::Video(c) => Some(c),
            _ => None,
        }
    }

    /// A video: hashed as a stream, its container's headers read, then indexed from its poster
    /// frame like a photo ([`crate::video`]).
    fn process_video(&self, entry: &Entry, container: Container) -> Outcome {
        let mut clock = self.stages.clock();
        let io_failure = |e: std::io::Error| Outcome::Failed {
            hash: None,
            reason: FailReason::Io(io_reason(&e)),
        };
        let mut reader = match self.source.open(&entry.locator) {
            Ok(r) => r,
            Err(e) => return io_failure(e),
        };
        let (hash, len) = match crate::source::hash_stream(&mut reader) {
            Ok(h) => h,
            Err(e) => return io_failure(e),
        };
        if let Some(reason) = self.changed(entry, len) {
            return Outcome::Failed { hash: None, reason };
        }
        clock.lap(&self.stages.hash);
        if let Some(&from) = self.by_hash.get(&hash) {
            return Outcome::SameAs { from };
        }
        let failed = |reason| Outcome::Failed {
            hash: Some(hash),
            reason,
        };
        let poster = crate::video::probe_and_poster(
            self.source,
            &entry.locator,
            &mut *reader,
            len,
            container,
        );
        drop(reader);
        let (info, poster) = match poster {
            Ok(p) => p,
            Err(reason) => return failed(reason),
        };
        clock.lap(&self.stages.decode);
        let exif = crate::metadata::Exif {
            taken_at: info.created_at.clone(),
            ..Default::default()
        };
        self.describe(hash, &poster, None, clock, |features| IndexedPhoto {
            hash,
            format: info.container.name(),
            exif,
            size: (info.width, info.height),
            decode_path: DecodePath::Full,
            features,
            video: Some(info),
        })
    }

    /// Embeds and describes the working image and writes its thumbnail.
    fn describe(
        &self,
        hash: [u8; 32],
        image: &image::RgbImage,
        detail: Option<&image::GrayImage>,
        mut clock: Clock,
        indexed: impl FnOnce(features::Features) -> IndexedPhoto,
    ) -> Outcome {
        let failed = |reason| Outcome::Failed {
            hash: Some(hash),
            reason,
        };
        let embedding = match self.backbone.embed(image) {
            Ok(e) => e,
            Err(e) => return failed(FailReason::Corrupt(e.to_string())),
        };
        clock.lap(&self.stages.embed);
        let features = features::with_embedding(image, embedding, detail);
        clock.lap(&self.stages.describe);
        if let Err(e) = self.thumbs.write(&hash, image) {
            return failed(FailReason::Io(format!("cannot write the thumbnail: {e}")));
        }
        clock.lap(&self.stages.thumbnail);
        Outcome::Indexed(Box::new(indexed(features)))
    }
}

/// Scans `source` into `store`. The backbone is loaded only when something must be indexed.
pub fn scan(
    store: &mut Store,
    thumbs: &Thumbs,
    source: &dyn GallerySource,
    opts: &ScanOptions,
    progress: &mut dyn FnMut(&ScanProgress),
) -> Result<ScanReport> {
    let started = Instant::now();
    let cancelled = || opts.cancel.is_some_and(|c| c.load(Ordering::Relaxed));
    let mut report = ScanReport::default();
    let mut prog = ScanProgress::default();
    let known = store.known()?;

    // 1. List, pair each Live Photo's video and each RAW+JPEG's RAW with its image
    //    (`assets`), and split the photo candidates into unchanged / to index / problems.
    let mut listed: Vec<Entry> = Vec::new();
    let mut problems: Vec<(Entry, String)> = Vec::new();
    let mut seen: HashSet<Locator> = HashSet::new();
    source.list(&mut |item| {
        prog.listed += 1;
        match item {
            Listed::Entry(e) => listed.push(e),
            Listed::Problem { locator, reason } => {
                seen.insert(locator.clone());
                problems.push((
                    Entry {
                        locator,
                        size: 0,
                        mtime_ns: 0,
                    },
                    reason,
                ));
            }
        }
        if prog.listed % 512 == 0 {
            prog.elapsed_s = started.elapsed().as_secs_f64();
            progress(&prog);
        }
    });
    // A would-be companion whose first bytes are an image the engine decodes stays a photo
    // (content decides). Only new or changed ones are read: a no-change rescan reads nothing.
    let stored = crate::store::companions::listed(store.conn())?;
    let (candidates, companions) = crate::assets::pair(listed, |e| {
        if stored.get(&e.locator) == Some(&(e.size, e.mtime_ns)) {
            return false;
        }
        let ext = e
            .locator
            .to_path()
            .extension()
            .map(|x| x.to_string_lossy().into_owned());
        source.read_head(&e.locator, 64).is_ok_and(|head| {
            matches!(
                crate::format::sniff(&head, ext.as_deref()),
                crate::format::Sniffed::Supported(_)
            )
        })
    });
    let mut todo: Vec<Entry> = Vec::new();
    for e in candidates {
        let unchanged = known.get(&e.locator).is_some_and(|k| {
            k.size == e.size
                && k.mtime_ns == e.mtime_ns
                && k.state != "gone"
                && (k.state != "indexed" || k.current_features)
        });
        seen.insert(e.locator.clone());
        if unchanged {
            report.unchanged += 1;
        } else {
            todo.push(e);
        }
    }
    // A RAW that was a lone file before and has its JPEG now: its old row is not "gone".
    seen.extend(companions.iter().map(|c| c.entry.locator.clone()));
    report.companions = companions.len();
    // Photos and videos, each once: a companion is counted with its photo.
    report.listed = prog.listed - companions.len();

    // 2. What disappeared, and which content can be reused. Rows that are gone (now or before)
    //    are preferred over present ones so that a moved photo keeps its id and labels.
    let roots = source.roots();
    let vanished: Vec<i64> = known
        .iter()
        .filter(|(l, k)| {
            k.state != "gone" && !seen.contains(*l) && roots.iter().any(|r| l.starts_with(r))
        })
        .map(|(_, k)| k.id)
        .collect();
    let mut claimable: HashSet<i64> = known
        .values()
        .filter(|k| k.state == "gone")
        .map(|k| k.id)
        .collect();
    claimable.extend(vanished.iter().copied());
    let mut by_hash: HashMap<[u8; 32], i64> = HashMap::new();
    for k in known
        .values()
        .filter(|k| k.current_features && k.state == "indexed")
    {
        by_hash.insert(k.hash.unwrap_or_default(), k.id);
    }
    for k in known
        .values()
        .filter(|k| k.current_features && claimable.contains(&k.id))
    {
        by_hash.insert(k.hash.unwrap_or_default(), k.id);
    }
    by_hash.remove(&[0u8; 32]);

    // 3. Index in parallel; write here in batches.
    prog.phase = Phase::Indexing;
    prog.to_index = todo.len();
    progress(&prog);
    let backbone = if todo.is_empty() {
        None
    } else {
        Some(Backbone::shared()?)
    };
    report.backbone = backbone.map_or("", |b| b.backend().name()).into();
    let now = now_secs();
    {
        let tx = store.transaction()?;
        let w = ScanWriter { tx: &tx, now };
        for (entry, reason) in &problems {
            w.failed(entry, None, false, reason)?;
            report.failed += 1;
        }
        tx.commit()?;
    }
    let stages = StageClocks::default();
    if let Some(backbone) = backbone {
        let _alloc = crate::memory::ScanProfile::enter();
        let worker = Worker {
            source,
            backbone,
            thumbs,
            by_hash: &by_hash,
            stages: &stages,
        };
        let (send, recv) = mpsc::sync_channel::<(usize, Outcome)>(BATCH * 2);
        std::thread::scope(|s| -> Result<()> {
            let todo = &todo;
            let worker = &worker;
            s.spawn(move || {
                todo.par_iter()
                    .enumerate()
                    .for_each_with(send, |send, (i, e)| {
                        if !cancelled() {
                            let _ = send.send((i, worker.process(e)));
                        }
                    });
            });
            let mut batch = Vec::with_capacity(BATCH);
            let mut last = Instant::now();
            loop {
                let next = recv.recv_timeout(BATCH_MAX_WAIT);
                let closed = matches!(next, Err(mpsc::RecvTimeoutError::Disconnected));
                if let Ok(item) = next {
                    batch.push(item);
                }
                if batch.len() >= BATCH
                    || (!batch.is_empty() && (closed || last.elapsed() >= BATCH_MAX_WAIT))
                {
                    let mut clock = stages.clock();
                    write_batch(
                        store,
                        now,
                        todo,
                        &mut batch,
                        &mut claimable,
                        &mut report,
                        &mut prog,
                    )?;
                    clock.lap(&stages.db_write);
                    prog.elapsed_s = started.elapsed().as_secs_f64();
                    progress(&prog);
                    last = Instant::now();
                }
                if closed {
                    return Ok(());
                }
            }
        })?;
    }

    // 4. Mark gone what vanished and was not claimed by a move (only after a complete pass).
    report.cancelled = cancelled();
    if !report.cancelled {
        prog.phase = Phase::Finishing;
        progress(&prog);
        let tx = store.transaction()?;
        let w = ScanWriter { tx: &tx, now };
        for id in vanished.iter().filter(|id| claimable.contains(id)) {
            w.gone(*id)?;
            report.gone += 1;
        }
        crate::store::companions::replace(&tx, &roots, &companions)?;
        tx.commit()?;
    }
    report.stage_seconds = stages.seconds();
    report.elapsed_s = started.elapsed().as_secs_f64();
    prog.phase = Phase::Done;
    prog.elapsed_s = report.elapsed_s;
    progress(&prog);
    Ok(report)
}

fn write_batch(
    store: &mut Store,
    now: i64,
    todo: &[Entry],
    batch: &mut Vec<(usize, Outcome)>,
    claimable: &mut HashSet<i64>,
    report: &mut ScanReport,
    prog: &mut ScanProgress,
) -> Result<()> {
    let tx = store.transaction()?;
    let w = ScanWriter { tx: &tx, now };
    for (i, outcome) in batch.drain(..) {
        let entry = &todo[i];
        prog.done += 1;
        match outcome {
            Outcome::Indexed(photo) => {
                w.indexed(entry, &photo)?;
                report.indexed += 1;
                report.decode_paths.add(photo.decode_path);
            }
            Outcome::SameAs { from } => {
                let moved = claimable.remove(&from);
                w.same_content(entry, from, moved)?;
                if moved {
                    report.moved += 1;
                } else {
                    report.duplicates += 1;
                }
            }
            Outcome::Failed { hash, reason } => {
                w.failed(
                    entry,
                    hash.as_ref(),
                    reason.is_unsupported(),
                    &reason.to_string(),
                )?;
                prog.failed += 1;
                if reason.is_unsupported() {
                    report.unsupported += 1;
                } else {
                    report.failed += 1;
                }
            }
        }
    }
    tx.commit()?;
    Ok(())
}
