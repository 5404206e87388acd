//! The app's attack surface, tried: every IPC command with hostile arguments (unknown,
//! negative and extreme ids, huge lists, out-of-range numbers, wrong types, paths and
//! traversal where ids are expected, scan folders the dialog never gives), the `thumb:`
//! scheme with hostile paths, the CSP of `tauri.conf.json`, the capabilities against what the
//! UI uses, and the plugins the app links. What the webview itself enforces (inline script,
//! remote content, eval, file and asset URLs) is tried in the real webview by the e2e suite
//! (`tests/e2e/run.mjs`, "the page cannot run injected script or load remote content").

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use precious_app::commands::{MAX_FOLDERS, MAX_GROUPS, MAX_IDS, MAX_QUEUE};
use precious_app::AppState;
use serde_json::{json, Value};
use tauri::test::MockRuntime;
use tauri::{App, WebviewWindow};

use crate::common::{invoke, mock_app};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// The error sentence of a call that must fail.
fn refused(w: &WebviewWindow<MockRuntime>, cmd: &str, args: Value) -> String {
    match invoke(w, cmd, args.clone()) {
        Ok(v) => panic!("{cmd} {args} was accepted: {v}"),
        Err(Value::String(s)) => {
            assert!(!s.is_empty(), "{cmd} {args}: an empty error");
            s
        }
        Err(e) => panic!("{cmd} {args}: the error is not a sentence: {e}"),
    }
}

struct Fixture {
    _dir: tempfile::TempDir,
    db: PathBuf,
    /// A photo file outside any scanned folder, and a scanned folder.
    gallery: PathBuf,
    ids: Vec<i64>,
}

/// A small indexed gallery (a few demo photos), with the OS trash sandboxed first: restore
/// and empty-trash list the trash even when they refuse every id.
fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        crate::common::sandbox_os_trash();
        let dir = tempfile::tempdir().unwrap();
        let gallery = dir.path().canonicalize().unwrap().join("gallery");
        std::fs::create_dir_all(&gallery).unwrap();
        let camera = repo().join("engine/demo/gallery/DCIM/Camera");
        let mut photos: Vec<PathBuf> = std::fs::read_dir(&camera)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "jpg"))
            .collect();
        photos.sort();
        for p in photos.iter().take(4) {
            std::fs::copy(p, gallery.join(p.file_name().unwrap())).unwrap();
        }
        let db = dir.path().join("db/precious.sqlite");
        let (_app, w) = mock_app(AppState::open(&db).unwrap());
        invoke(&w, "scan", json!({ "folders": [gallery] })).unwrap();
        let q = invoke(&w, "label_queue", json!({ "split": "test", "n": 50 })).unwrap();
        let ids = q
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["id"].as_i64().unwrap())
            .collect();
        Fixture {
            _dir: dir,
            db,
            gallery,
            ids,
        }
    })
}

fn app() -> (App<MockRuntime>, WebviewWindow<MockRuntime>) {
    mock_app(AppState::open(&fixture().db).unwrap())
}

/// Labels, photos, the trash and the busy flag: what a refused call must leave alone.
fn observable(w: &WebviewWindow<MockRuntime>) -> Value {
    let s = invoke(w, "status", json!({})).unwrap();
    json!({
        "photos": s["photos"],
        "labels": s["labels"],
        "busy": s["busy"],
        "trashed": invoke(w, "trashed", json!({})).unwrap(),
    })
}

const HOSTILE_IDS: [i64; 6] = [-1, 0, i64::MAX, i64::MIN, 987_654, -987_654];

/// Values of the wrong type, or paths and traversal, where an id is expected.
fn not_ids() -> Vec<Value> {
    vec![
        json!("1"),
        json!("../../etc/passwd"),
        json!("/etc/passwd"),
        json!("1\u{0}"),
        json!("..\\..\\windows"),
        json!(1.5),
        json!(1e300),
        json!(u64::MAX),
        json!(null),
        json!([1]),
        json!({ "id": 1 }),
        json!(true),
    ]
}

