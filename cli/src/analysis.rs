//! Views derived from a profile: by stack, by line and by sub, each line
//! and sub both exclusive (its own statements) and inclusive (everything
//! that ran while it was on the stack, each stack counted once however
//! deep the recursion).  Every renderer works from these.

use ahash::RandomState;
pub use memprof_profile::Step;
use memprof_profile::{Metrics, Profile};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct LineView {
    pub file: u32,
    pub line: u32,
    pub exclusive: Metrics,
    pub inclusive: Metrics,
}

#[derive(Clone, Debug, PartialEq)]
pub struct SubView {
    pub frame: u32,
    pub exclusive: Metrics,
    pub inclusive: Metrics,
}

pub struct Analysis<'a> {
    pub profile: &'a Profile,
    pub lines: Vec<LineView>,
    pub subs: Vec<SubView>,
    line_index: HashMap<(u32, u32), usize, RandomState>,
    sub_index: HashMap<u32, usize, RandomState>,
}

impl<'a> Analysis<'a> {
    pub fn new(profile: &'a Profile) -> Analysis<'a> {
        let mut a = Analysis {
            profile,
            lines: Vec::new(),
            subs: Vec::new(),
            line_index: HashMap::default(),
            sub_index: HashMap::default(),
        };
        // A stamp per line and per sub: the last entry that counted it, so
        // that each stack counts once however often it passes through.
        let mut line_stamp: Vec<usize> = Vec::new();
        let mut sub_stamp: Vec<usize> = Vec::new();
        for (i, e) in profile.entries.iter().enumerate() {
            let stamp = i + 1;
            let steps = profile.path(e);
            let leaf = a.line_slot(e.file, e.line, &mut line_stamp);
            a.lines[leaf].exclusive.add(&e.metrics);
            if let Some(last) = steps.last() {
                let s = a.sub_slot(last.frame, &mut sub_stamp);
                a.subs[s].exclusive.add(&e.metrics);
            }
            for step in &steps {
                let l = a.line_slot(step.file, step.line, &mut line_stamp);
                if line_stamp[l] != stamp {
                    line_stamp[l] = stamp;
                    a.lines[l].inclusive.add(&e.metrics);
                }
                let s = a.sub_slot(step.frame, &mut sub_stamp);
                if sub_stamp[s] != stamp {
                    sub_stamp[s] = stamp;
                    a.subs[s].inclusive.add(&e.metrics);
                }
            }
        }
        a
    }

    fn line_slot(&mut self, file: u32, line: u32, stamps: &mut Vec<usize>) -> usize {
        *self.line_index.entry((file, line)).or_insert_with(|| {
            self.lines.push(LineView { file, line, exclusive: Metrics::default(), inclusive: Metrics::default() });
            stamps.push(0);
            self.lines.len() - 1
        })
    }

    fn sub_slot(&mut self, frame: u32, stamps: &mut Vec<usize>) -> usize {
        *self.sub_index.entry(frame).or_insert_with(|| {
            self.subs.push(SubView { frame, exclusive: Metrics::default(), inclusive: Metrics::default() });
            stamps.push(0);
            self.subs.len() - 1
        })
    }

    #[cfg(test)]
    pub fn line(&self, file: u32, line: u32) -> Option<&LineView> {
        self.line_index.get(&(file, line)).map(|&i| &self.lines[i])
    }

    /// A sub by frame name.
    #[cfg(test)]
    pub fn sub_named(&self, name: &str) -> Option<&SubView> {
        self.subs.iter().find(|s| self.profile.frames[s.frame as usize].name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn recursion_counts_once_per_stack() {
        let p = recursive_profile();
        let a = Analysis::new(&p);
        let bar = a.sub_named("main::bar").unwrap();
        assert_eq!(bar.exclusive.alloc_bytes, 110);
        assert_eq!(bar.inclusive.alloc_bytes, 110, "the nested bar is not counted twice");
        assert_eq!(a.sub_named("main").unwrap().inclusive.alloc_bytes, 111);
        // Line 2 is a call site only in the nested stack; line 5 in both bar stacks.
        assert_eq!(a.line(0, 2).unwrap().inclusive.alloc_bytes, 10);
        assert_eq!(a.line(0, 2).unwrap().exclusive.alloc_bytes, 0);
        assert_eq!(a.line(0, 5).unwrap().inclusive.alloc_bytes, 111);
        assert_eq!(a.line(0, 5).unwrap().exclusive.alloc_bytes, 1);
        assert_eq!(a.line(0, 1).unwrap().inclusive.alloc_bytes, 110);
    }

    #[test]
    fn exclusive_figures_conserve_the_totals() {
        let p = recursive_profile();
        let a = Analysis::new(&p);
        let mut lines = Metrics::default();
        a.lines.iter().for_each(|l| lines.add(&l.exclusive));
        let mut subs = Metrics::default();
        a.subs.iter().for_each(|s| subs.add(&s.exclusive));
        assert_eq!(lines, p.totals);
        assert_eq!(subs, p.totals);
    }

    #[test]
    fn path_carries_call_sites() {
        let p = recursive_profile();
        let steps = p.path(&p.entries[1]);
        assert_eq!(p.frame_names(&steps), vec!["main", "main::bar", "main::bar"]);
        let lines: Vec<u32> = steps.iter().map(|s| s.line).collect();
        assert_eq!(lines, vec![5, 2, 1]);
    }
}

/// What ran under one label (`Devel::MemProf::label`): its entries' sums,
/// and the lines that allocated what it still held.
#[derive(Clone, Debug, PartialEq)]
pub struct LabelView {
    pub name: String,
    pub runs: u64,
    pub metrics: Metrics,
    /// (file, line, retained bytes), the most first.
    pub retained_lines: Vec<(u32, u32, u64)>,
}

impl LabelView {
    /// A figure per run (what one request allocated, or left behind).
    pub fn per_run(&self, bytes: u64) -> u64 {
        bytes.checked_div(self.runs).unwrap_or(bytes)
    }
}

/// The profile's labels, the most retained first (then the most allocated).
pub fn labels(p: &Profile) -> Vec<LabelView> {
    let mut views: Vec<LabelView> = p
        .labels
        .iter()
        .map(|l| LabelView {
            name: l.name.clone(),
            runs: l.runs,
            metrics: Metrics::default(),
            retained_lines: Vec::new(),
        })
        .collect();
    let mut lines: Vec<HashMap<(u32, u32), u64, RandomState>> = vec![HashMap::default(); views.len()];
    for e in &p.entries {
        let Some(v) = views.get_mut(e.label as usize) else {
            continue;
        };
        v.metrics.add(&e.metrics);
        if e.metrics.retained_bytes > 0 {
            *lines[e.label as usize].entry((e.file, e.line)).or_default() += e.metrics.retained_bytes;
        }
    }
    for (v, l) in views.iter_mut().zip(lines) {
        v.retained_lines = l.into_iter().map(|((f, n), b)| (f, n, b)).collect();
        v.retained_lines
            .sort_by(|x, y| y.2.cmp(&x.2).then_with(|| (p.file_name(x.0), x.1).cmp(&(p.file_name(y.0), y.1))));
    }
    views.sort_by(|x, y| {
        (y.metrics.retained_bytes, y.metrics.alloc_bytes)
            .cmp(&(x.metrics.retained_bytes, x.metrics.alloc_bytes))
            .then_with(|| x.name.cmp(&y.name))
    });
    views
}
