//! The model as profile format versions 1 to 4 wrote it, read into
//! today's.  Postcard has no field names: a field added to a struct makes
//! old payloads unreadable, so each old layout is kept here, in its order.

use crate::heap::{HeapCount, HeapPath, HeapTotals, Snapshot, Unreachable};
use crate::{
    Entry, Frame, Label, Mark, Metrics, Node, Peak, ProcessTimeline, Profile, RunInfo, Sample, SourceFile, NONE,
};
use serde::Deserialize;

/// `RunInfo` as format version 1 wrote it; version 2 added `forked`.
#[derive(Deserialize)]
struct V1RunInfo {
    writer: String,
    perl_version: String,
    command: Vec<String>,
    script: String,
    cwd: String,
    pid: u32,
    ppid: u32,
    start_time: f64,
    end_time: f64,
    options: Vec<(String, String)>,
    site_tracking: bool,
    untracked_free_bytes: u64,
    untracked_free_before_peak: u64,
    merged_pids: Vec<u32>,
}

/// (Postcard writes a struct's fields one after the other with no framing,
/// so a nested struct reads the same bytes as its fields written inline.)
#[derive(Deserialize)]
struct V2RunInfo {
    v1: V1RunInfo,
    forked: bool,
}

/// `Entry` before labels (versions 1 and 2).
#[derive(Deserialize)]
struct V1Entry {
    node: u32,
    file: u32,
    line: u32,
    metrics: Metrics,
}

/// `Profile` as format version 1 wrote it.
#[derive(Deserialize)]
pub(crate) struct V1Profile {
    run: V1RunInfo,
    files: Vec<SourceFile>,
    frames: Vec<Frame>,
    nodes: Vec<Node>,
    entries: Vec<V1Entry>,
    totals: Metrics,
    peak: Peak,
    timeline: Vec<Sample>,
    marks: Vec<Mark>,
}

/// `Profile` as format version 2 wrote it.
#[derive(Deserialize)]
pub(crate) struct V2Profile {
    run: V2RunInfo,
    files: Vec<SourceFile>,
    frames: Vec<Frame>,
    nodes: Vec<Node>,
    entries: Vec<V1Entry>,
    totals: Metrics,
    peak: Peak,
    timeline: Vec<Sample>,
    marks: Vec<Mark>,
    processes: Vec<ProcessTimeline>,
}

fn run_info(r: V1RunInfo, forked: bool) -> RunInfo {
    RunInfo {
        writer: r.writer,
        perl_version: r.perl_version,
        command: r.command,
        script: r.script,
        cwd: r.cwd,
        pid: r.pid,
        ppid: r.ppid,
        start_time: r.start_time,
        end_time: r.end_time,
        options: r.options,
        site_tracking: r.site_tracking,
        untracked_free_bytes: r.untracked_free_bytes,
        untracked_free_before_peak: r.untracked_free_before_peak,
        merged_pids: r.merged_pids,
        forked,
        // Versions 1 and 2 wrote only final, exact profiles.
        dump: 0,
        sample_bytes: 0,
    }
}

fn entries(old: Vec<V1Entry>) -> Vec<Entry> {
    old.into_iter()
        .map(|e| Entry { node: e.node, file: e.file, line: e.line, label: NONE, metrics: e.metrics })
        .collect()
}

impl From<V1Profile> for Profile {
    fn from(v: V1Profile) -> Profile {
        Profile {
            // Version 1 did not say; its readers took no process for a fork.
            run: run_info(v.run, false),
            files: v.files,
            frames: v.frames,
            nodes: v.nodes,
            entries: entries(v.entries),
            totals: v.totals,
            peak: v.peak,
            timeline: v.timeline,
            marks: v.marks,
            // Version 1's merge kept no timelines.
            processes: Vec::new(),
            labels: Vec::new(),
            snapshots: Vec::new(),
            vm_timeline: Vec::new(),
        }
    }
}

impl From<V2Profile> for Profile {
    fn from(v: V2Profile) -> Profile {
        Profile {
            run: run_info(v.run.v1, v.run.forked),
            files: v.files,
            frames: v.frames,
            nodes: v.nodes,
            entries: entries(v.entries),
            totals: v.totals,
            peak: v.peak,
            timeline: v.timeline,
            marks: v.marks,
            processes: v.processes,
            labels: Vec::new(),
            snapshots: Vec::new(),
            vm_timeline: Vec::new(),
        }
    }
}

/// `Profile` as format version 3 wrote it: today's, before snapshots.
#[derive(Deserialize)]
pub(crate) struct V3Profile {
    run: RunInfo,
    files: Vec<SourceFile>,
    frames: Vec<Frame>,
    nodes: Vec<Node>,
    entries: Vec<Entry>,
    totals: Metrics,
    peak: Peak,
    timeline: Vec<Sample>,
    marks: Vec<Mark>,
    processes: Vec<ProcessTimeline>,
    labels: Vec<Label>,
}

impl From<V3Profile> for Profile {
    fn from(v: V3Profile) -> Profile {
        Profile {
            run: v.run,
            files: v.files,
            frames: v.frames,
            nodes: v.nodes,
            entries: v.entries,
            totals: v.totals,
            peak: v.peak,
            timeline: v.timeline,
            marks: v.marks,
            processes: v.processes,
            labels: v.labels,
            snapshots: Vec::new(),
            vm_timeline: Vec::new(),
        }
    }
}

/// `Snapshot` as format version 4 wrote it: before the ledger.
#[derive(Deserialize)]
struct V4Snapshot {
    label: String,
    time: f64,
    paths: Vec<HeapPath>,
    types: Vec<HeapCount>,
    classes: Vec<HeapCount>,
    unreachable: Vec<Unreachable>,
    totals: HeapTotals,
}

/// `Profile` as format version 4 wrote it.
#[derive(Deserialize)]
pub(crate) struct V4Profile {
    v3: V3Profile,
    snapshots: Vec<V4Snapshot>,
}

impl From<V4Profile> for Profile {
    fn from(v: V4Profile) -> Profile {
        let mut p: Profile = v.v3.into();
        p.snapshots = v
            .snapshots
            .into_iter()
            .map(|s| Snapshot {
                label: s.label,
                time: s.time,
                paths: s.paths,
                types: s.types,
                classes: s.classes,
                unreachable: s.unreachable,
                totals: s.totals,
                ledger: None,
            })
            .collect();
        p
    }
}
