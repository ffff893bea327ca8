//! Perl threads in a profile: each thread's stacks run under a frame
//! `thread N` (kind [`FrameKind::Thread`]), whose call site is the
//! statement of the parent thread that created it.  A stack belongs to the
//! innermost such frame on it (a thread created by a thread is its own),
//! and to the main thread (0) when it has none.

use crate::{FrameKind, Metrics, Profile, Sample, NONE};

impl Profile {
    /// The tid a frame names, if it is a thread's.
    fn frame_tid(&self, frame: u32) -> Option<u32> {
        let f = self.frames.get(frame as usize)?;
        if f.kind != FrameKind::Thread {
            return None;
        }
        f.name.strip_prefix("thread ")?.parse().ok()
    }

    /// The thread each node runs in (0: the main thread), parents first.
    fn node_threads(&self) -> Vec<u32> {
        let mut tids = Vec::with_capacity(self.nodes.len());
        for n in &self.nodes {
            let inherited = if n.parent == NONE { 0 } else { tids.get(n.parent as usize).copied().unwrap_or(0) };
            tids.push(self.frame_tid(n.frame).unwrap_or(inherited));
        }
        tids
    }

    /// Whether the profile has perl threads other than the main one.
    pub fn has_threads(&self) -> bool {
        self.frames.iter().any(|f| f.kind == FrameKind::Thread)
    }

    /// What each thread did: (tid, its entries' sum), the main thread (0)
    /// first and the others in tid order; empty without threads.
    pub fn thread_totals(&self) -> Vec<(u32, Metrics)> {
        if !self.has_threads() {
            return Vec::new();
        }
        let tids = self.node_threads();
        let mut sums: Vec<(u32, Metrics)> = Vec::new();
        for e in &self.entries {
            let tid = tids.get(e.node as usize).copied().unwrap_or(0);
            match sums.iter_mut().find(|(t, _)| *t == tid) {
                Some((_, m)) => m.add(&e.metrics),
                None => {
                    let mut m = Metrics::default();
                    m.add(&e.metrics);
                    sums.push((tid, m));
                }
            }
        }
        sums.sort_by_key(|(t, _)| *t);
        sums
    }

    /// Only one thread's stacks (`--thread N`; 0 is the main thread): the
    /// other entries go, totals are the kept entries' sum, the peak is the
    /// thread's share of the heap's peak (its entries' peak figures), and
    /// samples that named a dropped entry name none.
    pub fn only_thread(&self, tid: u32) -> Result<Profile, String> {
        let tids = self.node_threads();
        if tid != 0 && !tids.contains(&tid) {
            let mut known: Vec<u32> = tids.clone();
            known.sort_unstable();
            known.dedup();
            let list: Vec<String> = known.iter().map(|t| t.to_string()).collect();
            return Err(format!("the profile has no thread {tid} (its threads: {})", list.join(", ")));
        }
        let mut p = self.clone();
        let mut map = vec![NONE; self.entries.len()];
        p.entries.clear();
        p.totals = Metrics::default();
        for (i, e) in self.entries.iter().enumerate() {
            if tids.get(e.node as usize).copied().unwrap_or(0) == tid {
                map[i] = p.entries.len() as u32;
                p.totals.add(&e.metrics);
                p.entries.push(*e);
            }
        }
        let remap = |entry: u32| if entry == NONE { NONE } else { map.get(entry as usize).copied().unwrap_or(NONE) };
        // The process's peak stays where it was, if it is this thread's;
        // its size becomes this thread's share of it.
        p.peak.entry = remap(p.peak.entry);
        p.peak.bytes = p.entries.iter().map(|e| e.metrics.peak_bytes as i64).sum();
        if p.peak.entry == NONE && p.peak.bytes > 0 {
            p.peak.entry =
                (0..p.entries.len() as u32).max_by_key(|&i| p.entries[i as usize].metrics.peak_bytes).unwrap_or(NONE);
        }
        if p.peak.bytes == 0 {
            p.peak.entry = NONE;
        }
        let fix = |s: &Sample| Sample { entry: remap(s.entry), ..*s };
        p.timeline = p.timeline.iter().map(fix).collect();
        for proc in &mut p.processes {
            proc.samples = proc.samples.iter().map(fix).collect();
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use crate::fixtures::recursive_profile;
    use crate::{Entry, Frame, FrameKind, Metrics, Node, NONE};

    #[test]
    fn a_thread_owns_the_stacks_under_its_frame() {
        let mut p = recursive_profile();
        assert!(p.thread_totals().is_empty(), "no threads, no per-thread figures");
        // main (t.pl:5) -> thread 2 -> main::bar, allocating 1000 bytes.
        p.frames.push(Frame { name: "thread 2".into(), kind: FrameKind::Thread, file: 0, line: 5 });
        p.nodes.push(Node { parent: 0, frame: 2, call_file: 0, call_line: 5 });
        p.nodes.push(Node { parent: 3, frame: 1, call_file: 0, call_line: 5 });
        let m = Metrics { alloc_bytes: 1000, alloc_count: 1, ..Metrics::default() };
        p.entries.push(Entry { node: 4, file: 0, line: 1, label: NONE, metrics: m });
        p.totals.add(&m);
        p.entries[3].metrics.peak_bytes = 1000;
        p.totals.peak_bytes = 1000;
        p.peak.entry = 3;
        p.peak.bytes = 1000;
        assert_eq!(p.validate(), Ok(()));
        let totals = p.thread_totals();
        assert_eq!(totals.iter().map(|(t, m)| (*t, m.alloc_bytes)).collect::<Vec<_>>(), vec![(0, 111), (2, 1000)]);
        let two = p.only_thread(2).expect("thread 2 exists");
        assert_eq!(two.entries.len(), 1);
        assert_eq!(two.totals.alloc_bytes, 1000);
        assert_eq!(two.peak.entry, 0);
        assert_eq!(two.validate(), Ok(()));
        let main = p.only_thread(0).expect("the main thread");
        assert_eq!(main.totals.alloc_bytes, 111);
        assert_eq!(main.peak.entry, NONE);
        assert_eq!(main.peak.bytes, 0);
        assert_eq!(p.only_thread(7).err().as_deref(), Some("the profile has no thread 7 (its threads: 0, 2)"));
    }
}