#[test]
fn unknown_and_extreme_ids_are_refused_with_sentences() {
    let (_app, w) = app();
    let before = observable(&w);
    for id in HOSTILE_IDS {
        let no = format!("no photo with id {id}");
        assert_eq!(refused(&w, "photo", json!({ "id": id })), no);
        let args = json!({ "id": id, "label": "keep", "split": "train" });
        assert_eq!(refused(&w, "set_label", args), no);
        assert_eq!(refused(&w, "undo_label", json!({ "id": id })), no);
    }
    // Trash and restore answer per photo; nothing moves.
    let r = invoke(&w, "trash", json!({ "ids": HOSTILE_IDS })).unwrap();
    assert_eq!(r["done"], json!(0), "{r}");
    for o in r["photos"].as_array().unwrap() {
        assert_eq!(
            (&o["status"], &o["reason"]),
            (&json!("refused"), &json!("no such photo"))
        );
    }
    let r = invoke(&w, "restore", json!({ "ids": HOSTILE_IDS })).unwrap();
    assert_eq!(r["done"], json!(0), "{r}");
    for o in r["photos"].as_array().unwrap() {
        assert_eq!(o["status"], json!("refused"), "{o}");
    }
    for id in HOSTILE_IDS {
        let e = refused(&w, "empty_trash", json!({ "ids": [id] }));
        assert_eq!(e, format!("photo {id}: no such photo"));
    }
    assert_eq!(observable(&w), before);
}

#[test]
fn wrong_types_and_paths_where_ids_are_expected_are_refused() {
    let (_app, w) = app();
    let before = observable(&w);
    let id = fixture().ids[0];
    for bad in not_ids() {
        refused(&w, "photo", json!({ "id": bad }));
        refused(&w, "undo_label", json!({ "id": bad }));
        refused(
            &w,
            "set_label",
            json!({ "id": bad, "label": "keep", "split": "train" }),
        );
        for cmd in ["trash", "restore", "empty_trash"] {
            refused(&w, cmd, json!({ "ids": [bad] }));
            refused(&w, cmd, json!({ "ids": [id, bad] }));
        }
        if !bad.is_array() && !bad.is_null() {
            for cmd in ["trash", "restore", "empty_trash"] {
                refused(&w, cmd, json!({ "ids": bad }));
            }
        }
    }
    // Missing arguments, and labels and splits outside their enums.
    refused(&w, "photo", json!({}));
    refused(&w, "set_label", json!({ "id": id }));
    refused(&w, "trash", json!({}));
    for label in ["", "KEEP", "keep\u{0}", "../keep", "delete;drop"] {
        let args = json!({ "id": id, "label": label, "split": "train" });
        refused(&w, "set_label", args);
    }
    for split in ["", "validation", "train/../test"] {
        let args = json!({ "id": id, "label": "keep", "split": split });
        refused(&w, "set_label", args);
        refused(&w, "label_queue", json!({ "split": split, "n": 5 }));
    }
    // Not a command of the app, nor a plugin the app has.
    refused(&w, "read_file", json!({ "path": "/etc/passwd" }));
    refused(&w, "plugin:fs|read_file", json!({ "path": "/etc/passwd" }));
    refused(&w, "plugin:shell|execute", json!({ "program": "sh" }));
    assert_eq!(observable(&w), before);
}

#[test]
fn huge_and_empty_id_lists_are_refused_fast() {
    let (_app, w) = app();
    let before = observable(&w);
    let million: Vec<i64> = (0..1_000_000).collect();
    let over: Vec<i64> = (0..MAX_IDS as i64 + 1).collect();
    for cmd in ["trash", "restore", "empty_trash"] {
        for ids in [&million, &over] {
            let t = Instant::now();
            let e = refused(&w, cmd, json!({ "ids": ids }));
            assert!(
                e.starts_with("too many photos in one request"),
                "{cmd}: {e}"
            );
            assert!(
                t.elapsed() < Duration::from_secs(10),
                "{cmd} with {} ids took {:?}",
                ids.len(),
                t.elapsed()
            );
        }
        // An empty list is nobody's request: never "all" nor "the latest batch".
        assert_eq!(refused(&w, cmd, json!({ "ids": [] })), "no photos selected");
    }
    // Repeats of one id are one request for it.
    let id = fixture().ids[0];
    let r = invoke(&w, "restore", json!({ "ids": vec![id; 10_000] })).unwrap();
    assert_eq!(r["photos"].as_array().unwrap().len(), 1, "{r}");
    assert_eq!(observable(&w), before);
}

