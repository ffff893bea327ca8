//! `memprof html`: a static report to browse, in the manner of nytprofhtml.
//!
//! DIR gets `index.html` (the run, the totals, the heap timeline, sortable
//! tables of subs, lines and files, and a flame graph per metric), one page
//! per source file or string eval with every line annotated, and the assets
//! beside them.  Pages link to each other by relative names and fetch
//! nothing, so the report works from file:// with no server and no network.
//!
//! Pages come from minijinja templates (`html/*.html`) with HTML
//! auto-escaping (through v_htmlescape): every name, path and source line
//! reaches the browser as text.  The flame graphs are inferno's SVGs with
//! their own script, shown in iframes so that each keeps its document (their
//! element ids and globals would collide on one page); the timeline is an
//! `<img>`, where no script can run.  Everything is rendered in memory
//! before DIR is touched, so a failure leaves DIR as it was.

use super::{flamegraph, folded, report, timeline, units, Metric};
use crate::analysis::Analysis;
use memprof_profile::{FrameKind, Metrics, Profile, NONE};
use minijinja::{value::Serde, Environment, UndefinedBehavior};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::fmt::Write as _;
use std::path::Path;

mod heap;
mod index;
mod source;
use source::Calls;

const BASE: &str = include_str!("html/base.html");
const INDEX: &str = include_str!("html/index.html");
const SOURCE: &str = include_str!("html/source.html");
const HEAP: &str = include_str!("html/heap.html");
const HEAP_JS: &str = include_str!("html/heap.js");
const CSS: &str = include_str!("html/report.css");
const JS: &str = include_str!("html/report.js");
/// Added to each flame graph: double-click opens a frame's source line, and
/// the report page's search box reaches the graph.
const FLAME_JS: &str = include_str!("html/flame.js");

/// Source files larger than this are not read (a `#line` can name anything).
const MAX_SOURCE: u64 = 64 << 20;
/// The index lists the subs and lines among the first this many by some
/// column (either way for net), so that any sort shows the true top rows
/// while the page stays small however big the program.
const TABLE_KEEP: usize = 250;
/// Callers, callees and calls listed in one note before "and N more".
const NOTE_LIMIT: usize = 10;

/// A figure for a table cell: the value to sort by and the text to show.
#[derive(Serialize)]
struct Cell {
    v: i64,
    s: String,
}

/// A link with a figure beside it, in the notes of a source page.
#[derive(Serialize)]
struct Link {
    text: String,
    href: Option<String>,
    fig: String,
}

#[derive(Serialize)]
struct TableRow {
    name: String,
    kind: &'static str,
    href: Option<String>,
    place: String,
    cells: Vec<Cell>,
}

#[derive(Serialize)]
struct Graph {
    metric: &'static str,
    file: String,
    height: u32,
}

/// The metrics this profile can answer, in the order columns show them.
fn metrics(p: &Profile) -> Vec<Metric> {
    let mut m = vec![Metric::Alloc, Metric::Net];
    if p.run.site_tracking {
        m.extend([Metric::Retained, Metric::Peak]);
    }
    m
}

fn fig(m: Metric, v: i64) -> String {
    match (m, v) {
        (_, 0) => String::new(),
        (Metric::Net, v) => units::signed(v),
        (_, v) => units::size(v.max(0) as u64),
    }
}

fn cell(m: Metric, v: i64) -> Cell {
    let s = if v == 0 { "0".into() } else { fig(m, v) };
    Cell { v, s }
}

/// "net +1.2 MiB, alloc 3.4 MiB"
fn net_alloc(m: &Metrics) -> String {
    format!("net {}, alloc {}", units::signed(m.net_bytes()), units::size(m.alloc_bytes))
}

/// Page names are ASCII and predictable: `f12-Class.pm.html`.
fn page_name(index: usize, name: &str) -> String {
    let base = name.rsplit('/').next().unwrap_or(name);
    let slug: String = base
        .chars()
        .filter(|c| !c.is_control())
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' => c,
            _ => '_',
        })
        .take(40)
        .collect();
    format!("f{index}-{slug}.html")
}

/// Where each file's page is, and where each frame is defined.
struct Pages {
    names: Vec<Option<String>>,
    places: Vec<(u32, u32)>,
}

