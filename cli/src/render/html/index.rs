//! The index page: the run's facts and totals, the peak, the marks, the
//! flame graphs and the sortable tables of subs, lines and files.

use super::{
    cell, flamegraph, render_template, report, top_rows, units, Cell, Graph, Link, Metric, Report, TableRow, TABLE_KEEP,
};
use memprof_profile::{Metrics, Profile, NONE};
use minijinja::Environment;
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Index<'x> {
    title: String,
    facts: Vec<(&'static str, String)>,
    totals: Vec<(&'static str, String)>,
    peak: Option<Link>,
    /// One line per perl thread, when there are threads.
    threads: Vec<String>,
    timeline: bool,
    marks: Vec<[String; 3]>,
    graphs: Vec<Graph>,
    sub_cols: Vec<String>,
    line_cols: Vec<&'x str>,
    file_cols: Vec<&'x str>,
    subs: Vec<TableRow>,
    subs_total: usize,
    lines: Vec<TableRow>,
    lines_total: usize,
    keep: usize,
    files: Vec<TableRow>,
    sites: bool,
    labels: Vec<LabelRow>,
    /// Whether heap.html was written.
    heap: bool,
}

#[derive(Serialize)]
struct LabelRow {
    name: String,
    runs: String,
    alloc: String,
    alloc_per_run: String,
    held: String,
    held_per_run: String,
    /// The lines that allocated most of what it held (at most three).
    lines: Vec<Link>,
}

impl Report<'_> {
    pub(super) fn index(
        &self,
        env: &Environment,
        graphs: Vec<Graph>,
        has_timeline: bool,
        has_heap: bool,
    ) -> Result<String, String> {
        let p = self.p;
        let names: Vec<&str> = self.metrics.iter().map(|m| m.name()).collect();
        let subs = self.sub_rows();
        let lines = self.line_rows();
        let (subs_total, lines_total) = (subs.len(), lines.len());
        let files = self.file_rows();
        let peak = (p.peak.entry != NONE).then(|| {
            let e = &p.entries[p.peak.entry as usize];
            Link {
                text: crate::render::words::place(p, e.file, e.line),
                href: self.pages.href(e.file, e.line),
                fig: report::peak_sentence(p),
            }
        });
        let marks: Vec<[String; 3]> = p
            .marks
            .iter()
            .map(|m| [format!("{:.3} s", m.time), units::signed(m.live_bytes), m.label.clone()])
            .collect();
        let (facts, totals) = (facts(p), totals(p));
        render_template(
            env,
            "index.html",
            &Index {
                title: format!("Memory profile of {}", flamegraph::script_name(p)),
                facts,
                totals,
                peak,
                threads: report::thread_sentences(p),
                timeline: has_timeline,
                marks,
                graphs,
                sub_cols: names.iter().flat_map(|m| [format!("{m} incl."), format!("{m} excl.")]).collect(),
                line_cols: [&names[..], &["alloc incl.", "net incl."]].concat(),
                file_cols: [&["lines"], &names[..]].concat(),
                subs_total,
                subs: top_rows(subs),
                lines_total,
                lines: top_rows(lines),
                keep: TABLE_KEEP,
                files,
                sites: p.run.site_tracking,
                labels: self.label_rows(),
                heap: has_heap,
            },
        )
    }

    fn label_rows(&self) -> Vec<LabelRow> {
        let p = self.p;
        crate::analysis::labels(p)
            .into_iter()
            .map(|l| LabelRow {
                runs: units::count(l.runs),
                alloc: units::size(l.metrics.alloc_bytes),
                alloc_per_run: units::size(l.per_run(l.metrics.alloc_bytes)),
                held: units::size(l.metrics.retained_bytes),
                held_per_run: units::size(l.per_run(l.metrics.retained_bytes)),
                lines: l
                    .retained_lines
                    .iter()
                    .take(3)
                    .map(|&(file, line, bytes)| Link {
                        text: crate::render::words::place(p, file, line),
                        href: self.pages.href(file, line),
                        fig: units::size(bytes),
                    })
                    .collect(),
                name: l.name,
            })
            .collect()
    }

    /// The figure rows are first listed by: what was held at exit, or
    /// without site tracking what was allocated.
    fn lead(&self, m: &Metrics) -> u64 {
        if self.p.run.site_tracking {
            m.retained_bytes
        } else {
            m.alloc_bytes
        }
    }

    /// Every sub, most held (or allocated) first.
    fn sub_rows(&self) -> Vec<TableRow> {
        let mut subs: Vec<&crate::analysis::SubView> = self.a.subs.iter().collect();
        // The order the report answers in: held at exit, else allocated.
        subs.sort_by_key(|s| std::cmp::Reverse(self.lead(&s.inclusive)));
        let subs: Vec<TableRow> =
            subs.into_iter().map(|s| self.frame_row(s.frame, &s.inclusive, &s.exclusive)).collect();
        subs
    }

    /// Every line that memory was credited to, most held (or allocated) first.
    fn line_rows(&self) -> Vec<TableRow> {
        let p = self.p;
        let mut lines: Vec<_> = self
            .a
            .lines
            .iter()
            .filter(|l| l.exclusive != Metrics::default() || l.inclusive != Metrics::default())
            .collect();
        lines.sort_by_key(|l| std::cmp::Reverse(self.lead(&l.exclusive)));
        let lines: Vec<TableRow> = lines
            .into_iter()
            .map(|l| {
                let mut cells: Vec<Cell> = self.metrics.iter().map(|&m| cell(m, m.of(&l.exclusive))).collect();
                cells.push(cell(Metric::Alloc, l.inclusive.alloc_bytes as i64));
                cells.push(cell(Metric::Net, l.inclusive.net_bytes()));
                TableRow {
                    name: crate::render::words::source_text(p, l.file, l.line, 90),
                    kind: "",
                    href: self.pages.href(l.file, l.line),
                    place: crate::render::words::place(p, l.file, l.line),
                    cells,
                }
            })
            .collect();
        lines
    }

    /// Every file with a page of its own, largest net growth first.
    fn file_rows(&self) -> Vec<TableRow> {
        let p = self.p;
        let mut per_file: HashMap<u32, (usize, Metrics)> = HashMap::new();
        for l in &self.a.lines {
            let e = per_file.entry(l.file).or_default();
            e.0 += 1;
            e.1.add(&l.exclusive);
        }
        let mut files: Vec<TableRow> = per_file
            .into_iter()
            .filter_map(|(f, (n, m))| {
                let href = self.pages.names.get(f as usize)?.clone()?;
                let mut cells = vec![Cell { v: n as i64, s: units::count(n as u64) }];
                cells.extend(self.metrics.iter().map(|&x| cell(x, x.of(&m))));
                Some(TableRow {
                    name: p.file_name(f).to_string(),
                    kind: "",
                    href: Some(href),
                    place: String::new(),
                    cells,
                })
            })
            .collect();
        // Largest net growth first (cells: lines, alloc, net, ...).
        files.sort_by(|x, y| {
            let net = |r: &TableRow| r.cells.get(2).map_or(0, |c| c.v);
            net(y).cmp(&net(x)).then_with(|| x.name.cmp(&y.name))
        });
        files
    }
}