/// The fixture's duplicate groups, without the timing.
fn groups(w: &WebviewWindow<MockRuntime>) -> Value {
    let mut d = invoke(w, "duplicates", json!({})).unwrap();
    d.as_object_mut().unwrap().remove("elapsed_ms");
    d
}

#[test]
fn duplicate_group_ids_decisions_and_lists_are_checked() {
    let (_app, w) = app();
    let before = (observable(&w), groups(&w));
    // The fixture's two shots of 2006-10-01, a few seconds apart, are one group.
    let g = before.1["groups"][0].clone();
    let gid = g["id"].as_str().expect("the fixture has a duplicate group");
    let keep_all = json!({ "kind": "keep_all" });
    let malformed = "not a duplicate group id (12 lowercase hex digits)";
    let upper = gid.to_uppercase();
    for bad in [
        "",
        "0",
        &gid[..11],
        &format!("{gid}0"),
        upper.as_str(),
        "../../etc/pa",
        "abcdef01234\u{0}",
        "0x0123456789",
        " abcdef01234",
        "abcdef01234g",
        "ａbcdef0123",
        &"a".repeat(10_000),
    ] {
        let args = json!({ "group": bad, "decision": keep_all });
        assert_eq!(refused(&w, "duplicates_decide", args), malformed, "{bad:?}");
        let args = json!({ "groups": [bad] });
        assert_eq!(
            refused(&w, "duplicates_trash_rest", args),
            malformed,
            "{bad:?}"
        );
        // A good group does not carry a bad one through.
        let args = json!({ "groups": [gid, bad] });
        assert_eq!(
            refused(&w, "duplicates_trash_rest", args),
            malformed,
            "{bad:?}"
        );
    }
    for bad in not_ids().into_iter().filter(|v| !v.is_string()) {
        refused(
            &w,
            "duplicates_decide",
            json!({ "group": bad, "decision": keep_all }),
        );
        refused(&w, "duplicates_trash_rest", json!({ "groups": [bad] }));
        if !bad.is_array() {
            refused(&w, "duplicates_trash_rest", json!({ "groups": bad }));
        }
    }
    // Well formed, but no such group.
    let unknown = "000000000000";
    let e = refused(
        &w,
        "duplicates_decide",
        json!({ "group": unknown, "decision": keep_all }),
    );
    assert!(e.starts_with("no duplicate group 000000000000"), "{e}");
    let e = refused(&w, "duplicates_trash_rest", json!({ "groups": [unknown] }));
    assert!(e.starts_with("no duplicate group 000000000000"), "{e}");
    let e = refused(
        &w,
        "duplicates_trash_rest",
        json!({ "groups": [gid, unknown] }),
    );
    assert!(e.starts_with("no duplicate group 000000000000"), "{e}");
    // Decisions outside the enum, a best that is no photo id, or not in the group.
    for decision in [
        json!({ "kind": "delete" }),
        json!({ "kind": "Keep_all" }),
        json!({ "kind": "best" }),
        json!({ "kind": "best", "photo": "1" }),
        json!({ "kind": "best", "photo": "../../etc/passwd" }),
        json!({ "kind": "best", "photo": 1.5 }),
        json!({ "kind": "best", "photo": u64::MAX }),
        json!({ "kind": "best", "photo": [1] }),
        json!({ "photo": 1 }),
        json!("keep_all"),
        json!(null),
        json!({}),
    ] {
        refused(
            &w,
            "duplicates_decide",
            json!({ "group": gid, "decision": decision }),
        );
    }
    refused(&w, "duplicates_decide", json!({ "group": gid }));
    refused(&w, "duplicates_decide", json!({ "decision": keep_all }));
    let outside = fixture()
        .ids
        .iter()
        .copied()
        .find(|id| {
            g["members"]
                .as_array()
                .unwrap()
                .iter()
                .all(|m| m["id"] != json!(id))
        })
        .unwrap();
    for id in HOSTILE_IDS.into_iter().chain([outside]) {
        let decision = json!({ "kind": "best", "photo": id });
        let e = refused(
            &w,
            "duplicates_decide",
            json!({ "group": gid, "decision": decision }),
        );
        assert_eq!(e, format!("photo {id} is not in duplicate group {gid}"));
    }
    // Empty and huge lists of groups.
    assert_eq!(
        refused(&w, "duplicates_trash_rest", json!({ "groups": [] })),
        "no duplicate groups selected"
    );
    refused(&w, "duplicates_trash_rest", json!({}));
    for n in [MAX_GROUPS + 1, 1_000_000] {
        let t = Instant::now();
        let e = refused(
            &w,
            "duplicates_trash_rest",
            json!({ "groups": vec![gid; n] }),
        );
        assert!(
            e.starts_with("too many duplicate groups in one request"),
            "{e}"
        );
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "{n} groups took {:?}",
            t.elapsed()
        );
    }
    assert_eq!((observable(&w), groups(&w)), before);
}

