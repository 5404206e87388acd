//! The app and the CLI on one database at once, through the real command layer (mock
//! runtime): the app's `set_label`, `undo_label`, `status` and `label_queue` run while a
//! `precious scan` child process indexes a gallery into the same database, then while the
//! app's own `scan` command and another CLI scan both run. No call may fail (above all with
//! "database is locked" or busy), and every label set must be there afterwards.
//!
//! The CLI is the workspace's `precious` binary, found beside this test's executable
//! (`target/<profile>/precious`): `cargo test --workspace` builds it (the engine's integration
//! tests need it); `cargo test -p precious-app` alone does not, and this test then says so.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use precious_app::AppState;
use serde_json::{json, Value};
use tauri::test::MockRuntime;
use tauri::WebviewWindow;

use crate::common::{invoke, mock_app};

/// Files of each scanned gallery (CIFAR-10 test PNGs, linked, not copied).
const FILES: usize = 250;

/// The `precious` CLI of this build.
fn cli() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().and_then(Path::parent).unwrap();
    let cli = profile_dir.join(format!("precious{}", std::env::consts::EXE_SUFFIX));
    assert!(
        cli.is_file(),
        "{} not found: build it first (`cargo build -p precious-engine --bin precious`; \
         `cargo test --workspace` does)",
        cli.display()
    );
    cli
}

/// `../shared/data` beside the checkout (override with `PRECIOUS_SHARED_DATA`), as the
/// engine's tests find it.
fn shared_data() -> PathBuf {
    let p = std::env::var_os("PRECIOUS_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"));
    assert!(
        p.is_dir(),
        "test data not found at {} (set PRECIOUS_SHARED_DATA)",
        p.display()
    );
    p
}

/// A folder of `FILES` symbolic links to one CIFAR-10 class's files (the scan follows them).
fn linked_gallery(into: &Path, class: &str) -> PathBuf {
    let src = shared_data().join("cifar10-test").join(class);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&src)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let dir = into.join(class);
    std::fs::create_dir_all(&dir).unwrap();
    for f in files.iter().take(FILES) {
        std::os::unix::fs::symlink(f, dir.join(f.file_name().unwrap())).unwrap();
    }
    dir
}

