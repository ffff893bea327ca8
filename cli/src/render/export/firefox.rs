//! The Firefox Profiler's processed profile format, written by the
//! `fxprof-processed-profile` crate: a thread per metric whose samples
//! weigh bytes (or count allocations), one sample per entry.
//!
//! A frame is a label with our frame's name, coloured by its kind; the
//! statement (`t.pl:3`) is the leaf frame, since the crate's label frames
//! carry no file or line.  Net growth keeps its negative weights: the
//! profiler's call tree adds them up, as it does for its own diff
//! profiles, so every thread's weights sum to the run's total.  The
//! profile has no times for its entries: every sample is at the start.

use super::{series, statement_name, title, Unit};
use crate::render::Metric;
use fxprof_processed_profile::{
    CategoryColor, CategoryHandle, CpuDelta, Frame, FrameFlags, FrameInfo, Profile as FxProfile, ReferenceTimestamp,
    SamplingInterval, Timestamp, WeightType,
};
use memprof_profile::{FrameKind, Profile};
use std::collections::HashMap;

/// The colour of each kind of frame, and of statements (`None`).
fn color(kind: Option<FrameKind>) -> CategoryColor {
    match kind {
        Some(FrameKind::Main) => CategoryColor::Gray,
        Some(FrameKind::Sub) => CategoryColor::Blue,
        Some(FrameKind::AnonSub) => CategoryColor::LightBlue,
        Some(FrameKind::Block) => CategoryColor::Purple,
        Some(FrameKind::Format) => CategoryColor::Brown,
        Some(FrameKind::Eval) => CategoryColor::Orange,
        Some(FrameKind::Require) => CategoryColor::Green,
        Some(FrameKind::Compile) => CategoryColor::Magenta,
        Some(FrameKind::Pseudo) => CategoryColor::DarkGray,
        Some(FrameKind::Native) => CategoryColor::Red,
        Some(FrameKind::Thread) => CategoryColor::Green,
        None => CategoryColor::Yellow,
    }
}

/// The profile, ready to serialise.
pub fn build(p: &Profile, first: Metric) -> FxProfile {
    let start = if p.run.start_time.is_finite() { p.run.start_time * 1000.0 } else { 0.0 };
    let mut fx = FxProfile::new(
        &title(p),
        ReferenceTimestamp::from_millis_since_unix_epoch(start),
        SamplingInterval::from_millis(1),
    );
    let zero = Timestamp::from_millis_since_reference(0.0);
    let process = fx.add_process(&p.run.script, p.run.pid, zero);
    let mut categories: HashMap<Option<FrameKind>, CategoryHandle> = HashMap::new();
    let mut category = |fx: &mut FxProfile, kind: Option<FrameKind>| {
        *categories.entry(kind).or_insert_with(|| {
            let name = kind.map_or("statement", FrameKind::name);
            fx.add_category(name, color(kind))
        })
    };
    // Names and categories once, not per thread: the strings are global.
    let names: Vec<_> = p.frames.iter().map(|f| fx.intern_string(&f.name)).collect();
    let kinds: Vec<_> = p.frames.iter().map(|f| category(&mut fx, Some(f.kind))).collect();
    let statement = category(&mut fx, None);
    let mut statements = HashMap::new();
    let stacks: Vec<Vec<FrameInfo>> = p
        .entries
        .iter()
        .map(|e| {
            let label = |frame, category: CategoryHandle| FrameInfo {
                frame: Frame::Label(frame),
                category_pair: category.into(),
                flags: FrameFlags::empty(),
            };
            let steps = p.path(e);
            let mut frames: Vec<FrameInfo> =
                steps.iter().map(|s| label(names[s.frame as usize], kinds[s.frame as usize])).collect();
            let leaf = *statements
                .entry((e.file, e.line))
                .or_insert_with(|| fx.intern_string(&statement_name(p, e.file, e.line)));
            // Native frames (C functions) hang under their statement.
            frames.insert(p.native_start(&steps), label(leaf, statement));
            frames
        })
        .collect();
    let (list, selected) = series(p, first);
    for (i, series) in list.iter().enumerate() {
        // The format sorts threads by start time, then name: a nanosecond
        // apart keeps them in the order of SERIES.
        let at = Timestamp::from_nanos_since_reference(i as u64);
        let thread = fx.add_thread(process, p.run.pid.wrapping_add(i as u32), at, false);
        fx.set_thread_name(thread, series.title);
        fx.set_thread_samples_weight_type(
            thread,
            match series.unit {
                Unit::Bytes => WeightType::Bytes,
                Unit::Count => WeightType::Samples,
            },
        );
        fx.add_initial_visible_thread(thread);
        if i == selected {
            fx.add_initial_selected_thread(thread);
        }
        for (e, frames) in p.entries.iter().zip(&stacks) {
            let weight = series.of(&e.metrics);
            if weight == 0 {
                continue;
            }
            let stack = fx.intern_stack_frames(thread, frames.iter().cloned());
            for w in i32_parts(weight) {
                fx.add_sample(thread, at, stack, CpuDelta::ZERO, w);
            }
        }
    }
    fx
}