/// The run's facts, as label and text.
fn facts(p: &Profile) -> Vec<(&'static str, String)> {
    let r = &p.run;
    let mut facts = vec![
        ("command", shell_words(&r.command)),
        ("perl", r.perl_version.clone()),
        ("started", utc(r.start_time)),
        ("duration", format!("{:.3} s", (r.end_time - r.start_time).max(0.0))),
        ("pid", format!("{} (parent {})", r.pid, r.ppid)),
        ("directory", r.cwd.clone()),
        (
            "site tracking",
            if r.site_tracking { "on" } else { "off (MEMPROF=sites=0): no retained or peak figures" }.into(),
        ),
        ("written by", r.writer.clone()),
    ];
    if !r.merged_pids.is_empty() {
        let pids: Vec<String> = r.merged_pids.iter().map(u32::to_string).collect();
        facts.push(("merged from pids", pids.join(", ")));
    }
    facts
}

/// The run's totals, as label and text.
fn totals(p: &Profile) -> Vec<(&'static str, String)> {
    let t = &p.totals;
    vec![
        ("allocated", format!("{} in {} allocations", units::size(t.alloc_bytes), units::count(t.alloc_count))),
        ("freed", format!("{} in {} frees", units::size(t.free_bytes), units::count(t.free_count))),
        ("net growth", units::signed(t.net_bytes())),
        ("peak", units::size(p.peak.bytes.max(0) as u64)),
    ]
}

fn shell_words(words: &[String]) -> String {
    let safe = |w: &str| !w.is_empty() && w.chars().all(|c| c.is_ascii_alphanumeric() || "-_./:=+,@%".contains(c));
    let quoted: Vec<String> =
        words.iter().map(|w| if safe(w) { w.clone() } else { format!("'{}'", w.replace('\'', "'\\''")) }).collect();
    quoted.join(" ")
}

/// Unix time as "2026-11-26 06:39:12 UTC" (days to civil date: Howard Hinnant's algorithm).
fn utc(t: f64) -> String {
    let secs = t.max(0.0) as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC", rem / 3600, rem / 60 % 60, rem % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn facts_read_well() {
        assert_eq!(utc(0.0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(1_700_000_000.5), "2023-11-14 22:13:20 UTC");
        let words = ["perl", "-d:MemProf", "my script.pl", "it's"].map(String::from);
        assert_eq!(shell_words(&words), "perl -d:MemProf 'my script.pl' 'it'\\''s'");
    }
}
