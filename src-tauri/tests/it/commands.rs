//! Command tests on the mock runtime (`tauri::test`): the real command handlers and IPC
//! (de)serialisation, over a temporary database scanned from the demo gallery through the
//! `scan` command; and the `thumb:` scheme's handler.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use precious_app::AppState;
use serde_json::{json, Value};
use tauri::test::MockRuntime;
use tauri::{App, Listener, WebviewWindow};

use crate::common::{invoke, mock_app};

/// Canonical, as the folder dialog gives folders (the scan command refuses `..`).
fn gallery() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/demo/gallery")
        .canonicalize()
        .unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    scan: Value,
    progress_events: usize,
    /// Indexed photos, fixed before any test labels one (tests that touch thumbnails each
    /// take different ones).
    ids: Vec<i64>,
}

/// One database per test run, scanned from the demo gallery through the `scan` command.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("precious.sqlite");
        let (app, webview) = mock_app(AppState::open(&db).unwrap());
        let events = Arc::new(AtomicUsize::new(0));
        let counter = events.clone();
        app.listen_any("scan-progress", move |_| {
            counter.fetch_add(1, Ordering::SeqCst);
        });
        let scan = invoke(
            &webview,
            "scan",
            json!({ "folders": [gallery().display().to_string()] }),
        )
        .expect("scan succeeds");
        let q = invoke(
            &webview,
            "label_queue",
            json!({ "split": "test", "n": 20, "seed": 99 }),
        )
        .unwrap();
        let ids = q
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        Fixture {
            ids,
            _dir: dir,
            db,
            scan,
            progress_events: events.load(Ordering::SeqCst),
        }
    })
}

fn fresh_app() -> (App<MockRuntime>, WebviewWindow<MockRuntime>, AppState) {
    let state = AppState::open(&fixture().db).unwrap();
    let (app, webview) = mock_app(state.clone());
    (app, webview, state)
}

#[test]
fn scan_command_indexes_the_demo_gallery_and_streams_progress() {
    let f = fixture();
    let s = &f.scan;
    assert!(s["listed"].as_u64().unwrap() >= 70, "{s}");
    assert!(s["indexed"].as_u64().unwrap() >= 60, "{s}");
    // The demo gallery holds two broken files.
    assert!(
        s["failed"].as_u64().unwrap() + s["unsupported"].as_u64().unwrap() >= 2,
        "{s}"
    );
    assert_eq!(s["cancelled"], json!(false));
    assert!(
        f.progress_events >= 2,
        "{} scan-progress events",
        f.progress_events
    );
}

#[test]
fn scan_refuses_bad_input() {
    let (_app, w, _) = fresh_app();
    let err = invoke(&w, "scan", json!({ "folders": [] })).unwrap_err();
    assert!(err.as_str().unwrap().contains("folder"), "{err}");
    let err = invoke(&w, "scan", json!({ "folders": ["/definitely/not/here"] })).unwrap_err();
    assert!(err.as_str().unwrap().contains("not a folder"), "{err}");
}

