//! `memprof export`: write the profile for another viewer.

use super::{load, metric, print, Failure};
use crate::render::export::{default_output, Format};
use std::io::Write;
use std::path::{Path, PathBuf};

pub const AFTER_HELP: &str = "Every metric the profile has goes into the file (pprof sample types \
alloc_objects, alloc_space, net_space, and with site tracking inuse_space and peak_space; a \
speedscope profile or a Firefox Profiler thread each); --metric picks the one shown first.

  memprof export --format pprof && go tool pprof -top -sample_index=alloc_space memprof.pb.gz
  memprof export --format speedscope     # then open memprof.speedscope.json in speedscope
  memprof export --format firefox        # then load memprof.firefox.json at profiler.firefox.com";

/// Read FILE, write it in FORMAT to OUT (or the default name), say where.
pub fn export(file: &Path, format: &str, metric_name: &str, output: Option<PathBuf>) -> Result<i32, Failure> {
    let format = Format::parse(format)?;
    let p = load(file)?;
    let first = metric(metric_name, &p)?;
    let bytes = format.render(&p, first)?;
    match output {
        Some(path) if path.as_os_str() == "-" => {
            let mut out = std::io::stdout().lock();
            match out.write_all(&bytes).and_then(|()| out.flush()) {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    return Err(Failure(format!("writing output: {e}")))
                }
                _ => {}
            }
        }
        output => {
            let path = output.unwrap_or_else(|| default_output(file, format));
            std::fs::write(&path, &bytes).map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
            print(&format!("Wrote {} ({})\n", path.display(), format.how_to_open(&path)))?;
        }
    }
    Ok(0)
}
