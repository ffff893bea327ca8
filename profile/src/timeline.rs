//! The heap over time: samples of the live heap, bounded in number however
//! long the run (when full, every other sample goes and the interval
//! doubles), with the peak always among them.
//!
//! The recorder owns one and feeds it; the clock is injectable so that the
//! decimation can be tested without waiting.

use crate::{Sample, VmSample, NONE};
use std::time::Instant;

/// At most this many samples are kept.
pub const MAX_SAMPLES: usize = 2048;
/// The clock is read on every this-many-th credit, not on each (a
/// statement's credit takes tens of nanoseconds: 32 are still far inside
/// the first interval between samples).
pub const CHECK_EVERY: u32 = 32;
/// The allocation hook asks for a sample every this many allocations.
pub const ALLOCATIONS_PER_CHECK: u32 = 4096;
/// The first interval between samples, in seconds.
const FIRST_INTERVAL: f64 = 0.001;
/// VmRSS and VmData are read at most this often, in seconds: each read of
/// /proc/self/status costs some 7 us of kernel time, 0.7% of a run at
/// every 1 ms sample, and the process's size moves in pages and mmaps,
/// which 10 ms still follows.
const VM_MIN_INTERVAL: f64 = 0.01;

/// Reads (VmRSS, VmData) now, or None.
pub type VmReader = fn() -> Option<(u64, u64)>;

pub struct Timeline {
    start: Instant,
    samples: Vec<Sample>,
    interval: f64,
    next: f64,
    peak: Option<Sample>,
    /// VmRSS and VmData at the samples, when a reader was given.
    vm: Vec<VmSample>,
    vm_reader: Option<VmReader>,
    vm_next: f64,
}

impl Default for Timeline {
    fn default() -> Self {
        Timeline {
            start: Instant::now(),
            samples: Vec::new(),
            interval: FIRST_INTERVAL,
            next: 0.0,
            peak: None,
            vm: Vec::new(),
            vm_reader: None,
            vm_next: 0.0,
        }
    }
}

impl Timeline {
    pub fn new() -> Timeline {
        Timeline::default()
    }

    /// Read (VmRSS, VmData) at every sample taken, with `reader`.
    pub fn read_vm_with(&mut self, reader: VmReader) {
        self.vm_reader = Some(reader);
    }

    /// VmRSS and VmData at the samples so far.
    pub fn vm(&self) -> &[VmSample] {
        &self.vm
    }

    /// Seconds since profiling started.
    pub fn now(&self) -> f64 {
        self.start.elapsed().as_secs_f64()
    }

    /// Called whenever memory moved: take a sample if one is due.  The
    /// caller keeps the countdown to the next look at the clock (the
    /// recorder's runloop counts its own credits down on it).
    pub fn tick(&mut self, countdown: &mut u32, live: i64, entry: u32) {
        if *countdown > 0 {
            *countdown -= 1;
            return;
        }
        *countdown = CHECK_EVERY;
        self.sample(live, entry);
    }

    /// Take a sample if one is due.
    pub fn sample(&mut self, live: i64, entry: u32) {
        let time = self.now();
        self.sample_at(time, live, entry);
    }

    /// Take a sample at `time` (seconds since the start) if one is due.
    pub fn sample_at(&mut self, time: f64, live: i64, entry: u32) {
        if time < self.next {
            return;
        }
        self.samples.push(Sample { time, live_bytes: live, entry });
        if time >= self.vm_next {
            if let Some((rss_bytes, data_bytes)) = self.vm_reader.and_then(|read| read()) {
                self.vm.push(VmSample { time, rss_bytes, data_bytes });
            }
            self.vm_next = time + self.interval.max(VM_MIN_INTERVAL);
        }
        self.next = time + self.interval;
        if self.samples.len() >= MAX_SAMPLES {
            let kept: Vec<Sample> = self.samples.iter().step_by(2).copied().collect();
            self.samples = kept;
            self.vm = self.vm.iter().step_by(2).copied().collect();
            self.interval *= 2.0;
        }
    }

    /// The heap reached a new high: remember when.
    pub fn peak(&mut self, live: i64, entry: u32) {
        self.peak_at(self.now(), live, entry);
    }

    /// The heap reached a new high at `time`.
    pub fn peak_at(&mut self, time: f64, live: i64, entry: u32) {
        self.peak = Some(Sample { time, live_bytes: live, entry });
    }

    /// The samples, with the peak and the end among them, in time order.
    pub fn finish(&self, live_at_end: i64) -> Vec<Sample> {
        self.finish_at(self.now(), live_at_end)
    }

    /// The same, with the end at `time`.
    pub fn finish_at(&self, time: f64, live_at_end: i64) -> Vec<Sample> {
        let mut out = self.samples.clone();
        if let Some(p) = self.peak {
            out.push(p);
        }
        out.push(Sample { time, live_bytes: live_at_end, entry: NONE });
        out.sort_by(|a, b| a.time.total_cmp(&b.time));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_sizes_are_read_at_the_samples_only() {
        use std::sync::atomic::{AtomicU64, Ordering};
        static READS: AtomicU64 = AtomicU64::new(0);
        fn reader() -> Option<(u64, u64)> {
            let n = READS.fetch_add(1, Ordering::Relaxed);
            Some((n, 2 * n))
        }
        let mut t = Timeline::new();
        t.read_vm_with(reader);
        for i in 0..10 {
            // Ten calls, five of them due.
            t.sample_at(f64::from(i / 2) * 0.01, 0, NONE);
        }
        assert_eq!(t.vm().len(), 5);
        assert_eq!(READS.load(Ordering::Relaxed), 5, "read when a sample is taken, never otherwise");
        assert_eq!(t.vm()[4], VmSample { time: 0.04, rss_bytes: 4, data_bytes: 8 });
        // Samples 1.1 ms apart, every one due: the sizes are read at the
        // first sample 10 ms or more after the last read only.
        for i in 1..=30 {
            t.sample_at(0.04 + f64::from(i) * 0.0011, 0, NONE);
        }
        assert_eq!(t.samples.len(), 35);
        let times: Vec<f64> = t.vm()[5..].iter().map(|v| (v.time * 1000.0).round()).collect();
        assert_eq!(times, vec![51.0, 62.0, 73.0]);
    }

    #[test]
    fn samples_are_spaced_by_the_interval() {
        let mut t = Timeline::new();
        for i in 0..10 {
            // Every 0.4 ms: only every third or so is due at 1 ms spacing.
            t.sample_at(f64::from(i) * 0.0004, i64::from(i), 0);
        }
        let kept: Vec<i64> = t.finish_at(1.0, -1).iter().map(|s| s.live_bytes).collect();
        assert_eq!(kept, vec![0, 3, 6, 9, -1]);
    }

    #[test]
    fn a_long_run_keeps_a_bounded_number_of_samples_and_the_peak() {
        let mut t = Timeline::new();
        let mut time = 0.0;
        for i in 0..1_000_000 {
            time += 0.001;
            t.sample_at(time, i, 0);
        }
        t.peak_at(123.4567, 99, 7);
        let out = t.finish_at(time + 1.0, 5);
        assert!(out.len() <= MAX_SAMPLES + 2, "{} samples", out.len());
        assert!(out.len() >= MAX_SAMPLES / 2, "{} samples", out.len());
        assert!(out.iter().any(|s| s.time == 123.4567 && s.live_bytes == 99 && s.entry == 7));
        assert!(out.windows(2).all(|w| w[0].time <= w[1].time));
        assert_eq!(out.last().map(|s| (s.live_bytes, s.entry)), Some((5, NONE)));
    }
}
