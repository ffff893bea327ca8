//! `memprof diff OLD NEW`: what changed between two runs.  The run's
//! totals first (held at exit, heap peak, net growth, allocated), then
//! the lines and subs whose held-at-exit and peak figures grew (top-level
//! code included, as `main` and as lines), then allocations and net
//! growth; and a differential flame graph.  The gate (`--fail-over`)
//! judges one metric, by default what was held at exit: net growth moves
//! with wherever frees happen to land, and a leak shows as memory kept.
//!
//! Lines are matched by file and line number and, where the source moved,
//! by the text of the line (diff/lines.rs), so an inserted line near the
//! top does not make every later line "new".  The two main scripts are
//! matched to each other even if their names differ, and anonymous subs
//! and BEGIN blocks, whose names carry a line number, are matched through
//! the same line mapping.

use super::units::size;
use super::Metric;
use crate::analysis::Analysis;
use memprof_profile::{FrameKind, Metrics, Profile};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

mod lines;
mod output;
use lines::map_lines;
use output::line_place;
#[cfg(test)]
use output::sub_sentence;
pub use output::{json, markdown, text};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Changed,
    New,
    Gone,
}

/// The figures a diff compares, of one place in one run.  Without site
/// tracking `retained_bytes` and `peak_bytes` are 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Figures {
    pub retained_bytes: i64,
    pub peak_bytes: i64,
    pub net_bytes: i64,
    pub alloc_bytes: i64,
}

impl Figures {
    fn of(m: &Metrics) -> Figures {
        let signed = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        Figures {
            retained_bytes: signed(m.retained_bytes),
            peak_bytes: signed(m.peak_bytes),
            net_bytes: m.net_bytes(),
            alloc_bytes: signed(m.alloc_bytes),
        }
    }

    pub fn get(&self, metric: Metric) -> i64 {
        match metric {
            Metric::Retained => self.retained_bytes,
            Metric::Peak => self.peak_bytes,
            Metric::Net => self.net_bytes,
            Metric::Alloc => self.alloc_bytes,
        }
    }

    fn add(&mut self, o: &Figures) {
        self.retained_bytes = self.retained_bytes.saturating_add(o.retained_bytes);
        self.peak_bytes = self.peak_bytes.saturating_add(o.peak_bytes);
        self.net_bytes = self.net_bytes.saturating_add(o.net_bytes);
        self.alloc_bytes = self.alloc_bytes.saturating_add(o.alloc_bytes);
    }
}

/// A sub's figures before and after (inclusive; `main` by its own
/// statements, the top-level code).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubChange {
    pub name: String,
    pub status: Status,
    pub old: Figures,
    pub new: Figures,
}

/// A line's own figures before and after.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineChange {
    pub old_file: Option<String>,
    pub old_line: Option<u32>,
    pub new_file: Option<String>,
    pub new_line: Option<u32>,
    pub text: String,
    pub status: Status,
    pub old: Figures,
    pub new: Figures,
}

/// How much a place's figure grew.
pub trait Change {
    fn figures(&self) -> (&Figures, &Figures);
    fn delta(&self, metric: Metric) -> i64 {
        let (o, n) = self.figures();
        n.get(metric).saturating_sub(o.get(metric))
    }
}

impl Change for SubChange {
    fn figures(&self) -> (&Figures, &Figures) {
        (&self.old, &self.new)
    }
}

impl Change for LineChange {
    fn figures(&self) -> (&Figures, &Figures) {
        (&self.old, &self.new)
    }
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub old_script: String,
    pub new_script: String,
    /// Both runs tracked sites: retained and peak figures mean something.
    pub site_tracking: bool,
    /// The runs' totals; `peak_bytes` is the whole heap's peak.
    pub old: Figures,
    pub new: Figures,
    pub subs: Vec<SubChange>,
    pub lines: Vec<LineChange>,
}

/// The saved text of a line, trimmed ("" if none, or if the file is NONE).
fn line_text(p: &Profile, file: u32, line: u32) -> String {
    p.files.get(file as usize).and_then(|f| f.line_text(line)).unwrap_or("").trim().to_string()
}

