//! `memprof json`: the document described in doc/profile.md.  Field names
//! are a contract; fields may be added, never renamed.

use crate::analysis::{Analysis, Step};
use memprof_profile::{Metrics, Profile, NONE};

/// The JSON document's version: 1 still, since file format version 2 only
/// added fields, which the document adds when they say something (a
/// forked child's inherited frees, a merged profile's processes).
pub const JSON_VERSION: u32 = 1;
use serde::Serialize;

/// The metrics of one place, as `memprof_profile::FIELDS` lists them.
/// Site-tracking fields appear only when the profile has them.
#[derive(Debug, PartialEq)]
pub struct JsonMetrics {
    metrics: Metrics,
    sites: bool,
}

impl JsonMetrics {
    pub fn new(m: &Metrics, sites: bool) -> JsonMetrics {
        JsonMetrics { metrics: *m, sites }
    }

    /// Add the fields to a map being serialised (a place's own object, or
    /// a stack's, which has more fields).
    fn serialize_into<M: serde::ser::SerializeMap>(&self, map: &mut M) -> Result<(), M::Error> {
        for f in Metrics::fields(self.sites) {
            map.serialize_entry(f.name, &(f.get)(&self.metrics))?;
        }
        Ok(())
    }
}

impl Serialize for JsonMetrics {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = serializer.serialize_map(None)?;
        self.serialize_into(&mut map)?;
        map.end()
    }
}

#[derive(Serialize)]
struct Totals {
    /// The figures that need no site tracking; the site-tracking ones
    /// differ here (the peak is the whole heap's).
    #[serde(flatten)]
    counts: JsonMetrics,
    /// The whole heap's high-water mark (growth since the start).
    peak_bytes: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retained_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    untracked_free_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    untracked_free_before_peak: Option<u64>,
    /// A forked child's frees of what it inherited (its untracked frees).
    #[serde(skip_serializing_if = "Option::is_none")]
    inherited_free_bytes: Option<u64>,
}

#[derive(Serialize)]
struct ProcessJson {
    pid: u32,
    start_time: f64,
    timeline: Vec<SampleJson>,
}

#[derive(Serialize)]
struct PeakJson {
    bytes: i64,
    frames: Vec<String>,
    file: String,
    line: u32,
}

#[derive(Serialize)]
struct LineJson {
    file: String,
    line: u32,
    #[serde(flatten)]
    exclusive: JsonMetrics,
    inclusive: JsonMetrics,
}

#[derive(Serialize)]
struct SubJson {
    name: String,
    kind: &'static str,
    file: String,
    line: u32,
    inclusive: JsonMetrics,
    exclusive: JsonMetrics,
}

#[derive(Serialize)]
struct StepJson<'a> {
    frame: &'a str,
    file: &'a str,
    line: u32,
}

/// One stack.  Serialised by hand rather than with `#[serde(flatten)]`,
/// which goes through a buffered map: a profile can have millions.
struct StackJson<'a> {
    frames: Vec<&'a str>,
    path: Vec<StepJson<'a>>,
    file: &'a str,
    line: u32,
    label: Option<&'a str>,
    metrics: JsonMetrics,
}

impl Serialize for StackJson<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut s = serializer.serialize_map(None)?;
        s.serialize_entry("frames", &self.frames)?;
        s.serialize_entry("path", &self.path)?;
        s.serialize_entry("file", self.file)?;
        s.serialize_entry("line", &self.line)?;
        if let Some(label) = self.label {
            s.serialize_entry("label", label)?;
        }
        self.metrics.serialize_into(&mut s)?;
        s.end()
    }
}

#[derive(Serialize)]
struct MarkJson<'a> {
    time: f64,
    live_bytes: i64,
    label: &'a str,
}

#[derive(Serialize)]
struct SampleJson {
    time: f64,
    live_bytes: i64,
}

