//! `memprof report`: what a person reads in ten seconds, or pastes into a
//! code review.  Sentences in the form "memory went up 53.1 KiB in sub
//! main::foo (12.0 KiB in its own lines, 41.1 KiB in subs it called)", and
//! the lines that made memory go up, with their source.

use super::units::{count, magnitude, signed, size};
use super::words::{frame_phrase, md_cell as cell, md_code as code, place, source_text};
use crate::analysis::{Analysis, LineView, SubView};
use memprof_profile::{FrameKind, Profile, NONE};
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

pub struct ReportOptions {
    pub top: usize,
    pub format: Format,
}

/// "went up 53.1 KiB" / "went down 2.00 KiB" / "did not change".
fn movement(net: i64) -> String {
    match net {
        0 => "did not change".into(),
        n if n > 0 => format!("went up {}", size(n as u64)),
        n => format!("went down {}", magnitude(n)),
    }
}

/// The sentence for a sub: "memory went up 53.1 KiB in sub main::foo
/// (12.0 KiB in its own lines, 41.1 KiB in subs it called)".
pub fn sub_sentence(p: &Profile, s: &SubView) -> String {
    let f = &p.frames[s.frame as usize];
    let total = s.inclusive.net_bytes();
    let own = s.exclusive.net_bytes();
    format!(
        "memory {} in {} ({} in its own lines, {} in subs it called)",
        movement(total),
        frame_phrase(f.kind, &f.name),
        signed_or_plain(own, total),
        signed_or_plain(total - own, total)
    )
}

/// Parts of a total are written without a sign when they go the same way.
fn signed_or_plain(part: i64, total: i64) -> String {
    if part == 0 || (part > 0) == (total > 0) {
        magnitude(part)
    } else {
        signed(part)
    }
}

/// Subs worth naming: not the top level, not pseudo-locations.
pub fn is_reportable(kind: FrameKind) -> bool {
    !matches!(kind, FrameKind::Main | FrameKind::Pseudo)
}

/// The frame that ran a line for most of its bytes, to say where it is.
fn owners(p: &Profile) -> std::collections::HashMap<(u32, u32), (u32, i64)> {
    let mut best: std::collections::HashMap<(u32, u32), (u32, i64)> = Default::default();
    for e in &p.entries {
        let frame = p.nodes[e.node as usize].frame;
        let weight = e.metrics.net_bytes().abs() + e.metrics.alloc_bytes as i64;
        let slot = best.entry((e.file, e.line)).or_insert((frame, -1));
        if weight > slot.1 {
            *slot = (frame, weight);
        }
    }
    best
}

fn top_subs<'a>(a: &'a Analysis, top: usize) -> Vec<&'a SubView> {
    let p = a.profile;
    let mut subs: Vec<&SubView> = a
        .subs
        .iter()
        .filter(|s| is_reportable(p.frames[s.frame as usize].kind) && s.inclusive.net_bytes() != 0)
        .collect();
    subs.sort_by(|x, y| {
        y.inclusive
            .net_bytes()
            .cmp(&x.inclusive.net_bytes())
            .then_with(|| p.frames[x.frame as usize].name.cmp(&p.frames[y.frame as usize].name))
    });
    subs.truncate(top);
    subs
}

fn top_lines<'a>(a: &'a Analysis, top: usize) -> Vec<&'a LineView> {
    let p = a.profile;
    let mut lines: Vec<&LineView> = a.lines.iter().filter(|l| l.exclusive.net_bytes() > 0).collect();
    lines.sort_by(|x, y| {
        y.exclusive
            .net_bytes()
            .cmp(&x.exclusive.net_bytes())
            .then_with(|| (p.file_name(x.file), x.line).cmp(&(p.file_name(y.file), y.line)))
    });
    lines.truncate(top);
    lines
}

fn duration(p: &Profile) -> String {
    let secs = (p.run.end_time - p.run.start_time).max(0.0);
    if secs < 1.0 {
        format!("{:.0} ms", secs * 1000.0)
    } else {
        format!("{secs:.2} s")
    }
}

