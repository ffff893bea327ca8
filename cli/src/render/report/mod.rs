//! `memprof report`: what a person reads in ten seconds, or pastes into a
//! code review.  Sentences in the form "memory went up 53.1 KiB in sub
//! main::foo (12.0 KiB in its own lines, 41.1 KiB in subs it called)", and
//! the lines that made memory go up, with their source.

use super::units::{count, magnitude, signed, size};
use super::words::{frame_phrase, place, retained_moment};
use crate::analysis::{Analysis, LineView, SubView};
use memprof_profile::{FrameKind, Profile, NONE};
use std::collections::HashMap;

mod labels;
mod markdown;
mod text;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
}

/// What the report is organised by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    /// Lines and subs: the usual report.
    Code,
    /// Labels (requests, jobs), each with the lines of what it held.
    Label,
}

impl By {
    pub fn parse(s: &str) -> Result<By, String> {
        match s {
            "code" | "line" | "sub" => Ok(By::Code),
            "label" => Ok(By::Label),
            _ => Err(format!("unknown --by '{s}' for report (expected label, or code for the usual report)")),
        }
    }
}

pub struct ReportOptions {
    pub top: usize,
    pub format: Format,
    pub by: By,
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
    !matches!(kind, FrameKind::Main | FrameKind::Pseudo | FrameKind::Thread)
}

/// One sentence per perl thread: "thread 2 allocated 12.4 MiB, 0 bytes
/// still held" (without site tracking: how much memory went up).
pub fn thread_sentences(p: &Profile) -> Vec<String> {
    p.thread_totals()
        .into_iter()
        .map(|(tid, m)| {
            let who = if tid == 0 { "the main thread".to_string() } else { format!("thread {tid}") };
            let rest = if p.run.site_tracking {
                format!("{} still held", size(m.retained_bytes))
            } else {
                format!("memory {}", movement(m.net_bytes()))
            };
            format!("{who} allocated {}, {rest}", size(m.alloc_bytes))
        })
        .collect()
}

/// The frame that ran a line for most of its bytes, to say where it is.
pub(super) fn owners(p: &Profile) -> HashMap<(u32, u32), (u32, i64)> {
    let mut best: HashMap<(u32, u32), (u32, i64)> = Default::default();
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

pub(super) fn top_subs<'a>(a: &'a Analysis, top: usize) -> Vec<&'a SubView> {
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

pub(super) fn top_lines<'a>(a: &'a Analysis, top: usize) -> Vec<&'a LineView> {
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

pub(super) fn duration(p: &Profile) -> String {
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

/// Render the report.  Both forms answer in the same order: what was
/// held at exit and what made the heap peak (the questions people come
/// with), then what was allocated, and net growth last, since frees land
/// wherever the last reference happens to go.
pub fn render(p: &Profile, opts: &ReportOptions) -> String {
    if opts.by == By::Label {
        let head = match opts.format {
            Format::Text => format!("Memory profile of {} by label\n\n{}", p.run.script, totals_sentence(p)),
            Format::Markdown => format!("### Memory profile of `{}` by label\n\n{}", p.run.script, totals_sentence(p)),
        };
        return format!("{head}\n{}", labels::render(p, opts.top, opts.format));
    }
    let a = Analysis::new(p);
    match opts.format {
        Format::Text => text::render(&a, opts.top),
        Format::Markdown => markdown::render(&a, opts.top),
    }
}

pub(super) fn totals_sentence(p: &Profile) -> String {
    let t = &p.totals;
    let inherited = p.run.inherited_free_bytes();
    if p.run.forked && p.run.site_tracking && inherited > 0 {
        // The child's own growth leaves out what it freed of its parent's
        // memory: that was never allocated in this profile.
        let own = t.net_bytes().saturating_add(i64::try_from(inherited).unwrap_or(i64::MAX));
        return format!(
            "Allocated {} in {} allocations, freed {} in {} (of it freed {} inherited from the parent): memory {} overall, leaving out the inherited frees.",
            size(t.alloc_bytes),
            count(t.alloc_count),
            size(t.free_bytes),
            count(t.free_count),
            size(inherited),
            movement(own)
        );
    }
    format!(
        "Allocated {} in {} allocations, freed {} in {}: memory {} overall.",
        size(t.alloc_bytes),
        count(t.alloc_count),
        size(t.free_bytes),
        count(t.free_count),
        movement(t.net_bytes())
    )
}

/// For a forked child without site tracking: its figures mix its own
/// frees with frees of what it inherited.
pub(super) fn forked_sentence(p: &Profile) -> Option<&'static str> {
    (p.run.forked && !p.run.site_tracking).then_some(
        "This process is a forked child profiled without site tracking (MEMPROF=sites=0), so its frees of memory inherited from the parent cannot be told apart from its own: they are in the figures above.",
    )
}

/// Lines by the bytes they allocated, freed or not.
pub(super) fn top_alloc_lines<'a>(a: &'a Analysis, top: usize) -> Vec<&'a LineView> {
    let p = a.profile;
    let mut lines: Vec<&LineView> = a.lines.iter().filter(|l| l.exclusive.alloc_bytes > 0).collect();
    lines.sort_by(|x, y| {
        y.exclusive
            .alloc_bytes
            .cmp(&x.exclusive.alloc_bytes)
            .then_with(|| (p.file_name(x.file), x.line).cmp(&(p.file_name(y.file), y.line)))
    });
    lines.truncate(top);
    lines
}

