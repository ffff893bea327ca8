//! The heap over time: samples of the live heap, bounded in number however
//! long the run (when full, every other sample goes and the interval
//! doubles), with the peak always among them.

use crate::profile::{Sample, NONE};
use std::time::Instant;

/// At most this many samples are kept.
const MAX_SAMPLES: usize = 2048;
/// The clock is read on every this-many-th credit, not on each.
const CHECK_EVERY: u32 = 8;
/// The allocation hook asks for a sample every this many allocations.
pub const ALLOCATIONS_PER_CHECK: u32 = 4096;

pub struct Timeline {
    start: Instant,
    samples: Vec<Sample>,
    interval: f64,
    next: f64,
    countdown: u32,
    peak: Option<Sample>,
}

impl Timeline {
    pub fn new() -> Timeline {
        Timeline { start: Instant::now(), samples: Vec::new(), interval: 0.001, next: 0.0, countdown: 0, peak: None }
    }

    /// Seconds since profiling started.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Called whenever memory moved: take a sample if one is due.
    pub fn tick(&mut self, live: i64, entry: u32) {
        if self.countdown > 0 {
            self.countdown -= 1;
            return;
        }
        self.countdown = CHECK_EVERY;
        self.sample(live, entry);
    }

    /// Take a sample if one is due.
    pub fn sample(&mut self, live: i64, entry: u32) {
        let time = self.now();
        if time < self.next {
            return;
        }
        self.samples.push(Sample { time, live_bytes: live, entry });
        self.next = time + self.interval;
        if self.samples.len() >= MAX_SAMPLES {
            let kept: Vec<Sample> = self.samples.iter().step_by(2).copied().collect();
            self.samples = kept;
            self.interval *= 2.0;
        }
    }

    /// The heap reached a new high: remember when.
    pub fn peak(&mut self, live: i64, entry: u32) {
        self.peak = Some(Sample { time: self.now(), live_bytes: live, entry });
    }

    /// The samples, with the peak and the end among them, in time order.
    pub fn finish(&self, live_at_end: i64) -> Vec<Sample> {
        let mut out = self.samples.clone();
        if let Some(p) = self.peak {
            out.push(p);
        }
        out.push(Sample { time: self.now(), live_bytes: live_at_end, entry: NONE });
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        out
    }
}
