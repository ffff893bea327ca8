//! Heap snapshots (format version 4): what holds the memory, by data path,
//! joined to the lines that allocated it.
//!
//! The recorder's walker gives one raw node per path it named, with what
//! was attributed to that path itself; [`prune`] turns them into a bounded
//! tree: the largest paths first, at most [`MAX_CHILDREN`] children each
//! and [`MAX_PATHS`] in all, the rest of each node's children summed into
//! one summary path ("(999,900 more keys)").

use super::NONE;
use serde::{Deserialize, Serialize};
use std::collections::{BinaryHeap, HashMap};

/// Children a path keeps before the rest are summed into one.
pub const MAX_CHILDREN: usize = 100;
/// Paths a snapshot keeps in all.
pub const MAX_PATHS: usize = 5000;
/// `Unreachable::entry` of SVs that own no malloc'd block (a reference,
/// a number): there is no line to tell.
pub const NO_BLOCK: u32 = NONE - 1;
/// Allocating lines a path keeps (the largest).
pub const MAX_LINES: usize = 64;

/// One snapshot.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Snapshot {
    pub label: String,
    /// Seconds since the profile started.
    pub time: f64,
    /// Parents before their children; roots have parent [`NONE`].
    pub paths: Vec<HeapPath>,
    /// By SV type ("SCALAR", "ARRAY", ...).
    pub types: Vec<HeapCount>,
    /// By blessed class.
    pub classes: Vec<HeapCount>,
    /// Live SVs nothing reached, by type and allocating line.
    pub unreachable: Vec<Unreachable>,
    pub totals: HeapTotals,
    /// Where VmData and RssAnon go (format version 5; None before, and
    /// when the recorder could not measure it).
    pub ledger: Option<crate::ledger::Ledger>,
}

/// A data path and everything under it.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct HeapPath {
    pub parent: u32,
    /// This step of the path: `%main::cache`, `{alice}`, `[3]`, `my $var`.
    pub name: String,
    /// Malloc'd blocks under this path, at their usable sizes.
    pub bytes: u64,
    /// SV heads and bodies under this path (in perl's arenas).
    pub arena_bytes: u64,
    pub sv_count: u64,
    /// SVs under this path that other paths refer to as well.
    pub shared: u64,
    /// A summary of `children` paths too small to list, not a path itself.
    pub summary: bool,
    /// For a summary: how many children it stands for.
    pub children: u64,
    /// The keys or elements of the path's own hash or array.
    pub elements: u64,
    /// `bytes` by the entry (line and stack) that allocated them, largest
    /// first; [`NONE`] for blocks allocated before tracking began.
    pub lines: Vec<(u32, u64)>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct HeapCount {
    pub name: String,
    pub count: u64,
    pub bytes: u64,
    pub arena_bytes: u64,
    pub unreachable_count: u64,
    pub unreachable_bytes: u64,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Unreachable {
    /// The SV type ("HASH").
    pub kind: String,
    /// The entry that allocated the first buffer of these SVs, or [`NONE`].
    pub entry: u32,
    pub count: u64,
    pub bytes: u64,
    pub arena_bytes: u64,
}

/// How the snapshot's bytes add up to the live heap:
/// `reached_bytes + unreachable_bytes + arena_blocks_bytes + other_bytes
/// == heap_bytes`.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct HeapTotals {
    /// SVs in the arenas (reached + unreachable), and perl's own count.
    pub sv_count: u64,
    pub perl_sv_count: u64,
    pub reached_svs: u64,
    pub unreachable_svs: u64,
    /// Malloc'd blocks SVs own.
    pub reached_bytes: u64,
    pub unreachable_bytes: u64,
    /// The heads and bodies of those SVs, inside the arena blocks.
    pub reached_arena_bytes: u64,
    pub unreachable_arena_bytes: u64,
    /// The arena blocks (SV heads, bodies, hash entries) and perl's stacks.
    pub arena_blocks_bytes: u64,
    /// Live blocks no SV owns (interpreter structures, op trees, I/O
    /// buffers): tracked blocks less those owned.  Negative only if a
    /// block were counted twice.
    pub other_bytes: i64,
    /// The live heap: every block tracked, and the owned blocks allocated
    /// before tracking began.
    pub heap_bytes: u64,
    /// Blocks the site table holds (allocated while profiling).
    pub tracked_bytes: u64,
    /// Owned blocks allocated before profiling started.
    pub untracked_owned_bytes: u64,
    /// How long taking the snapshot took (walk, pruning and naming).
    pub walk_seconds: f64,
    /// The most memory the walk mapped for itself.
    pub walker_bytes: u64,
}

