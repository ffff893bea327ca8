#![forbid(unsafe_code)]
//! The profile: what one profiled process leaves behind, and what every
//! renderer reads.
//!
//! The recorder (in the perl process) builds it with [`builder`] and
//! [`format`] writes it; the `memprof` command reads it back and derives
//! its views (by line, by sub, by stack).  Everything here is plain data:
//! this crate has no unsafe code, and nothing in it trusts a file.
//!
//! A *stack* is a chain of [`Node`]s from a root to a leaf.  Each node names
//! a [`Frame`] (a sub, an eval, a required file, ...) and the location that
//! was executing in its parent frame when it was entered (its call site).
//! An [`Entry`] is a (leaf node, file, line) with the memory credited to
//! that statement running under that stack.

use serde::{Deserialize, Serialize};

/// A count with thousands separators: 1,234,567.
pub fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

pub mod builder;
pub mod command;
pub mod format;
mod format_old;
pub mod heap;
pub mod ledger;
pub mod merge;
pub mod options;
pub mod source;
mod threads;
pub mod timeline;
mod validate;
pub use validate::{MAX_FIGURE, MAX_SECONDS};

/// "No such index": a root node's parent, a pseudo-location's file.
pub const NONE: u32 = u32::MAX;

/// Memory credited to one place.  All sizes are bytes as reported by
/// `malloc_usable_size`; `net_bytes` is derived.
#[derive(Serialize, Deserialize, Clone, Copy, Default, Debug, PartialEq, Eq)]
pub struct Metrics {
    pub alloc_bytes: u64,
    pub alloc_count: u64,
    pub free_bytes: u64,
    pub free_count: u64,
    /// Change in perl's count of live SVs (`PL_sv_count`).
    pub sv_delta: i64,
    /// Allocated here and still live when the profile was written (site tracking).
    pub retained_bytes: u64,
    /// The part of `retained_bytes` that is perl's SV arenas.
    pub retained_arena_bytes: u64,
    /// Allocated here and live when the whole heap was at its peak (site tracking).
    pub peak_bytes: u64,
    /// The part of `peak_bytes` that is perl's SV arenas.
    pub peak_arena_bytes: u64,
}

impl Metrics {
    /// Bytes allocated minus bytes freed.
    pub fn net_bytes(&self) -> i64 {
        // Wrapping: the same as plain subtraction for every figure a valid
        // profile can hold, and no overflow panic in a debug build.
        self.alloc_bytes.wrapping_sub(self.free_bytes) as i64
    }

    /// Add another place's figures to these.  Saturating, so that merging
    /// absurd profiles gives an absurd figure (which validation then
    /// refuses), not a panic or a wrapped one.
    pub fn add(&mut self, other: &Metrics) {
        self.alloc_bytes = self.alloc_bytes.saturating_add(other.alloc_bytes);
        self.alloc_count = self.alloc_count.saturating_add(other.alloc_count);
        self.free_bytes = self.free_bytes.saturating_add(other.free_bytes);
        self.free_count = self.free_count.saturating_add(other.free_count);
        self.sv_delta = self.sv_delta.saturating_add(other.sv_delta);
        self.retained_bytes = self.retained_bytes.saturating_add(other.retained_bytes);
        self.retained_arena_bytes = self.retained_arena_bytes.saturating_add(other.retained_arena_bytes);
        self.peak_bytes = self.peak_bytes.saturating_add(other.peak_bytes);
        self.peak_arena_bytes = self.peak_arena_bytes.saturating_add(other.peak_arena_bytes);
    }
}

/// One figure every place (entry, line, sub, stack) has: the one table of
/// metrics that the JSON document, the CSV columns and the folded and
/// flame graph views are written from.  `net_bytes` is derived.
#[derive(Clone, Copy, Debug)]
pub struct Field {
    /// Its name in JSON and CSV.
    pub name: &'static str,
    /// Whether only a profile with site tracking has it.
    pub site_tracking: bool,
    /// Its value (wide enough for both the unsigned and signed figures).
    pub get: fn(&Metrics) -> i128,
}