/// The heap's peak as a sentence.
pub fn peak_sentence(p: &Profile) -> String {
    if p.peak.entry == NONE {
        return "The heap never grew beyond its size at the start.".into();
    }
    let e = &p.entries[p.peak.entry as usize];
    let frame = &p.frames[p.nodes[e.node as usize].frame as usize];
    format!(
        "The heap peaked at {} above its starting size, in {} at {}.",
        size(p.peak.bytes.max(0) as u64),
        frame_phrase(frame.kind, &frame.name),
        place(p, e.file, e.line)
    )
}

/// Render the report.
pub fn render(p: &Profile, opts: &ReportOptions) -> String {
    let a = Analysis::new(p);
    match opts.format {
        Format::Text => text(&a, opts.top),
        Format::Markdown => markdown(&a, opts.top),
    }
}

fn totals_sentence(p: &Profile) -> String {
    let t = &p.totals;
    format!(
        "Allocated {} in {} allocations, freed {} in {}: memory {} overall.",
        size(t.alloc_bytes),
        count(t.alloc_count),
        size(t.free_bytes),
        count(t.free_count),
        movement(t.net_bytes())
    )
}

fn text(a: &Analysis, top: usize) -> String {
    let p = a.profile;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Memory profile of {} (perl {}, pid {}, {})",
        p.run.script,
        p.run.perl_version,
        p.run.pid,
        duration(p)
    );
    let _ = writeln!(out, "Sizes in binary units: 1 KiB = 1024 bytes, 1 MiB = 1024 KiB.\n");
    let _ = writeln!(out, "{}", totals_sentence(p));
    let _ = writeln!(out, "{}", peak_sentence(p));

    let subs = top_subs(a, top);
    if !subs.is_empty() {
        let _ = writeln!(out, "\nWhere memory went up, by sub (everything that ran inside it):");
        for s in subs {
            let _ = writeln!(out, "  {}", sub_sentence(p, s));
        }
    }
    let lines = top_lines(a, top);
    if !lines.is_empty() {
        let owner = owners(p);
        let _ = writeln!(out, "\nLines that made memory go up (their own statements):");
        for l in lines {
            let place = place(p, l.file, l.line);
            let src = source_text(p, l.file, l.line, 60);
            let who = owner.get(&(l.file, l.line)).map(|(f, _)| p.frames[*f as usize].name.as_str()).unwrap_or("");
            let _ = writeln!(out, "  {:>11}  {place}  {src}  [{who}]", signed(l.exclusive.net_bytes()));
        }
    }
    if p.run.site_tracking {
        held_sections_text(a, top, &mut out);
    }
    out
}

/// One sentence on what arena bytes are, said once per report.
pub const ARENA_NOTE: &str = "\"arena\" is memory in blocks perl keeps once it has them and never gives back to malloc (SV arenas and its stacks): they hold live scalars' heads and bodies and free slots kept for reuse.";

/// Which of the two site-tracking views.
#[derive(Clone, Copy)]
pub enum Held {
    AtExit,
    AtPeak,
}

impl Held {
    fn bytes(self, m: &memprof_profile::Metrics) -> (u64, u64) {
        match self {
            Held::AtExit => (m.retained_bytes, m.retained_arena_bytes),
            Held::AtPeak => (m.peak_bytes, m.peak_arena_bytes),
        }
    }

    fn when(self) -> &'static str {
        match self {
            Held::AtExit => "still held at exit",
            Held::AtPeak => "live at the heap's peak",
        }
    }
}

/// "main::load_cache allocated 48.2 MiB that was still held at exit (1.2 MiB of it arena)"
pub fn held_sentence(p: &Profile, s: &SubView, held: Held) -> String {
    let (bytes, arena) = held.bytes(&s.inclusive);
    let name = &p.frames[s.frame as usize].name;
    let mut out = format!("{name} allocated {} that was {}", size(bytes), held.when());
    if arena > 0 {
        out.push_str(&format!(" ({} of it arena)", size(arena)));
    }
    out
}

