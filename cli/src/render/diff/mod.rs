//! `memprof diff OLD NEW`: what changed between two runs, per sub and per
//! line, largest growth first, in sentences for a code review; and a
//! differential flame graph.
//!
//! Lines are matched by file and line number and, where the source moved,
//! by the text of the line (a Myers diff of the saved line texts, edited
//! runs paired in order), so an inserted line near the top does not make
//! every later line "new".  The
//! two main scripts are matched to each other even if their names differ,
//! and anonymous subs and BEGIN blocks, whose names carry a line number,
//! are matched through the same line mapping.

use super::report::is_reportable;
use super::units::{magnitude, signed};
use super::words::md_cell as cell;
use crate::analysis::Analysis;
use memprof_profile::Profile;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write;

mod lines;
use lines::map_lines;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Changed,
    New,
    Gone,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct SubChange {
    pub name: String,
    pub status: Status,
    pub old_net_bytes: i64,
    pub new_net_bytes: i64,
    pub delta_bytes: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct LineChange {
    pub old_file: Option<String>,
    pub old_line: Option<u32>,
    pub new_file: Option<String>,
    pub new_line: Option<u32>,
    pub text: String,
    pub status: Status,
    pub old_net_bytes: i64,
    pub new_net_bytes: i64,
    pub delta_bytes: i64,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub old_script: String,
    pub new_script: String,
    pub old_net_bytes: i64,
    pub new_net_bytes: i64,
    pub delta_bytes: i64,
    pub subs: Vec<SubChange>,
    pub lines: Vec<LineChange>,
}

/// The saved text of a line, trimmed ("" if none, or if the file is NONE).
fn line_text(p: &Profile, file: u32, line: u32) -> String {
    p.files.get(file as usize).and_then(|f| f.line_text(line)).unwrap_or("").trim().to_string()
}

/// Compare two profiles.  Changes smaller than `threshold` bytes are left out.
pub fn compare(old: &Profile, new: &Profile, threshold: u64) -> Comparison {
    let map = map_lines(old, new);
    let (ao, an) = (Analysis::new(old), Analysis::new(new));

    let mut subs: BTreeMap<String, (Option<i64>, Option<i64>)> = BTreeMap::new();
    for s in &ao.subs {
        if is_reportable(old.frames[s.frame as usize].kind) {
            let v = subs.entry(map.frame_name(old, s.frame as usize)).or_default();
            v.0 = Some(v.0.unwrap_or(0).saturating_add(s.inclusive.net_bytes()));
        }
    }
    for s in &an.subs {
        let f = &new.frames[s.frame as usize];
        if is_reportable(f.kind) {
            let v = subs.entry(f.name.clone()).or_default();
            v.1 = Some(v.1.unwrap_or(0).saturating_add(s.inclusive.net_bytes()));
        }
    }
    let mut sub_changes: Vec<SubChange> = subs
        .into_iter()
        .map(|(name, (o, n))| {
            let status = match (o, n) {
                (Some(_), Some(_)) => Status::Changed,
                (None, _) => Status::New,
                (_, None) => Status::Gone,
            };
            let (o, n) = (o.unwrap_or(0), n.unwrap_or(0));
            // Saturating: several frames can map to one name, each up to MAX_FIGURE.
            SubChange { name, status, old_net_bytes: o, new_net_bytes: n, delta_bytes: n.saturating_sub(o) }
        })
        .filter(|c| c.delta_bytes != 0 && c.delta_bytes.unsigned_abs() >= threshold)
        .collect();
    sub_changes.sort_by(|a, b| b.delta_bytes.cmp(&a.delta_bytes).then_with(|| a.name.cmp(&b.name)));

    let new_lines: HashMap<(String, u32), i64> =
        an.lines.iter().map(|l| ((new.file_name(l.file).to_string(), l.line), l.exclusive.net_bytes())).collect();
    let mut seen_new = std::collections::HashSet::new();
    let mut line_changes = Vec::new();
    for l in &ao.lines {
        let file = old.file_name(l.file).to_string();
        let text = line_text(old, l.file, l.line);
        let o = l.exclusive.net_bytes();
        match map.line(&file, l.line) {
            Some((nf, nl)) => {
                let n = new_lines.get(&(nf.clone(), nl)).copied().unwrap_or(0);
                seen_new.insert((nf.clone(), nl));
                line_changes.push(LineChange {
                    old_file: Some(file),
                    old_line: Some(l.line),
                    new_file: Some(nf),
                    new_line: Some(nl),
                    text,
                    status: Status::Changed,
                    old_net_bytes: o,
                    new_net_bytes: n,
                    delta_bytes: n - o,
                });
            }
            None => line_changes.push(LineChange {
                old_file: Some(file),
                old_line: Some(l.line),
                new_file: None,
                new_line: None,
                text,
                status: Status::Gone,
                old_net_bytes: o,
                new_net_bytes: 0,
                delta_bytes: -o,
            }),
        }
    }
    for l in &an.lines {
        let key = (new.file_name(l.file).to_string(), l.line);
        if seen_new.contains(&key) {
            continue;
        }
        let n = l.exclusive.net_bytes();
        line_changes.push(LineChange {
            old_file: None,
            old_line: None,
            text: line_text(new, l.file, l.line),
            new_file: Some(key.0),
            new_line: Some(key.1),
            status: Status::New,
            old_net_bytes: 0,
            new_net_bytes: n,
            delta_bytes: n,
        });
    }
    line_changes.retain(|c| c.delta_bytes != 0 && c.delta_bytes.unsigned_abs() >= threshold);
    line_changes.sort_by_key(|c| std::cmp::Reverse(c.delta_bytes));

    Comparison {
        old_script: old.run.script.clone(),
        new_script: new.run.script.clone(),
        old_net_bytes: old.totals.net_bytes(),
        new_net_bytes: new.totals.net_bytes(),
        delta_bytes: new.totals.net_bytes() - old.totals.net_bytes(),
        subs: sub_changes,
        lines: line_changes,
    }
}

/// "main::foo: memory went up 53.0 KiB more than before (was 12.0 KiB, now 65.0 KiB)"
pub fn sub_sentence(c: &SubChange) -> String {
    match c.status {
        Status::New => format!("{}: new; memory went {} in it", c.name, direction(c.new_net_bytes)),
        Status::Gone => format!("{}: gone (was {})", c.name, signed(c.old_net_bytes)),
        Status::Changed => format!(
            "{}: memory went up {} {} than before (was {}, now {})",
            c.name,
            magnitude(c.delta_bytes),
            if c.delta_bytes >= 0 { "more" } else { "less" },
            signed(c.old_net_bytes),
            signed(c.new_net_bytes)
        ),
    }
}

fn direction(net: i64) -> String {
    if net >= 0 {
        format!("up {}", magnitude(net))
    } else {
        format!("down {}", magnitude(net))
    }
}

fn line_place(c: &LineChange) -> String {
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

fn line_what(c: &LineChange) -> String {
    match c.status {
        Status::New => format!("new line, {}", signed(c.new_net_bytes)),
        Status::Gone => format!("gone, was {}", signed(c.old_net_bytes)),
        Status::Changed => {
            format!("{} (was {}, now {})", signed(c.delta_bytes), signed(c.old_net_bytes), signed(c.new_net_bytes))
        }
    }
}

fn headline(c: &Comparison) -> String {
    format!(
        "Net growth was {}, now {}: {} ({} -> {}).",
        signed(c.old_net_bytes),
        signed(c.new_net_bytes),
        signed(c.delta_bytes),
        c.old_script,
        c.new_script
    )
}

pub fn text(c: &Comparison, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", headline(c));
    let _ = writeln!(out, "Sizes in binary units: 1 KiB = 1024 bytes.");
    if c.subs.is_empty() && c.lines.is_empty() {
        let _ = writeln!(out, "\nNo sub or line changed by more than the threshold.");
        return out;
    }
    if !c.subs.is_empty() {
        let _ = writeln!(out, "\nSubs, largest growth first:");
        for s in c.subs.iter().take(top) {
            let _ = writeln!(out, "  {}", sub_sentence(s));
        }
    }
    if !c.lines.is_empty() {
        let _ = writeln!(out, "\nLines, largest growth first:");
        for l in c.lines.iter().take(top) {
            let _ = writeln!(out, "  {}  {}  {}", line_place(l), line_what(l), l.text);
        }
    }
    out
}

pub fn markdown(c: &Comparison, top: usize) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "### Memory: `{}` compared with `{}`\n", cell(&c.new_script), cell(&c.old_script));
    let _ = writeln!(out, "{}\n", headline(c));
    if !c.subs.is_empty() {
        let _ = writeln!(out, "| sub | change | before | after |");
        let _ = writeln!(out, "|---|---:|---:|---:|");
        for s in c.subs.iter().take(top) {
            let change = match s.status {
                Status::New => format!("new, {}", signed(s.delta_bytes)),
                Status::Gone => format!("gone, {}", signed(s.delta_bytes)),
                Status::Changed => signed(s.delta_bytes),
            };
            let _ = writeln!(
                out,
                "| `{}` | {} | {} | {} |",
                cell(&s.name),
                change,
                signed(s.old_net_bytes),
                signed(s.new_net_bytes)
            );
        }
        let _ = writeln!(out);
    }
    if !c.lines.is_empty() {
        let _ = writeln!(out, "| line | change | source |");
        let _ = writeln!(out, "|---|---|---|");
        for l in c.lines.iter().take(top) {
            let src = if l.text.is_empty() { String::new() } else { format!("`{}`", cell(&l.text)) };
            let _ = writeln!(out, "| {} | {} | {} |", cell(&line_place(l)), line_what(l), src);
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "<sub>Sizes in binary units (1 KiB = 1024 bytes). Made by Devel::MemProf.</sub>");
    out
}

pub fn json(c: &Comparison) -> String {
    serde_json::to_string_pretty(c).unwrap_or_default()
}

/// A differential flame graph: widths from NEW, red where a stack grew,
/// blue where it shrank (inferno's differential mode), by sub.
pub fn flamegraph(old: &Profile, new: &Profile) -> Result<String, String> {
    use super::{flamegraph as fg, folded, Metric};
    let before = folded::render(old, Metric::Net, false);
    let after = folded::render(new, Metric::Net, false);
    let mut merged = Vec::new();
    inferno::differential::from_readers(
        inferno::differential::Options::default(),
        before.as_bytes(),
        after.as_bytes(),
        &mut merged,
    )
    .map_err(|e| format!("comparing stacks: {e}"))?;
    let merged = String::from_utf8_lossy(&merged).into_owned();
    let title = format!("{} compared with {}: net memory growth", fg::script_name(new), fg::script_name(old));
    if merged.trim().is_empty() {
        return Ok(fg::empty_svg(&title, "Nothing to draw: neither run has a stack with positive net growth."));
    }
    let mut opts = fg::options(title, Some("red: grew, blue: shrank; widths are the new run's".into()));
    fg::draw(&mut opts, merged.lines())
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    fn shifted(p: &Profile, by: u32) -> Profile {
        let mut q = p.clone();
        for e in &mut q.entries {
            e.line += by;
        }
        for n in &mut q.nodes {
            if n.call_line > 0 {
                n.call_line += by;
            }
        }
        for f in &mut q.files {
            f.lines = f.lines.iter().map(|(n, t)| (n + by, t.clone())).collect();
        }
        q
    }

    #[test]
    fn a_shifted_copy_matches_every_line() {
        let p = recursive_profile();
        let q = shifted(&p, 1);
        let c = compare(&p, &q, 0);
        assert!(c.lines.iter().all(|l| l.status != Status::New && l.status != Status::Gone), "{:?}", c.lines);
        assert!(c.subs.is_empty() && c.lines.is_empty(), "nothing changed");
    }

    #[test]
    fn growth_is_named_first_in_sentence_form() {
        let p = recursive_profile();
        let mut q = shifted(&p, 1);
        q.entries[0].metrics.alloc_bytes += 1 << 20;
        let c = compare(&p, &q, 0);
        assert_eq!(
            sub_sentence(&c.subs[0]),
            "main::bar: memory went up 1.00 MiB more than before (was +110 bytes, now +1.00 MiB)"
        );
        assert_eq!(c.lines[0].old_line, Some(1));
        assert_eq!(c.lines[0].new_line, Some(2));
        assert_eq!(c.lines[0].delta_bytes, 1 << 20);
    }

    #[test]
    fn markdown_diff_is_a_table() {
        let p = recursive_profile();
        let mut q = shifted(&p, 1);
        q.entries[0].metrics.alloc_bytes += 1 << 20;
        let md = markdown(&compare(&p, &q, 0), 10);
        let tables = crate::render::report::tests::markdown_tables(&md);
        assert_eq!(tables[0][0], vec!["sub", "change", "before", "after"]);
        assert_eq!(tables[0][1], vec!["main::bar", "+1.00 MiB", "+110 bytes", "+1.00 MiB"]);
        assert_eq!(tables[1][1][0], "t.pl:2 (was line 1)");
    }
}