/// Every metric, in the order JSON and CSV write them.
pub const FIELDS: [Field; 10] = [
    Field { name: "alloc_bytes", site_tracking: false, get: |m| i128::from(m.alloc_bytes) },
    Field { name: "alloc_count", site_tracking: false, get: |m| i128::from(m.alloc_count) },
    Field { name: "free_bytes", site_tracking: false, get: |m| i128::from(m.free_bytes) },
    Field { name: "free_count", site_tracking: false, get: |m| i128::from(m.free_count) },
    Field { name: "net_bytes", site_tracking: false, get: |m| i128::from(m.alloc_bytes) - i128::from(m.free_bytes) },
    Field { name: "sv_delta", site_tracking: false, get: |m| i128::from(m.sv_delta) },
    Field { name: "retained_bytes", site_tracking: true, get: |m| i128::from(m.retained_bytes) },
    Field { name: "retained_arena_bytes", site_tracking: true, get: |m| i128::from(m.retained_arena_bytes) },
    Field { name: "peak_bytes", site_tracking: true, get: |m| i128::from(m.peak_bytes) },
    Field { name: "peak_arena_bytes", site_tracking: true, get: |m| i128::from(m.peak_arena_bytes) },
];

impl Metrics {
    /// The fields a profile has: all of them with site tracking, else
    /// those that need none.
    pub fn fields(site_tracking: bool) -> impl Iterator<Item = &'static Field> {
        FIELDS.iter().filter(move |f| site_tracking || !f.site_tracking)
    }
}

/// What kind of thing a frame is.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum FrameKind {
    /// The top level of the program: `main`.
    Main,
    /// A named sub: `Pkg::name`.
    Sub,
    /// An anonymous sub: `Pkg::__ANON__[file:line]`.
    AnonSub,
    /// BEGIN, END, INIT, CHECK, UNITCHECK blocks: `Pkg::BEGIN@line`.
    Block,
    /// A format being written.
    Format,
    /// A string eval: `(eval N)[file:line]`.
    Eval,
    /// A file loaded by `require`, `use` or `do FILE`, named as in %INC.
    Require,
    /// Perl compiling a file, eval or the main script: `compile NAME`.
    Compile,
    /// A place that is not a statement: `(exit)`, `(disabled)`, `(startup)`.
    Pseudo,
    /// A C function beneath a Perl statement (`MEMPROF=native=1`):
    /// `[C] xmlNewNode`, or `[C] XML::LibXML::_parse_string` for an XSUB.
    /// Its nodes' call site and its entries' location are the Perl
    /// statement's.
    Native,
    /// A perl thread (ithread): `thread N`, N as `threads->tid` gives it,
    /// called at the statement that created it.
    Thread,
}

impl FrameKind {
    /// Its name in JSON, CSV and the HTML report.
    pub fn name(self) -> &'static str {
        match self {
            FrameKind::Main => "main",
            FrameKind::Sub => "sub",
            FrameKind::AnonSub => "anon",
            FrameKind::Block => "block",
            FrameKind::Format => "format",
            FrameKind::Eval => "eval",
            FrameKind::Require => "require",
            FrameKind::Compile => "compile",
            FrameKind::Pseudo => "pseudo",
            FrameKind::Native => "native",
            FrameKind::Thread => "thread",
        }
    }
}

/// A frame: what a node runs.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    pub name: String,
    pub kind: FrameKind,
    /// Where it is defined (file index, or NONE).
    pub file: u32,
    /// Its first line (0 if unknown).
    pub line: u32,
}

/// A source file, or a string eval, or `-e`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// As perl names it, with evals given their origin: `(eval 5)[t.pl:3]`.
    pub name: String,
    /// Whole source, for string evals and `-e` (files are read from disk).
    pub source: Option<String>,
    /// The text of every line that memory was credited to (or that called
    /// something that was), as it was when the profile was written: for
    /// reports, and for matching lines when a diff's source changed.
    pub lines: Vec<(u32, String)>,
}

impl SourceFile {
    /// Text of a line, if saved.
    pub fn line_text(&self, line: u32) -> Option<&str> {
        self.lines.binary_search_by_key(&line, |(n, _)| *n).ok().map(|i| self.lines[i].1.as_str())
    }
}

/// One step of a call stack.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Node {
    /// The calling node, or NONE for a root.
    pub parent: u32,
    pub frame: u32,
    /// File and line executing in the parent frame when this one was entered.
    pub call_file: u32,
    pub call_line: u32,
}