#[test]
fn queue_lengths_and_seeds_out_of_range_are_refused() {
    let (_app, w) = app();
    for n in [json!(0), json!(MAX_QUEUE + 1), json!(u64::MAX)] {
        let e = refused(&w, "label_queue", json!({ "split": "train", "n": n }));
        assert!(e.contains("between 1 and"), "{n}: {e}");
    }
    for n in [json!(-1), json!(1.5), json!("5"), json!(null), json!(1e20)] {
        refused(&w, "label_queue", json!({ "split": "train", "n": n }));
    }
    for seed in [json!(-1), json!("1"), json!(1.5)] {
        let args = json!({ "split": "test", "n": 3, "seed": seed });
        refused(&w, "label_queue", args);
    }
    // The bounds themselves, and the largest seed, are fine.
    let q = invoke(
        &w,
        "label_queue",
        json!({ "split": "test", "n": MAX_QUEUE, "seed": u64::MAX }),
    )
    .unwrap();
    assert!(q.as_array().unwrap().len() <= MAX_QUEUE);
    let q = invoke(&w, "label_queue", json!({ "split": "train", "n": 1 })).unwrap();
    assert!(q.as_array().unwrap().len() <= 1);
}

#[test]
fn scan_refuses_folders_the_dialog_never_gives() {
    let (_app, w) = app();
    let before = observable(&w);
    let g = &fixture().gallery;
    let g = g.display().to_string();
    let a_file = std::fs::read_dir(&fixture().gallery)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let cases: Vec<(Value, &str)> = vec![
        (json!([]), "choose at least one folder"),
        (json!(["relative/photos"]), "not an absolute path"),
        (json!(["gallery"]), "not an absolute path"),
        (json!(["~/Pictures"]), "not an absolute path"),
        (json!(["file:///etc"]), "not an absolute path"),
        (json!([""]), "not an absolute path"),
        (json!([format!("{g}/../..")]), "is not accepted"),
        (json!([format!("{g}/../gallery")]), "is not accepted"),
        (json!(["/../../etc"]), "is not accepted"),
        (json!([format!("{g}\u{0}/x")]), "NUL"),
        (json!(["/definitely/not/here"]), "not a folder"),
        (json!([a_file]), "not a folder"),
        (json!([format!("/{}", "a".repeat(5000))]), "too long"),
        (json!(vec![g.clone(); MAX_FOLDERS + 1]), "too many folders"),
        // A good folder does not carry a bad one through.
        (json!([g.clone(), "/definitely/not/here"]), "not a folder"),
        (json!([g.clone(), format!("{g}/..")]), "is not accepted"),
    ];
    for (folders, want) in cases {
        let e = refused(&w, "scan", json!({ "folders": folders }));
        assert!(e.contains(want), "{folders}: {e}");
    }
    for folders in [json!(g), json!([1]), json!(null), json!({ "path": g })] {
        refused(&w, "scan", json!({ "folders": folders }));
    }
    assert_eq!(observable(&w), before);
}

/// Commands without arguments ignore extra ones; the learning commands refuse with a sentence
/// on a database without labels.
#[test]
fn commands_without_arguments_ignore_junk() {
    let (_app, w) = app();
    let junk =
        json!({ "path": "/etc/passwd", "n": -1, "ids": ["../"], "options": { "steps": -5 } });
    for cmd in ["status", "trashed", "models", "cancel_scan", "duplicates"] {
        invoke(&w, cmd, junk.clone()).unwrap();
    }
    for cmd in ["train", "evaluate", "suggest"] {
        refused(&w, cmd, junk.clone());
    }
    assert_eq!(
        invoke(&w, "status", json!({})).unwrap()["busy"],
        Value::Null
    );
}

