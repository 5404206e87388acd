//! Duplicates: copies of one picture ("same photo": re-encodes, resizes, small crops,
//! exposure and colour edits, screenshots) and shots of one scene moments apart ("similar
//! shots"), grouped, each group's best shot chosen and explained, and the rest moved to the
//! trash in one gesture.
//!
//! Flow: indexed photos and their stored features -> candidate pairs without comparing all
//! pairs (perceptual hashes by multi-index hashing, [`index`]; embeddings from the stored
//! neighbour graph) -> a tier per pair ([`rule`]) minus the pairs the user said are not
//! duplicates -> groups (union-find) -> the best shot ([`best`]) -> the user's remembered
//! decisions ([`decisions`]).

pub mod best;
mod decisions;
pub mod index;
pub mod rule;
pub mod verify;

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde::Serialize;

pub use best::Why;
pub use decisions::Decision;
pub use rule::{PairEvidence, Rule, Tier};

use crate::engine::parse_label;
use crate::source::Locator;
use crate::{Engine, Error, Label, Result, TrashReport};

/// Two photos (indices into the candidates) and their cosine in the neighbour graph.
pub type GraphPair = (u32, u32, f32);

/// What grouping knows of one indexed photo.
#[derive(Clone, Debug)]
pub struct Candidate {
    pub id: i64,
    pub content_hash: [u8; 32],
    pub locator: Locator,
    pub bytes: u64,
    /// The asset's other files (Live Photo video, RAW, edited copy): trashed with it.
    pub companion_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub format: Option<String>,
    pub has_camera_exif: bool,
    /// Capture time, seconds since 1970 (EXIF, else the file name's), if known.
    pub taken_s: Option<i64>,
    pub mtime_ns: i64,
    pub phash: u64,
    /// Full-resolution edge width (higher = blurrier), if measured.
    pub blur: Option<f32>,
    pub sharpness: f32,
    /// Share of crushed plus blown pixels.
    pub clipped: f32,
    pub label: Option<Label>,
}

