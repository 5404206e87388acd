//! Labels: relabeling replaces, undo walks back through the history, queues skip labeled photos.

use crate::common::*;
use precious_engine::{Label, Split};

#[test]
fn relabel_undo_and_queues() {
    let (_tmp, mut engine) = demo_engine();
    let id = engine.label_queue(Split::Train, 1, 0).unwrap()[0].id;

    engine.set_label(id, Label::Keep, Split::Train).unwrap();
    engine.set_label(id, Label::Delete, Split::Train).unwrap();
    let p = engine.photo(id).unwrap();
    assert_eq!(
        (p.label, p.split),
        (Some(Label::Delete), Some(Split::Train)),
        "relabeling replaces"
    );
    assert_eq!(
        engine.undo_label(id).unwrap(),
        Some((Label::Keep, Split::Train))
    );
    assert_eq!(engine.photo(id).unwrap().label, Some(Label::Keep));
    // The undo is itself history: undoing again goes back to the state before it.
    assert_eq!(
        engine.undo_label(id).unwrap(),
        Some((Label::Delete, Split::Train))
    );
    let s = engine.status().unwrap().labels;
    assert_eq!((s.keep, s.delete), (0, 1));
    assert!(engine
        .set_label(999_999, Label::Keep, Split::Train)
        .is_err());

    // Test queues are random unlabeled photos, deterministic for a seed, never a labeled one.
    let a = engine.label_queue(Split::Test, 10, 3).unwrap();
    let b = engine.label_queue(Split::Test, 10, 3).unwrap();
    assert_eq!(
        a.iter().map(|p| p.id).collect::<Vec<_>>(),
        b.iter().map(|p| p.id).collect::<Vec<_>>()
    );
    assert!(a.iter().all(|p| p.id != id));
    let train = engine.label_queue(Split::Train, 10, 0).unwrap();
    assert!(train.iter().all(|p| p.id != id));
}

#[test]
fn a_first_label_undone_leaves_no_label() {
    let (_tmp, mut engine) = demo_engine();
    let id = engine.label_queue(Split::Test, 1, 0).unwrap()[0].id;
    engine.set_label(id, Label::Skip, Split::Test).unwrap();
    assert_eq!(engine.undo_label(id).unwrap(), None);
    assert_eq!(engine.photo(id).unwrap().label, None);
    assert_eq!(engine.status().unwrap().labels.skip, 0);
}