/// A path as the walker gives it: its own figures only.
#[derive(Clone, Copy, Debug, Default)]
pub struct RawNode {
    pub parent: u32,
    pub bytes: u64,
    pub arena_bytes: u64,
    pub sv_count: u64,
    pub shared: u64,
    /// Never listed: summed into its parent's summary (the children beyond
    /// the walker's cap).
    pub overflow: bool,
    /// Children the walker counted without making nodes for them.
    pub more: u64,
    pub elements: u64,
    /// What a summary of its children calls them: "keys", "elements".
    pub child_word: &'static str,
}

/// A pruned tree; `source[i]` is the raw node path `i` is, or NONE for a
/// summary (named already), whose name the caller fills in.
pub struct Pruned {
    pub paths: Vec<HeapPath>,
    pub source: Vec<u32>,
}

#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Candidate {
    total: u64,
    node: std::cmp::Reverse<u32>,
}

/// Each raw node's children in order, in two flat arrays (a vector per
/// node would be a malloc'd block for each of tens of thousands of nodes).
struct Children {
    start: Vec<u32>,
    child: Vec<u32>,
}

impl Children {
    fn of(raw: &[RawNode]) -> Children {
        let parent_of = |i: usize| {
            let p = raw[i].parent;
            (p != NONE && (p as usize) < i).then_some(p as usize)
        };
        let mut start = vec![0u32; raw.len() + 1];
        for p in (0..raw.len()).filter_map(parent_of) {
            start[p + 1] += 1;
        }
        for i in 1..start.len() {
            start[i] += start[i - 1];
        }
        let mut fill = start.clone();
        let mut child = vec![0u32; start[raw.len()] as usize];
        for i in 0..raw.len() {
            if let Some(p) = parent_of(i) {
                child[fill[p] as usize] = i as u32;
                fill[p] += 1;
            }
        }
        Children { start, child }
    }

    fn of_node(&self, i: usize) -> &[u32] {
        &self.child[self.start[i] as usize..self.start[i + 1] as usize]
    }
}

fn subtree(r: &RawNode) -> (u64, u64, u64, u64) {
    (r.bytes, r.arena_bytes, r.sv_count, r.shared)
}