/// The name of the frame that ran a line for most of its bytes.
pub(super) fn owner_name<'p>(p: &'p Profile, owners: &HashMap<(u32, u32), (u32, i64)>, l: &LineView) -> &'p str {
    owners.get(&(l.file, l.line)).map_or("", |(f, _)| p.frames[*f as usize].name.as_str())
}

/// Under sampled site tracking: which figures are estimates.
pub(super) fn sampled_sentence(p: &Profile) -> Option<String> {
    (p.run.site_tracking && p.run.sample_bytes > 0).then(|| {
        format!(
            "Held and peak figures are estimates: sites were tracked for a sample of allocations, one per {} allocated on average (MEMPROF=sample={}); what was allocated and freed, and how often, is exact.",
            size(p.run.sample_bytes),
            p.run.sample_bytes
        )
    })
}

/// For a merged profile: which processes it holds.
pub(super) fn merged_sentence(p: &Profile) -> Option<String> {
    let pids = &p.run.merged_pids;
    if pids.len() < 2 {
        return None;
    }
    let list: Vec<String> = pids.iter().map(u32::to_string).collect();
    Some(format!("Merged from {} processes (pids {}): every figure is their sum.", pids.len(), list.join(", ")))
}

/// What a profile without site tracking cannot say.
pub const NO_SITES: &str = "Site tracking was off (MEMPROF=sites=0), so this profile cannot say what was held at exit or at the peak: it leads with what was allocated.";

/// What a line allocated and freed itself, beside its net figure: net
/// growth alone hides that the frees land elsewhere.
pub(super) fn own_frees(m: &memprof_profile::Metrics) -> String {
    format!("allocated {}, freed {} here", size(m.alloc_bytes), size(m.free_bytes))
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
    pub(super) fn bytes(self, m: &memprof_profile::Metrics) -> (u64, u64) {
        match self {
            Held::AtExit => (m.retained_bytes, m.retained_arena_bytes),
            Held::AtPeak => (m.peak_bytes, m.peak_arena_bytes),
        }
    }

    pub(super) fn when(self, p: &Profile) -> String {
        match self {
            Held::AtExit => format!("still held {}", retained_moment(p)),
            Held::AtPeak => "live at the heap's peak".into(),
        }
    }
}

/// "main::load_cache allocated 48.2 MiB that was still held at exit (1.2 MiB of it arena)"
pub fn held_sentence(p: &Profile, s: &SubView, held: Held) -> String {
    let (bytes, arena) = held.bytes(&s.inclusive);
    let name = &p.frames[s.frame as usize].name;
    let mut out = format!("{name} allocated {} that was {}", size(bytes), held.when(p));
    if arena > 0 {
        out.push_str(&format!(" ({} of it arena)", size(arena)));
    }
    out
}

pub(super) fn top_held<'a>(a: &'a Analysis, top: usize, held: Held) -> Vec<&'a SubView> {
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

pub(super) fn top_held_lines<'a>(a: &'a Analysis, top: usize, held: Held) -> Vec<&'a LineView> {
    let mut lines: Vec<&LineView> = a.lines.iter().filter(|l| held.bytes(&l.exclusive).0 > 0).collect();
    lines.sort_by_key(|l| std::cmp::Reverse(held.bytes(&l.exclusive).0));
    lines.truncate(top);
    lines
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
        let r = render(&p, &ReportOptions { top: 5, format: Format::Text, by: By::Code });
        assert!(
            r.contains("Allocated 111 bytes in 3 allocations, freed 0 bytes in 0: memory went up 111 bytes overall.")
        );
        assert!(
            r.contains(
                "+110 bytes  t.pl:1  sub bar { my $var = 1; }  [main::bar]  (allocated 110 bytes, freed 0 bytes here)"
            ),
            "{r}"
        );
        // Without site tracking it says so, and allocations lead.
        let alloc = r.find("Lines that allocated most").unwrap_or(usize::MAX);
        let net = r.find("Where memory went up").unwrap_or(0);
        assert!(r.contains("Site tracking was off") && alloc < net, "{r}");
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
        let md = render(&p, &ReportOptions { top: 5, format: Format::Markdown, by: By::Code });
        let tables = markdown_tables(&md);
        assert_eq!(tables.len(), 4, "totals, allocations, subs and lines: {md}");
        assert_eq!(tables[0][0], vec!["allocated", "freed", "net growth", "heap peak", "still held at exit"]);
        assert_eq!(tables[0][1][4], "(not tracked)");
        assert!(md.contains("Site tracking was off"), "{md}");
        assert_eq!(tables[1][1], vec!["t.pl:1", "110 bytes", "2", "sub bar { my $var = 1; }"]);
        assert_eq!(tables[2][1][0], "sub main::bar");
        assert_eq!(tables[2][1][1], "+110 bytes");
        assert_eq!(tables[3][1], vec!["t.pl:1", "+110 bytes", "110 bytes", "0 bytes", "sub bar { my $var = 1; }"]);
    }
}