fn top_held<'a>(a: &'a Analysis, top: usize, held: Held) -> Vec<&'a SubView> {
    let p = a.profile;
    let mut subs: Vec<&SubView> = a
        .subs
        .iter()
        .filter(|s| is_reportable(p.frames[s.frame as usize].kind) && held.bytes(&s.inclusive).0 > 0)
        .collect();
    subs.sort_by(|x, y| {
        held.bytes(&y.inclusive)
            .0
            .cmp(&held.bytes(&x.inclusive).0)
            .then_with(|| p.frames[x.frame as usize].name.cmp(&p.frames[y.frame as usize].name))
    });
    subs.truncate(top);
    subs
}

fn top_held_lines<'a>(a: &'a Analysis, top: usize, held: Held) -> Vec<&'a LineView> {
    let mut lines: Vec<&LineView> = a.lines.iter().filter(|l| held.bytes(&l.exclusive).0 > 0).collect();
    lines.sort_by_key(|l| std::cmp::Reverse(held.bytes(&l.exclusive).0));
    lines.truncate(top);
    lines
}

fn held_sections_text(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
    for held in [Held::AtExit, Held::AtPeak] {
        let subs = top_held(a, top, held);
        if subs.is_empty() {
            continue;
        }
        let heading = match held {
            Held::AtExit => "\nStill allocated at exit, by the sub that allocated it:".to_string(),
            Held::AtPeak => format!(
                "\nLive at the heap's peak ({}), by the sub that allocated it:",
                size(p.peak.bytes.max(0) as u64)
            ),
        };
        let _ = writeln!(out, "{heading}");
        for s in subs {
            let _ = writeln!(out, "  {}", held_sentence(p, s, held));
        }
        for l in top_held_lines(a, top.min(5), held) {
            let (bytes, arena) = held.bytes(&l.exclusive);
            let arena = if arena > 0 { format!(" ({} arena)", size(arena)) } else { String::new() };
            let _ = writeln!(
                out,
                "  {:>11}{arena}  {}  {}",
                size(bytes),
                place(p, l.file, l.line),
                source_text(p, l.file, l.line, 60)
            );
        }
    }
    let _ = writeln!(out, "\n{ARENA_NOTE}");
}

fn held_sections_markdown(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
    for held in [Held::AtExit, Held::AtPeak] {
        let subs = top_held(a, top, held);
        if subs.is_empty() {
            continue;
        }
        let _ = writeln!(out, "| allocated by | {} | of it arena |", held.when());
        let _ = writeln!(out, "|---|---:|---:|");
        for s in subs {
            let (bytes, arena) = held.bytes(&s.inclusive);
            let _ =
                writeln!(out, "| `{}` | {} | {} |", cell(&p.frames[s.frame as usize].name), size(bytes), size(arena));
        }
        let _ = writeln!(out);
    }
    let _ = writeln!(out, "{ARENA_NOTE}\n");
}

