//! pprof: the gzipped protobuf of google/pprof's `proto/profile.proto`,
//! which `go tool pprof` and the services built on it read.
//!
//! A Function per frame (its name, defining file and first line), a
//! Location per (frame, file, line) a stack passes through, a Sample per
//! entry with its locations leaf first and a value per sample type.

use super::{series, title, Unit};
use crate::render::Metric;
use flate2::write::GzEncoder;
use flate2::Compression;
use memprof_profile::Profile;
use prost::Message;
use std::collections::HashMap;
use std::io::Write;

/// The messages of profile.proto that we write, field numbers as there
/// (package perftools.profiles).  Derived with prost rather than built
/// from the .proto so that the build needs no protoc.
pub mod proto {
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Profile {
        #[prost(message, repeated, tag = "1")]
        pub sample_type: Vec<ValueType>,
        #[prost(message, repeated, tag = "2")]
        pub sample: Vec<Sample>,
        #[prost(message, repeated, tag = "3")]
        pub mapping: Vec<Mapping>,
        #[prost(message, repeated, tag = "4")]
        pub location: Vec<Location>,
        #[prost(message, repeated, tag = "5")]
        pub function: Vec<Function>,
        #[prost(string, repeated, tag = "6")]
        pub string_table: Vec<String>,
        #[prost(int64, tag = "7")]
        pub drop_frames: i64,
        #[prost(int64, tag = "8")]
        pub keep_frames: i64,
        #[prost(int64, tag = "9")]
        pub time_nanos: i64,
        #[prost(int64, tag = "10")]
        pub duration_nanos: i64,
        #[prost(message, optional, tag = "11")]
        pub period_type: Option<ValueType>,
        #[prost(int64, tag = "12")]
        pub period: i64,
        #[prost(int64, repeated, tag = "13")]
        pub comment: Vec<i64>,
        #[prost(int64, tag = "14")]
        pub default_sample_type: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ValueType {
        #[prost(int64, tag = "1")]
        pub r#type: i64,
        #[prost(int64, tag = "2")]
        pub unit: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sample {
        #[prost(uint64, repeated, tag = "1")]
        pub location_id: Vec<u64>,
        #[prost(int64, repeated, tag = "2")]
        pub value: Vec<i64>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Mapping {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "5")]
        pub filename: i64,
        #[prost(bool, tag = "7")]
        pub has_functions: bool,
        #[prost(bool, tag = "8")]
        pub has_filenames: bool,
        #[prost(bool, tag = "9")]
        pub has_line_numbers: bool,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Location {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(uint64, tag = "2")]
        pub mapping_id: u64,
        #[prost(message, repeated, tag = "4")]
        pub line: Vec<Line>,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Line {
        #[prost(uint64, tag = "1")]
        pub function_id: u64,
        #[prost(int64, tag = "2")]
        pub line: i64,
    }

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Function {
        #[prost(uint64, tag = "1")]
        pub id: u64,
        #[prost(int64, tag = "2")]
        pub name: i64,
        #[prost(int64, tag = "3")]
        pub system_name: i64,
        #[prost(int64, tag = "4")]
        pub filename: i64,
        #[prost(int64, tag = "5")]
        pub start_line: i64,
    }
}

/// profile.proto's string table: index 0 is "".
struct Strings {
    table: Vec<String>,
    index: HashMap<String, i64>,
}

impl Strings {
    fn new() -> Strings {
        Strings { table: vec![String::new()], index: HashMap::from([(String::new(), 0)]) }
    }

    fn id(&mut self, s: &str) -> i64 {
        if let Some(&i) = self.index.get(s) {
            return i;
        }
        let i = self.table.len() as i64;
        self.table.push(s.to_string());
        self.index.insert(s.to_string(), i);
        i
    }
}

/// The profile as profile.proto's message.
pub fn build(p: &Profile, first: Metric) -> proto::Profile {
    let (list, first) = series(p, first);
    let mut s = Strings::new();
    let mut out = proto::Profile::default();
    for series in &list {
        let unit = match series.unit {
            Unit::Bytes => "bytes",
            Unit::Count => "count",
        };
        out.sample_type.push(proto::ValueType { r#type: s.id(series.name), unit: s.id(unit) });
    }
    out.default_sample_type = s.id(list[first].name);
    // One mapping saying the symbols are already there, so that pprof
    // does not try to symbolise addresses we do not have.
    let script = if p.run.script.is_empty() { "perl".to_string() } else { p.run.script.clone() };
    out.mapping.push(proto::Mapping {
        id: 1,
        filename: s.id(&script),
        has_functions: true,
        has_filenames: true,
        has_line_numbers: true,
    });
    // Functions are ids 1.. in frame order: the frame's index plus one.
    for (i, f) in p.frames.iter().enumerate() {
        out.function.push(proto::Function {
            id: i as u64 + 1,
            name: s.id(&f.name),
            system_name: s.id(&f.name),
            filename: s.id(p.file_name(f.file)),
            start_line: i64::from(f.line),
        });
    }
    let mut locations: HashMap<(u32, u32, u32), u64> = HashMap::new();
    for e in &p.entries {
        let value: Vec<i64> = list.iter().map(|series| series.of(&e.metrics)).collect();
        if value.iter().all(|&v| v == 0) {
            continue;
        }
        let steps = p.path(e);
        let location_id = steps
            .iter()
            .rev()
            .map(|step| {
                *locations.entry((step.frame, step.file, step.line)).or_insert_with(|| {
                    let id = out.location.len() as u64 + 1;
                    out.location.push(proto::Location {
                        id,
                        mapping_id: 1,
                        line: vec![proto::Line { function_id: u64::from(step.frame) + 1, line: i64::from(step.line) }],
                    });
                    id
                })
            })
            .collect();
        out.sample.push(proto::Sample { location_id, value });
    }
    out.time_nanos = seconds_to_nanos(p.run.start_time);
    out.duration_nanos = seconds_to_nanos(p.run.end_time - p.run.start_time);
    out.comment.push(s.id(&format!("{} (exported by memprof {})", title(p), env!("CARGO_PKG_VERSION"))));
    if !p.run.command.is_empty() {
        out.comment.push(s.id(&p.run.command.join(" ")));
    }
    out.string_table = s.table;
    out
}

/// Seconds as whole nanoseconds; a time that is not a number is 0.
fn seconds_to_nanos(t: f64) -> i64 {
    if t.is_finite() && t > 0.0 {
        (t * 1e9) as i64
    } else {
        0
    }
}

/// The gzipped file.
pub fn render(p: &Profile, first: Metric) -> Result<Vec<u8>, String> {
    let bytes = build(p, first).encode_to_vec();
    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(&bytes).and_then(|()| gz.finish()).map_err(|e| format!("compressing the pprof profile: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::read::GzDecoder;
    use memprof_profile::fixtures::recursive_profile;
    use std::io::Read;

    fn decode(bytes: &[u8]) -> proto::Profile {
        let mut raw = Vec::new();
        GzDecoder::new(bytes).read_to_end(&mut raw).expect("gzip");
        proto::Profile::decode(raw.as_slice()).expect("protobuf")
    }

    fn string(p: &proto::Profile, i: i64) -> &str {
        &p.string_table[i as usize]
    }

    #[test]
    fn sample_types_and_totals_round_trip() {
        let p = recursive_profile();
        let out = decode(&render(&p, Metric::Alloc).expect("render"));
        assert_eq!(out.string_table[0], "");
        let types: Vec<(&str, &str)> =
            out.sample_type.iter().map(|t| (string(&out, t.r#type), string(&out, t.unit))).collect();
        assert_eq!(types, [("alloc_objects", "count"), ("alloc_space", "bytes"), ("net_space", "bytes")]);
        assert_eq!(string(&out, out.default_sample_type), "alloc_space");
        let sums: Vec<i64> = (0..3).map(|i| out.sample.iter().map(|s| s.value[i]).sum()).collect();
        assert_eq!(sums, [p.totals.alloc_count as i64, p.totals.alloc_bytes as i64, p.totals.net_bytes()]);
    }

    #[test]
    fn locations_leaf_first_one_per_frame_file_line() {
        let p = recursive_profile();
        let out = build(&p, Metric::Net);
        // Entry 1 runs main (t.pl:5) -> bar (t.pl:2) -> bar (t.pl:1).
        let deep = out.sample.iter().find(|s| s.value[1] == 10).expect("the nested sample");
        let place = |id: u64| {
            let loc = &out.location[id as usize - 1];
            assert_eq!(loc.id, id);
            let f = &out.function[loc.line[0].function_id as usize - 1];
            (string(&out, f.name).to_string(), loc.line[0].line)
        };
        let names: Vec<(String, i64)> = deep.location_id.iter().map(|&id| place(id)).collect();
        assert_eq!(names, [("main::bar".into(), 1), ("main::bar".into(), 2), ("main".into(), 5)]);
        // main at t.pl:5 and bar at t.pl:1 are shared by the stacks, and stored once.
        assert_eq!(out.location.len(), 3);
        let bar = &out.function[1];
        assert_eq!((string(&out, bar.filename), bar.start_line), ("t.pl", 1));
    }

    #[test]
    fn negative_net_is_kept() {
        let mut p = recursive_profile();
        p.entries[2].metrics.free_bytes = 50;
        let out = build(&p, Metric::Net);
        assert!(out.sample.iter().any(|s| s.value[2] == -49));
    }
}
