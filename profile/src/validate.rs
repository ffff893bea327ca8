//! Checking a decoded profile before anything reads it: every index, every
//! figure and every time, so that no renderer can be made to panic, spin
//! or allocate without bound by a damaged or crafted file.

use crate::{Metrics, Profile, FIELDS, NONE};

/// The largest byte or count figure a profile may hold, for one place and
/// for the sum over all places: 64 PiB, far beyond any real run, and small
/// enough that renderers can add, subtract and negate such figures (and
/// their differences) in an `i64` without overflowing.
pub const MAX_FIGURE: u64 = 1 << 56;

/// The largest time a profile may hold, in seconds (Unix time for the start
/// and end of the run, seconds since the start for samples and marks): about
/// 3,000 years.  Charts scale their axes by these, and plotters never
/// finishes laying out an axis that reaches infinity.
pub const MAX_SECONDS: f64 = 1e11;

fn check_time(what: &str, t: f64) -> Result<(), String> {
    if !t.is_finite() {
        return Err(format!("{what} is {t}, not a number of seconds"));
    }
    if t < 0.0 {
        return Err(format!("{what} is negative ({t} s)"));
    }
    if t > MAX_SECONDS {
        return Err(format!("{what} is {t} s, more than {MAX_SECONDS} s"));
    }
    Ok(())
}

fn check_signed(what: &str, v: i64) -> Result<(), String> {
    if v.unsigned_abs() > MAX_FIGURE {
        return Err(format!("{what} is {v}, more than {MAX_FIGURE} in magnitude"));
    }
    Ok(())
}