/// Memory credited to a statement running under a stack, while a label
/// was current.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct Entry {
    pub node: u32,
    pub file: u32,
    pub line: u32,
    /// Index into [`Profile::labels`] of the label current then, or NONE
    /// (format version 3).
    pub label: u32,
    pub metrics: Metrics,
}

/// A label set by `Devel::MemProf::label` or `with_label` (format version
/// 3): a request's route, a job's name.  Its figures are its entries'.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq, Eq)]
pub struct Label {
    pub name: String,
    /// How many times it was started (each `label` or `with_label` call
    /// that made it current).
    pub runs: u64,
}

/// The whole heap's high-water mark and the statement running when it was reached.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Peak {
    pub bytes: i64,
    /// Entry index of the statement, or NONE if the heap never grew.
    pub entry: u32,
}

/// A sample of the live heap.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct Sample {
    /// Seconds since the profile started.
    pub time: f64,
    pub live_bytes: i64,
    /// Entry index of the statement running, or NONE.
    pub entry: u32,
}

/// A label set by `Devel::MemProf::mark`.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
pub struct Mark {
    pub time: f64,
    pub live_bytes: i64,
    pub label: String,
}

/// Facts about the run.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct RunInfo {
    /// "Devel::MemProf 0.1.0"
    pub writer: String,
    pub perl_version: String,
    /// The perl command line, as perl saw it.
    pub command: Vec<String>,
    /// The script's name (`$0` at startup), or `-e`.
    pub script: String,
    /// The working directory at startup, against which relative file names resolve.
    pub cwd: String,
    pub pid: u32,
    pub ppid: u32,
    /// Unix time in seconds.
    pub start_time: f64,
    pub end_time: f64,
    /// The `MEMPROF` options in effect, as name and value.
    pub options: Vec<(String, String)>,
    /// Whether allocation sites were tracked (retained and peak metrics).
    pub site_tracking: bool,
    /// Bytes freed during the run from blocks allocated before it started.
    pub untracked_free_bytes: u64,
    /// The part of that freed before the heap's peak.
    pub untracked_free_before_peak: u64,
    /// When several profiles were merged: the pids of the processes.
    pub merged_pids: Vec<u32>,
    /// Whether the process is a forked child of a profiled one (format
    /// version 2): its profile starts at the fork, so every block it frees
    /// that was allocated before is the parent's, and its untracked frees
    /// are exactly the memory it freed of what it inherited.
    pub forked: bool,
    /// 0 for the profile written at the end; N for the Nth dump written
    /// while the program ran on (`dump_signal`, `Devel::MemProf::dump`;
    /// format version 3): its retained figures are what was live then.
    pub dump: u32,
    /// With sampled site tracking (`sample=BYTES`, format version 3), the
    /// mean bytes between two tracked allocations: retained and peak
    /// figures are estimates.  0: every allocation was tracked.
    pub sample_bytes: u64,
}

impl RunInfo {
    /// Bytes a forked child freed of what it inherited from its parent (0
    /// for any other process): its untracked frees.
    pub fn inherited_free_bytes(&self) -> u64 {
        if self.forked {
            self.untracked_free_bytes
        } else {
            0
        }
    }
}

/// One process's heap over time, in a merged profile (format version 2).
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct ProcessTimeline {
    pub pid: u32,
    /// Unix time in seconds when its profile started.
    pub start_time: f64,
    /// Its samples, seconds since its own start; entries are the merged
    /// profile's.
    pub samples: Vec<Sample>,
}

/// A whole profile.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Profile {
    pub run: RunInfo,
    pub files: Vec<SourceFile>,
    pub frames: Vec<Frame>,
    pub nodes: Vec<Node>,
    pub entries: Vec<Entry>,
    pub totals: Metrics,
    pub peak: Peak,
    pub timeline: Vec<Sample>,
    pub marks: Vec<Mark>,
    /// A merged profile's processes' timelines, one per process, in merge
    /// order (empty for one process, whose heap is `timeline`).
    pub processes: Vec<ProcessTimeline>,
    /// The labels entries refer to (format version 3).
    pub labels: Vec<Label>,
    /// Heap snapshots, in the order taken (format version 4).
    pub snapshots: Vec<heap::Snapshot>,
    /// VmRSS and VmData at the timeline's samples (format version 5;
    /// empty where /proc could not be read, and for a merged profile).
    pub vm_timeline: Vec<VmSample>,
}

