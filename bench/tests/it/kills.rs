//! Crash consistency in CI: the `precious` binary SIGKILLed at random moments of scan, train,
//! trash and restore, three times each, with the checks of `precious-bench reliability --only
//! kills` (`precious_bench::consistency`): database integrity, no label lost, every
//! photo in place or in the trash with the journal agreeing, and the next run resuming. Every
//! check must hold whatever the moment, so random moments cannot make it flaky.
//!
//! A small gallery (10 demo screenshots as the labeled base; 12 CIFAR-10 photos and the demo's
//! truncated JPEG as new files) keeps it to a minute or two. The OS trash is sandboxed as in
//! `engine's trash tests`: `XDG_DATA_HOME` is set once per process, before anything else runs.

use std::path::PathBuf;
use std::time::Duration;

use precious_bench::consistency::{ChildRunner, Op, Rig, RigOptions};
use precious_bench::tooling::{demo_gallery, precious_beside, shared_data};

use crate::{sandbox_os_trash, sorted_files};

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
    let data_home = sandbox_os_trash();
    let work = tempfile::tempdir_in(data_home).unwrap();
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
    let runner = &mut ChildRunner;
    let precious = precious_beside().unwrap();
    assert!(
        precious.is_file(),
        "{} is missing: the kill test runs the precious binary of the same profile \
         (`cargo test --workspace` builds it; or set PRECIOUS_BIN)",
        precious.display()
    );
    let mut rig = Rig::setup(&work.path().join("rig"), data_home, &precious, opts, runner).unwrap();
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
