//! `memprof diff`: the comparison and the CI gate.

use super::{load, print, write_file, Failure};
use crate::render::{self, Metric};
use std::path::{Path, PathBuf};

pub struct DiffOptions {
    pub format: String,
    pub output: Option<PathBuf>,
    pub threshold: u64,
    pub fail_over: Option<u64>,
    pub fail_over_metric: Option<String>,
    pub top: usize,
    /// Compare heap snapshots (by path) instead of allocations.
    pub heap: bool,
    /// The snapshots' labels: the first for OLD, the second for NEW.
    pub snapshots: Vec<String>,
}

pub fn diff(old: &Path, new: &Path, o: &DiffOptions) -> Result<i32, Failure> {
    let DiffOptions { format, output, threshold, fail_over, fail_over_metric, top, .. } = o;
    let (threshold, fail_over, top) = (*threshold, *fail_over, *top);
    if o.heap {
        let (po, pn) = (load(old)?, load(new)?);
        let label = |i: usize| o.snapshots.get(i).map(String::as_str);
        let a = render::heap::choose(&po, label(0)).map_err(|e| Failure(format!("{}: {e}", old.display())))?;
        let b = render::heap::choose(&pn, label(1)).map_err(|e| Failure(format!("{}: {e}", new.display())))?;
        print(&render::heap::diff(a, b, top))?;
        return Ok(0);
    }
    if !matches!(format.as_str(), "text" | "markdown" | "md" | "json") {
        return Err(Failure(format!("unknown format '{format}' (use text, markdown or json)")));
    }
    let (po, pn) = (load(old)?, load(new)?);
    let sites = po.run.site_tracking && pn.run.site_tracking;
    let gate_metric = match fail_over_metric.as_deref() {
        None if sites => Metric::Retained,
        None => Metric::Net,
        Some(name) => {
            let m = Metric::parse(name)?;
            if m.needs_sites() && !sites {
                let which = if po.run.site_tracking { new } else { old };
                return Err(Failure(format!(
                    "{}: made with MEMPROF=sites=0, so it has no {} figures for --fail-over-metric",
                    which.display(),
                    m.name()
                )));
            }
            m
        }
    };
    let c = render::diff::compare(&po, &pn, threshold);
    let text = match format.as_str() {
        "json" => render::diff::json(&c) + "\n",
        "text" => render::diff::text(&c, top),
        _ => render::diff::markdown(&c, top),
    };
    if let Some(path) = output {
        write_file(path, &render::diff::flamegraph(&po, &pn)?)?;
    }
    print(&text)?;
    // The gate looks at every change, not just those over the threshold.
    let Some(limit) = fail_over else { return Ok(0) };
    let over = render::diff::compare(&po, &pn, 0).over(gate_metric, limit);
    if over.is_empty() {
        return Ok(0);
    }
    eprintln!("memprof diff: {} grew by more than {limit} bytes (--fail-over):", render::diff::what(gate_metric));
    for o in over.iter().take(10) {
        eprintln!("  {o}");
    }
    Ok(1)
}
