//! The attribution tables: interned files, frames and stack nodes, and the
//! memory credited to each (stack, file, line).

use crate::{Entry, Frame, FrameKind, Label, Metrics, Node, Profile, SourceFile, NONE};
use ahash::RandomState;
use std::collections::HashMap;

type Map<K, V> = HashMap<K, V, RandomState>;

/// Largest eval source kept, and the total kept, so a program that evals
/// megabytes of generated code cannot make the profile unbounded.
const MAX_EVAL_SOURCE: usize = 1 << 20;
const MAX_EVAL_SOURCES_TOTAL: usize = 64 << 20;

#[derive(Default)]
pub struct Tables {
    pub files: Vec<SourceFile>,
    file_index: Map<Vec<u8>, u32>,
    /// String evals registered when they were compiled, by perl's name
    /// for them ("(eval 5)"): the name to show and the source.
    evals: Map<Vec<u8>, (String, Option<String>)>,
    eval_source_bytes: usize,
    pub frames: Vec<Frame>,
    /// Frame names are unique across kinds (subs always carry a package).
    frame_index: Map<String, u32>,
    pub nodes: Vec<Node>,
    node_index: Map<(u32, u32, u32, u32), u32>,
    pub entries: Vec<Entry>,
    entry_index: Map<(u32, u32, u32, u32), u32>,
    /// The entries looked up lately (under the current label),
    /// direct-mapped: a loop alternates between a handful of statements,
    /// each looked up at every boundary.
    recent: Vec<(u32, u32, u32, u32)>,
    pub labels: Vec<Label>,
    label_index: Map<String, u32>,
    /// The label entries are credited under now.
    label: Option<u32>,
}

const RECENT_SLOTS: usize = 1024;

fn recent_slot(node: u32, file: u32, line: u32) -> usize {
    let h = node.wrapping_mul(0x9E37_79B1) ^ file.wrapping_mul(0x85EB_CA77) ^ line.wrapping_mul(0xC2B2_AE3D);
    (h >> 22) as usize & (RECENT_SLOTS - 1)
}

impl Tables {
    /// File index for perl's name of a file.
    pub fn file(&mut self, raw: &[u8]) -> u32 {
        if let Some(&id) = self.file_index.get(raw) {
            return id;
        }
        let (name, source) = match self.evals.remove(raw) {
            Some(registered) => registered,
            None => (String::from_utf8_lossy(raw).into_owned(), None),
        };
        let id = self.files.len() as u32;
        self.files.push(SourceFile { name, source, lines: Vec::new() });
        self.file_index.insert(raw.to_vec(), id);
        id
    }

    /// Remember how to name a string eval before any of its statements runs.
    pub fn register_eval(&mut self, raw: &[u8], display: String, source: Option<String>) {
        let source = source.filter(|s| {
            let keep = s.len() <= MAX_EVAL_SOURCE && self.eval_source_bytes + s.len() <= MAX_EVAL_SOURCES_TOTAL;
            if keep {
                self.eval_source_bytes += s.len();
            }
            keep
        });
        self.evals.insert(raw.to_vec(), (display, source));
    }

    /// Set the saved source of a file (for `-e`).
    pub fn set_source(&mut self, file: u32, source: String) {
        if let Some(f) = self.files.get_mut(file as usize) {
            f.source = Some(source);
        }
    }

    pub fn frame(&mut self, kind: FrameKind, name: String, file: u32, line: u32) -> u32 {
        if let Some(&id) = self.frame_index.get(name.as_str()) {
            return id;
        }
        let id = self.frames.len() as u32;
        self.frames.push(Frame { name: name.clone(), kind, file, line });
        self.frame_index.insert(name, id);
        id
    }

    pub fn node(&mut self, parent: u32, frame: u32, call_file: u32, call_line: u32) -> u32 {
        let key = (parent, frame, call_file, call_line);
        if let Some(&id) = self.node_index.get(&key) {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node { parent, frame, call_file, call_line });
        self.node_index.insert(key, id);
        id
    }

