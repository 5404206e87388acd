//! The first labeling queue on the demo gallery: deterministic, covering, never a labeled
//! photo or two near-duplicates.

use crate::common::*;
use precious_engine::features::phash;
use precious_engine::{Engine, Label, PickOptions, Space, Split};

fn phash_of(engine: &Engine, id: i64) -> u64 {
    u64::from_str_radix(&engine.photo(id).unwrap().features.unwrap().phash, 16).unwrap()
}

#[test]
fn picks_are_deterministic_diverse_and_skip_labeled_photos() {
    let (_tmp, mut engine) = demo_engine();
    let opts = PickOptions {
        n: 12,
        seed: 7,
        space: Space::Embedding,
    };
    let a = engine.pick(&opts).unwrap();
    let b = engine.pick(&opts).unwrap();
    let ids = |p: &precious_engine::Pick| p.photos.iter().map(|x| x.id).collect::<Vec<_>>();
    assert_eq!(ids(&a), ids(&b), "same seed, same queue");
    assert_eq!(a.photos.len(), 12);
    assert!(a.k >= 2 && a.silhouette.is_some() && a.davies_bouldin.is_some());
    assert!(
        a.near_duplicates_folded > 0,
        "the demo gallery has bursts and copies"
    );
    // No two picks are near-duplicates of each other.
    let hashes: Vec<u64> = a.photos.iter().map(|p| phash_of(&engine, p.id)).collect();
    for i in 0..hashes.len() {
        for j in i + 1..hashes.len() {
            assert!(phash::distance(hashes[i], hashes[j]) > phash::NEAR_DUPLICATE_BITS);
        }
    }
    // First round covers distinct clusters, largest first.
    let first: Vec<usize> = a
        .photos
        .iter()
        .take(a.k.min(12))
        .map(|p| p.cluster)
        .collect();
    let mut dedup = first.clone();
    dedup.sort();
    dedup.dedup();
    assert_eq!(dedup.len(), first.len(), "{first:?}");

    // Label the queue: the next queue never repeats a labeled photo or its near-duplicates.
    for p in &a.photos {
        engine.set_label(p.id, Label::Keep, Split::Train).unwrap();
    }
    let c = engine.pick(&opts).unwrap();
    assert!(!c.photos.is_empty());
    for p in &c.photos {
        assert!(engine.photo(p.id).unwrap().label.is_none());
        let h = phash_of(&engine, p.id);
        assert!(hashes
            .iter()
            .all(|x| phash::distance(*x, h) > phash::NEAR_DUPLICATE_BITS));
    }
}

#[test]
fn hog_pca_space_works_too() {
    let (_tmp, engine) = demo_engine();
    let p = engine
        .pick(&PickOptions {
            n: 10,
            seed: 1,
            space: Space::HogPca,
        })
        .unwrap();
    assert_eq!(p.photos.len(), 10);
    assert_eq!(p.space, Space::HogPca);
}

#[test]
fn the_same_gallery_gives_the_same_queue_in_any_database() {
    // Photo ids follow the order in which parallel workers finish, which varies run to run.
    let queue = || {
        let (_tmp, engine) = demo_engine();
        let p = engine
            .pick(&PickOptions {
                n: 8,
                seed: 3,
                space: Space::Embedding,
            })
            .unwrap();
        p.photos.into_iter().map(|x| x.path).collect::<Vec<_>>()
    };
    assert_eq!(queue(), queue());
}