fn markdown(a: &Analysis, top: usize) -> String {
    let p = a.profile;
    let mut out = String::new();
    let _ = writeln!(out, "### Memory profile of `{}`\n", cell(&p.run.script));
    let _ = writeln!(out, "{} {}\n", totals_sentence(p), peak_sentence(p));
    let t = &p.totals;
    let _ = writeln!(out, "| allocated | freed | net growth | heap peak |");
    let _ = writeln!(out, "|---:|---:|---:|---:|");
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} |\n",
        size(t.alloc_bytes),
        size(t.free_bytes),
        signed(t.net_bytes()),
        size(p.peak.bytes.max(0) as u64)
    );
    let subs = top_subs(a, top);
    if !subs.is_empty() {
        let _ = writeln!(out, "| where | net growth | in its own lines | in subs it called | allocated |");
        let _ = writeln!(out, "|---|---:|---:|---:|---:|");
        for s in subs {
            let f = &p.frames[s.frame as usize];
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&frame_phrase(f.kind, &format!("`{}`", f.name))),
                signed(s.inclusive.net_bytes()),
                signed(s.exclusive.net_bytes()),
                signed(s.inclusive.net_bytes() - s.exclusive.net_bytes()),
                size(s.inclusive.alloc_bytes)
            );
        }
        let _ = writeln!(out);
    }
    let lines = top_lines(a, top);
    if !lines.is_empty() {
        let _ = writeln!(out, "| line | net growth | allocated | source |");
        let _ = writeln!(out, "|---|---:|---:|---|");
        for l in lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} |",
                cell(&place(p, l.file, l.line)),
                signed(l.exclusive.net_bytes()),
                size(l.exclusive.alloc_bytes),
                code(&source_text(p, l.file, l.line, 80))
            );
        }
        let _ = writeln!(out);
    }
    if p.run.site_tracking {
        held_sections_markdown(a, top, &mut out);
    }
    let _ = writeln!(out, "<sub>Sizes in binary units (1 KiB = 1024 bytes). Made by Devel::MemProf.</sub>");
    out
}

#[cfg(test)]
pub mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn sentence_for_a_sub() {
        let mut p = recursive_profile();
        p.entries[0].metrics.alloc_bytes = 12 * 1024 + 512;
        p.entries[1].metrics.alloc_bytes = 41 * 1024;
        let a = Analysis::new(&p);
        let bar = a.sub_named("main::bar").unwrap();
        assert_eq!(
            sub_sentence(&p, bar),
            "memory went up 53.5 KiB in sub main::bar (53.5 KiB in its own lines, 0 bytes in subs it called)"
        );
    }

    #[test]
    fn text_report_names_lines_with_source() {
        let p = recursive_profile();
        let r = render(&p, &ReportOptions { top: 5, format: Format::Text });
        assert!(
            r.contains("Allocated 111 bytes in 3 allocations, freed 0 bytes in 0: memory went up 111 bytes overall.")
        );
        assert!(r.contains("+110 bytes  t.pl:1  sub bar { my $var = 1; }  [main::bar]"), "{r}");
    }

    /// The rows of each Markdown table, as cell texts, parsed by pulldown-cmark.
    pub fn markdown_tables(md: &str) -> Vec<Vec<Vec<String>>> {
        use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
        let mut tables = Vec::new();
        let mut cell: Option<String> = None;
        for event in Parser::new_ext(md, Options::ENABLE_TABLES) {
            match event {
                Event::Start(Tag::Table(_)) => tables.push(Vec::new()),
                Event::Start(Tag::TableHead) | Event::Start(Tag::TableRow) => {
                    if let Some(t) = tables.last_mut() {
                        t.push(Vec::new())
                    }
                }
                Event::Start(Tag::TableCell) => cell = Some(String::new()),
                Event::Text(text) | Event::Code(text) => {
                    if let Some(c) = cell.as_mut() {
                        c.push_str(&text)
                    }
                }
                Event::End(TagEnd::TableCell) => {
                    if let (Some(t), Some(c)) = (tables.last_mut(), cell.take()) {
                        if let Some(row) = t.last_mut() {
                            row.push(c)
                        }
                    }
                }
                _ => {}
            }
        }
        tables
    }

    #[test]
    fn markdown_report_is_tables() {
        let p = recursive_profile();
        let md = render(&p, &ReportOptions { top: 5, format: Format::Markdown });
        let tables = markdown_tables(&md);
        assert_eq!(tables.len(), 3, "totals, subs and lines: {md}");
        assert_eq!(tables[0][0], vec!["allocated", "freed", "net growth", "heap peak"]);
        assert_eq!(tables[1][1][0], "sub main::bar");
        assert_eq!(tables[1][1][1], "+110 bytes");
        assert_eq!(tables[2][1], vec!["t.pl:1", "+110 bytes", "110 bytes", "sub bar { my $var = 1; }"]);
    }
}