#[derive(Serialize)]
struct Document<'a> {
    format_version: u32,
    writer: &'a str,
    perl_version: &'a str,
    command: &'a [String],
    script: &'a str,
    pid: u32,
    ppid: u32,
    start_time: f64,
    end_time: f64,
    site_tracking: bool,
    options: serde_json::Map<String, serde_json::Value>,
    totals: Totals,
    peak: PeakJson,
    lines: Vec<LineJson>,
    subs: Vec<SubJson>,
    /// How many stacks, and the deepest (the `stacks` list grows with
    /// the square of the depth: deep recursion makes it huge).
    stack_count: usize,
    max_stack_depth: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    stacks: Option<Stacks<'a>>,
    marks: Vec<MarkJson<'a>>,
    timeline: Vec<SampleJson>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    forked: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    processes: Vec<ProcessJson>,
    /// A dump written while the program ran on: its number.
    #[serde(skip_serializing_if = "is_zero")]
    dump: u32,
    /// Sampled site tracking: the mean bytes between tracked allocations.
    #[serde(skip_serializing_if = "is_zero")]
    sample_bytes: u64,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    labels: Vec<LabelJson>,
    /// Heap snapshots (profile format version 4).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    snapshots: Vec<super::heap::SnapshotJson<'a>>,
    /// VmRSS and VmData at the timeline's samples (format version 5).
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    vm_timeline: &'a [memprof_profile::VmSample],
}

fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

#[derive(Serialize)]
struct LabelLineJson {
    file: String,
    line: u32,
    retained_bytes: u64,
}

#[derive(Serialize)]
struct LabelJson {
    label: String,
    runs: u64,
    #[serde(flatten)]
    metrics: JsonMetrics,
    alloc_bytes_per_run: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    retained_bytes_per_run: Option<u64>,
    /// The lines that allocated what the label's runs still held.
    #[serde(skip_serializing_if = "Option::is_none")]
    lines: Option<Vec<LabelLineJson>>,
}

fn labels_json(p: &Profile) -> Vec<LabelJson> {
    let sites = p.run.site_tracking;
    crate::analysis::labels(p)
        .into_iter()
        .map(|l| LabelJson {
            runs: l.runs,
            metrics: JsonMetrics::new(&l.metrics, sites),
            alloc_bytes_per_run: l.per_run(l.metrics.alloc_bytes),
            retained_bytes_per_run: sites.then(|| l.per_run(l.metrics.retained_bytes)),
            lines: sites.then(|| {
                l.retained_lines
                    .iter()
                    .map(|&(file, line, retained_bytes)| LabelLineJson {
                        file: p.file_name(file).to_string(),
                        line,
                        retained_bytes,
                    })
                    .collect()
            }),
            label: l.name,
        })
        .collect()
}

fn path_json<'a>(p: &'a Profile, steps: &[Step]) -> Vec<StepJson<'a>> {
    steps
        .iter()
        .map(|s| StepJson { frame: p.frames[s.frame as usize].name.as_str(), file: p.file_name(s.file), line: s.line })
        .collect()
}

/// Write the JSON document, on one line or indented, with or without the
/// `stacks` list.
pub fn write(p: &Profile, out: impl std::io::Write, pretty: bool, include_stacks: bool) -> std::io::Result<()> {
    let a = Analysis::new(p);
    let sites = p.run.site_tracking;
    let m = |x: &Metrics| JsonMetrics::new(x, sites);

    let peak = if p.peak.entry == NONE {
        PeakJson { bytes: p.peak.bytes, frames: Vec::new(), file: String::new(), line: 0 }
    } else {
        let e = &p.entries[p.peak.entry as usize];
        let steps = p.path(e);
        PeakJson {
            bytes: p.peak.bytes,
            frames: p.frame_names(&steps).into_iter().map(String::from).collect(),
            file: p.file_name(e.file).to_string(),
            line: e.line,
        }
    };

    let mut lines: Vec<&_> = a.lines.iter().collect();
    lines.sort_by(|x, y| (p.file_name(x.file), x.line).cmp(&(p.file_name(y.file), y.line)));
    let lines = lines
        .into_iter()
        .map(|l| LineJson {
            file: p.file_name(l.file).to_string(),
            line: l.line,
            exclusive: m(&l.exclusive),
            inclusive: m(&l.inclusive),
        })
        .collect();

    let mut subs: Vec<&_> = a.subs.iter().collect();
    subs.sort_by(|x, y| p.frames[x.frame as usize].name.cmp(&p.frames[y.frame as usize].name));
    let subs = subs
        .into_iter()
        .map(|s| {
            let f = &p.frames[s.frame as usize];
            SubJson {
                name: f.name.clone(),
                kind: f.kind.name(),
                file: p.file_name(f.file).to_string(),
                line: f.line,
                inclusive: m(&s.inclusive),
                exclusive: m(&s.exclusive),
            }
        })
        .collect();

    let stacks = include_stacks.then_some(Stacks { p, sites });
    let max_stack_depth = max_depth(p);

    let options = p.run.options.iter().map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone()))).collect();

    let doc = Document {
        format_version: JSON_VERSION,
        writer: &p.run.writer,
        perl_version: &p.run.perl_version,
        command: &p.run.command,
        script: &p.run.script,
        pid: p.run.pid,
        ppid: p.run.ppid,
        start_time: p.run.start_time,
        end_time: p.run.end_time,
        site_tracking: sites,
        options,
        totals: Totals {
            counts: JsonMetrics::new(&p.totals, false),
            peak_bytes: p.peak.bytes,
            retained_bytes: sites.then_some(p.totals.retained_bytes),
            untracked_free_bytes: sites.then_some(p.run.untracked_free_bytes),
            untracked_free_before_peak: sites.then_some(p.run.untracked_free_before_peak),
            inherited_free_bytes: (sites && p.run.forked).then_some(p.run.inherited_free_bytes()),
        },
        peak,
        stack_count: p.entries.len(),
        max_stack_depth,
        lines,
        subs,
        stacks,
        marks: p.marks.iter().map(|k| MarkJson { time: k.time, live_bytes: k.live_bytes, label: &k.label }).collect(),
        timeline: p.timeline.iter().map(|s| SampleJson { time: s.time, live_bytes: s.live_bytes }).collect(),
        forked: p.run.forked,
        processes: p
            .processes
            .iter()
            .map(|t| ProcessJson {
                pid: t.pid,
                start_time: t.start_time,
                timeline: t.samples.iter().map(|s| SampleJson { time: s.time, live_bytes: s.live_bytes }).collect(),
            })
            .collect(),
        dump: p.run.dump,
        sample_bytes: p.run.sample_bytes,
        labels: labels_json(p),
        snapshots: super::heap::json(p),
        vm_timeline: &p.vm_timeline,
    };
    if pretty { serde_json::to_writer_pretty(out, &doc) } else { serde_json::to_writer(out, &doc) }
        .map_err(std::io::Error::from)
}