impl Pages {
    fn href(&self, file: u32, line: u32) -> Option<String> {
        let page = self.names.get(file as usize)?.as_ref()?;
        Some(format!("{page}#L{line}"))
    }

    fn frame_href(&self, frame: u32) -> Option<String> {
        let (file, line) = self.places[frame as usize];
        self.href(file, line)
    }
}

/// The rows among the first [`TABLE_KEEP`] by some column, in their order.
fn top_rows(rows: Vec<TableRow>) -> Vec<TableRow> {
    let columns = rows.first().map_or(0, |r| r.cells.len());
    let mut keep = vec![false; rows.len()];
    let mut order: Vec<usize> = (0..rows.len()).collect();
    for c in 0..columns {
        let value = |i: usize| rows[i].cells[c].v;
        order.sort_by_key(|&i| std::cmp::Reverse(value(i)));
        let negative = order.iter().rev().take_while(|&&i| value(i) < 0).take(TABLE_KEEP);
        for &i in order.iter().take(TABLE_KEEP).chain(negative) {
            keep[i] = true;
        }
    }
    rows.into_iter().zip(keep).filter_map(|(r, k)| k.then_some(r)).collect()
}

/// Sort links by weight, keep the first few, and say how many were left.
fn top_links(mut items: Vec<(i64, Link)>) -> (Vec<Link>, usize) {
    items.sort_by(|(w, a), (v, b)| v.cmp(w).then_with(|| a.text.cmp(&b.text)));
    let more = items.len().saturating_sub(NOTE_LIMIT);
    (items.into_iter().take(NOTE_LIMIT).map(|(_, l)| l).collect(), more)
}

fn weight(m: &Metrics) -> i64 {
    m.net_bytes().abs().max(m.alloc_bytes as i64)
}

/// Everything the pages are made from.
struct Report<'a> {
    p: &'a Profile,
    a: Analysis<'a>,
    calls: Calls,
    pages: Pages,
    metrics: Vec<Metric>,
}

/// Write the report into `dir`; returns the number of source pages.
pub fn write(p: &Profile, dir: &Path) -> Result<usize, String> {
    let files = render(p)?;
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for (name, text) in &files {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    Ok(files.iter().filter(|(n, _)| n.starts_with('f') && n.ends_with(".html")).count())
}

/// Where each frame is defined.  A loaded file's frame (`Moose.pm`) has no
/// place of its own: it is where the file's compilation is.
fn frame_places(p: &Profile) -> Vec<(u32, u32)> {
    let compiled: HashMap<&str, u32> = p
        .frames
        .iter()
        .filter(|f| f.kind == FrameKind::Compile && f.file != NONE)
        .filter_map(|f| Some((f.name.strip_prefix("compile ")?, f.file)))
        .collect();
    p.frames
        .iter()
        .map(|f| match (f.kind, compiled.get(f.name.as_str())) {
            (FrameKind::Require, Some(&file)) if f.file == NONE => (file, 0),
            _ => (f.file, f.line),
        })
        .collect()
}

/// The report's files, by name, rendered in memory.
pub fn render(p: &Profile) -> Result<Vec<(String, String)>, String> {
    let a = Analysis::new(p);
    // Every place a link can point at: lines with figures or on a stack, and
    // where frames are defined.  Pseudo-locations have no page.
    let mut wanted: Vec<BTreeSet<u32>> = vec![BTreeSet::new(); p.files.len()];
    for l in a.lines.iter().filter(|l| l.file != NONE) {
        wanted[l.file as usize].insert(l.line);
    }
    let places = frame_places(p);
    for &(file, line) in places.iter().filter(|(file, _)| *file != NONE) {
        wanted[file as usize].insert(line);
    }
    for f in p.frames.iter().filter(|f| f.kind == FrameKind::Pseudo) {
        if let Some(w) = wanted.get_mut(f.file as usize) {
            w.clear();
        }
    }
    let names = (0..p.files.len()).map(|i| (!wanted[i].is_empty()).then(|| page_name(i, &p.files[i].name))).collect();
    let r = Report { p, calls: Calls::new(p), a, pages: Pages { names, places }, metrics: metrics(p) };
    let env = environment()?;
    let mut out = vec![("report.css".to_string(), CSS.to_string()), ("report.js".to_string(), JS.to_string())];
    let mut graphs = Vec::new();
    for m in [Metric::Net, Metric::Alloc, Metric::Retained, Metric::Peak] {
        if !r.metrics.contains(&m) {
            continue;
        }
        let svg = r.flame(m)?;
        let file = format!("flame-{}.svg", m.name());
        graphs.push(Graph { metric: m.name(), file: file.clone(), height: svg_height(&svg) });
        out.push((file, svg));
    }
    let has_timeline = !p.timeline.is_empty();
    if has_timeline {
        out.push(("timeline.svg".into(), timeline::render(p, None)?));
    }
    // The last snapshot's page, "What holds the memory".
    let snapshot = p.snapshots.last();
    if let Some(s) = snapshot {
        let data = serde_json::to_string(&heap::data(p, s)).map_err(|e| format!("heap data: {e}"))?;
        out.push(("heap-data.js".into(), format!("window.memprofHeap = {data};\n")));
        out.push(("heap.js".into(), HEAP_JS.to_string()));
        let page = heap::page(p, s, flamegraph::script_name(p));
        out.push(("heap.html".into(), render_template(&env, "heap.html", &page)?));
    }
    out.push(("index.html".into(), r.index(&env, graphs, has_timeline, snapshot.is_some())?));
    for (i, w) in wanted.iter().enumerate() {
        if let Some(name) = &r.pages.names[i] {
            out.push((name.clone(), r.source_page(&env, i as u32, w)?));
        }
    }
    Ok(out)
}

fn environment() -> Result<Environment<'static>, String> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    for (name, text) in [("base.html", BASE), ("index.html", INDEX), ("source.html", SOURCE), ("heap.html", HEAP)] {
        env.add_template(name, text).map_err(|e| format!("template {name}: {e}"))?;
    }
    Ok(env)
}

