//! `precious duplicates`: list duplicate groups with the shot each keeps and why, remember the
//! user's decisions, and trash the rest of chosen groups (journaled, undo with `restore`).

use std::path::Path;

use precious_engine::duplicates::Group;
use precious_engine::{Decision, DuplicateOptions, Engine, Error, Result, Tier};

pub struct Request<'a> {
    pub tier: Option<Tier>,
    pub trash_rest: &'a [String],
    pub not_duplicates: Option<&'a str>,
    pub keep_all: Option<&'a str>,
    /// GROUP=PHOTO
    pub best: Option<&'a str>,
    pub limit: usize,
}

pub fn run(db: &Path, req: &Request, json: bool) -> Result<()> {
    let mut engine = Engine::open(db)?;
    if !req.trash_rest.is_empty() {
        let report = engine.trash_duplicates(req.trash_rest)?;
        return super::act::finish(&report, "moved to the trash", json);
    }
    let decided = if let Some(g) = req.not_duplicates {
        Some((g, Decision::NotDuplicates))
    } else if let Some(g) = req.keep_all {
        Some((g, Decision::KeepAll))
    } else if let Some(spec) = req.best {
        let (g, id) = spec
            .split_once('=')
            .and_then(|(g, id)| Some((g, id.parse::<i64>().ok()?)))
            .ok_or_else(|| Error::Invalid(format!("--best wants GROUP=PHOTO, not {spec}")))?;
        Some((g, Decision::Best(id)))
    } else {
        None
    };
    if let Some((group, decision)) = decided {
        engine.decide_duplicates(group, decision)?;
        if !json {
            println!("Remembered for group {group}: {decision:?}");
        }
    }
    let d = engine.duplicates(&DuplicateOptions {
        tier: req.tier,
        ..DuplicateOptions::default()
    })?;
    if json {
        return super::print_json(&d);
    }
    let same = d.groups.iter().filter(|g| g.tier == Tier::Same).count();
    println!(
        "{} groups among {} photos ({} of the same photo, {} of similar shots); trashing the rest \
         of all of them frees {:.1} MB{}",
        d.groups.len(),
        d.photos,
        same,
        d.groups.len() - same,
        d.reclaimable_bytes as f64 / 1e6,
        if d.hidden > 0 {
            format!(" ({} groups you kept are not shown)", d.hidden)
        } else {
            String::new()
        }
    );
    for g in d.groups.iter().take(req.limit) {
        print_group(g);
    }
    if d.groups.len() > req.limit {
        println!("... {} more (--limit)", d.groups.len() - req.limit);
    }
    if !d.groups.is_empty() {
        println!(
            "Keep each best shot and trash the rest: precious duplicates --trash-rest GROUP..."
        );
    }
    Ok(())
}

fn print_group(g: &Group) {
    let why: Vec<&str> = g.why.iter().map(|w| w.text()).collect();
    let tier = match g.tier {
        Tier::Same => "same photo",
        Tier::Similar => "similar shots",
    };
    println!(
        "\n{} ({tier}, {} photos, frees {:.1} MB): keeps {} ({})",
        g.id,
        g.members.len(),
        g.reclaimable_bytes as f64 / 1e6,
        g.best,
        if why.is_empty() {
            "first of equals".to_string()
        } else {
            why.join(", ")
        }
    );
    for m in &g.members {
        let mark = if m.best {
            "keep (best)"
        } else if m.kept {
            "keep"
        } else {
            "trash"
        };
        println!(
            "  {:>6}  {:<11} {:>5}x{:<5} {:>8.1} KB  {}",
            m.id,
            mark,
            m.width,
            m.height,
            m.bytes as f64 / 1e3,
            m.path
        );
    }
}