/// Frames in the deepest stack.  One pass, since parents precede children
/// (validated): walking up from every node is quadratic in the depth, and
/// a deep chain of nodes would keep it busy for hours.
fn max_depth(p: &Profile) -> usize {
    let mut depth = Vec::with_capacity(p.nodes.len());
    for n in &p.nodes {
        let above = if n.parent == NONE { 0 } else { depth.get(n.parent as usize).copied().unwrap_or(0) };
        depth.push(above + 1);
    }
    depth.into_iter().max().unwrap_or(0)
}

/// The `stacks` list, serialised one stack at a time so that a profile
/// with very deep stacks is written without holding the whole list.
struct Stacks<'a> {
    p: &'a Profile,
    sites: bool,
}

impl Serialize for Stacks<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let p = self.p;
        serializer.collect_seq(p.entries.iter().map(|e| {
            let steps = p.path(e);
            StackJson {
                frames: p.frame_names(&steps),
                path: path_json(p, &steps),
                file: p.file_name(e.file),
                line: e.line,
                label: p.labels.get(e.label as usize).map(|l| l.name.as_str()),
                metrics: JsonMetrics::new(&e.metrics, self.sites),
            }
        }))
    }
}

/// The JSON document as a string (tests and small profiles).
#[cfg(test)]
pub fn render(p: &Profile, pretty: bool) -> String {
    let mut out = Vec::new();
    write(p, &mut out, pretty, true).unwrap();
    String::from_utf8(out).unwrap()
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn document_has_the_contract_fields() {
        let p = recursive_profile();
        let v: serde_json::Value = serde_json::from_str(&render(&p, false)).unwrap();
        assert_eq!(v["format_version"], 1);
        assert_eq!(v["totals"]["alloc_bytes"], 111);
        assert_eq!(v["totals"]["net_bytes"], 111);
        let bar = v["subs"].as_array().unwrap().iter().find(|s| s["name"] == "main::bar").unwrap();
        assert_eq!(bar["inclusive"]["alloc_bytes"], 110);
        assert_eq!(bar["exclusive"]["alloc_bytes"], 110);
        let line1 = v["lines"].as_array().unwrap().iter().find(|l| l["line"] == 1).unwrap();
        assert_eq!(line1["alloc_bytes"], 110);
        assert_eq!(line1["inclusive"]["alloc_bytes"], 110);
        let deep = &v["stacks"][1];
        assert_eq!(deep["frames"], serde_json::json!(["main", "main::bar", "main::bar"]));
        assert_eq!(deep["path"][0], serde_json::json!({"frame": "main", "file": "t.pl", "line": 5}));
        assert!(v["lines"][0].get("retained_bytes").is_none(), "no site fields without site tracking");
    }
}