/// Choose the paths to keep, largest first, and sum the rest.
/// `lines`: (raw node, entry, bytes).  Both are taken: at the end of a run
/// this is the profiler's high-water mark, so nothing is copied.
pub fn prune(mut raw: Vec<RawNode>, lines: Vec<(u32, u32, u64)>, max_paths: usize, max_children: usize) -> Pruned {
    let n = raw.len();
    // Subtree figures, in place of each node's own (children are numbered
    // after their parents).
    let mut roots = Vec::new();
    for i in (0..n).rev() {
        let p = raw[i].parent;
        if p == NONE || p as usize >= i {
            continue;
        }
        let (b, a, c, s) = subtree(&raw[i]);
        let t = &mut raw[p as usize];
        t.bytes += b;
        t.arena_bytes += a;
        t.sv_count += c;
        t.shared += s;
    }
    let raw = raw;
    let sub = |i: usize| subtree(&raw[i]);
    for (i, r) in raw.iter().enumerate() {
        if r.parent == NONE || r.parent as usize >= i {
            roots.push(i as u32);
        }
    }
    let kids = Children::of(&raw);
    let total = |i: u32| raw[i as usize].bytes + raw[i as usize].arena_bytes;
    let mut paths: Vec<HeapPath> = Vec::new();
    let mut source: Vec<u32> = Vec::new();
    let mut path_of = vec![NONE; n];
    let mut kept_children: Vec<u32> = vec![0; n];
    let mut heap = BinaryHeap::new();
    for &r in &roots {
        if !raw[r as usize].overflow {
            heap.push(Candidate { total: total(r), node: std::cmp::Reverse(r) });
        }
    }
    let mut kept_roots = 0usize;
    while let Some(Candidate { node: std::cmp::Reverse(i), .. }) = heap.pop() {
        if paths.len() >= max_paths {
            break;
        }
        let r = &raw[i as usize];
        let parent_path = if r.parent == NONE || r.parent as usize >= i as usize {
            if kept_roots >= max_children * 10 {
                continue;
            }
            kept_roots += 1;
            NONE
        } else {
            let pp = path_of[r.parent as usize];
            if pp == NONE || kept_children[r.parent as usize] as usize >= max_children {
                continue;
            }
            kept_children[r.parent as usize] += 1;
            pp
        };
        let (bytes, arena_bytes, sv_count, shared) = sub(i as usize);
        path_of[i as usize] = paths.len() as u32;
        paths.push(HeapPath {
            parent: parent_path,
            bytes,
            arena_bytes,
            sv_count,
            shared,
            elements: r.elements,
            ..HeapPath::default()
        });
        source.push(i);
        for &k in kids.of_node(i as usize) {
            if !raw[k as usize].overflow {
                heap.push(Candidate { total: total(k), node: std::cmp::Reverse(k) });
            }
        }
    }
    // Summaries: each kept node's children that were not kept (and the
    // walker's overflow), and the roots not kept.
    let mut summary_of = vec![NONE; n + 1];
    let mut dest = vec![NONE; n];
    let mut root_summary = NONE;
    for i in 0..n {
        if path_of[i] != NONE {
            dest[i] = path_of[i];
            continue;
        }
        let p = raw[i].parent;
        let is_root = p == NONE || p as usize >= i;
        let d = if is_root {
            if root_summary == NONE {
                root_summary = paths.len() as u32;
                paths.push(HeapPath { parent: NONE, summary: true, ..HeapPath::default() });
                source.push(NONE);
            }
            root_summary
        } else if path_of[p as usize] != NONE {
            let slot = p as usize;
            if summary_of[slot] == NONE {
                summary_of[slot] = paths.len() as u32;
                paths.push(HeapPath { parent: path_of[slot], summary: true, ..HeapPath::default() });
                source.push(NONE);
            }
            summary_of[slot]
        } else {
            dest[p as usize]
        };
        dest[i] = d;
        // A summary adds the subtree of each top-most node it stands for.
        let top = is_root || path_of[p as usize] != NONE;
        if top {
            let (b, a, c, s) = sub(i);
            let sp = &mut paths[d as usize];
            sp.bytes += b;
            sp.arena_bytes += a;
            sp.sv_count += c;
            sp.shared += s;
            // The walker's overflow node stands for the children it counted.
            sp.children += if raw[i].overflow { raw[i].more } else { 1 };
        }
    }
    // Name the summaries.
    for i in 0..n {
        let s = summary_of[i];
        if s != NONE {
            let word = kids.of_node(i).first().map_or(raw[i].child_word, |&k| raw[k as usize].child_word);
            let p = &mut paths[s as usize];
            p.name = format!("({} more {word})", crate::group_digits(p.children));
        }
    }
    if root_summary != NONE {
        let p = &mut paths[root_summary as usize];
        p.name = format!("({} more paths)", crate::group_digits(p.children));
    }
    accumulate_lines(&mut paths, &dest, lines, MAX_LINES);
    drop(raw);
    // Parents before children, largest first among siblings, summaries last.
    let order = tree_order(&paths);
    let mut renumber = vec![NONE; paths.len()];
    for (new, &old) in order.iter().enumerate() {
        renumber[old as usize] = new as u32;
    }
    let mut out_paths = Vec::with_capacity(paths.len());
    let mut out_source = Vec::with_capacity(paths.len());
    for &old in &order {
        let mut p = std::mem::take(&mut paths[old as usize]);
        if p.parent != NONE {
            p.parent = renumber[p.parent as usize];
        }
        out_paths.push(p);
        out_source.push(source[old as usize]);
    }
    Pruned { paths: out_paths, source: out_source }
}

