//! speedscope's JSON file format
//! (<https://www.speedscope.app/file-format-schema.json>): one `sampled`
//! profile per metric over shared frames.
//!
//! The frames are ours (name, defining file, first line) and, at the leaf
//! of every stack, the statement (`t.pl:3`), as `memprof flamegraph
//! --lines` draws them.  speedscope refuses negative weights, so the net
//! growth profile leaves out the stacks that shrank, as the flame graphs
//! do, and its name says how much that was.

use super::{series, statement_name, title, Unit};
use crate::render::{units, Metric};
use memprof_profile::Profile;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
pub struct File {
    #[serde(rename = "$schema")]
    pub schema: &'static str,
    pub name: String,
    pub exporter: String,
    #[serde(rename = "activeProfileIndex")]
    pub active_profile_index: usize,
    pub shared: Shared,
    pub profiles: Vec<Sampled>,
}

#[derive(Serialize)]
pub struct Shared {
    pub frames: Vec<Frame>,
}

#[derive(Serialize)]
pub struct Frame {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub line: Option<u32>,
}

#[derive(Serialize)]
pub struct Sampled {
    #[serde(rename = "type")]
    pub kind: &'static str,
    pub name: String,
    pub unit: &'static str,
    #[serde(rename = "startValue")]
    pub start_value: i64,
    #[serde(rename = "endValue")]
    pub end_value: i64,
    /// Frame indices, root first.
    pub samples: Vec<Vec<usize>>,
    pub weights: Vec<i64>,
}

/// The document.
pub fn build(p: &Profile, first: Metric) -> File {
    let mut frames: Vec<Frame> = p
        .frames
        .iter()
        .map(|f| Frame {
            name: f.name.clone(),
            file: Some(p.file_name(f.file)).filter(|n| !n.is_empty()).map(str::to_string),
            line: Some(f.line).filter(|&l| l != 0),
        })
        .collect();
    // Statement frames follow ours, one per (file, line).
    let mut statements: HashMap<(u32, u32), usize> = HashMap::new();
    // Distinct stacks in first-seen order: two nodes with the same frames
    // but different call sites are one stack here.
    let mut stacks: Vec<Vec<usize>> = Vec::new();
    let mut stack_index: HashMap<Vec<usize>, usize> = HashMap::new();
    let mut entry_stack: Vec<usize> = Vec::with_capacity(p.entries.len());
    for e in &p.entries {
        let steps = p.path(e);
        let mut stack: Vec<usize> = steps.iter().map(|s| s.frame as usize).collect();
        // Native frames (C functions) hang under their statement.
        stack.insert(
            p.native_start(&steps),
            *statements.entry((e.file, e.line)).or_insert_with(|| {
                frames.push(Frame {
                    name: statement_name(p, e.file, e.line),
                    file: Some(p.file_name(e.file)).filter(|n| !n.is_empty()).map(str::to_string),
                    line: Some(e.line),
                });
                frames.len() - 1
            }),
        );
        let i = *stack_index.entry(stack.clone()).or_insert_with(|| {
            stacks.push(stack);
            stacks.len() - 1
        });
        entry_stack.push(i);
    }
    let (list, active) = series(p, first);
    let profiles = list
        .iter()
        .map(|series| {
            let mut weight = vec![0i64; stacks.len()];
            for (e, &s) in p.entries.iter().zip(&entry_stack) {
                weight[s] += series.of(&e.metrics);
            }
            let shrank: i64 = weight.iter().filter(|&&w| w < 0).sum();
            let kept: Vec<usize> = (0..stacks.len()).filter(|&i| weight[i] > 0).collect();
            let mut name = format!("{}: {}", title(p), series.title);
            if shrank < 0 {
                name.push_str(&format!(" (stacks that shrank left out: {} freed)", units::size(shrank.unsigned_abs())));
            }
            let weights: Vec<i64> = kept.iter().map(|&i| weight[i]).collect();
            Sampled {
                kind: "sampled",
                name,
                unit: match series.unit {
                    Unit::Bytes => "bytes",
                    Unit::Count => "none",
                },
                start_value: 0,
                end_value: weights.iter().sum(),
                samples: kept.iter().map(|&i| stacks[i].clone()).collect(),
                weights,
            }
        })
        .collect();
    File {
        schema: "https://www.speedscope.app/file-format-schema.json",
        name: title(p),
        exporter: format!("memprof {}", env!("CARGO_PKG_VERSION")),
        active_profile_index: active,
        shared: Shared { frames },
        profiles,
    }
}

/// The JSON text.
pub fn render(p: &Profile, first: Metric) -> Result<Vec<u8>, String> {
    serde_json::to_vec(&build(p, first)).map_err(|e| format!("writing the speedscope profile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    fn names(f: &File, stack: &[usize]) -> String {
        stack.iter().map(|&i| f.shared.frames[i].name.as_str()).collect::<Vec<_>>().join(";")
    }

    #[test]
    fn a_profile_per_metric_with_the_folded_stacks() {
        let p = recursive_profile();
        let f = build(&p, Metric::Alloc);
        let titles: Vec<&str> = f.profiles.iter().map(|s| s.unit).collect();
        assert_eq!(titles, ["none", "bytes", "bytes"]);
        assert_eq!(f.active_profile_index, 1);
        let alloc = &f.profiles[1];
        let mut got: Vec<(String, i64)> =
            alloc.samples.iter().zip(&alloc.weights).map(|(s, &w)| (names(&f, s), w)).collect();
        got.sort();
        // The same stacks and figures as `memprof folded --metric alloc`.
        let folded = crate::render::folded::render(&p, Metric::Alloc, true);
        let want: Vec<(String, i64)> = folded
            .lines()
            .filter_map(|l| l.rsplit_once(' '))
            .map(|(s, w)| (s.to_string(), w.parse().unwrap_or(-1)))
            .collect();
        assert_eq!(got, want);
        assert_eq!(alloc.end_value, p.totals.alloc_bytes as i64);
        let bar = f.shared.frames.iter().find(|fr| fr.name == "main::bar").expect("bar");
        assert_eq!((bar.file.as_deref(), bar.line), (Some("t.pl"), Some(1)));
    }

    #[test]
    fn shrinking_stacks_are_left_out_of_net_and_named() {
        let mut p = recursive_profile();
        p.entries[2].metrics.free_bytes = 50;
        let f = build(&p, Metric::Net);
        let net = &f.profiles[f.active_profile_index];
        assert!(net.name.ends_with("(stacks that shrank left out: 49 bytes freed)"), "{}", net.name);
        assert!(net.weights.iter().all(|&w| w > 0));
        assert_eq!(net.weights.len(), 2);
    }
}