#[test]
fn thumb_scheme_refuses_hostile_paths() {
    let (_app, _w) = app();
    let state = AppState::open(&fixture().db).unwrap();
    let long = format!("/{}", "9".repeat(10_000));
    for bad in [
        "/1%00",
        "/%00",
        "/1\u{0}",
        "//etc/passwd",
        "/1/..",
        "/1/../../..",
        "/..%2f..%2fetc%2fpasswd",
        "/9223372036854775808",
        "/+1",
        "/ 1",
        "/1 ",
        "/0x1",
        "/1e3",
        "/1?../../etc/passwd",
        "/１",
        long.as_str(),
    ] {
        let r = precious_app::thumbs::respond(&state, bad);
        assert_eq!(r.status(), 400, "{bad:?}");
    }
    for id in ["/0", "/987654", "/999999999999999999"] {
        assert_eq!(
            precious_app::thumbs::respond(&state, id).status(),
            404,
            "{id}"
        );
    }
}

// ------------------------------------------------------------------ configuration

fn read_json(path: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).unwrap())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The CSP of `tauri.conf.json` as directive -> sources.
fn csp() -> Vec<(String, Vec<String>)> {
    let conf = read_json(&repo().join("tauri.conf.json"));
    match &conf["app"]["security"]["csp"] {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = v.as_str().expect("a directive's sources are a string");
                (k.clone(), v.split_whitespace().map(String::from).collect())
            })
            .collect(),
        Value::String(s) => s
            .split(';')
            .filter_map(|d| {
                let mut t = d.split_whitespace().map(String::from);
                Some((t.next()?, t.collect()))
            })
            .collect(),
        other => panic!("no CSP in tauri.conf.json: {other}"),
    }
}

/// A source the app may name: a keyword, one of the app's own schemes, or that scheme's
/// `http://<scheme>.localhost` form (Windows, Android). Never a remote origin or a wildcard.
fn local_source(s: &str) -> bool {
    const SCHEMES: [&str; 2] = ["ipc", "thumb"];
    match s {
        "'self'" | "'none'" => true,
        _ => {
            SCHEMES.iter().any(|sc| s == format!("{sc}:"))
                || SCHEMES
                    .iter()
                    .any(|sc| s == format!("http://{sc}.localhost"))
        }
    }
}

#[test]
fn csp_forbids_remote_content_and_inline_script() {
    let csp = csp();
    let get = |name: &str| -> Option<&Vec<String>> {
        csp.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    };
    for (directive, sources) in &csp {
        assert!(!sources.is_empty(), "{directive}: no sources");
        for s in sources {
            assert!(
                local_source(s),
                "{directive}: {s} is not the app's own (remote origins, wildcards, data:, \
                 blob: and unsafe-* are not allowed)"
            );
        }
    }
    assert_eq!(get("default-src").unwrap(), &["'self'"]);
    assert_eq!(
        get("script-src").unwrap(),
        &["'self'"],
        "scripts: files of the app only"
    );
    assert_eq!(get("style-src").unwrap(), &["'self'"], "no inline style");
    let connect: BTreeSet<&str> = get("connect-src")
        .unwrap()
        .iter()
        .map(|s| s.as_str())
        .collect();
    assert!(
        connect.is_subset(&BTreeSet::from(["ipc:", "http://ipc.localhost", "'self'"])),
        "connect-src: {connect:?}"
    );
    for (directive, want) in [
        ("object-src", "'none'"),
        ("base-uri", "'none'"),
        ("form-action", "'none'"),
        ("frame-ancestors", "'none'"),
        ("frame-src", "'none'"),
    ] {
        assert_eq!(get(directive), Some(&vec![want.to_string()]), "{directive}");
    }
    let conf = read_json(&repo().join("tauri.conf.json"));
    let security = &conf["app"]["security"];
    assert_eq!(security["freezePrototype"], json!(true));
    for key in [
        "dangerousDisableAssetCspModification",
        "assetProtocol",
        "capabilities",
    ] {
        assert!(security.get(key).is_none(), "app.security.{key} is set");
    }
    // The pages are the app's own files, never a dev server or a remote URL.
    assert!(conf["build"].get("devUrl").is_none(), "build.devUrl is set");
    for w in conf["app"]["windows"].as_array().unwrap() {
        assert!(
            w.get("url")
                .is_none_or(|u| !u.as_str().unwrap().contains(':')),
            "{w}"
        );
    }
}

