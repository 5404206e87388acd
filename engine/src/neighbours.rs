//! The stored neighbour graph (derived state, table `neighbours`): each indexed photo's
//! [`graph::STORED`] nearest photos by embedding, refreshed after a scan changes the index.
//! The maths is [`crate::learn::graph`]; this module only loads embeddings and reads and
//! writes the rows, with the write lock held for the replacement alone, never the maths.

use std::collections::HashMap;

use rusqlite::params;

use crate::learn::graph;
use crate::store::{decode_f16, encode_f16, Store};
use crate::Result;

/// Recomputes every indexed photo's neighbours. Returns the photos covered.
pub fn refresh(store: &mut Store) -> Result<usize> {
    let rows: Vec<(i64, Vec<f32>)> = {
        let mut stmt = store.conn().prepare(
            "SELECT p.id, f.embedding FROM photos p JOIN features f ON f.photo_id = p.id
             WHERE p.state = 'indexed' ORDER BY p.id",
        )?;
        let r = stmt.query_map([], |r| {
            Ok((r.get(0)?, decode_f16(&r.get::<_, Vec<u8>>(1)?)))
        })?;
        r.collect::<rusqlite::Result<_>>()?
    };
    let dims = rows.first().map_or(0, |r| r.1.len());
    let mut u = ndarray::Array2::<f32>::zeros((rows.len(), dims));
    for (i, (_, e)) in rows.iter().enumerate() {
        let n = e.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        for (o, v) in u.row_mut(i).iter_mut().zip(e) {
            *o = v / n;
        }
    }
    let lists = if rows.len() >= 2 {
        graph::neighbour_lists(u.view(), 0)?
    } else {
        vec![vec![]; rows.len()]
    };
    let tx = store.transaction()?;
    tx.execute("DELETE FROM neighbours", [])?;
    {
        let mut ins =
            tx.prepare("INSERT INTO neighbours (photo_id, ids, sims) VALUES (?1, ?2, ?3)")?;
        for ((id, _), list) in rows.iter().zip(&lists) {
            let ids: Vec<u8> = list
                .iter()
                .flat_map(|&(j, _)| rows[j as usize].0.to_le_bytes())
                .collect();
            let sims: Vec<f32> = list.iter().map(|l| l.1).collect();
            ins.execute(params![id, ids, encode_f16(&sims)])?;
        }
    }
    tx.commit()?;
    Ok(rows.len())
}

/// Every stored photo's neighbours: photo id -> (neighbour id, cosine), most similar first.
pub fn load(store: &Store) -> Result<HashMap<i64, Vec<(i64, f32)>>> {
    let mut stmt = store
        .conn()
        .prepare("SELECT photo_id, ids, sims FROM neighbours")?;
    let rows = stmt.query_map([], |r| {
        let ids: Vec<u8> = r.get(1)?;
        let sims = decode_f16(&r.get::<_, Vec<u8>>(2)?);
        let ids = ids
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().expect("8 bytes")));
        Ok((r.get::<_, i64>(0)?, ids.zip(sims).collect()))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every stored neighbour pair (photo, neighbour, cosine) at or above `floor`: what grouping
/// duplicates needs, without holding every list in memory.
pub fn pairs_above(store: &Store, floor: f32) -> Result<Vec<(i64, i64, f32)>> {
    let mut stmt = store
        .conn()
        .prepare("SELECT photo_id, ids, sims FROM neighbours")?;
    let mut rows = stmt.query([])?;
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let ids: Vec<u8> = r.get(1)?;
        let sims = decode_f16(&r.get::<_, Vec<u8>>(2)?);
        // Lists are most similar first.
        for (c, s) in ids
            .chunks_exact(8)
            .zip(sims)
            .take_while(|(_, s)| *s >= floor)
        {
            out.push((id, i64::from_le_bytes(c.try_into().expect("8 bytes")), s));
        }
    }
    Ok(out)
}