#[test]
fn status_label_queue_set_label_and_undo() {
    let (_app, w, _) = fresh_app();

    let status = invoke(&w, "status", json!({})).unwrap();
    assert!(
        status["photos"]["indexed"].as_u64().unwrap() >= 60,
        "{status}"
    );
    assert!(!status["errors"].as_array().unwrap().is_empty(), "{status}");
    assert_eq!(status["busy"], Value::Null);
    let keep_before = status["labels"]["keep"].as_u64().unwrap();

    let queue = invoke(&w, "label_queue", json!({ "split": "train", "n": 5 })).unwrap();
    let queue = queue.as_array().unwrap();
    assert_eq!(queue.len(), 5, "{queue:?}");
    for p in queue {
        assert!(
            p["id"].as_i64().is_some() && p["path"].as_str().is_some(),
            "{p}"
        );
        assert_eq!(p["asked_because"], "representative");
    }
    let test_queue = invoke(
        &w,
        "label_queue",
        json!({ "split": "test", "n": 3, "seed": 7 }),
    )
    .unwrap();
    assert_eq!(test_queue.as_array().unwrap().len(), 3);

    let id = queue[0]["id"].as_i64().unwrap();
    let r = invoke(
        &w,
        "set_label",
        json!({ "id": id, "label": "keep", "split": "train" }),
    )
    .unwrap();
    assert_eq!(r, Value::Null);
    let status = invoke(&w, "status", json!({})).unwrap();
    assert_eq!(status["labels"]["keep"].as_u64().unwrap(), keep_before + 1);
    let photo = invoke(&w, "photo", json!({ "id": id })).unwrap();
    assert_eq!(photo["label"], "keep");
    assert_eq!(photo["split"], "train");

    // The labeled photo leaves the queue.
    let again = invoke(&w, "label_queue", json!({ "split": "train", "n": 5 })).unwrap();
    assert!(
        again
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["id"] != json!(id)),
        "{again}"
    );

    // Relabel, then undo back to keep.
    invoke(
        &w,
        "set_label",
        json!({ "id": id, "label": "delete", "split": "train" }),
    )
    .unwrap();
    let now = invoke(&w, "undo_label", json!({ "id": id })).unwrap();
    assert_eq!(now, json!({ "label": "keep", "split": "train" }));
    let status = invoke(&w, "status", json!({})).unwrap();
    assert_eq!(status["labels"]["keep"].as_u64().unwrap(), keep_before + 1);

    // A first label undone leaves the photo unlabeled.
    let id2 = queue[1]["id"].as_i64().unwrap();
    invoke(
        &w,
        "set_label",
        json!({ "id": id2, "label": "delete", "split": "test" }),
    )
    .unwrap();
    assert_eq!(
        invoke(&w, "undo_label", json!({ "id": id2 })).unwrap(),
        Value::Null
    );
    assert_eq!(
        invoke(&w, "photo", json!({ "id": id2 })).unwrap()["label"],
        Value::Null
    );
}

#[test]
fn commands_reject_bad_arguments_with_sentences() {
    let (_app, w, _) = fresh_app();
    let err = invoke(
        &w,
        "set_label",
        json!({ "id": 1, "label": "maybe", "split": "train" }),
    )
    .unwrap_err();
    assert!(err.as_str().unwrap().contains("maybe"), "{err}");
    let err = invoke(
        &w,
        "set_label",
        json!({ "id": 1, "label": "keep", "split": "validation" }),
    )
    .unwrap_err();
    assert!(err.is_string(), "{err}");
    let err = invoke(
        &w,
        "set_label",
        json!({ "id": 987654, "label": "keep", "split": "train" }),
    )
    .unwrap_err();
    assert_eq!(err, json!("no photo with id 987654"));
    let err = invoke(&w, "photo", json!({ "id": 987654 })).unwrap_err();
    assert_eq!(err, json!("no photo with id 987654"));
    // A path where an id is expected is refused by the types.
    let err = invoke(&w, "photo", json!({ "id": "/etc/passwd" })).unwrap_err();
    assert!(err.is_string(), "{err}");
    let err = invoke(&w, "trash", json!({ "ids": [] })).unwrap_err();
    assert_eq!(err, json!("no photos selected"));
    // Nothing trained on this database: a sentence, not a crash.
    let err = invoke(&w, "evaluate", json!({})).unwrap_err();
    assert!(err.is_string(), "{err}");
    assert_eq!(invoke(&w, "trashed", json!({})).unwrap(), json!([]));
    assert!(invoke(&w, "models", json!({})).unwrap().is_array());
}

#[test]
fn thumb_scheme_serves_a_photos_thumbnail_by_id() {
    let (_app, _w, state) = fresh_app();
    let id = fixture().ids[0];
    let r = precious_app::thumbs::respond(&state, &format!("/{id}"));
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "image/jpeg");
    assert_eq!(&r.body()[..3], &[0xff, 0xd8, 0xff], "a JPEG");
    // Served again from the cache.
    assert_eq!(
        precious_app::thumbs::respond(&state, &format!("/{id}")).status(),
        200
    );
}