    pub fn root(&mut self, kind: FrameKind, name: &str, file: u32) -> u32 {
        let frame = self.frame(kind, name.to_string(), file, 0);
        self.node(NONE, frame, NONE, 0)
    }

    pub fn frame_of(&self, node: u32) -> &Frame {
        &self.frames[self.nodes[node as usize].frame as usize]
    }

    /// Make `name` the current label (None: no label); `start` counts a
    /// run of it.  Returns the label that was current before.
    pub fn set_label(&mut self, name: Option<&str>, start: bool) -> Option<String> {
        let before = self.current_label().map(str::to_string);
        self.label = name.map(|name| match self.label_index.get(name) {
            Some(&id) => id,
            None => {
                let id = self.labels.len() as u32;
                self.labels.push(Label { name: name.to_string(), runs: 0 });
                self.label_index.insert(name.to_string(), id);
                id
            }
        });
        if let (true, Some(l)) = (start, self.label) {
            self.labels[l as usize].runs += 1;
        }
        // The cache is of the current label's entries.
        self.recent.clear();
        before
    }

    pub fn current_label(&self) -> Option<&str> {
        self.label.map(|l| self.labels[l as usize].name.as_str())
    }

    /// Entry index for a statement under a stack (and the current label),
    /// created empty if new.
    pub fn entry(&mut self, node: u32, file: u32, line: u32) -> u32 {
        if self.recent.is_empty() {
            self.recent = vec![(NONE, NONE, NONE, NONE); RECENT_SLOTS];
        }
        let slot = recent_slot(node, file, line);
        let (n, f, l, id) = self.recent[slot];
        if (n, f, l) == (node, file, line) {
            return id;
        }
        let label = self.label.unwrap_or(NONE);
        let key = (node, file, line, label);
        let id = match self.entry_index.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.entries.len() as u32;
                self.entries.push(Entry { node, file, line, label, metrics: Metrics::default() });
                self.entry_index.insert(key, id);
                id
            }
        };
        self.recent[slot] = (node, file, line, id);
        id
    }

    /// The profile of what was credited: only what the entries use,
    /// renumbered, so that a forked child or a short profiled section
    /// doesn't carry every node ever seen.  Totals are the entries' sum.
    pub fn compact(&self) -> Profile {
        self.compact_entries(self.entries.clone())
    }

    /// The same, moving the entries into the profile rather than copying
    /// them: for the last profile a recorder writes, so that its entries
    /// are never in memory twice.  The tables keep no entries.
    pub fn take_compact(&mut self) -> Profile {
        let entries = std::mem::take(&mut self.entries);
        self.entry_index = Map::default();
        self.recent = Vec::new();
        self.compact_entries(entries)
    }

    fn compact_entries(&self, mut entries: Vec<Entry>) -> Profile {
        let t = self;
        let mut node_map = vec![NONE; t.nodes.len()];
        let mut frame_map = vec![NONE; t.frames.len()];
        let mut file_map = vec![NONE; t.files.len()];
        let mut p = Profile::default();
        let mut keep_file = |p: &mut Profile, f: u32| -> u32 {
            if f == NONE {
                return NONE;
            }
            if file_map[f as usize] == NONE {
                file_map[f as usize] = p.files.len() as u32;
                p.files.push(t.files[f as usize].clone());
            }
            file_map[f as usize]
        };
        // Nodes are numbered parents first, so a pass in order over the
        // marked ones keeps that property.
        let mut used = vec![false; t.nodes.len()];
        for e in &entries {
            let mut n = e.node;
            while n != NONE && !used[n as usize] {
                used[n as usize] = true;
                n = t.nodes[n as usize].parent;
            }
        }
        for (i, node) in t.nodes.iter().enumerate() {
            if !used[i] {
                continue;
            }
            let frame = node.frame as usize;
            if frame_map[frame] == NONE {
                let mut f = t.frames[frame].clone();
                f.file = keep_file(&mut p, f.file);
                frame_map[frame] = p.frames.len() as u32;
                p.frames.push(f);
            }
            let mut n = *node;
            n.parent = if n.parent == NONE { NONE } else { node_map[n.parent as usize] };
            n.frame = frame_map[frame];
            n.call_file = keep_file(&mut p, n.call_file);
            node_map[i] = p.nodes.len() as u32;
            p.nodes.push(n);
        }
        // Labels that were started or credited, renumbered.
        let mut label_map = vec![NONE; t.labels.len()];
        let mut keep_label = |p: &mut Profile, l: u32| -> u32 {
            if l == NONE {
                return NONE;
            }
            if label_map[l as usize] == NONE {
                label_map[l as usize] = p.labels.len() as u32;
                p.labels.push(t.labels[l as usize].clone());
            }
            label_map[l as usize]
        };
        for (i, l) in t.labels.iter().enumerate() {
            if l.runs > 0 {
                keep_label(&mut p, i as u32);
            }
        }
        for e in &mut entries {
            e.node = node_map[e.node as usize];
            e.file = keep_file(&mut p, e.file);
            e.label = keep_label(&mut p, e.label);
            p.totals.add(&e.metrics);
        }
        p.entries = entries;
        p
    }

    /// Free the indexes that intern files, frames, nodes, entries and
    /// labels, before the profile is built at the end of the run, so that
    /// they and the profile are never in memory together.  Interning still
    /// works afterwards, but no longer finds what was interned before: for
    /// a recorder that writes nothing more.
    pub fn release_indexes(&mut self) {
        self.file_index = Map::default();
        self.evals = Map::default();
        self.frame_index = Map::default();
        self.node_index = Map::default();
        self.entry_index = Map::default();
        self.recent = Vec::new();
        self.label_index = Map::default();
    }

    /// Forget the memory credited so far (a forked child starts afresh,
    /// a new profile after `DB::finish_profile`): labels' runs too, but the
    /// current label stays current.
    pub fn clear_entries(&mut self) {
        self.entries.clear();
        self.entry_index.clear();
        self.recent.clear();
        self.labels.iter_mut().for_each(|l| l.runs = 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_frames_nodes_and_entries_are_interned() {
        let mut t = Tables::default();
        let f = t.file(b"t.pl");
        assert_eq!(t.file(b"t.pl"), f);
        assert_ne!(t.file(b"u.pl"), f);
        let main = t.root(FrameKind::Main, "main", f);
        let foo = t.frame(FrameKind::Sub, "main::foo".into(), f, 2);
        assert_eq!(t.frame(FrameKind::Sub, "main::foo".into(), f, 2), foo);
        let n = t.node(main, foo, f, 5);
        assert_eq!(t.node(main, foo, f, 5), n);
        assert_ne!(t.node(main, foo, f, 6), n);
        assert_eq!(t.frame_of(n).name, "main::foo");
        // Looked up through the direct-mapped cache and through the map.
        let e = t.entry(n, f, 3);
        for _ in 0..3 {
            assert_eq!(t.entry(n, f, 3), e);
        }
        for line in 0..5000 {
            t.entry(n, f, 100 + line);
        }
        assert_eq!(t.entry(n, f, 3), e);
        assert_eq!(t.entries.len(), 5001);
    }

    #[test]
    fn the_profile_is_the_same_after_the_indexes_are_released() {
        let mut t = Tables::default();
        let f = t.file(b"t.pl");
        let main = t.root(FrameKind::Main, "main", f);
        let foo = t.frame(FrameKind::Sub, "main::foo".into(), f, 2);
        let n = t.node(main, foo, f, 7);
        t.set_label(Some("GET /"), true);
        for line in 1..200 {
            let e = t.entry(if line % 2 == 0 { n } else { main }, f, line);
            t.entries[e as usize].metrics.alloc_bytes += u64::from(line);
        }
        let before = t.compact();
        t.release_indexes();
        assert_eq!(t.compact(), before);
        assert_eq!(before.entries.len(), 199);
        assert_eq!(before.labels.len(), 1);
        assert_eq!(t.take_compact(), before, "taking the entries gives the same profile");
        assert!(t.entries.is_empty());
    }

    #[test]
    fn a_registered_eval_is_named_and_keeps_its_source() {
        let mut t = Tables::default();
        t.register_eval(b"(eval 5)", "(eval 5)[t.pl:3]".into(), Some("1 + 1".into()));
        let f = t.file(b"(eval 5)");
        assert_eq!(t.files[f as usize].name, "(eval 5)[t.pl:3]");
        assert_eq!(t.files[f as usize].source.as_deref(), Some("1 + 1"));
        let big = "x".repeat(MAX_EVAL_SOURCE + 1);
        t.register_eval(b"(eval 6)", "(eval 6)[t.pl:4]".into(), Some(big));
        let g = t.file(b"(eval 6)");
        assert_eq!(t.files[g as usize].source, None, "a source over the limit is not kept");
    }

    #[test]
    fn labels_split_entries_and_count_runs() {
        let mut t = Tables::default();
        let f = t.file(b"t.pl");
        let main = t.root(FrameKind::Main, "main", f);
        let before = t.entry(main, f, 1);
        assert_eq!(t.set_label(Some("GET /a"), true), None);
        let a = t.entry(main, f, 1);
        assert_ne!(a, before, "the same line under a label is an entry of its own");
        assert_eq!(t.set_label(Some("GET /b"), true).as_deref(), Some("GET /a"));
        t.set_label(Some("GET /a"), true);
        assert_eq!(t.entry(main, f, 1), a);
        t.set_label(Some("unused"), false);
        t.set_label(None, false);
        assert_eq!(t.entry(main, f, 1), before);
        t.entries[a as usize].metrics.alloc_bytes = 5;
        let p = t.compact();
        assert_eq!(p.validate(), Ok(()));
        let names: Vec<(&str, u64)> = p.labels.iter().map(|l| (l.name.as_str(), l.runs)).collect();
        assert_eq!(names, [("GET /a", 2), ("GET /b", 1)], "labels never started are left out");
        assert_eq!(p.entries.iter().filter(|e| e.label == 0).count(), 1);
        assert_eq!(p.entries[before as usize].label, NONE);
    }

    #[test]
    fn compact_keeps_only_what_entries_use_and_conserves_totals() {
        let mut t = Tables::default();
        let f = t.file(b"t.pl");
        let unused_file = t.file(b"unused.pl");
        let main = t.root(FrameKind::Main, "main", f);
        let unused = t.frame(FrameKind::Sub, "main::unused".into(), unused_file, 1);
        t.node(main, unused, f, 9);
        let foo = t.frame(FrameKind::Sub, "main::foo".into(), f, 2);
        let n = t.node(main, foo, f, 5);
        let e = t.entry(n, f, 3) as usize;
        t.entries[e].metrics.alloc_bytes = 100;
        t.entries[e].metrics.alloc_count = 1;
        let e = t.entry(main, f, 5) as usize;
        t.entries[e].metrics.free_bytes = 40;
        let p = t.compact();
        assert_eq!(p.validate(), Ok(()));
        assert_eq!(p.nodes.len(), 2);
        assert_eq!(p.frames.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["main", "main::foo"]);
        assert_eq!(p.files.iter().map(|f| f.name.as_str()).collect::<Vec<_>>(), ["t.pl"]);
        assert_eq!(p.totals.net_bytes(), 60);
        t.clear_entries();
        assert!(t.compact().entries.is_empty());
    }
}
