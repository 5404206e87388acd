//! The scan progress bar: count, rate and ETA on stderr (hidden when stderr is not a terminal
//! or output is JSON).

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use precious_engine::scan::Phase;
use precious_engine::ScanProgress;

pub struct ScanBar {
    bar: ProgressBar,
    indexing: bool,
}

impl ScanBar {
    pub fn new(hidden: bool) -> Self {
        let bar = ProgressBar::new_spinner();
        if hidden {
            bar.set_draw_target(ProgressDrawTarget::hidden());
        }
        bar.set_message("listing files");
        ScanBar {
            bar,
            indexing: false,
        }
    }

    pub fn update(&mut self, p: &ScanProgress) {
        match p.phase {
            Phase::Listing => self.bar.set_message(format!("listing: {} files", p.listed)),
            Phase::Indexing => {
                if !self.indexing {
                    self.indexing = true;
                    self.bar.set_length(p.to_index as u64);
                    self.bar.set_style(
                        ProgressStyle::with_template(
                            "{bar:30} {pos}/{len} photos  {per_sec}  ETA {eta}  {msg}",
                        )
                        .expect("valid template"),
                    );
                    self.bar.reset_eta();
                }
                self.bar.set_position(p.done as u64);
                if p.failed > 0 {
                    self.bar.set_message(format!("{} not indexed", p.failed));
                }
            }
            Phase::Finishing | Phase::Done => {}
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
