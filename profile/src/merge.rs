//! `memprof merge`: one profile from several (the forked workers of a
//! server).  Files, frames and stacks are matched by content; the memory
//! credited to the same statement under the same stack is added, so every
//! total is the sum of the inputs' totals.  The heap's peak is the sum of
//! the processes' peaks (an upper bound on what they held at once).

use super::{Entry, Frame, Label, Metrics, Node, Peak, ProcessTimeline, Profile, Sample, SourceFile, NONE};
use std::collections::HashMap;

#[derive(Default)]
struct Merger {
    out: Profile,
    files: HashMap<String, u32>,
    frames: HashMap<String, u32>,
    nodes: HashMap<(u32, u32, u32, u32), u32>,
    entries: HashMap<(u32, u32, u32, u32), u32>,
    labels: HashMap<String, u32>,
    largest_peak: i64,
}

impl Merger {
    fn file(&mut self, f: &SourceFile) -> u32 {
        if let Some(&i) = self.files.get(&f.name) {
            let known = &mut self.out.files[i as usize];
            if known.source.is_none() {
                known.source.clone_from(&f.source);
            }
            for (n, t) in &f.lines {
                if known.line_text(*n).is_none() {
                    let at = known.lines.partition_point(|(m, _)| m < n);
                    known.lines.insert(at, (*n, t.clone()));
                }
            }
            return i;
        }
        let i = self.out.files.len() as u32;
        self.out.files.push(f.clone());
        self.files.insert(f.name.clone(), i);
        i
    }

    fn label(&mut self, l: &Label) -> u32 {
        let next = self.out.labels.len() as u32;
        let id = *self.labels.entry(l.name.clone()).or_insert(next);
        if id == next {
            self.out.labels.push(Label { name: l.name.clone(), runs: 0 });
        }
        let runs = &mut self.out.labels[id as usize].runs;
        *runs = runs.saturating_add(l.runs);
        id
    }

    fn add(&mut self, p: &Profile) {
        let file_map: Vec<u32> = p.files.iter().map(|f| self.file(f)).collect();
        let remap_file = |f: u32| {
            if f == NONE {
                NONE
            } else {
                file_map[f as usize]
            }
        };
        let mut frame_map = Vec::with_capacity(p.frames.len());
        for f in &p.frames {
            let id = match self.frames.get(&f.name) {
                Some(&id) => id,
                None => {
                    let id = self.out.frames.len() as u32;
                    self.out.frames.push(Frame { file: remap_file(f.file), ..f.clone() });
                    self.frames.insert(f.name.clone(), id);
                    id
                }
            };
            frame_map.push(id);
        }
        let mut node_map: Vec<u32> = Vec::with_capacity(p.nodes.len());
        for n in &p.nodes {
            let parent = if n.parent == NONE { NONE } else { node_map[n.parent as usize] };
            let key = (parent, frame_map[n.frame as usize], remap_file(n.call_file), n.call_line);
            let next = self.out.nodes.len() as u32;
            let id = *self.nodes.entry(key).or_insert(next);
            if id == next {
                self.out.nodes.push(Node { parent: key.0, frame: key.1, call_file: key.2, call_line: key.3 });
            }
            node_map.push(id);
        }
        // Labels are matched by name; their runs add up.
        let label_map: Vec<u32> = p.labels.iter().map(|l| self.label(l)).collect();
        let mut entry_map = Vec::with_capacity(p.entries.len());
        for e in &p.entries {
            let label = if e.label == NONE { NONE } else { label_map[e.label as usize] };
            let key = (node_map[e.node as usize], remap_file(e.file), e.line, label);
            let next = self.out.entries.len() as u32;
            let id = *self.entries.entry(key).or_insert(next);
            if id == next {
                self.out.entries.push(Entry {
                    node: key.0,
                    file: key.1,
                    line: key.2,
                    label,
                    metrics: Metrics::default(),
                });
            }
            self.out.entries[id as usize].metrics.add(&e.metrics);
            entry_map.push(id);
        }
        self.out.totals.add(&p.totals);
        // The processes' peaks are added: what they would hold if all
        // peaked at once, which keeps the site figures' sum equal to it.
        // The location is that of the largest one.
        if p.peak.entry != NONE && p.peak.bytes > self.largest_peak {
            self.largest_peak = p.peak.bytes;
            self.out.peak.entry = entry_map[p.peak.entry as usize];
        }
        self.out.peak.bytes = self.out.peak.bytes.saturating_add(p.peak.bytes);
        self.out.marks.extend(p.marks.iter().cloned());
        // Snapshots are each process's own; their lines name merged entries.
        let remap_entry = |e: u32| entry_map.get(e as usize).copied().unwrap_or(e);
        for s in &p.snapshots {
            let mut s = s.clone();
            for path in &mut s.paths {
                path.lines.iter_mut().for_each(|l| l.0 = remap_entry(l.0));
            }
            s.unreachable.iter_mut().for_each(|u| u.entry = remap_entry(u.entry));
            self.out.snapshots.push(s);
        }
        // Each process keeps its own heap over time: their samples are at
        // different moments and cannot be added up.
        let remap =
            |s: &Sample| Sample { entry: if s.entry == NONE { NONE } else { entry_map[s.entry as usize] }, ..*s };
        if p.processes.is_empty() {
            let samples = p.timeline.iter().map(remap).collect();
            self.out.processes.push(ProcessTimeline { pid: p.run.pid, start_time: p.run.start_time, samples });
        } else {
            for proc in &p.processes {
                let samples = proc.samples.iter().map(remap).collect();
                self.out.processes.push(ProcessTimeline { pid: proc.pid, start_time: proc.start_time, samples });
            }
        }
        let run = &mut self.out.run;
        // Saturating, like Metrics::add: absurd inputs give a result that
        // validation refuses rather than a panic.
        run.untracked_free_bytes = run.untracked_free_bytes.saturating_add(p.run.untracked_free_bytes);
        run.untracked_free_before_peak =
            run.untracked_free_before_peak.saturating_add(p.run.untracked_free_before_peak);
        if p.run.merged_pids.is_empty() {
            run.merged_pids.push(p.run.pid);
        } else {
            run.merged_pids.extend_from_slice(&p.run.merged_pids);
        }
        run.start_time = run.start_time.min(p.run.start_time);
        run.end_time = run.end_time.max(p.run.end_time);
    }
}

