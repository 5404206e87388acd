//! The `precious` binary end to end: the README's demo command and the documented JSON shapes.

use std::process::Command;

use crate::common::*;
use serde_json::Value;

fn precious(db: &std::path::Path, args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .arg("--db")
        .arg(db)
        .arg("--json")
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "precious {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "precious {args:?}: not JSON ({e}): {}",
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

#[test]
fn scan_status_pick_show_json() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.sqlite");
    let gallery = demo_gallery();
    let scan = precious(&db, &["scan", gallery.to_str().unwrap()]);
    assert!(scan["indexed"].as_u64().unwrap() >= 60);
    let status = precious(&db, &["status"]);
    let photos = &status["photos"];
    for k in ["indexed", "failed", "unsupported", "gone"] {
        assert!(photos[k].is_u64(), "status.photos.{k}");
    }
    assert_eq!(
        photos["failed"], 2,
        "the demo's truncated JPEG and damaged HEIC"
    );
    assert_eq!(photos["unsupported"], 0);
    let errors = status["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 2);
    assert!(errors
        .iter()
        .all(|e| e["path"].is_string() && e["reason"].is_string()));

    let pick = precious(&db, &["pick", "5"]);
    let pick = pick.as_array().unwrap();
    assert_eq!(pick.len(), 5);
    assert!(pick
        .iter()
        .all(|p| p["id"].is_i64() && p["path"].is_string()));

    let id = pick[0]["id"].as_i64().unwrap().to_string();
    let show = precious(&db, &["show", &id]);
    assert_eq!(show["state"], "indexed");
    assert_eq!(show["features"]["embedding_dim"], 1280);

    let first = pick[0]["id"].as_i64().unwrap();
    let second = pick[1]["id"].as_i64().unwrap();
    let labeled = precious(
        &db,
        &[
            "label",
            "--keep",
            &first.to_string(),
            "--delete",
            &second.to_string(),
        ],
    );
    assert_eq!(labeled["split"], "train");
    assert_eq!(labeled["labeled"].as_array().unwrap().len(), 2);
    let status = precious(&db, &["status"]);
    assert_eq!(
        (
            status["labels"]["keep"].as_u64(),
            status["labels"]["delete"].as_u64()
        ),
        (Some(1), Some(1))
    );
    let next = precious(&db, &["pick", "5"]);
    assert!(next
        .as_array()
        .unwrap()
        .iter()
        .all(|p| p["id"] != first && p["id"] != second));

    let rescan = precious(&db, &["scan", gallery.to_str().unwrap()]);
    assert_eq!(rescan["indexed"], 0);
    assert_eq!(rescan["unchanged"], scan["listed"]);
}

#[test]
fn demo_runs_on_the_built_in_gallery() {
    let tmp = tempfile::tempdir().unwrap();
    let demo = precious(&tmp.path().join("demo.sqlite"), &["demo"]);
    assert!(demo["status"]["photos"]["indexed"].as_u64().unwrap() >= 60);
    assert!(!demo["pick"]["photos"].as_array().unwrap().is_empty());
    // The human form works too and names what it would ask about.
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .arg("--db")
        .arg(tmp.path().join("demo2.sqlite"))
        .arg("demo")
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Label these first"), "{text}");
}

#[test]
fn errors_are_clear_and_exit_nonzero() {
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .arg("--db")
        .arg(tmp.path().join("p.sqlite"))
        .args(["scan", "/definitely/not/here"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a folder"));
    let out = Command::new(env!("CARGO_BIN_EXE_precious"))
        .arg("--db")
        .arg(tmp.path().join("p.sqlite"))
        .args(["show", "424242"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no photo with id 424242"));
}