/// One member of a group as front ends show it.
#[derive(Clone, Debug, Serialize)]
pub struct Member {
    pub id: i64,
    pub path: String,
    #[serde(skip)]
    pub locator: Locator,
    #[serde(skip)]
    pub content_hash: [u8; 32],
    /// The photo's file (checked against the disk before acting).
    pub bytes: u64,
    /// Its asset's other files, freed with it.
    pub companion_bytes: u64,
    pub width: u32,
    pub height: u32,
    pub format: Option<String>,
    pub label: Option<Label>,
    /// Members with the same value are copies of one picture.
    pub copy_of: usize,
    pub best: bool,
    /// Stays when the rest is trashed: the best, a photo labeled keep, or one the user kept.
    pub kept: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Group {
    /// Stable while the members are the same (from their content hashes).
    pub id: String,
    pub tier: Tier,
    pub best: i64,
    pub why: Vec<Why>,
    /// What trashing the rest frees.
    pub reclaimable_bytes: u64,
    pub members: Vec<Member>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Duplicates {
    /// Largest reclaimable space first.
    pub groups: Vec<Group>,
    pub photos: usize,
    pub reclaimable_bytes: u64,
    /// Groups not offered because every member is kept (by the user, or labeled keep).
    pub hidden: usize,
    pub elapsed_ms: f64,
}

#[derive(Clone, Copy, Debug)]
pub struct DuplicateOptions {
    pub rule: Rule,
    /// Only groups of this tier.
    pub tier: Option<Tier>,
}

impl Default for DuplicateOptions {
    fn default() -> Self {
        DuplicateOptions {
            rule: Rule::DEFAULT,
            tier: None,
        }
    }
}

/// Groups before decisions about the best and what is kept: members as indices into the
/// candidates, and which of them are copies of one picture.
#[derive(Clone, Debug)]
pub struct RawGroup {
    pub members: Vec<usize>,
    pub copy_of: Vec<usize>,
    pub tier: Tier,
}

/// How many of each photo's nearest neighbours get the pixel check.
pub const MATCH_NEIGHBOURS: u32 = 4;

/// Groups the candidates. `neighbours` are (i, j, cosine) pairs from the neighbour graph
/// (indices into `candidates`, at least `rule.cosine_floor()`, each photo's most similar
/// first); `apart(i, j)` is true for a
/// pair the user said is not duplicates; `verify` gives the pixel match of the pairs the rule
/// needs it for (None where it cannot be checked). Sub-quadratic: candidate pairs come from
/// the hash index and the graph only.
pub fn group(
    candidates: &[Candidate],
    neighbours: &[(u32, u32, f32)],
    rule: &Rule,
    apart: impl Fn(usize, usize) -> bool,
    verify: impl FnOnce(&[(u32, u32)]) -> Vec<Option<f32>>,
) -> Vec<RawGroup> {
    let hashes: Vec<u64> = candidates.iter().map(|c| c.phash).collect();
    // Every candidate pair once (i < j), with the best cosine either list gave, and whether it
    // is among either photo's nearest few: the only pairs worth the pixel check (copies of a
    // picture are each other's nearest, and chains join the rest). Sorted vectors, not hash
    // maps: at 100,000 photos the maps were most of the time.
    let mut all: Vec<(u32, u32, f32, bool)> = Vec::with_capacity(neighbours.len());
    let mut rank = (u32::MAX, 0);
    for &(i, j, c) in neighbours {
        rank = if rank.0 == i { (i, rank.1 + 1) } else { (i, 0) };
        all.push((i.min(j), i.max(j), c, rank.1 < MATCH_NEIGHBOURS));
    }
    let close = index::close_pairs(&hashes, rule.hash_radius());
    all.extend(close.into_iter().map(|(i, j)| (i, j, f32::NAN, false)));
    all.sort_unstable_by_key(|&(i, j, ..)| (i, j));
    let mut pairs: Vec<(u32, u32, Option<f32>, bool)> = Vec::with_capacity(all.len());
    for (i, j, c, near) in all {
        let c = (!c.is_nan()).then_some(c);
        match pairs.last_mut() {
            Some(p) if (p.0, p.1) == (i, j) => {
                p.2 = match (p.2, c) {
                    (Some(x), Some(y)) => Some(x.max(y)),
                    (x, y) => x.or(y),
                };
                p.3 |= near;
            }
            _ => pairs.push((i, j, c, near)),
        }
    }
    let mut evidence: Vec<(u32, u32, PairEvidence, bool)> = pairs
        .into_iter()
        .filter_map(|(i, j, cosine, near)| {
            let (a, b) = (&candidates[i as usize], &candidates[j as usize]);
            if a.content_hash != b.content_hash && apart(i as usize, j as usize) {
                return None;
            }
            let e = PairEvidence {
                hash_bits: (a.phash ^ b.phash).count_ones(),
                cosine,
                seconds_apart: a.taken_s.zip(b.taken_s).map(|(x, y)| (x - y).abs()),
                matched: None,
            };
            Some((i, j, e, near))
        })
        .collect();
    let to_check: Vec<usize> = (0..evidence.len())
        .filter(|&k| evidence[k].3 && rule.needs_match(&evidence[k].2))
        .collect();
    let checked = verify(
        &to_check
            .iter()
            .map(|&k| (evidence[k].0, evidence[k].1))
            .collect::<Vec<_>>(),
    );
    for (&k, m) in to_check.iter().zip(checked) {
        evidence[k].2.matched = m;
    }
    // Same-photo edges with their strength (hash bits, then cosine), for the capture rule.
    let (mut same, mut any) = (vec![], vec![]);
    for (i, j, e, _) in evidence {
        match rule.tier(&e) {
            Some(Tier::Same) => {
                same.push(((e.hash_bits, -e.cosine.unwrap_or(1.0)), i, j));
                any.push((i, j));
            }
            Some(Tier::Similar) => any.push((i, j)),
            None => {}
        }
    }
    same.sort_by(|a, b| a.0 .0.cmp(&b.0 .0).then(a.0 .1.total_cmp(&b.0 .1)));
    let edges = same.into_iter().map(|(_, i, j)| (i, j));
    let copies = if rule.use_time {
        let times: Vec<Option<i64>> = candidates.iter().map(|c| c.taken_s).collect();
        index::one_capture_components(&times, edges).0
    } else {
        index::components(candidates.len(), edges)
    };
    let groups = index::components(candidates.len(), any);
    let mut by_root: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for (i, &g) in groups.iter().enumerate() {
        by_root.entry(g).or_default().push(i);
    }
    by_root
        .into_values()
        .filter(|m| m.len() > 1)
        .map(|members| {
            let copy_of: Vec<usize> = members.iter().map(|&i| copies[i]).collect();
            let tier = if copy_of.iter().all(|&c| c == copy_of[0]) {
                Tier::Same
            } else {
                Tier::Similar
            };
            RawGroup {
                members,
                copy_of,
                tier,
            }
        })
        .collect()
}

/// A group's id: from its members' content hashes, so it names the same photos in every run.
fn group_id(members: &[&Candidate]) -> String {
    let mut hashes: Vec<[u8; 32]> = members.iter().map(|c| c.content_hash).collect();
    hashes.sort_unstable();
    let mut h = blake3::Hasher::new();
    for x in &hashes {
        h.update(x);
    }
    crate::thumbs::hex(&h.finalize().as_bytes()[..6])
}

impl Engine {
    /// What grouping works on: every indexed photo not in the trash, and the neighbour-graph
    /// pairs (indices into the photos) at or above `floor`.
    pub fn duplicate_inputs(&mut self, floor: f32) -> Result<(Vec<Candidate>, Vec<GraphPair>)> {
        self.refresh_neighbours_if_stale()?;
        let candidates = load(self.conn())?;
        let at: HashMap<i64, u32> = candidates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id, i as u32))
            .collect();
        let neighbours = crate::neighbours::pairs_above(&self.store, floor)?
            .into_iter()
            .filter_map(|(a, b, c)| Some((*at.get(&a)?, *at.get(&b)?, c)))
            .collect();
        Ok((candidates, neighbours))
    }