fn status<T>(o: &Option<T>, n: &Option<T>) -> Status {
    match (o, n) {
        (Some(_), Some(_)) => Status::Changed,
        (None, _) => Status::New,
        (_, None) => Status::Gone,
    }
}

/// A run's totals as figures: the heap's peak, not the sum of the sites'.
fn run_figures(p: &Profile) -> Figures {
    let mut f = Figures::of(&p.totals);
    f.peak_bytes = p.peak.bytes;
    if !p.run.site_tracking {
        f.retained_bytes = 0;
        f.peak_bytes = 0;
    }
    f
}

/// Each sub's figures by name (old names mapped to new ones).
fn sub_figures(p: &Profile, a: &Analysis, name: impl Fn(usize) -> String) -> BTreeMap<String, Figures> {
    let mut out: BTreeMap<String, Figures> = BTreeMap::new();
    for s in &a.subs {
        let kind = p.frames[s.frame as usize].kind;
        let m = match kind {
            FrameKind::Main => &s.exclusive,
            FrameKind::Pseudo => continue,
            _ => &s.inclusive,
        };
        out.entry(name(s.frame as usize)).or_default().add(&Figures::of(m));
    }
    out
}

/// Compare two profiles.  Places whose figures all changed by less than
/// `threshold` bytes are left out.
pub fn compare(old: &Profile, new: &Profile, threshold: u64) -> Comparison {
    let map = map_lines(old, new);
    let (ao, an) = (Analysis::new(old), Analysis::new(new));
    let site_tracking = old.run.site_tracking && new.run.site_tracking;
    let mut subs: BTreeMap<String, (Option<Figures>, Option<Figures>)> = BTreeMap::new();
    for (name, f) in sub_figures(old, &ao, |i| map.frame_name(old, i)) {
        subs.entry(name).or_default().0 = Some(f);
    }
    for (name, f) in sub_figures(new, &an, |i| new.frames[i].name.clone()) {
        subs.entry(name).or_default().1 = Some(f);
    }
    let subs = subs
        .into_iter()
        .map(|(name, (o, n))| SubChange {
            name,
            status: status(&o, &n),
            old: o.unwrap_or_default(),
            new: n.unwrap_or_default(),
        })
        .collect();
    let new_lines: HashMap<(String, u32), Figures> =
        an.lines.iter().map(|l| ((new.file_name(l.file).to_string(), l.line), Figures::of(&l.exclusive))).collect();
    let new_files: HashMap<&str, u32> =
        new.files.iter().enumerate().map(|(i, f)| (f.name.as_str(), i as u32)).collect();
    // A changed line is shown as it reads now.
    let text_now = |file: &str, line: u32| new_files.get(file).map(|&f| line_text(new, f, line));
    let mut seen_new = HashSet::new();
    let mut lines = Vec::new();
    for l in &ao.lines {
        let file = old.file_name(l.file).to_string();
        let mapped = map.line(&file, l.line);
        let n = mapped.as_ref().map(|key| new_lines.get(key).copied().unwrap_or_default());
        if let Some(key) = &mapped {
            seen_new.insert(key.clone());
        }
        let text = mapped.as_ref().and_then(|(f, n)| text_now(f, *n)).unwrap_or_else(|| line_text(old, l.file, l.line));
        let (new_file, new_line) = mapped.map_or((None, None), |(f, l)| (Some(f), Some(l)));
        lines.push(LineChange {
            old_file: Some(file),
            old_line: Some(l.line),
            new_file,
            new_line,
            text,
            status: if n.is_some() { Status::Changed } else { Status::Gone },
            old: Figures::of(&l.exclusive),
            new: n.unwrap_or_default(),
        });
    }
    for l in &an.lines {
        let key = (new.file_name(l.file).to_string(), l.line);
        if seen_new.contains(&key) {
            continue;
        }
        lines.push(LineChange {
            old_file: None,
            old_line: None,
            text: line_text(new, l.file, l.line),
            new_file: Some(key.0),
            new_line: Some(key.1),
            status: Status::New,
            old: Figures::default(),
            new: Figures::of(&l.exclusive),
        });
    }
    let mut c = Comparison {
        old_script: old.run.script.clone(),
        new_script: new.run.script.clone(),
        site_tracking,
        old: run_figures(old),
        new: run_figures(new),
        subs,
        lines,
    };
    let metrics = c.metrics();
    let keep = |ch: &dyn Change| metrics.iter().any(|&m| ch.delta(m).unsigned_abs() >= threshold.max(1));
    c.subs.retain(|s| keep(s));
    c.lines.retain(|l| keep(l));
    c
}

