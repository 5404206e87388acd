//! Crash consistency in CI: the `precious` binary SIGKILLed at random moments of scan, train,
//! trash and restore, three times each, with the checks of `precious bench reliability --only
//! kills` (`precious_engine::bench::consistency`): database integrity, no label lost, every
//! photo in place or in the trash with the journal agreeing, and the next run resuming. Every
//! check must hold whatever the moment, so random moments cannot make it flaky.
//!
//! A small gallery (10 demo screenshots as the labeled base; 12 CIFAR-10 photos and the demo's
//! truncated JPEG as new files) keeps it to a minute or two. The OS trash is sandboxed as in
//! `tests/trash.rs`: `XDG_DATA_HOME` is set once per process, before anything else runs.

mod common;

use std::fs::File;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{demo_gallery, shared_data, sorted_files};
use precious_engine::bench::consistency::{Ended, Op, Ran, Rig, RigOptions, Runner};
use precious_engine::{Error, Result};

/// Children with their output in files, SIGKILLed at the requested moment.
struct Spawn {
    dir: PathBuf,
    n: usize,
}

impl Runner for Spawn {
    fn run(&mut self, cmd: &mut Command, kill_after: Option<Duration>) -> Result<Ran> {
        self.n += 1;
        let (out, err) = (
            self.dir.join(format!("{}.out", self.n)),
            self.dir.join(format!("{}.err", self.n)),
        );
        fn io(p: &Path) -> impl FnOnce(std::io::Error) -> Error + '_ {
            move |e| Error::io(p, e)
        }
        let start = Instant::now();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(File::create(&out).map_err(io(&out))?)
            .stderr(File::create(&err).map_err(io(&err))?)
            .spawn()
            .map_err(io(Path::new("precious")))?;
        let status = loop {
            if let Some(s) = child.try_wait().map_err(io(Path::new("wait")))? {
                break s;
            }
            if kill_after.is_some_and(|k| start.elapsed() >= k) {
                child.kill().map_err(io(Path::new("kill")))?;
                break child.wait().map_err(io(Path::new("wait")))?;
            }
            std::thread::sleep(Duration::from_millis(2));
        };
        let wall_s = start.elapsed().as_secs_f64();
        let ended = match (status.code(), status.signal()) {
            (Some(c), _) => Ended::Exited(c),
            // SIGKILL, ours.
            (None, Some(9)) if kill_after.is_some() => Ended::Killed,
            (None, s) => Ended::Signaled(s.unwrap_or(0)),
        };
        Ok(Ran {
            ended,
            wall_s,
            stdout: std::fs::read_to_string(&out).unwrap_or_default(),
            stderr: std::fs::read_to_string(&err).unwrap_or_default(),
        })
    }
}

/// A seeded uniform number in [0, 1) (splitmix64), so the moments are the same every run.
fn uniform(state: &mut u64) -> f64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    (((z ^ (z >> 31)) >> 11) as f64) / (1u64 << 53) as f64
}

#[test]
fn kills_at_random_moments_leave_a_consistent_gallery() {
    let data_home = common::sandbox_os_trash();
    let work = tempfile::tempdir_in(data_home).unwrap();
    let logs = work.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();
    let mut extra: Vec<PathBuf> = ["airplane", "cat", "ship"]
        .iter()
        .flat_map(|c| {
            sorted_files(&shared_data().join("cifar10-test").join(c))
                .into_iter()
                .take(4)
        })
        .collect();
    // The demo's truncated JPEG: a file the scan records as failed.
    extra.push(demo_gallery().join("DCIM/Camera/IMG_20230323_160100.jpg"));
    let opts = RigOptions {
        base: demo_gallery().join("Pictures/Screenshots"),
        extra,
        views: 8,
        steps: 30,
    };
    let runner = &mut Spawn { dir: logs, n: 0 };
    let mut rig = Rig::setup(
        &work.path().join("rig"),
        data_home,
        Path::new(env!("CARGO_BIN_EXE_precious")),
        opts,
        runner,
    )
    .unwrap();
    let mut seed = 7;
    let mut failed = Vec::new();
    for op in Op::ALL {
        // The un-killed run checks the complete path and gives the duration to kill within.
        let reference = rig.cycle(runner, op, 0, None).unwrap();
        assert!(reference.survived(), "{reference:?}");
        for n in 1..=3 {
            let at = Duration::from_secs_f64(uniform(&mut seed) * reference.wall_s);
            let c = rig.cycle(runner, op, n, Some(at)).unwrap();
            if !c.survived() {
                failed.push(c);
            }
        }
    }
    rig.finish(runner).unwrap();
    assert!(failed.is_empty(), "kills that broke a check: {failed:#?}");
}