/// Lines: each raw node's lines (raw node, entry, bytes) go to its path
/// (`dest`) and every ancestor; each path keeps its `max_lines` largest,
/// largest first.  One entry at a time, so that what is in memory at once
/// is one entry's paths and the lines kept, not every (path, entry) pair
/// of the tree: at the end of a run this is the profiler's high-water mark.
fn accumulate_lines(paths: &mut [HeapPath], dest: &[u32], lines: Vec<(u32, u32, u64)>, max_lines: usize) {
    // (entry, path, bytes), in the lines' own vector.
    let mut by_entry: Vec<(u32, u32, u64)> = lines
        .into_iter()
        .filter_map(|(node, entry, bytes)| dest.get(node as usize).map(|&d| (entry, d, bytes)))
        .collect();
    by_entry.sort_unstable_by_key(|&(entry, _, _)| entry);
    // Each path's kept lines, the smallest on top (ties: the larger entry).
    let mut kept: Vec<BinaryHeap<(std::cmp::Reverse<u64>, u32)>> = vec![BinaryHeap::new(); paths.len()];
    let mut slot_of = vec![NONE; paths.len()];
    let mut sums: Vec<(u32, u64)> = Vec::new();
    for group in by_entry.chunk_by(|a, b| a.0 == b.0) {
        let entry = group[0].0;
        for &(_, d, bytes) in group {
            let mut p = d;
            while p != NONE {
                let slot = &mut slot_of[p as usize];
                if *slot == NONE {
                    *slot = sums.len() as u32;
                    sums.push((p, 0));
                }
                let sum = &mut sums[*slot as usize].1;
                *sum = sum.wrapping_add(bytes);
                p = paths[p as usize].parent;
            }
        }
        for (p, bytes) in sums.drain(..) {
            slot_of[p as usize] = NONE;
            // A line whose blocks all moved to another path (shared keys) is gone.
            if bytes == 0 || bytes >= 1 << 63 {
                continue;
            }
            let heap = &mut kept[p as usize];
            let item = (std::cmp::Reverse(bytes), entry);
            if heap.len() < max_lines {
                heap.push(item);
            } else if heap.peek().is_some_and(|worst| item < *worst) {
                heap.pop();
                heap.push(item);
            }
        }
    }
    for (p, heap) in paths.iter_mut().zip(kept) {
        p.lines = heap.into_iter().map(|(std::cmp::Reverse(bytes), entry)| (entry, bytes)).collect();
        p.lines.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    }
}

/// Depth-first order: each path's children follow it, largest first,
/// summaries after the paths they sum.
pub fn tree_order(paths: &[HeapPath]) -> Vec<u32> {
    let mut kids: Vec<Vec<u32>> = vec![Vec::new(); paths.len()];
    let mut roots = Vec::new();
    for (i, p) in paths.iter().enumerate() {
        if p.parent == NONE || p.parent as usize >= paths.len() {
            roots.push(i as u32);
        } else {
            kids[p.parent as usize].push(i as u32);
        }
    }
    let key = |i: &u32| {
        let p = &paths[*i as usize];
        (p.summary, std::cmp::Reverse(p.bytes + p.arena_bytes), *i)
    };
    roots.sort_by_key(key);
    kids.iter_mut().for_each(|k| k.sort_by_key(key));
    let mut out = Vec::with_capacity(paths.len());
    let mut stack: Vec<u32> = roots.into_iter().rev().collect();
    while let Some(i) = stack.pop() {
        out.push(i);
        stack.extend(kids[i as usize].iter().rev());
    }
    out
}

impl Snapshot {
    /// The full name of a path: its steps joined as a Perl programmer
    /// writes them (`%main::cache{alice}[3]`, `&main::foo → my $var`).
    pub fn full_name(&self, i: u32) -> String {
        join_steps(&self.steps(i))
    }

    /// The steps of a path from its root.
    pub fn steps(&self, i: u32) -> Vec<&str> {
        let mut steps = Vec::new();
        let mut p = i;
        while p != NONE && (p as usize) < self.paths.len() && steps.len() < 64 {
            steps.push(self.paths[p as usize].name.as_str());
            p = self.paths[p as usize].parent;
        }
        steps.reverse();
        steps
    }

    /// Each path's own bytes by entry: its lines less its children's.
    pub fn own_lines(&self, i: u32) -> Vec<(u32, u64)> {
        let mut own: HashMap<u32, i128> = HashMap::new();
        for &(e, b) in &self.paths[i as usize].lines {
            *own.entry(e).or_insert(0) += i128::from(b);
        }
        for p in &self.paths {
            if p.parent == i {
                for &(e, b) in &p.lines {
                    if let Some(v) = own.get_mut(&e) {
                        *v -= i128::from(b);
                    }
                }
            }
        }
        let mut v: Vec<(u32, u64)> = own.into_iter().filter(|(_, b)| *b > 0).map(|(e, b)| (e, b as u64)).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }
}