impl Comparison {
    /// The metrics both runs have, in the order the diff reports them.
    pub fn metrics(&self) -> Vec<Metric> {
        if self.site_tracking {
            vec![Metric::Retained, Metric::Peak, Metric::Alloc, Metric::Net]
        } else {
            vec![Metric::Alloc, Metric::Net]
        }
    }

    /// Subs by how much `metric` grew, most first, leaving out those it
    /// did not change.
    pub fn subs_by(&self, metric: Metric) -> Vec<&SubChange> {
        sorted(&self.subs, metric, |s| s.name.clone())
    }

    /// Lines likewise.
    pub fn lines_by(&self, metric: Metric) -> Vec<&LineChange> {
        sorted(&self.lines, metric, line_place)
    }

    pub fn delta(&self, metric: Metric) -> i64 {
        self.new.get(metric).saturating_sub(self.old.get(metric))
    }

    /// What breaks a `--fail-over LIMIT` gate on `metric`: the run's
    /// total, and every line, that grew by more than the limit.
    pub fn over(&self, metric: Metric, limit: u64) -> Vec<String> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let mut out = Vec::new();
        if self.delta(metric) > limit {
            out.push(format!("the run's {} grew by {}", what(metric), size(self.delta(metric).unsigned_abs())));
        }
        for l in self.lines_by(metric) {
            if l.delta(metric) > limit {
                out.push(format!("{} grew by {}  {}", line_place(l), size(l.delta(metric).unsigned_abs()), l.text));
            }
        }
        out
    }
}

fn sorted<T: Change>(items: &[T], metric: Metric, key: impl Fn(&T) -> String) -> Vec<&T> {
    let mut v: Vec<&T> = items.iter().filter(|c| c.delta(metric) != 0).collect();
    v.sort_by(|a, b| b.delta(metric).cmp(&a.delta(metric)).then_with(|| key(a).cmp(&key(b))));
    v
}

/// A metric as the diff's words say it.
pub fn what(metric: Metric) -> &'static str {
    match metric {
        Metric::Retained => "memory held at exit",
        Metric::Peak => "memory live at the heap's peak",
        Metric::Net => "net growth",
        Metric::Alloc => "allocated memory",
    }
}