impl Metrics {
    /// Each figure of [`FIELDS`] by name and magnitude: what validation bounds.
    fn magnitudes(&self) -> [(&'static str, u128); FIELDS.len()] {
        FIELDS.map(|f| (f.name, (f.get)(self).unsigned_abs()))
    }

    fn check(&self, what: &str) -> Result<(), String> {
        match self.magnitudes().into_iter().find(|(_, v)| *v > u128::from(MAX_FIGURE)) {
            Some((name, v)) => Err(format!("{what} has {name} of magnitude {v}, more than {MAX_FIGURE}")),
            None => Ok(()),
        }
    }
}

impl Profile {
    /// Check everything a reader could trip on, so that no renderer can be
    /// made to panic, spin or allocate without bound by a crafted file:
    /// every index points where it should (an entry's file and a called
    /// node's call site are real files; only a frame's file and a root's call
    /// site may be NONE), parents precede children (which also rules out
    /// cycles), saved lines are in order (they are binary-searched), every
    /// figure and every sum of figures is at most [`MAX_FIGURE`], and every
    /// time is finite, not negative and at most [`MAX_SECONDS`].  The error
    /// names what is wrong.
    pub fn validate(&self) -> Result<(), String> {
        let files = self.files.len();
        let file_ok = |f: u32| f == NONE || (f as usize) < files;
        for (i, f) in self.files.iter().enumerate() {
            if let Some(w) = f.lines.windows(2).find(|w| w[0].0 >= w[1].0) {
                return Err(format!(
                    "file {i}'s saved lines are out of order (line {} before line {})",
                    w[0].0, w[1].0
                ));
            }
        }
        for (i, frame) in self.frames.iter().enumerate() {
            if !file_ok(frame.file) {
                return Err(format!("frame {i} names file {} of {files}", frame.file));
            }
        }
        for (i, node) in self.nodes.iter().enumerate() {
            if node.parent != NONE && node.parent as usize >= i {
                return Err(format!("node {i} has parent {} which does not precede it", node.parent));
            }
            if node.frame as usize >= self.frames.len() {
                return Err(format!("node {i} names frame {} of {}", node.frame, self.frames.len()));
            }
            // A called node's call site is a step of every stack through it.
            if node.parent != NONE && node.call_file == NONE {
                return Err(format!("node {i} has a caller but no call file"));
            }
            if !file_ok(node.call_file) {
                return Err(format!("node {i} names file {} of {files}", node.call_file));
            }
        }
        for (i, e) in self.entries.iter().enumerate() {
            if e.node as usize >= self.nodes.len() {
                return Err(format!("entry {i} names node {} of {}", e.node, self.nodes.len()));
            }
            if e.file == NONE {
                return Err(format!("entry {i} names no file"));
            }
            if e.file as usize >= files {
                return Err(format!("entry {i} names file {} of {files}", e.file));
            }
            if e.label != NONE && e.label as usize >= self.labels.len() {
                return Err(format!("entry {i} names label {} of {}", e.label, self.labels.len()));
            }
            e.metrics.check(&format!("entry {i}"))?;
        }
        // Renderers add entries up (by line, sub, stack), so the sums must
        // fit too; sv_delta by magnitudes, since any subset is summed.
        let mut sums = [0u128; FIELDS.len()];
        for e in &self.entries {
            for (sum, (_, v)) in sums.iter_mut().zip(e.metrics.magnitudes()) {
                *sum += v;
            }
        }
        for (sum, (name, _)) in sums.iter().zip(Metrics::default().magnitudes()) {
            if *sum > u128::from(MAX_FIGURE) {
                return Err(format!("the entries' {name} add up to {sum}, more than {MAX_FIGURE}"));
            }
        }
        self.totals.check("the totals")?;
        let entry_ok = |x: u32| x == NONE || (x as usize) < self.entries.len();
        if !entry_ok(self.peak.entry) {
            return Err(format!("the peak names entry {}", self.peak.entry));
        }
        check_signed("the peak's size", self.peak.bytes)?;
        for (i, s) in self.timeline.iter().enumerate() {
            if !entry_ok(s.entry) {
                return Err(format!("timeline sample {i} names entry {} of {}", s.entry, self.entries.len()));
            }
            check_time(&format!("the time of timeline sample {i}"), s.time)?;
            check_signed(&format!("the live heap of timeline sample {i}"), s.live_bytes)?;
        }
        for (i, s) in self.vm_timeline.iter().enumerate() {
            check_time(&format!("the time of VmRSS sample {i}"), s.time)?;
        }
        for (j, proc) in self.processes.iter().enumerate() {
            check_time(&format!("the start time of process {j}"), proc.start_time)?;
            for (i, s) in proc.samples.iter().enumerate() {
                if !entry_ok(s.entry) {
                    return Err(format!("sample {i} of process {j} names entry {} of {}", s.entry, self.entries.len()));
                }
                check_time(&format!("the time of sample {i} of process {j}"), s.time)?;
                check_signed(&format!("the live heap of sample {i} of process {j}"), s.live_bytes)?;
            }
        }
        for (i, m) in self.marks.iter().enumerate() {
            check_time(&format!("the time of mark {i}"), m.time)?;
            check_signed(&format!("the live heap of mark {i}"), m.live_bytes)?;
        }
        // Snapshots: parents before children, lines naming entries; the
        // renderers add paths' figures up the tree.
        let line_ok = |x: u32| entry_ok(x) || x == crate::heap::NO_BLOCK;
        for (j, s) in self.snapshots.iter().enumerate() {
            check_time(&format!("the time of snapshot {j}"), s.time)?;
            for (i, p) in s.paths.iter().enumerate() {
                if p.parent != NONE && p.parent as usize >= i {
                    return Err(format!("path {i} of snapshot {j} names parent {}", p.parent));
                }
                for v in [p.bytes, p.arena_bytes, p.sv_count, p.shared, p.children] {
                    if v > MAX_FIGURE {
                        return Err(format!("path {i} of snapshot {j} has a figure of {v}, more than {MAX_FIGURE}"));
                    }
                }
                for &(e, b) in &p.lines {
                    if !line_ok(e) || b > MAX_FIGURE {
                        return Err(format!("path {i} of snapshot {j} names entry {e} of {}", self.entries.len()));
                    }
                }
            }
            for (i, u) in s.unreachable.iter().enumerate() {
                if !line_ok(u.entry) {
                    return Err(format!("unreachable group {i} of snapshot {j} names entry {}", u.entry));
                }
            }
        }
        let run = &self.run;
        check_time("the start time", run.start_time)?;
        check_time("the end time", run.end_time)?;
        for (what, v) in [
            ("the untracked free bytes", run.untracked_free_bytes),
            ("the untracked free bytes before the peak", run.untracked_free_before_peak),
        ] {
            if v > MAX_FIGURE {
                return Err(format!("{what} are {v}, more than {MAX_FIGURE}"));
            }
        }
        Ok(())
    }

    /// Name of a file index ("" for NONE).
    pub fn file_name(&self, file: u32) -> &str {
        self.files.get(file as usize).map_or("", |f| f.name.as_str())
    }
}