/// Element steps (`{k}`, `[3]`) follow their container directly; other
/// steps are joined by an arrow.
pub fn join_steps(steps: &[&str]) -> String {
    let mut out = String::new();
    for (k, s) in steps.iter().enumerate() {
        if k > 0 && !(s.starts_with('{') || s.starts_with('[')) {
            out.push_str(" → ");
        }
        out.push_str(s);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(parent: u32, bytes: u64) -> RawNode {
        RawNode { parent, bytes, sv_count: 1, child_word: "keys", ..RawNode::default() }
    }

    #[test]
    fn prune_keeps_the_largest_children_and_sums_the_rest() {
        // A root with 5 children of 10..50 bytes; keep 2 children.
        let mut raw = vec![node(NONE, 1)];
        for b in [10, 50, 20, 40, 30] {
            raw.push(node(0, b));
        }
        let lines = vec![(2, 7, 50), (1, 8, 10), (0, 9, 1)];
        let p = prune(raw, lines, 100, 2);
        assert_eq!(p.paths.len(), 4);
        assert_eq!(p.paths[0].bytes, 151);
        assert_eq!(p.paths[0].parent, NONE);
        assert_eq!((p.paths[1].bytes, p.source[1]), (50, 2));
        assert_eq!((p.paths[2].bytes, p.source[2]), (40, 4));
        assert!(p.paths[3].summary);
        assert_eq!(p.paths[3].name, "(3 more keys)");
        assert_eq!((p.paths[3].bytes, p.paths[3].sv_count), (60, 3));
        assert_eq!(p.paths[0].lines, vec![(7, 50), (8, 10), (9, 1)]);
        assert_eq!(p.paths[3].lines, vec![(8, 10)]);
    }

    /// What accumulate_lines replaced: every (path, entry) pair at once.
    fn lines_by_pairs(paths: &[HeapPath], dest: &[u32], lines: &[(u32, u32, u64)], max: usize) -> Vec<Vec<(u32, u64)>> {
        let mut acc: HashMap<(u32, u32), u64> = HashMap::new();
        for &(node, entry, bytes) in lines {
            let Some(&d) = dest.get(node as usize) else { continue };
            let mut p = d;
            while p != NONE {
                let slot = acc.entry((p, entry)).or_insert(0);
                *slot = slot.wrapping_add(bytes);
                p = paths[p as usize].parent;
            }
        }
        let mut out = vec![Vec::new(); paths.len()];
        for ((p, entry), bytes) in acc {
            if bytes > 0 && bytes < 1 << 63 {
                out[p as usize].push((entry, bytes));
            }
        }
        for l in &mut out {
            l.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            l.truncate(max);
        }
        out
    }

    proptest::proptest! {
        #[test]
        fn lines_are_the_largest_sums_over_each_subtree(
            parents in proptest::collection::vec(0u32..1000, 1..40),
            lines in proptest::collection::vec((0u32..45, 0u32..12, 0u64..50), 0..200),
            max in 1usize..6,
        ) {
            // Path i's parent is some earlier path, or none; a few lines
            // name nodes past the end, and some bytes are "negative"
            // (shared keys moved away: wrapping sums).
            let mut paths: Vec<HeapPath> = parents
                .iter()
                .enumerate()
                .map(|(i, &p)| HeapPath { parent: if i == 0 || p % 4 == 0 { NONE } else { p % i as u32 }, ..HeapPath::default() })
                .collect();
            let dest: Vec<u32> = (0..40).map(|i| i % paths.len() as u32).collect();
            let lines: Vec<(u32, u32, u64)> =
                lines.into_iter().map(|(n, e, b)| (n, e, if b == 49 { u64::MAX - 5 } else { b })).collect();
            let want = lines_by_pairs(&paths, &dest, &lines, max);
            accumulate_lines(&mut paths, &dest, lines, max);
            let got: Vec<Vec<(u32, u64)>> = paths.into_iter().map(|p| p.lines).collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn names_join_like_perl() {
        assert_eq!(join_steps(&["%main::cache", "{alice}", "{history}", "[3]"]), "%main::cache{alice}{history}[3]");
        assert_eq!(join_steps(&["&main::foo", "my $var (depth 3)"]), "&main::foo → my $var (depth 3)");
        assert_eq!(crate::group_digits(2_999_700), "2,999,700");
    }
}
