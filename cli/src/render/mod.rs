//! Renderers: each turns a profile (through `crate::analysis`) into one
//! kind of output.  None reaches back into the recorder.

pub mod csv;
pub mod diff;
pub mod export;
pub mod flamegraph;
pub mod folded;
pub mod heap;
pub mod html;
pub mod json;
pub mod ledger;
pub mod report;
pub mod timeline;
pub mod units;
pub mod words;

use memprof_profile::Metrics;

/// The figure a flame graph or folded output is drawn by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Metric {
    /// Net growth: allocated minus freed.
    Net,
    /// Bytes allocated.
    Alloc,
    /// Allocated and still live at exit (site tracking).
    Retained,
    /// Allocated and live at the heap's peak (site tracking).
    Peak,
}

impl Metric {
    pub const NAMES: &'static str = "net, alloc, retained or peak";

    pub fn parse(name: &str) -> Result<Metric, String> {
        match name {
            "net" => Ok(Metric::Net),
            "alloc" => Ok(Metric::Alloc),
            "retained" => Ok(Metric::Retained),
            "peak" => Ok(Metric::Peak),
            _ => Err(format!("unknown metric '{name}' (use {})", Metric::NAMES)),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Metric::Net => "net",
            Metric::Alloc => "alloc",
            Metric::Retained => "retained",
            Metric::Peak => "peak",
        }
    }

    /// The figure for this metric, in bytes.
    pub fn of(self, m: &Metrics) -> i64 {
        match self {
            Metric::Net => m.net_bytes(),
            Metric::Alloc => m.alloc_bytes as i64,
            Metric::Retained => m.retained_bytes as i64,
            Metric::Peak => m.peak_bytes as i64,
        }
    }

    /// Whether the metric needs a profile made with site tracking.
    pub fn needs_sites(self) -> bool {
        matches!(self, Metric::Retained | Metric::Peak)
    }
}
