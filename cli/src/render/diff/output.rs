//! The diff as text, Markdown (for a pull request) and JSON.

use super::{what, Change, Comparison, LineChange, Status, SubChange};
use crate::render::units::{magnitude, signed};
use crate::render::words::md_cell as cell;
use crate::render::Metric;
use std::fmt::Write;

/// "main::foo: held at exit went up 53.0 KiB (was 12.0 KiB, now 65.0 KiB)"
pub fn sub_sentence(c: &SubChange, metric: Metric) -> String {
    let (o, n) = (c.old.get(metric), c.new.get(metric));
    match c.status {
        Status::New => format!("{}: new, {}", c.name, signed(n)),
        Status::Gone => format!("{}: gone (was {})", c.name, signed(o)),
        Status::Changed => format!(
            "{}: {} {} (was {}, now {})",
            c.name,
            if c.delta(metric) >= 0 { "up" } else { "down" },
            magnitude(c.delta(metric)),
            signed(o),
            signed(n)
        ),
    }
}

pub(super) fn line_place(c: &LineChange) -> String {
    match (&c.old_file, c.old_line, &c.new_file, c.new_line) {
        (Some(of), Some(ol), Some(nf), Some(nl)) if of == nf && ol == nl => format!("{nf}:{nl}"),
        (Some(of), Some(ol), Some(nf), Some(nl)) if of == nf => {
            format!("{nf}:{nl} (was line {ol})")
        }
        (Some(of), Some(ol), Some(nf), Some(nl)) => format!("{nf}:{nl} (was {of}:{ol})"),
        (_, _, Some(nf), Some(nl)) => format!("{nf}:{nl}"),
        (Some(of), Some(ol), _, _) => format!("{of}:{ol}"),
        _ => String::new(),
    }
}

fn line_what(c: &LineChange, metric: Metric) -> String {
    let (o, n) = (c.old.get(metric), c.new.get(metric));
    match c.status {
        Status::New => format!("new line, {}", signed(n)),
        Status::Gone => format!("gone, was {}", signed(o)),
        Status::Changed => format!("{} (was {}, now {})", signed(c.delta(metric)), signed(o), signed(n)),
    }
}

/// The runs' totals, one sentence per metric.
fn totals(c: &Comparison) -> Vec<String> {
    c.metrics()
        .into_iter()
        .map(|m| {
            format!(
                "{}: {} (was {}, now {})",
                capitalised(what(m)),
                signed(c.delta(m)),
                signed(c.old.get(m)),
                signed(c.new.get(m))
            )
        })
        .collect()
}

fn capitalised(s: &str) -> String {
    let mut chars = s.chars();
    chars.next().map(|f| f.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

const NO_SITES: &str =
    "One of the runs was made with MEMPROF=sites=0: only allocations and net growth can be compared.";

pub fn text(c: &Comparison, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "Memory of {} compared with {}", c.new_script, c.old_script);
    let _ = writeln!(out, "Sizes in binary units: 1 KiB = 1024 bytes.\n");
    for t in totals(c) {
        let _ = writeln!(out, "{t}");
    }
    if !c.site_tracking {
        let _ = writeln!(out, "{NO_SITES}");
    }
    if c.subs.is_empty() && c.lines.is_empty() {
        let _ = writeln!(out, "\nNo sub or line changed by more than the threshold.");
        return out;
    }
    for m in c.metrics() {
        let lines = c.lines_by(m);
        if !lines.is_empty() {
            let _ = writeln!(out, "\nLines by {}, largest growth first:", what(m));
            for l in lines.into_iter().take(top) {
                let _ = writeln!(out, "  {}  {}  {}", line_place(l), line_what(l, m), l.text);
            }
        }
        let subs = c.subs_by(m);
        if !subs.is_empty() {
            let _ = writeln!(out, "Subs by {}:", what(m));
            for s in subs.into_iter().take(top) {
                let _ = writeln!(out, "  {}", sub_sentence(s, m));
            }
        }
    }
    out
}

pub fn markdown(c: &Comparison, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Memory: `{}` compared with `{}`\n", cell(&c.new_script), cell(&c.old_script));
    let _ = writeln!(out, "| run | change | before | after |");
    let _ = writeln!(out, "|---|---:|---:|---:|");
    for m in c.metrics() {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            what(m),
            signed(c.delta(m)),
            signed(c.old.get(m)),
            signed(c.new.get(m))
        );
    }
    let _ = writeln!(out);
    if !c.site_tracking {
        let _ = writeln!(out, "{NO_SITES}\n");
    }
    for m in c.metrics() {
        let lines = c.lines_by(m);
        if !lines.is_empty() {
            let _ = writeln!(out, "| line | {} | source |", what(m));
            let _ = writeln!(out, "|---|---|---|");
            for l in lines.into_iter().take(top) {
                let src =
                    if l.text.is_empty() { String::new() } else { format!("`{}`", cell(&l.text).replace('`', "'")) };
                let _ = writeln!(out, "| {} | {} | {} |", cell(&line_place(l)), line_what(l, m), src);
            }
            let _ = writeln!(out);
        }
        let subs = c.subs_by(m);
        if !subs.is_empty() {
            let _ = writeln!(out, "| sub | {} | before | after |", what(m));
            let _ = writeln!(out, "|---|---:|---:|---:|");
            for s in subs.into_iter().take(top) {
                let change = match s.status {
                    Status::New => format!("new, {}", signed(s.delta(m))),
                    Status::Gone => format!("gone, {}", signed(s.delta(m))),
                    Status::Changed => signed(s.delta(m)),
                };
                let _ = writeln!(
                    out,
                    "| `{}` | {} | {} | {} |",
                    cell(&s.name),
                    change,
                    signed(s.old.get(m)),
                    signed(s.new.get(m))
                );
            }
            let _ = writeln!(out);
        }
    }
    let _ = writeln!(out, "<sub>Sizes in binary units (1 KiB = 1024 bytes). Made by Devel::MemProf.</sub>");
    out
}

pub fn json(c: &Comparison) -> String {
    serde_json::to_string_pretty(c).unwrap_or_default()
}