    /// The gallery's duplicate groups, largest reclaimable space first.
    pub fn duplicates(&mut self, opts: &DuplicateOptions) -> Result<Duplicates> {
        let start = Instant::now();
        let (candidates, neighbours) = self.duplicate_inputs(opts.rule.cosine_floor())?;
        let decided = decisions::load(self.conn())?;
        let raw = group(
            &candidates,
            &neighbours,
            &opts.rule,
            |i, j| decided.apart(&candidates[i].content_hash, &candidates[j].content_hash),
            |pairs| pixel_matches(&self.thumbs, &candidates, pairs),
        );
        let mut out = Duplicates {
            groups: vec![],
            photos: candidates.len(),
            reclaimable_bytes: 0,
            hidden: 0,
            elapsed_ms: 0.0,
        };
        for g in raw {
            if opts.tier.is_some_and(|t| t != g.tier) {
                continue;
            }
            let members: Vec<&Candidate> = g.members.iter().map(|&i| &candidates[i]).collect();
            let user_kept: Vec<bool> = members
                .iter()
                .map(|c| decided.kept(&c.content_hash))
                .collect();
            if user_kept.iter().all(|&k| k) {
                out.hidden += 1;
                continue;
            }
            let chosen = members
                .iter()
                .position(|c| decided.is_best(&c.content_hash, &members));
            let (best, why) = best::choose(&members, &g.copy_of, chosen);
            let listed: Vec<Member> = members
                .iter()
                .enumerate()
                .map(|(k, c)| Member {
                    id: c.id,
                    path: c.locator.display(),
                    locator: c.locator.clone(),
                    content_hash: c.content_hash,
                    bytes: c.bytes,
                    companion_bytes: c.companion_bytes,
                    width: c.width,
                    height: c.height,
                    format: c.format.clone(),
                    label: c.label,
                    copy_of: g.copy_of[k],
                    best: k == best,
                    kept: k == best || user_kept[k] || c.label == Some(Label::Keep),
                })
                .collect();
            // Nothing left to decide: every other member is labeled keep or kept by the user.
            if listed.iter().all(|m| m.kept) {
                out.hidden += 1;
                continue;
            }
            let reclaimable_bytes = listed
                .iter()
                .filter(|m| !m.kept)
                .map(|m| m.bytes + m.companion_bytes)
                .sum();
            out.reclaimable_bytes += reclaimable_bytes;
            out.groups.push(Group {
                id: group_id(&members),
                tier: g.tier,
                best: members[best].id,
                why,
                reclaimable_bytes,
                members: listed,
            });
        }
        out.groups.sort_by(|a, b| {
            (b.reclaimable_bytes, a.tier, &a.id).cmp(&(a.reclaimable_bytes, b.tier, &b.id))
        });
        out.elapsed_ms = start.elapsed().as_secs_f64() * 1e3;
        Ok(out)
    }

    /// Remembers the user's decision on a group (by its members' content hashes).
    pub fn decide_duplicates(&mut self, group: &str, decision: Decision) -> Result<()> {
        let g = self.find_group(group)?;
        let members: Vec<[u8; 32]> = g.members.iter().map(|m| m.content_hash).collect();
        let best = match decision {
            Decision::Best(id) if !g.members.iter().any(|m| m.id == id) => {
                return Err(Error::Invalid(format!(
                    "photo {id} is not in duplicate group {group}"
                )))
            }
            Decision::Best(id)
                if g.members
                    .iter()
                    .any(|m| m.id == id && m.label == Some(Label::Delete))
                    && g.members.iter().any(|m| m.label != Some(Label::Delete)) =>
            {
                return Err(Error::Invalid(format!(
                    "photo {id} is labeled delete: label it keep first to keep it as the best shot"
                )))
            }
            Decision::Best(id) => g
                .members
                .iter()
                .find(|m| m.id == id)
                .map(|m| m.content_hash),
            _ => None,
        };
        decisions::record(self.conn(), decision, &members, best)
    }

