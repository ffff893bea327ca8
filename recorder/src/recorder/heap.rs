//! Heap snapshots: the recorder's half.  The walk itself is the C core in
//! perl-glue/heap.c (perl's macros, millions of times); here its nodes are
//! pruned to a bounded tree, named, and joined to the profile's entries
//! through the site each block was allocated at.

use super::{warn, Recorder, State};
use crate::perl::{self, memprof_heap_result, memprof_tls};
use memprof_profile::heap::{self, HeapCount, HeapTotals, RawNode, Snapshot, Unreachable};
use memprof_profile::NONE;

/// Children a node of the walk gets before the rest are counted together.
const WALK_CHILDREN: u32 = 1000;

fn site_entry(site: u32) -> u32 {
    match site {
        perl::MEMPROF_NO_SITE => NONE,
        // The walk's mark for an SV with no block of its own.
        perl::MEMPROF_UNRESOLVED => heap::NO_BLOCK,
        s => s,
    }
}

impl Recorder {
    /// Take a snapshot now, labelled `label`; a warning says why not when it
    /// cannot be taken.
    pub(super) fn snapshot(&mut self, t: &mut memprof_tls, label: String) {
        if self.thread.is_some() {
            warn("snapshot: heap snapshots are taken in the main thread only; none taken");
            return;
        }
        if !matches!(self.state, State::Running | State::Disabled) {
            warn("snapshot: not profiling; no snapshot taken");
            return;
        }
        // SAFETY: the interpreter is live.
        let refusal = unsafe { perl::c_string(perl::memprof_heap_refusal(self.interp)) };
        if let Some(why) = refusal {
            warn(&format!("snapshot: {why}; no snapshot taken"));
            return;
        }
        let time = self.timeline.now();
        let started = std::time::Instant::now();
        let snap = super::unaccounted(t, || self.walk(label, time));
        if let Some(mut s) = snap {
            // The whole snapshot's time: the walk, pruning and naming.
            s.totals.walk_seconds = started.elapsed().as_secs_f64();
            self.snapshots.push(s);
        }
    }

    fn walk(&mut self, label: String, time: f64) -> Option<Snapshot> {
        let interp = self.interp;
        let mut res = memprof_heap_result::default();
        let table: *const perl::memprof_sites = match self.sites.as_mut() {
            Some(s) if s.table.failed == 0 && s.table.sample_mean == 0 => &*s.table,
            _ => std::ptr::null(),
        };
        let lock = self.sites.as_mut().map(|s| super::sites::TableLock::new(&mut s.table));
        // SAFETY: the interpreter is live and between two ops; the walk
        // only reads perl's data and the table (locked if shared), and
        // fills `res` with memory of its own.
        let rc = unsafe { perl::memprof_heap_walk(interp, table, WALK_CHILDREN, &mut res) };
        drop(lock);
        if rc != 0 {
            warn("snapshot: the walk ran out of memory; the snapshot is incomplete");
        }
        let mut snap = build(interp, &res, label, time);
        let extra = (res.totals.stack_bytes, res.totals.known_overhead_bytes);
        // SAFETY: releases what the walk mapped; `res` is not used after.
        unsafe { perl::memprof_heap_free(&mut res) };
        // After the walk's own mappings are gone: the ledger measures the
        // process as the program has it.
        // SAFETY: reads a size.
        let filter_bytes = unsafe { perl::memprof_sites_filter_bytes() } as u64;
        let table_bytes = self.sites.as_ref().map_or(0, |s| {
            // SAFETY: reads the table's capacity.
            unsafe { perl::memprof_sites_table_bytes(&*s.table) }
        }) + filter_bytes;
        snap.ledger = Some(super::ledger::measure(&snap.totals, extra, !table.is_null(), table_bytes));
        Some(snap)
    }
}