fn render_template<T: Serialize>(env: &Environment, name: &str, ctx: &T) -> Result<String, String> {
    env.get_template(name).and_then(|t| t.render(Serde(ctx))).map_err(|e| format!("rendering {name}: {e:#}"))
}

/// The height inferno gave its SVG, for the iframe that shows it.
fn svg_height(svg: &str) -> u32 {
    svg.find("<svg ")
        .and_then(|i| svg[i..].find(" height=\"").map(|j| i + j + 9))
        .and_then(|s| svg[s..].split('"').next()?.parse().ok())
        .unwrap_or(600)
}

/// "perl -d:MemProf 'my script.pl'": the command as a shell would take it.
impl Report<'_> {
    /// The flame graph of a metric, statements as leaves, each frame
    /// carrying the page and line it opens on a double-click.
    fn flame(&self, m: Metric) -> Result<String, String> {
        let p = self.p;
        let (stacks, negative) = folded::stacks(p, m, true);
        let title = format!("{}: {} by stack", flamegraph::script_name(p), m.name());
        if stacks.is_empty() {
            return Ok(flamegraph::empty_svg(
                &title,
                &format!("Nothing to draw: no stack has a positive {} figure.", m.name()),
            ));
        }
        let total: i64 = stacks.values().sum();
        let mut subtitle = flamegraph::subtitle(total, negative);
        subtitle.push_str(". Click to zoom, double-click to open the source.");
        // inferno's name-attribute file: "name<TAB>g_extra=data-href=...".
        let clean = |s: &str| s.replace(';', ",");
        let mut attrs: HashMap<String, String> = HashMap::new();
        for (i, f) in p.frames.iter().enumerate() {
            if let Some(h) = self.pages.frame_href(i as u32) {
                attrs.insert(clean(&f.name), h);
            }
        }
        for l in &self.a.lines {
            if let Some(h) = self.pages.href(l.file, l.line) {
                attrs.insert(clean(&format!("{}:{}", p.file_name(l.file), l.line)), h);
            }
        }
        let mut spec = String::new();
        for (name, href) in attrs {
            if !name.contains(['\t', '\n', '\r']) && name.trim() == name {
                let _ = writeln!(spec, "{name}\tg_extra=data-href=\"{href}\"");
            }
        }
        let mut opts = flamegraph::options(title, Some(subtitle));
        opts.func_frameattrs = inferno::flamegraph::FuncFrameAttrsMap::from_reader(spec.as_bytes())
            .map_err(|e| format!("flame graph links: {e}"))?;
        let text: Vec<String> = stacks.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let svg = flamegraph::draw(&mut opts, text.iter().map(String::as_str))?;
        let at = svg.rfind("</svg>").ok_or("inferno drew no </svg>")?;
        Ok(format!("{}<script type=\"text/ecmascript\"><![CDATA[\n{FLAME_JS}]]></script>\n{}", &svg[..at], &svg[at..]))
    }

    fn frame_row(&self, frame: u32, inclusive: &Metrics, exclusive: &Metrics) -> TableRow {
        let p = self.p;
        let f = &p.frames[frame as usize];
        let mut cells = Vec::new();
        for &m in &self.metrics {
            cells.push(cell(m, m.of(inclusive)));
            cells.push(cell(m, m.of(exclusive)));
        }
        TableRow {
            name: f.name.clone(),
            kind: f.kind.name(),
            href: self.pages.frame_href(frame),
            place: match self.pages.places[frame as usize] {
                (NONE, _) => String::new(),
                (file, line) => crate::render::words::place(p, file, line),
            },
            cells,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    const PAYLOAD: &str = "</script><img src=x onerror=alert(1)>";

    #[test]
    fn names_and_source_reach_the_page_as_text() {
        let mut p = recursive_profile();
        p.files[0].source = Some(format!("sub bar {{ my $var = 1; }}\nbar(); # {PAYLOAD}\n\n\nbar(1);\n"));
        p.frames[1].name = format!("main::{PAYLOAD}");
        let files = render(&p).unwrap();
        let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
        assert!(names.contains(&"index.html") && names.contains(&"f0-t.pl.html"), "{names:?}");
        for (name, text) in files.iter().filter(|(n, _)| n.ends_with(".html")) {
            assert!(!text.contains("<img"), "{name} has the payload as markup");
            assert!(text.contains("&lt;img src=x onerror=alert(1)&gt;"), "{name} lacks the escaped payload");
        }
        let page = &files.iter().find(|(n, _)| n == "f0-t.pl.html").unwrap().1;
        for line in 1..=5 {
            assert!(page.contains(&format!("id=\"L{line}\"")), "no row for line {line}");
        }
        // The sub's note at its first line links to the line that called it.
        assert!(page.contains("href=\"f0-t.pl.html#L5\""), "{page}");
        let flame = &files.iter().find(|(n, _)| n == "flame-alloc.svg").unwrap().1;
        assert!(flame.contains("data-href=\"f0-t.pl.html#L1\""), "frames link to their source");
    }

    #[test]
    fn graph_heights_are_read_from_the_svg() {
        assert_eq!(svg_height("<?xml?><svg version=\"1.1\" width=\"1200\" height=\"342\">"), 342);
    }

    #[test]
    fn page_names_are_plain() {
        assert_eq!(page_name(3, "/usr/lib/perl5/Moose.pm"), "f3-Moose.pm.html");
        assert_eq!(page_name(7, "(eval 5)[t.pl:3]"), "f7-_eval_5__t.pl_3_.html");
        assert_eq!(page_name(1, "x<img \"y\">.pl"), "f1-x_img__y__.pl.html");
    }

    #[test]
    fn tables_keep_the_top_of_every_column() {
        let row = |a: i64, b: i64| TableRow {
            name: format!("{a},{b}"),
            kind: "",
            href: None,
            place: String::new(),
            cells: vec![Cell { v: a, s: String::new() }, Cell { v: b, s: String::new() }],
        };
        let mut rows: Vec<TableRow> = (0..1000).map(|i| row(i, 0)).collect();
        rows.push(row(-5, 7));
        let kept = top_rows(rows);
        assert_eq!(kept.len(), TABLE_KEEP + 1);
        assert!(kept.iter().any(|r| r.name == "999,0"));
        assert!(kept.iter().any(|r| r.name == "-5,7"), "the most negative and the top of column two");
    }
}
