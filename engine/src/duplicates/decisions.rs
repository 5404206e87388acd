//! The user's decisions on duplicate groups, kept by content hash (table
//! `duplicate_decisions`), so they hold across rescans, moves and new copies.

use std::collections::HashSet;

use rusqlite::params;
use serde::Deserialize;

use super::Candidate;
use crate::store::now_secs;
use crate::Result;

/// What the user decided about a group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", content = "photo", rename_all = "snake_case")]
pub enum Decision {
    /// They are different photos: never group any two of them again.
    NotDuplicates,
    /// Keep every one of them: the group is not offered again.
    KeepAll,
    /// This photo is the one to keep.
    Best(i64),
}

type Hash = [u8; 32];

/// Every stored decision, ready to ask about pairs and photos.
#[derive(Default)]
pub struct Decisions {
    not_duplicates: Vec<HashSet<Hash>>,
    kept: HashSet<Hash>,
    /// Newest first: (the group's members, the chosen photo).
    best: Vec<(HashSet<Hash>, Hash)>,
}

impl Decisions {
    /// True when the user said these two are not duplicates.
    pub fn apart(&self, a: &Hash, b: &Hash) -> bool {
        self.not_duplicates
            .iter()
            .any(|s| s.contains(a) && s.contains(b))
    }

    pub fn kept(&self, h: &Hash) -> bool {
        self.kept.contains(h)
    }

    /// True when `h` is the user's choice for a group sharing a member with `members` (the
    /// newest such decision wins).
    pub fn is_best(&self, h: &Hash, members: &[&Candidate]) -> bool {
        self.best
            .iter()
            .find(|(set, chosen)| {
                members.iter().any(|m| &m.content_hash == chosen)
                    && members.iter().any(|m| set.contains(&m.content_hash))
            })
            .is_some_and(|(_, chosen)| chosen == h)
    }
}

pub fn load(conn: &rusqlite::Connection) -> Result<Decisions> {
    let mut out = Decisions::default();
    let mut stmt = conn.prepare(
        "SELECT kind, members, best FROM duplicate_decisions ORDER BY decided_at DESC, id DESC",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, Vec<u8>>(1)?,
            r.get::<_, Option<Vec<u8>>>(2)?,
        ))
    })?;
    for row in rows {
        let (kind, members, best) = row?;
        let set: HashSet<Hash> = members
            .chunks_exact(32)
            .map(|c| c.try_into().expect("32 bytes"))
            .collect();
        match (kind.as_str(), best.and_then(|b| Hash::try_from(b).ok())) {
            ("not_duplicates", _) => out.not_duplicates.push(set),
            ("keep_all", _) => out.kept.extend(set),
            ("best", Some(b)) => out.best.push((set, b)),
            _ => {}
        }
    }
    Ok(out)
}

pub fn record(
    conn: &rusqlite::Connection,
    decision: Decision,
    members: &[Hash],
    best: Option<Hash>,
) -> Result<()> {
    let kind = match decision {
        Decision::NotDuplicates => "not_duplicates",
        Decision::KeepAll => "keep_all",
        Decision::Best(_) => "best",
    };
    let mut sorted = members.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    conn.execute(
        "INSERT INTO duplicate_decisions (kind, members, best, decided_at) VALUES (?1, ?2, ?3, ?4)",
        params![kind, sorted.concat(), best.map(|b| b.to_vec()), now_secs()],
    )?;
    Ok(())
}