/// A differential flame graph: widths from NEW, red where a stack grew,
/// blue where it shrank (inferno's differential mode), by sub.
pub fn flamegraph(old: &Profile, new: &Profile) -> Result<String, String> {
    use super::{flamegraph as fg, folded, Metric};
    let before = folded::render(old, Metric::Net, false);
    let after = folded::render(new, Metric::Net, false);
    let mut merged = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        before.as_bytes(),
        after.as_bytes(),
        &mut merged,
    )
    .map_err(|e| format!("comparing stacks: {e}"))?;
    let merged = String::from_utf8_lossy(&merged).into_owned();
    let title = format!("{} compared with {}: net memory growth", fg::script_name(new), fg::script_name(old));
    if merged.trim().is_empty() {
        return Ok(fg::empty_svg(&title, "Nothing to draw: neither run has a stack with positive net growth."));
    }
    let mut opts = fg::options(title, Some("red: grew, blue: shrank; widths are the new run's".into()));
    fg::draw(&mut opts, merged.lines())
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    fn shifted(p: &Profile, by: u32) -> Profile {
        let mut q = p.clone();
        for e in &mut q.entries {
            e.line += by;
        }
        for n in &mut q.nodes {
            if n.call_line > 0 {
                n.call_line += by;
            }
        }
        for f in &mut q.files {
            f.lines = f.lines.iter().map(|(n, t)| (n + by, t.clone())).collect();
        }
        q
    }

    fn retotal(p: &mut Profile) {
        p.totals = Metrics::default();
        for e in &p.entries {
            p.totals.add(&e.metrics);
        }
    }

    #[test]
    fn a_shifted_copy_matches_every_line() {
        let p = recursive_profile();
        let q = shifted(&p, 1);
        let c = compare(&p, &q, 0);
        assert!(c.lines.iter().all(|l| l.status != Status::New && l.status != Status::Gone), "{:?}", c.lines);
        assert!(c.subs.is_empty() && c.lines.is_empty(), "nothing changed");
    }

    #[test]
    fn growth_is_named_first_in_sentence_form() {
        let p = recursive_profile();
        let mut q = shifted(&p, 1);
        q.entries[0].metrics.alloc_bytes += 1 << 20;
        let c = compare(&p, &q, 0);
        let subs = c.subs_by(Metric::Net);
        assert_eq!(sub_sentence(subs[0], Metric::Net), "main::bar: up 1.00 MiB (was +110 bytes, now +1.00 MiB)");
        let lines = c.lines_by(Metric::Net);
        assert_eq!(lines[0].old_line, Some(1));
        assert_eq!(lines[0].new_line, Some(2));
        assert_eq!(lines[0].delta(Metric::Net), 1 << 20);
        assert_eq!(c.metrics(), [Metric::Alloc, Metric::Net], "no site tracking: no retained or peak");
    }

    #[test]
    fn the_gate_judges_held_bytes_of_the_run_and_of_each_line() {
        let mut p = recursive_profile();
        p.run.site_tracking = true;
        let mut q = shifted(&p, 1);
        // Line 1 keeps 2 MiB more at exit, though its net growth moved
        // elsewhere (the frees land on line 5).
        q.entries[0].metrics.retained_bytes += 2 << 20;
        q.totals.retained_bytes += 2 << 20;
        q.entries[0].metrics.alloc_bytes += 3 << 20;
        q.entries[2].metrics.free_bytes += 3 << 20;
        retotal(&mut q);
        let c = compare(&p, &q, 0);
        assert_eq!(c.delta(Metric::Retained), 2 << 20);
        let over = c.over(Metric::Retained, 1 << 20);
        assert_eq!(over[0], "the run's memory held at exit grew by 2.00 MiB");
        assert!(over[1].starts_with("t.pl:2 (was line 1) grew by 2.00 MiB"), "{over:?}");
        assert!(c.over(Metric::Retained, 3 << 20).is_empty());
        let net = c.over(Metric::Net, 1 << 20);
        assert!(!net.iter().any(|o| o.starts_with("the run's")), "the run's net growth did not move: {net:?}");
        assert!(compare(&q, &q, 0).over(Metric::Retained, 0).is_empty(), "a run against itself passes");
    }

    #[test]
    fn markdown_diff_is_a_table() {
        let p = recursive_profile();
        let mut q = shifted(&p, 1);
        q.entries[0].metrics.alloc_bytes += 1 << 20;
        retotal(&mut q);
        let md = markdown(&compare(&p, &q, 0), 10);
        let tables = crate::render::report::tests::markdown_tables(&md);
        assert_eq!(tables[0][0], vec!["run", "change", "before", "after"]);
        assert_eq!(tables[0][1], vec!["allocated memory", "+1.00 MiB", "+111 bytes", "+1.00 MiB"]);
        assert_eq!(tables[0][2][0], "net growth");
        assert_eq!(tables[1][0], vec!["line", "allocated memory", "source"]);
        assert_eq!(tables[1][1][0], "t.pl:2 (was line 1)");
        assert_eq!(tables[2][1], vec!["main::bar", "+1.00 MiB", "+110 bytes", "+1.00 MiB"]);
    }
}