/// A weight as samples the format can hold (it has 32-bit weights): a
/// 5 GiB stack is three samples.
fn i32_parts(w: i64) -> impl Iterator<Item = i32> {
    let max = i64::from(i32::MAX);
    let (full, rest) = (w.abs() / max, w.abs() % max);
    let sign = w.signum() as i32;
    std::iter::repeat_n(sign * i32::MAX, full as usize).chain((rest != 0).then_some(sign * rest as i32))
}

/// The JSON text.
pub fn render(p: &Profile, first: Metric) -> Result<Vec<u8>, String> {
    serde_json::to_vec(&build(p, first)).map_err(|e| format!("writing the Firefox profile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;
    use serde_json::Value;
    use std::collections::BTreeMap;

    /// Read a processed profile back: per thread, its name, weight type
    /// and the weight of every stack (frame names root first, `;`-joined).
    pub fn read_back(json: &[u8]) -> Vec<(String, String, BTreeMap<String, i64>)> {
        let doc: Value = serde_json::from_slice(json).expect("JSON");
        let threads = doc["threads"].as_array().expect("threads");
        threads
            .iter()
            .map(|t| {
                let strings = t["stringArray"].as_array().expect("strings");
                let func_name =
                    |func: usize| strings[t["funcTable"]["name"][func].as_u64().expect("name") as usize].clone();
                let frame_name =
                    |frame: usize| func_name(t["frameTable"]["func"][frame].as_u64().expect("func") as usize);
                let stacks = &t["stackTable"];
                let path = |mut s: usize| {
                    let mut names = Vec::new();
                    loop {
                        let frame = stacks["frame"][s].as_u64().expect("frame") as usize;
                        names.push(frame_name(frame).as_str().unwrap_or("?").to_string());
                        match stacks["prefix"][s].as_u64() {
                            Some(prefix) => s = prefix as usize,
                            None => break,
                        }
                    }
                    names.reverse();
                    names.join(";")
                };
                let samples = &t["samples"];
                let mut weights = BTreeMap::new();
                for (i, stack) in samples["stack"].as_array().expect("stack").iter().enumerate() {
                    let stack = stack.as_u64().expect("a stack") as usize;
                    *weights.entry(path(stack)).or_insert(0) += samples["weight"][i].as_i64().expect("weight");
                }
                let name = t["name"].as_str().unwrap_or_default().to_string();
                (name, samples["weightType"].as_str().unwrap_or_default().to_string(), weights)
            })
            .collect()
    }

    #[test]
    fn round_trip_frames_and_weights() {
        let mut p = recursive_profile();
        p.entries[2].metrics.free_bytes = 50;
        p.totals.free_bytes = 50;
        let threads = read_back(&render(&p, Metric::Alloc).expect("render"));
        let names: Vec<(&str, &str)> = threads.iter().map(|(n, w, _)| (n.as_str(), w.as_str())).collect();
        assert_eq!(names, [("allocations", "samples"), ("allocated bytes", "bytes"), ("net growth", "bytes")]);
        let alloc: BTreeMap<String, i64> = BTreeMap::from([
            ("main;main::bar;main::bar;t.pl:1".into(), 10),
            ("main;main::bar;t.pl:1".into(), 100),
            ("main;t.pl:5".into(), 1),
        ]);
        assert_eq!(threads[1].2, alloc);
        // Net keeps what shrank, so the weights add up to the total.
        assert_eq!(threads[2].2["main;t.pl:5"], -49);
        assert_eq!(threads[2].2.values().sum::<i64>(), p.totals.net_bytes());
    }

    #[test]
    fn big_weights_are_split() {
        let parts: Vec<i32> = i32_parts(5 << 30).collect();
        assert_eq!(parts.iter().map(|&w| i64::from(w)).sum::<i64>(), 5 << 30);
        assert_eq!(parts.len(), 3);
        assert_eq!(i32_parts(-7).collect::<Vec<_>>(), [-7]);
        assert_eq!(i32_parts(0).count(), 0);
    }
}
