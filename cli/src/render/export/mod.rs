//! `memprof export`: the profile in the formats other viewers read: pprof
//! (`go tool pprof`), speedscope and the Firefox Profiler.
//!
//! Each file carries every metric the profile has (a pprof sample type, a
//! speedscope profile, a Firefox thread per metric) so that the viewer can
//! switch between them; `--metric` only chooses which one opens first.

pub mod firefox;
pub mod pprof;
pub mod speedscope;

use super::Metric;
use memprof_profile::{Field, Metrics, Profile, FIELDS};
use std::path::{Path, PathBuf};

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Pprof,
    Speedscope,
    Firefox,
}

impl Format {
    pub const NAMES: &'static str = "pprof, speedscope or firefox";

    pub fn parse(name: &str) -> Result<Format, String> {
        match name {
            "pprof" => Ok(Format::Pprof),
            "speedscope" => Ok(Format::Speedscope),
            "firefox" => Ok(Format::Firefox),
            _ => Err(format!("unknown export format '{name}' (use {})", Format::NAMES)),
        }
    }

    /// What the file name ends with.
    fn suffix(self) -> &'static str {
        match self {
            Format::Pprof => ".pb.gz",
            Format::Speedscope => ".speedscope.json",
            Format::Firefox => ".firefox.json",
        }
    }

    /// How to open the file, for the line `memprof export` prints.
    pub fn how_to_open(self, out: &Path) -> String {
        match self {
            Format::Pprof => format!("go tool pprof -http=: {}", out.display()),
            Format::Speedscope => "open it at https://www.speedscope.app or with `speedscope FILE`".into(),
            Format::Firefox => "load it at https://profiler.firefox.com".into(),
        }
    }

    /// The encoded file.
    pub fn render(self, p: &Profile, first: Metric) -> Result<Vec<u8>, String> {
        match self {
            Format::Pprof => pprof::render(p, first),
            Format::Speedscope => speedscope::render(p, first),
            Format::Firefox => firefox::render(p, first),
        }
    }
}

/// The default output: the profile's name without `.out`, in the current
/// directory, with the format's suffix (`memprof.out` -> `memprof.pb.gz`).
pub fn default_output(input: &Path, format: Format) -> PathBuf {
    let name = input.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let stem = name.strip_suffix(".out").filter(|s| !s.is_empty()).unwrap_or(&name);
    let stem = if stem.is_empty() { "memprof" } else { stem };
    PathBuf::from(format!("{stem}{}", format.suffix()))
}

/// What a figure counts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Bytes,
    Count,
}

/// One metric as the exports carry it.
#[derive(Debug)]
pub struct Series {
    /// pprof's sample type (`-sample_index=NAME`), in the names Go's heap
    /// profiles use where there is one.
    pub name: &'static str,
    /// How speedscope and the Firefox Profiler title it.
    pub title: &'static str,
    /// Its name in `memprof_profile::FIELDS`.
    field: &'static str,
    pub unit: Unit,
    /// The `--metric` that selects it first, if any.
    pub metric: Option<Metric>,
}

/// Every metric an export carries, counts first as pprof's convention asks.
pub const SERIES: [Series; 5] = [
    Series { name: "alloc_objects", title: "allocations", field: "alloc_count", unit: Unit::Count, metric: None },
    Series {
        name: "alloc_space",
        title: "allocated bytes",
        field: "alloc_bytes",
        unit: Unit::Bytes,
        metric: Some(Metric::Alloc),
    },
    Series { name: "net_space", title: "net growth", field: "net_bytes", unit: Unit::Bytes, metric: Some(Metric::Net) },
    Series {
        name: "inuse_space",
        title: "retained at exit",
        field: "retained_bytes",
        unit: Unit::Bytes,
        metric: Some(Metric::Retained),
    },
    Series {
        name: "peak_space",
        title: "live at the peak",
        field: "peak_bytes",
        unit: Unit::Bytes,
        metric: Some(Metric::Peak),
    },
];

impl Series {
    fn field(&self) -> &'static Field {
        // The names are constants checked by a test, not input.
        FIELDS.iter().find(|f| f.name == self.field).expect("SERIES names FIELDS")
    }

    /// Its figure for a place, saturated to what the formats can hold.
    pub fn of(&self, m: &Metrics) -> i64 {
        let v = (self.field().get)(m);
        i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
    }
}

/// The series this profile has (those needing site tracking only if it
/// was tracked), and the index among them of the one `first` selects.
pub fn series(p: &Profile, first: Metric) -> (Vec<&'static Series>, usize) {
    let list: Vec<&Series> = SERIES.iter().filter(|s| p.run.site_tracking || !s.field().site_tracking).collect();
    let first = list.iter().position(|s| s.metric == Some(first)).unwrap_or(0);
    (list, first)
}

/// Name of what was profiled, for titles.
pub fn title(p: &Profile) -> String {
    if p.run.script.is_empty() {
        "memprof".to_string()
    } else {
        format!("memprof: {}", p.run.script)
    }
}

/// The statement frame at the leaf of every stack: `t.pl:3`, as the
/// flame graphs draw it.
pub fn statement_name(p: &Profile, file: u32, line: u32) -> String {
    format!("{}:{line}", p.file_name(file))
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn every_series_is_a_field() {
        for s in &SERIES {
            assert!(FIELDS.iter().any(|f| f.name == s.field), "{} is not in FIELDS", s.field);
        }
    }

    #[test]
    fn site_metrics_only_with_site_tracking() {
        let mut p = recursive_profile();
        let names = |p: &Profile| series(p, Metric::Net).0.iter().map(|s| s.name).collect::<Vec<_>>();
        assert_eq!(names(&p), ["alloc_objects", "alloc_space", "net_space"]);
        p.run.site_tracking = true;
        assert_eq!(names(&p), ["alloc_objects", "alloc_space", "net_space", "inuse_space", "peak_space"]);
        assert_eq!(series(&p, Metric::Retained).1, 3);
    }

    #[test]
    fn default_output_drops_dot_out() {
        assert_eq!(default_output(Path::new("memprof.out"), Format::Pprof), PathBuf::from("memprof.pb.gz"));
        assert_eq!(
            default_output(Path::new("/tmp/run.out.123"), Format::Speedscope),
            PathBuf::from("run.out.123.speedscope.json")
        );
        assert_eq!(default_output(Path::new(".out"), Format::Firefox), PathBuf::from(".out.firefox.json"));
    }
}