/// Merge profiles; the first one's run facts describe the result.
pub fn merge(profiles: &[Profile]) -> Profile {
    let mut m = Merger::default();
    if let Some(first) = profiles.first() {
        m.out.run = first.run.clone();
        m.out.run.merged_pids.clear();
        m.out.run.untracked_free_bytes = 0;
        m.out.run.untracked_free_before_peak = 0;
        m.out.run.site_tracking = profiles.iter().all(|p| p.run.site_tracking);
        m.out.peak = Peak { bytes: 0, entry: NONE };
    }
    for p in profiles {
        m.add(p);
    }
    m.out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::recursive_profile;

    #[test]
    fn merging_three_adds_every_metric() {
        let a = recursive_profile();
        let mut b = recursive_profile();
        b.entries[2].metrics.alloc_bytes = 1000;
        b.totals = Metrics::default();
        for e in b.entries.clone() {
            b.totals.add(&e.metrics);
        }
        let merged = merge(&[a.clone(), b.clone(), a.clone()]);
        let mut expect = a.totals;
        expect.add(&b.totals);
        expect.add(&a.totals);
        assert_eq!(merged.totals, expect);
        let mut sum = Metrics::default();
        merged.entries.iter().for_each(|e| sum.add(&e.metrics));
        assert_eq!(sum, expect, "entries conserve the totals");
        assert_eq!(merged.entries.len(), a.entries.len(), "the same stacks are matched");
        assert_eq!(merged.validate(), Ok(()));
    }

    #[test]
    fn each_process_keeps_its_timeline_with_entries_remapped() {
        let mut a = recursive_profile();
        a.run.pid = 10;
        a.timeline = vec![Sample { time: 0.5, live_bytes: 100, entry: 0 }];
        let mut b = recursive_profile();
        b.run.pid = 11;
        // An entry a does not have, so that b's indices must move.
        b.entries.insert(0, Entry { node: 0, file: 0, line: 9, label: NONE, metrics: Metrics::default() });
        b.timeline =
            vec![Sample { time: 0.25, live_bytes: 7, entry: 1 }, Sample { time: 1.0, live_bytes: 3, entry: NONE }];
        let merged = merge(&[a.clone(), b.clone()]);
        assert!(merged.timeline.is_empty(), "no single heap is drawn for several processes");
        let pids: Vec<u32> = merged.processes.iter().map(|t| t.pid).collect();
        assert_eq!(pids, vec![10, 11]);
        let bs = &merged.processes[1].samples;
        assert_eq!(bs.len(), 2);
        // b's entry 1 is a's entry 0 (t.pl:1 under the same stack).
        assert_eq!(bs[0].entry, 0);
        assert_eq!(bs[1].entry, NONE);
        assert_eq!(merged.validate(), Ok(()));
        // Merging a merged profile again keeps every process.
        let again = merge(&[merged, a]);
        assert_eq!(again.processes.iter().map(|t| t.pid).collect::<Vec<_>>(), vec![10, 11, 10]);
        assert_eq!(again.run.merged_pids, vec![10, 11, 10]);
    }
}