    /// Keeps each group's best shot (and every photo labeled keep or kept by the user) and
    /// moves the rest to the OS trash, with the same checks and undo as [`Engine::trash`]. A
    /// group whose members changed since it was listed, or whose best shot is no longer on
    /// disk as indexed, is refused whole.
    pub fn trash_duplicates(&mut self, groups: &[String]) -> Result<TrashReport> {
        let listed = self.duplicates(&DuplicateOptions::default())?;
        let mut ids = vec![];
        for id in groups {
            let g = listed
                .groups
                .iter()
                .find(|g| &g.id == id)
                .ok_or_else(|| gone_group(id))?;
            let best = g
                .members
                .iter()
                .find(|m| m.best)
                .expect("a group has a best");
            let on_disk = std::fs::metadata(best.locator.to_path()).map(|m| m.len());
            if on_disk.ok() != Some(best.bytes) {
                return Err(Error::Invalid(format!(
                    "group {id}: its best shot {} is not on disk as indexed; nothing was trashed",
                    best.path
                )));
            }
            ids.extend(g.members.iter().filter(|m| !m.kept).map(|m| m.id));
        }
        self.trash(&ids)
    }

    fn find_group(&mut self, id: &str) -> Result<Group> {
        self.duplicates(&DuplicateOptions::default())?
            .groups
            .into_iter()
            .find(|g| g.id == id)
            .ok_or_else(|| gone_group(id))
    }
}

/// [`verify::matched`] of each pair, from the stored thumbnails (None where one is
/// missing or unreadable).
fn pixel_matches(
    thumbs: &crate::thumbs::Thumbs,
    candidates: &[Candidate],
    pairs: &[(u32, u32)],
) -> Vec<Option<f32>> {
    use rayon::prelude::*;
    let mut needed: Vec<u32> = pairs.iter().flat_map(|&(i, j)| [i, j]).collect();
    needed.sort_unstable();
    needed.dedup();
    let prints: HashMap<u32, verify::Print> = needed
        .par_iter()
        .filter_map(|&i| {
            let path = thumbs.path(&candidates[i as usize].content_hash);
            let img = image::open(path).ok()?;
            Some((i, verify::Print::of(&img)))
        })
        .collect();
    pairs
        .par_iter()
        .map(|(i, j)| Some(verify::matched(prints.get(i)?, prints.get(j)?)))
        .collect()
}

fn gone_group(id: &str) -> Error {
    Error::Invalid(format!(
        "no duplicate group {id}: its photos changed since it was listed (list duplicates again)"
    ))
}

/// Every indexed photo not in the trash, with what grouping and the best shot need.
fn load(conn: &rusqlite::Connection) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare(
        "SELECT p.id, p.content_hash, p.locator, p.size, p.width, p.height, p.format,
                p.has_camera_exif, p.taken_at, p.mtime_ns, f.phash, f.blur, f.sharpness,
                f.dark_share + f.bright_share, l.label,
                (SELECT COALESCE(SUM(c.size), 0) FROM companions c WHERE c.photo = p.locator)
         FROM photos p JOIN features f ON f.photo_id = p.id
         LEFT JOIN labels l ON l.photo_id = p.id
         WHERE p.state = 'indexed' AND p.content_hash IS NOT NULL
           AND NOT EXISTS (SELECT 1 FROM actions a
                           WHERE a.photo_id = p.id AND a.kind = 'trash' AND a.state = 'done')
         ORDER BY p.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let hash: Vec<u8> = r.get(1)?;
        let taken: Option<String> = r.get(8)?;
        let label: Option<String> = r.get(14)?;
        let locator = Locator(r.get(2)?);
        Ok(Candidate {
            id: r.get(0)?,
            content_hash: hash.try_into().unwrap_or([0; 32]),
            locator: locator.clone(),
            bytes: r.get::<_, i64>(3)? as u64,
            companion_bytes: r.get::<_, i64>(15)? as u64,
            width: r.get::<_, Option<u32>>(4)?.unwrap_or(0),
            height: r.get::<_, Option<u32>>(5)?.unwrap_or(0),
            format: r.get(6)?,
            has_camera_exif: r.get::<_, Option<bool>>(7)?.unwrap_or(false),
            taken_s: taken.as_deref().and_then(rule::seconds).or_else(|| {
                let name = locator.display();
                rule::seconds_in_name(name.rsplit(['/', '\\']).next().unwrap_or(&name))
            }),
            mtime_ns: r.get(9)?,
            phash: r.get::<_, i64>(10)? as u64,
            blur: r.get(11)?,
            sharpness: r.get(12)?,
            clipped: r.get(13)?,
            label: label.as_deref().map(parse_label),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