/// Turn the walk's result into a snapshot, naming the paths kept.  Runs
/// before perl does anything else: the names point into perl's data.
fn build(interp: perl::Interp, res: &memprof_heap_result, label: String, time: f64) -> Snapshot {
    let nodes: &[perl::memprof_heap_node] = if res.nodes.is_null() {
        &[]
    } else {
        // SAFETY: the walk made n_nodes nodes at `nodes`, live until heap_free.
        unsafe { std::slice::from_raw_parts(res.nodes, res.n_nodes as usize) }
    };
    let unreachable_kind = perl::MEMPROF_HEAP_UNREACHABLE as u8;
    // Unreachable groups are not paths: renumber the others.
    let mut new_index = vec![NONE; nodes.len()];
    let mut raw = Vec::with_capacity(nodes.len());
    let mut origin = Vec::with_capacity(nodes.len());
    for (i, n) in nodes.iter().enumerate() {
        if n.kind == unreachable_kind {
            continue;
        }
        new_index[i] = raw.len() as u32;
        origin.push(i as u32);
        let parent =
            if n.parent == u32::MAX { NONE } else { new_index.get(n.parent as usize).copied().unwrap_or(NONE) };
        let child_word = match u32::from(n.kind) {
            perl::MEMPROF_HEAP_KEY => "keys",
            perl::MEMPROF_HEAP_INDEX => "elements",
            perl::MEMPROF_HEAP_LEXICAL => "lexicals",
            _ => "paths",
        };
        raw.push(RawNode {
            parent,
            bytes: n.bytes,
            arena_bytes: n.arena_bytes,
            sv_count: n.sv_count,
            shared: n.shared,
            overflow: u32::from(n.kind) == perl::MEMPROF_HEAP_MORE,
            more: u64::from(n.more),
            elements: if n.has_elements != 0 { n.elements } else { 0 },
            child_word,
        });
    }
    let table: &[perl::memprof_heap_line] = if res.lines.is_null() {
        &[]
    } else {
        // SAFETY: the table has lines_cap slots, live until heap_free.
        unsafe { std::slice::from_raw_parts(res.lines, res.lines_cap as usize) }
    };
    let mut lines = Vec::new();
    for l in table.iter().filter(|l| l.node != u32::MAX) {
        // An unreachable group's blocks are its own: it is keyed by the line.
        if nodes.get(l.node as usize).is_some_and(|n| n.kind != unreachable_kind) {
            lines.push((new_index[l.node as usize], l.site, l.bytes));
        }
    }
    let pruned = heap::prune(raw, lines, heap::MAX_PATHS, heap::MAX_CHILDREN);
    let mut paths = pruned.paths;
    let mut buf = vec![0u8; 4096];
    for (p, &src) in paths.iter_mut().zip(&pruned.source) {
        if src == NONE {
            continue;
        }
        let node = origin[src as usize];
        p.name = node_name(interp, res, node, &mut buf);
    }
    // Grouped by type name and line (perl's scalar types are one SCALAR).
    let mut unreachable: Vec<Unreachable> = Vec::new();
    for n in nodes.iter().filter(|n| n.kind == unreachable_kind) {
        let kind = type_name(u32::from(n.sigil));
        let entry = site_entry(n.index as u32);
        let at = match unreachable.iter().position(|u| u.kind == kind && u.entry == entry) {
            Some(i) => i,
            None => {
                unreachable.push(Unreachable { kind, entry, ..Unreachable::default() });
                unreachable.len() - 1
            }
        };
        let u = &mut unreachable[at];
        u.count += n.sv_count;
        u.bytes += n.bytes;
        u.arena_bytes += n.arena_bytes;
    }
    unreachable.sort_by(|a, b| (b.bytes + b.arena_bytes).cmp(&(a.bytes + a.arena_bytes)).then(a.entry.cmp(&b.entry)));
    let mut types: Vec<HeapCount> = Vec::new();
    for (i, c) in res.types.iter().enumerate() {
        if c.count == 0 {
            continue;
        }
        let name = type_name(i as u32);
        let slot = match types.iter().position(|t| t.name == name) {
            Some(k) => k,
            None => {
                types.push(HeapCount { name, ..HeapCount::default() });
                types.len() - 1
            }
        };
        add_count(&mut types[slot], c);
    }
    types.sort_by(|a, b| (b.bytes + b.arena_bytes).cmp(&(a.bytes + a.arena_bytes)).then(a.name.cmp(&b.name)));
    let class_table: &[perl::memprof_heap_class] = if res.classes.is_null() {
        &[]
    } else {
        // SAFETY: the table has classes_cap slots, live until heap_free.
        unsafe { std::slice::from_raw_parts(res.classes, res.classes_cap as usize) }
    };
    let mut classes: Vec<HeapCount> = class_table
        .iter()
        .filter(|c| !c.stash.is_null())
        .map(|c| {
            let mut len = 0usize;
            // SAFETY: the stash is a live HV (it blesses a live SV).
            let p = unsafe { perl::memprof_heap_class_name(c.stash, &mut len) };
            // SAFETY: the name has `len` bytes, owned by the stash.
            let name = unsafe { perl::pv_string(p, len) }.unwrap_or_else(|| "__ANON__".into());
            let mut h = HeapCount { name, ..HeapCount::default() };
            add_count(&mut h, &c.c);
            h
        })
        .collect();
    classes.sort_by(|a, b| (b.bytes + b.arena_bytes).cmp(&(a.bytes + a.arena_bytes)).then(a.name.cmp(&b.name)));
    let t = &res.totals;
    let totals = HeapTotals {
        sv_count: t.sv_count,
        perl_sv_count: t.perl_sv_count,
        reached_svs: t.reached_svs,
        unreachable_svs: t.unreachable_svs,
        reached_bytes: t.reached_bytes,
        unreachable_bytes: t.unreachable_bytes,
        reached_arena_bytes: t.reached_arena_bytes,
        unreachable_arena_bytes: t.unreachable_arena_bytes,
        arena_blocks_bytes: t.arena_blocks_bytes,
        other_bytes: t.tracked_bytes as i64 - t.tracked_owned_bytes as i64,
        heap_bytes: t.tracked_bytes + t.untracked_owned_bytes,
        tracked_bytes: t.tracked_bytes,
        untracked_owned_bytes: t.untracked_owned_bytes,
        walk_seconds: t.seconds_ns as f64 / 1e9,
        walker_bytes: t.walker_bytes,
    };
    for p in &mut paths {
        p.lines.iter_mut().for_each(|l| l.0 = site_entry(l.0));
    }
    Snapshot { label, time, paths, types, classes, unreachable, totals, ledger: None }
}

