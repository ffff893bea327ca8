//! `memprof report --by label`: what each label (a request's route, a
//! job's name) allocated and left behind, per run, with the lines that
//! allocated what it still held.

use super::Format;
use crate::analysis::{labels, LabelView};
use crate::render::units::{count, size};
use crate::render::words::{md_code as code, place, retained_moment, source_text};
use memprof_profile::Profile;
use std::fmt::Write;

/// What a run is, said once above the figures.
const RUNS: &str = "a run is one call of Devel::MemProf::label or with_label that started the label";

/// One sentence: "GET /users: 500 runs, allocated 1.20 MiB (2.46 KiB per run), still held at exit 488 KiB (1000 bytes per run)".
fn sentence(p: &Profile, l: &LabelView) -> String {
    let m = &l.metrics;
    let mut s = format!(
        "{} run{}, allocated {} ({} per run)",
        count(l.runs),
        if l.runs == 1 { "" } else { "s" },
        size(m.alloc_bytes),
        size(l.per_run(m.alloc_bytes))
    );
    if p.run.site_tracking {
        let _ = write!(
            s,
            ", still held {} {} ({} per run)",
            retained_moment(p),
            size(m.retained_bytes),
            size(l.per_run(m.retained_bytes))
        );
    }
    s
}

pub(super) fn render(p: &Profile, top: usize, format: Format) -> String {
    let views = labels(p);
    let mut out = String::new();
    if views.is_empty() {
        let _ = writeln!(out, "\nNo labels: the program called neither Devel::MemProf::label nor with_label (Plack::Middleware::MemProf labels each request).");
        return out;
    }
    match format {
        Format::Text => {
            let _ = writeln!(out, "\nBy label ({RUNS}):");
            for l in &views {
                let _ = writeln!(out, "  {}: {}", l.name, sentence(p, l));
                for &(file, line, bytes) in l.retained_lines.iter().take(top) {
                    let _ = writeln!(
                        out,
                        "    {:>11}  {}  {}",
                        size(bytes),
                        place(p, file, line),
                        source_text(p, file, line, 60)
                    );
                }
            }
        }
        Format::Markdown => {
            let held = retained_moment(p);
            let _ = writeln!(out, "\nBy label ({RUNS}):\n");
            let _ = writeln!(
                out,
                "| label | runs | allocated | per run | still held {held} | per run | allocated by (most held) |"
            );
            let _ = writeln!(out, "|---|---:|---:|---:|---:|---:|---|");
            for l in &views {
                let m = &l.metrics;
                let (kept, kept_per_run, line) = if p.run.site_tracking {
                    let line = l.retained_lines.first().map_or(String::new(), |&(f, n, _)| {
                        format!("{} {}", code(&place(p, f, n)), code(&source_text(p, f, n, 50)))
                    });
                    (size(m.retained_bytes), size(l.per_run(m.retained_bytes)), line)
                } else {
                    ("(not tracked)".into(), String::new(), String::new())
                };
                let _ = writeln!(
                    out,
                    "| {} | {} | {} | {} | {kept} | {kept_per_run} | {line} |",
                    code(&l.name),
                    count(l.runs),
                    size(m.alloc_bytes),
                    size(l.per_run(m.alloc_bytes))
                );
            }
        }
    }
    out
}

/// For the usual report: one line saying that the profile has labels.
pub(super) fn pointer(p: &Profile) -> Option<String> {
    if p.labels.is_empty() {
        return None;
    }
    let names: Vec<&str> = p.labels.iter().take(3).map(|l| l.name.as_str()).collect();
    let more = if p.labels.len() > 3 { ", ..." } else { "" };
    Some(format!(
        "{} label{} ({}{more}): `memprof report --by label` gives each one's figures per run.",
        p.labels.len(),
        if p.labels.len() == 1 { "" } else { "s" },
        names.join(", ")
    ))
}