/// The process's size at a timeline sample, from /proc/self/status.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq)]
pub struct VmSample {
    /// Seconds since the profile started.
    pub time: f64,
    pub rss_bytes: u64,
    pub data_bytes: u64,
}

/// One element of a stack: a frame and the file and line executing in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Step {
    pub frame: u32,
    pub file: u32,
    pub line: u32,
}

impl Profile {
    /// The stack of an entry, from the root down: each frame with the
    /// file and line executing in it (for the last, the statement itself).
    pub fn path(&self, e: &Entry) -> Vec<Step> {
        let mut steps = Vec::new();
        let (mut file, mut line) = (e.file, e.line);
        let mut n = e.node;
        while n != NONE {
            let node = &self.nodes[n as usize];
            steps.push(Step { frame: node.frame, file, line });
            file = node.call_file;
            line = node.call_line;
            n = node.parent;
        }
        steps.reverse();
        steps
    }

    /// Where a stack's native frames begin (its length if it has none):
    /// views that show the statement as a frame put it there, between the
    /// Perl frames and the C functions it called.
    pub fn native_start(&self, steps: &[Step]) -> usize {
        steps.iter().position(|s| self.frames[s.frame as usize].kind == FrameKind::Native).unwrap_or(steps.len())
    }

    /// Frame names of a stack, root first.
    pub fn frame_names(&self, steps: &[Step]) -> Vec<&str> {
        steps.iter().map(|s| self.frames[s.frame as usize].name.as_str()).collect()
    }
}

/// Profiles for the tests of the renderers and of the format.
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures {
    use super::*;

    /// main (t.pl:5) -> main::bar (t.pl:2) -> main::bar (t.pl:2) -> leaf t.pl:1
    pub fn recursive_profile() -> Profile {
        let mut p = Profile::default();
        p.files.push(SourceFile {
            name: "t.pl".into(),
            source: None,
            lines: vec![(1, "sub bar { my $var = 1; }".into()), (2, "bar();".into()), (5, "bar(1);".into())],
        });
        p.frames.push(Frame { name: "main".into(), kind: FrameKind::Main, file: 0, line: 0 });
        p.frames.push(Frame { name: "main::bar".into(), kind: FrameKind::Sub, file: 0, line: 1 });
        p.nodes.push(Node { parent: NONE, frame: 0, call_file: NONE, call_line: 0 });
        p.nodes.push(Node { parent: 0, frame: 1, call_file: 0, call_line: 5 });
        p.nodes.push(Node { parent: 1, frame: 1, call_file: 0, call_line: 2 });
        let m = |b| Metrics { alloc_bytes: b, alloc_count: 1, ..Metrics::default() };
        p.entries.push(Entry { node: 1, file: 0, line: 1, label: NONE, metrics: m(100) });
        p.entries.push(Entry { node: 2, file: 0, line: 1, label: NONE, metrics: m(10) });
        p.entries.push(Entry { node: 0, file: 0, line: 5, label: NONE, metrics: m(1) });
        for e in p.entries.clone() {
            p.totals.add(&e.metrics);
        }
        p
    }

    /// The recursive profile, and line 5 (main) calling C: an XSUB
    /// allocating 1000 bytes through a library function.
    pub fn native_profile() -> Profile {
        let mut p = recursive_profile();
        let frame = |p: &mut Profile, name: &str| {
            p.frames.push(Frame { name: name.into(), kind: FrameKind::Native, file: NONE, line: 0 });
            p.frames.len() as u32 - 1
        };
        let xs = frame(&mut p, "[C] Pkg::xs");
        let lib = frame(&mut p, "[C] lib_alloc");
        p.nodes.push(Node { parent: 0, frame: xs, call_file: 0, call_line: 5 });
        p.nodes.push(Node { parent: 3, frame: lib, call_file: 0, call_line: 5 });
        let m = Metrics { alloc_bytes: 1000, alloc_count: 1, ..Metrics::default() };
        p.entries.push(Entry { node: 4, file: 0, line: 5, label: NONE, metrics: m });
        p.totals.add(&m);
        p
    }
}