fn add_count(h: &mut HeapCount, c: &perl::memprof_heap_count) {
    h.count += c.count;
    h.bytes += c.bytes;
    h.arena_bytes += c.arena_bytes;
    h.unreachable_count += c.unreachable_count;
    h.unreachable_bytes += c.unreachable_bytes;
}

fn type_name(t: u32) -> String {
    // SAFETY: returns a static string.
    unsafe { perl::c_string(perl::memprof_heap_type_name(t)) }.unwrap_or_default()
}

fn node_name(interp: perl::Interp, res: &memprof_heap_result, node: u32, buf: &mut Vec<u8>) -> String {
    let mut utf8 = 0;
    // SAFETY: node < n_nodes; the names point into perl's live data.
    let mut len =
        unsafe { perl::memprof_heap_node_name(interp, res, node, buf.as_mut_ptr().cast(), buf.len(), &mut utf8) };
    if len > buf.len() {
        buf.resize(len, 0);
        // SAFETY: as above, with a buffer of the full length.
        len = unsafe { perl::memprof_heap_node_name(interp, res, node, buf.as_mut_ptr().cast(), buf.len(), &mut utf8) };
    }
    let bytes = &buf[..len.min(buf.len())];
    if utf8 != 0 {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        // Latin-1, one character per byte, as perl reads it.
        bytes.iter().map(|&b| char::from(b)).collect()
    }
}