#[test]
fn thumb_scheme_refuses_unknown_ids_and_paths() {
    let (_app, _w, state) = fresh_app();
    assert_eq!(
        precious_app::thumbs::respond(&state, "/987654").status(),
        404
    );
    for bad in [
        "/",
        "/-1",
        "/../../../etc/passwd",
        "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
        "/etc/passwd",
        "/1/../2",
        &fixture().db.display().to_string(),
    ] {
        let r = precious_app::thumbs::respond(&state, bad);
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[test]
fn thumb_scheme_never_serves_files_outside_the_thumbs_dir() {
    let (_app, w, state) = fresh_app();
    // Two photos (not the one the other thumbnail test fetches, nor sharing its thumbnail
    // file: identical files share one) whose thumbnail files this test tampers with.
    let thumb_of = |id: i64| {
        let photo = invoke(&w, "photo", json!({ "id": id })).unwrap();
        PathBuf::from(photo["thumbnail"].as_str().expect("has a thumbnail"))
    };
    let mut taken = vec![thumb_of(fixture().ids[0])];
    let mut picked = Vec::new();
    for &id in &fixture().ids[5..] {
        let t = thumb_of(id);
        if !taken.contains(&t) {
            taken.push(t.clone());
            picked.push((id, t));
        }
    }
    let (id, thumb) = picked[0].clone();
    let (id2, thumb2) = picked[1].clone();
    assert!(thumb.starts_with(state.thumbs_dir()));
    let outside = tempfile::tempdir().unwrap();
    let secret = outside.path().join("secret.jpg");
    std::fs::write(&secret, b"\xff\xd8\xff not for the page").unwrap();
    let saved = std::fs::read(&thumb).unwrap();
    std::fs::remove_file(&thumb).unwrap();
    symlink(&secret, &thumb);
    let r = precious_app::thumbs::respond(&state, &format!("/{id}"));
    std::fs::remove_file(&thumb).unwrap();
    std::fs::write(&thumb, saved).unwrap();
    assert_eq!(r.status(), 403);
    assert!(!String::from_utf8_lossy(r.body()).contains("not for the page"));

    // A deleted thumbnail is a 404, not an error page with a path.
    let saved2 = std::fs::read(&thumb2).unwrap();
    std::fs::remove_file(&thumb2).unwrap();
    let r = precious_app::thumbs::respond(&state, &format!("/{id2}"));
    std::fs::write(&thumb2, saved2).unwrap();
    assert_eq!(r.status(), 404);
    assert!(!String::from_utf8_lossy(r.body()).contains('/'));
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(windows)]
fn symlink(target: &Path, link: &Path) {
    std::os::windows::fs::symlink_file(target, link).unwrap();
}

/// The learning commands over IPC on their own database: train (refused without both kinds),
/// models, evaluate, suggest (never a photo labeled keep), progress toward the next training,
/// and emptying the trash refused for a photo that is not in it.
#[test]
fn train_evaluate_suggest_and_training_progress() {
    let dir = tempfile::tempdir().unwrap();
    let (_app, w) = mock_app(AppState::open(&dir.path().join("p.sqlite")).unwrap());
    let root = gallery().canonicalize().unwrap();
    invoke(&w, "scan", json!({ "folders": [root] })).unwrap();
    let manifest: Value =
        serde_json::from_slice(&std::fs::read(root.join("manifest.json")).unwrap()).unwrap();
    let junk = ["blurred", "dark", "overexposed", "screenshot", "download"];
    let label_of = |path: &str| {
        let rel = Path::new(path).strip_prefix(&root).unwrap();
        let f = manifest["files"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| Path::new(f["path"].as_str().unwrap()) == rel)
            .unwrap();
        if junk.contains(&f["category"].as_str().unwrap()) {
            "delete"
        } else {
            "keep"
        }
    };

    let err = invoke(&w, "train", json!({})).unwrap_err();
    assert!(err.is_string(), "{err}");
    let queue = invoke(&w, "label_queue", json!({ "split": "train", "n": 20 })).unwrap();
    let mut keeps = vec![];
    for p in queue.as_array().unwrap() {
        let label = label_of(p["path"].as_str().unwrap());
        let id = p["id"].as_i64().unwrap();
        if label == "keep" {
            keeps.push(id);
        }
        invoke(
            &w,
            "set_label",
            json!({ "id": id, "label": label, "split": "train" }),
        )
        .unwrap();
    }
    let status = invoke(&w, "status", json!({})).unwrap();
    assert_eq!(status["labels_since_model"], json!(20), "{status}");
    assert_eq!(status["train_labels"]["keep"], json!(keeps.len()));

    let report = invoke(&w, "train", json!({})).unwrap();
    let model_id = report["model"]["id"].as_i64().unwrap();
    assert_eq!(
        invoke(&w, "status", json!({})).unwrap()["labels_since_model"],
        json!(0)
    );
    let models = invoke(&w, "models", json!({})).unwrap();
    assert_eq!(models[0]["id"], json!(model_id));
    let ev = invoke(&w, "evaluate", json!({})).unwrap();
    assert_eq!(ev["model_id"], json!(model_id));
    assert_eq!(ev["positive_class"], json!("delete"));
    let s = invoke(&w, "suggest", json!({})).unwrap();
    let suggested: Vec<i64> = s["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    assert!(!suggested.is_empty(), "{s}");
    assert!(suggested.iter().all(|id| !keeps.contains(id)), "{s}");

    // One more label: one not yet learned.
    let next = invoke(&w, "label_queue", json!({ "split": "train", "n": 1 })).unwrap();
    let id = next[0]["id"].as_i64().unwrap();
    invoke(
        &w,
        "set_label",
        json!({ "id": id, "label": "keep", "split": "train" }),
    )
    .unwrap();
    assert_eq!(
        invoke(&w, "status", json!({})).unwrap()["labels_since_model"],
        json!(1)
    );
    let err = invoke(&w, "empty_trash", json!({ "ids": [id] })).unwrap_err();
    assert_eq!(err, json!(format!("photo {id}: not in the trash")));
}

/// Duplicates over IPC on a copy of a few demo photos (a 3-shot burst and a 2-shot pair):
/// the groups, largest space first with the best shot and why; choosing another best; keep
/// best and trash the rest (files moved to the sandboxed OS trash, the best stays), undone by
/// `restore`; "not duplicates" and "keep all" remembered.
#[test]
fn duplicates_decide_and_trash_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().canonicalize().unwrap().join("gallery");
    std::fs::create_dir_all(&root).unwrap();
    let camera = gallery().join("DCIM/Camera");
    let burst = ["161744", "161745", "161746"].map(|t| format!("IMG_20150721_{t}.jpg"));
    let pair = ["120046", "120049"].map(|t| format!("IMG_20061001_{t}.jpg"));
    for f in burst.iter().chain(&pair) {
        std::fs::copy(camera.join(f), root.join(f)).unwrap();
    }
    let (_app, w) = mock_app(AppState::open(&dir.path().join("p.sqlite")).unwrap());
    invoke(&w, "scan", json!({ "folders": [root] })).unwrap();

    let list = |w: &WebviewWindow<MockRuntime>| invoke(w, "duplicates", json!({})).unwrap();
    let d = list(&w);
    let groups = d["groups"].as_array().unwrap();
    assert_eq!(groups.len(), 2, "{d}");
    let space: Vec<u64> = groups
        .iter()
        .map(|g| g["reclaimable_bytes"].as_u64().unwrap())
        .collect();
    assert!(space[0] >= space[1], "largest space first: {space:?}");
    assert_eq!(d["reclaimable_bytes"], json!(space.iter().sum::<u64>()));
    let file = |m: &Value| {
        Path::new(m["path"].as_str().unwrap())
            .file_name()
            .unwrap()
            .to_str()
            .unwrap()
            .to_string()
    };
    let members = |g: &Value| g["members"].as_array().unwrap().clone();
    let burst_group = groups
        .iter()
        .find(|g| members(g).len() == 3)
        .unwrap_or_else(|| panic!("the burst is one group: {d}"))
        .clone();
    let gid = burst_group["id"].as_str().unwrap().to_string();
    assert_eq!(gid.len(), 12, "{gid}");
    assert_eq!(burst_group["tier"], json!("similar"));
    let mut names: Vec<String> = members(&burst_group).iter().map(file).collect();
    names.sort();
    assert_eq!(names, burst);
    let best: Vec<&Value> = burst_group["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["best"] == json!(true))
        .collect();
    assert_eq!(best.len(), 1, "{burst_group}");
    assert_eq!(burst_group["best"], best[0]["id"]);
    assert!(best[0]["kept"].as_bool().unwrap());

    // Another shot chosen as the best: the group (same id) keeps it, "your choice".
    let other = members(&burst_group)
        .into_iter()
        .find(|m| m["best"] == json!(false))
        .unwrap();
    let other_id = other["id"].as_i64().unwrap();
    let decision = json!({ "kind": "best", "photo": other_id });
    let r = invoke(
        &w,
        "duplicates_decide",
        json!({ "group": gid, "decision": decision }),
    );
    assert_eq!(r, Ok(Value::Null));
    let d = list(&w);
    let g = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] == json!(gid))
        .unwrap_or_else(|| panic!("group {gid} still listed: {d}"))
        .clone();
    assert_eq!(g["best"], json!(other_id), "{g}");
    assert_eq!(g["why"], json!(["your_choice"]));

    // Keep the best, trash the rest: the two others leave the folder, into the OS trash.
    let rest: Vec<Value> = members(&g)
        .into_iter()
        .filter(|m| m["kept"] == json!(false))
        .collect();
    assert_eq!(rest.len(), 2, "{g}");
    let r = invoke(&w, "duplicates_trash_rest", json!({ "groups": [gid, gid] })).unwrap();
    assert_eq!(r["done"], json!(2), "{r}");
    assert!(Path::new(other["path"].as_str().unwrap()).exists());
    for m in &rest {
        assert!(!Path::new(m["path"].as_str().unwrap()).exists(), "{m}");
    }
    let d = list(&w);
    assert!(
        d["groups"]
            .as_array()
            .unwrap()
            .iter()
            .all(|g| g["id"] != json!(gid)),
        "{d}"
    );
    // Gone: the group cannot be trashed again, nor decided on.
    let e = invoke(&w, "duplicates_trash_rest", json!({ "groups": [gid] })).unwrap_err();
    assert!(e.as_str().unwrap().contains("no duplicate group"), "{e}");
    let batch: Vec<i64> = r["photos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let back = invoke(&w, "restore", json!({ "ids": batch })).unwrap();
    assert_eq!(back["done"], json!(2), "{back}");
    for m in &rest {
        assert!(Path::new(m["path"].as_str().unwrap()).exists(), "{m}");
    }
    let d = list(&w);
    assert!(
        d["groups"]
            .as_array()
            .unwrap()
            .iter()
            .any(|g| g["id"] == json!(gid)),
        "{d}"
    );

    // Not duplicates, and keep all: remembered, the groups are no longer offered.
    let pair_group = d["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["id"] != json!(gid))
        .unwrap()["id"]
        .clone();
    let not_dup = json!({ "kind": "not_duplicates" });
    invoke(
        &w,
        "duplicates_decide",
        json!({ "group": pair_group, "decision": not_dup }),
    )
    .unwrap();
    let keep_all = json!({ "kind": "keep_all" });
    invoke(
        &w,
        "duplicates_decide",
        json!({ "group": gid, "decision": keep_all }),
    )
    .unwrap();
    let d = list(&w);
    assert_eq!(d["groups"], json!([]), "{d}");
    assert_eq!(d["hidden"], json!(1), "{d}");
    assert_eq!(d["reclaimable_bytes"], json!(0));
}