fn cli_scan(db: &Path, folder: &Path) -> Child {
    Command::new(cli())
        .arg("--db")
        .arg(db)
        .arg("--json")
        .arg("scan")
        .arg(folder)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// The page's side: random labels, undos and reads on photos already indexed.
struct Swiper {
    ids: Vec<i64>,
    rng: precious_engine::learn::head::Rng,
    /// The label each photo holds after the calls so far, as the commands answered.
    expected: HashMap<i64, Value>,
    errors: Vec<String>,
    calls: usize,
    last_queue: Instant,
}

impl Swiper {
    fn step(&mut self, w: &WebviewWindow<MockRuntime>) {
        let id = self.ids[self.rng.below(self.ids.len())];
        let dice = self.rng.below(10);
        self.calls += 1;
        let r = if dice < 7 {
            let label = ["keep", "delete", "skip"][self.rng.below(3)];
            let split = ["train", "test"][self.rng.below(2)];
            invoke(
                w,
                "set_label",
                json!({ "id": id, "label": label, "split": split }),
            )
            .map(|_| {
                self.expected
                    .insert(id, json!({ "label": label, "split": split }));
            })
        } else if dice < 9 {
            invoke(w, "undo_label", json!({ "id": id })).map(|now| {
                self.expected.insert(id, now);
            })
        } else if self.last_queue.elapsed() > Duration::from_secs(2) {
            self.last_queue = Instant::now();
            invoke(w, "label_queue", json!({ "split": "train", "n": 5 })).map(drop)
        } else {
            invoke(w, "status", json!({})).map(drop)
        };
        if let Err(e) = r {
            self.errors.push(e.to_string());
        }
    }

    /// Swipes until `running` says the other side is done; returns the calls made.
    fn alongside(&mut self, w: &WebviewWindow<MockRuntime>, mut running: impl FnMut() -> bool) {
        let start = self.calls;
        while running() {
            self.step(w);
            std::thread::sleep(Duration::from_millis(2));
        }
        // A few calls are enough to prove the overlap: under load one `label_queue` call can
        // take seconds (CI saw 7 calls during a scan), so a larger floor would only measure
        // the machine.
        assert!(
            self.calls - start >= 3,
            "only {} calls overlapped the scan",
            self.calls - start
        );
    }
}

fn finished_ok(child: Child, what: &str) {
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{what}: {err}");
    let lower = err.to_lowercase();
    assert!(
        !lower.contains("locked") && !lower.contains("busy"),
        "{what}: {err}"
    );
}

#[test]
fn labels_survive_cli_and_app_scans_of_the_same_database() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("db/precious.sqlite");
    let galleries: Vec<PathBuf> = ["airplane", "cat", "ship"]
        .iter()
        .map(|c| linked_gallery(tmp.path(), c))
        .collect();
    let demo = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/demo/gallery")
        .canonicalize()
        .unwrap();
    let (_app, w) = mock_app(AppState::open(&db).unwrap());
    invoke(&w, "scan", json!({ "folders": [demo] })).unwrap();
    let queue = invoke(&w, "label_queue", json!({ "split": "test", "n": 500 })).unwrap();
    let ids: Vec<i64> = queue
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["id"].as_i64().unwrap())
        .collect();
    let base = ids.len() as u64;
    assert!(base >= 60, "{base} demo photos indexed");
    let mut swiper = Swiper {
        ids,
        rng: precious_engine::learn::head::Rng::new(7),
        expected: HashMap::new(),
        errors: Vec::new(),
        calls: 0,
        last_queue: Instant::now(),
    };

    // 1. A CLI scan while the page labels.
    let mut child = cli_scan(&db, &galleries[0]);
    swiper.alongside(&w, || child.try_wait().unwrap().is_none());
    finished_ok(child, "the CLI scan");

    // 2. The app's own scan and another CLI scan at once, while the page labels.
    let app_scan = {
        let (w, folder) = (w.clone(), galleries[1].clone());
        std::thread::spawn(move || invoke(&w, "scan", json!({ "folders": [folder] })))
    };
    let mut child = cli_scan(&db, &galleries[2]);
    swiper.alongside(&w, || {
        !app_scan.is_finished() || child.try_wait().unwrap().is_none()
    });
    let report = app_scan.join().unwrap();
    finished_ok(child, "the second CLI scan");
    let report = report.expect("the app's scan succeeds");
    let new = report["indexed"].as_u64().unwrap() + report["duplicates"].as_u64().unwrap();
    assert_eq!(new, FILES as u64, "{report}");

    assert!(
        swiper.errors.is_empty(),
        "{} of {} calls failed: {:?}",
        swiper.errors.len(),
        swiper.calls,
        swiper.errors
    );
    // Every label is there, read back through a fresh app on the same database.
    let (_app2, w2) = mock_app(AppState::open(&db).unwrap());
    for (id, want) in &swiper.expected {
        let d = invoke(&w2, "photo", json!({ "id": id })).unwrap();
        let have = if d["label"].is_null() {
            Value::Null
        } else {
            json!({ "label": d["label"], "split": d["split"] })
        };
        assert_eq!(&have, want, "photo {id}");
    }
    let status = invoke(&w2, "status", json!({})).unwrap();
    assert_eq!(
        status["photos"]["indexed"],
        json!(base + 3 * FILES as u64),
        "{status}"
    );
    let labeled = swiper.expected.values().filter(|v| !v.is_null()).count() as u64;
    let l = &status["labels"];
    let total = ["keep", "delete", "skip"]
        .iter()
        .map(|k| l[k].as_u64().unwrap())
        .sum::<u64>();
    assert_eq!(total, labeled, "{status}");
}