/// The permission each Tauri API the UI calls needs (`ui/js/api.js` is the only module that
/// touches `window.__TAURI__`). An API missing here fails the test: add it deliberately.
fn permission_for(module: &str, function: &str) -> Option<&'static str> {
    match (module, function) {
        ("core", "invoke") | ("core", "convertFileSrc") => None,
        ("event", "listen") | ("event", "once") => Some("core:event:allow-listen"),
        ("event", "emit") => Some("core:event:allow-emit"),
        ("dialog", "open") => Some("dialog:allow-open"),
        ("dialog", "save") => Some("dialog:allow-save"),
        ("dialog", "message") => Some("dialog:allow-message"),
        ("dialog", "ask") => Some("dialog:allow-ask"),
        ("dialog", "confirm") => Some("dialog:allow-confirm"),
        _ => panic!("the UI calls __TAURI__.{module}.{function}: list its permission here"),
    }
}

#[test]
fn capabilities_grant_only_what_the_ui_uses() {
    let ui = repo().join("ui/js");
    let mut needed = BTreeSet::new();
    for e in std::fs::read_dir(&ui).unwrap() {
        let p = e.unwrap().path();
        let src = std::fs::read_to_string(&p).unwrap();
        let name = p.file_name().unwrap().to_str().unwrap().to_string();
        if name != "api.js" {
            assert!(!src.contains("__TAURI"), "{name} touches window.__TAURI__");
            continue;
        }
        // `T.<module>.<function>(` where `const T = window.__TAURI__`.
        assert!(
            src.contains("const T = window.__TAURI__;"),
            "api.js changed shape"
        );
        for (i, _) in src.match_indices("T.") {
            if i > 0 && src.as_bytes()[i - 1].is_ascii_alphanumeric() {
                continue;
            }
            let rest = &src[i + 2..];
            let ident = |s: &str| -> String {
                s.chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect()
            };
            let module = ident(rest);
            let after = &rest[module.len()..];
            let Some(after) = after.strip_prefix('.') else {
                continue;
            };
            if let Some(p) = permission_for(&module, &ident(after)) {
                needed.insert(p.to_string());
            }
        }
    }
    assert!(needed.contains("dialog:allow-open"), "{needed:?}");

    let mut granted = BTreeSet::new();
    for e in std::fs::read_dir(repo().join("src-tauri/capabilities")).unwrap() {
        let p = e.unwrap().path();
        let cap = read_json(&p);
        assert_eq!(cap["windows"], json!(["main"]), "{}", p.display());
        for key in ["remote", "webviews", "platforms"] {
            assert!(cap.get(key).is_none(), "{}: {key}", p.display());
        }
        for perm in cap["permissions"].as_array().unwrap() {
            let id = perm
                .as_str()
                .or_else(|| perm["identifier"].as_str())
                .unwrap();
            granted.insert(id.to_string());
        }
    }
    assert_eq!(granted, needed, "capabilities vs what ui/js uses");
}

#[test]
fn no_plugin_reaches_files_network_or_shell() {
    let cargo = std::fs::read_to_string(repo().join("src-tauri/Cargo.toml")).unwrap();
    let mut plugins = Vec::new();
    for line in cargo.lines() {
        let name = line.split('=').next().unwrap().trim();
        if name.starts_with("tauri-plugin-") {
            plugins.push(name.to_string());
        }
        if name == "tauri" {
            for f in [
                "protocol-asset",
                "devtools",
                "shell-open",
                "http-api",
                "fs-",
            ] {
                assert!(!line.contains(f), "tauri feature {f}: {line}");
            }
        }
    }
    assert_eq!(
        plugins,
        ["tauri-plugin-dialog"],
        "plugins linked by the app"
    );
    let conf = read_json(&repo().join("tauri.conf.json"));
    assert!(
        conf.get("plugins")
            .is_none_or(|p| p.as_object().unwrap().is_empty()),
        "plugin configuration in tauri.conf.json"
    );
}
