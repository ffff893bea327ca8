//! The source pages of `memprof html`: every line of a file or string eval
//! with its figures beside it, heat by metric, and on the lines where subs
//! are defined and called, who called what and what it cost.

use super::{fig, net_alloc, render_template, top_links, weight, Link, Report, MAX_SOURCE};
use crate::render::{words, Metric};
use memprof_profile::{Metrics, Profile};
use minijinja::Environment;
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// Rows per lazily laid-out block of a source page (CSS content-visibility).
const CHUNK: usize = 250;

/// What ran where, each stack counted once however it recursed: what each
/// call site called, who called each frame from where, and what each frame
/// called.
#[derive(Default)]
pub(super) struct Calls {
    at_site: HashMap<(u32, u32), Vec<(u32, Metrics)>>,
    callers: HashMap<u32, Vec<(u32, u32, u32, Metrics)>>,
    callees: HashMap<u32, Vec<(u32, Metrics)>>,
}

impl Calls {
    pub(super) fn new(p: &Profile) -> Calls {
        // (file, line, callee) -> (last entry counted, caller, figures)
        let mut sites: HashMap<(u32, u32, u32), (usize, u32, Metrics)> = HashMap::new();
        let mut pairs: HashMap<(u32, u32), (usize, Metrics)> = HashMap::new();
        for (i, e) in p.entries.iter().enumerate() {
            let steps = p.path(e);
            for w in steps.windows(2) {
                let (from, to) = (w[0], w[1]);
                let site = sites.entry((from.file, from.line, to.frame)).or_insert((
                    usize::MAX,
                    from.frame,
                    Metrics::default(),
                ));
                if site.0 != i {
                    site.0 = i;
                    site.2.add(&e.metrics);
                }
                let pair = pairs.entry((from.frame, to.frame)).or_insert((usize::MAX, Metrics::default()));
                if pair.0 != i {
                    pair.0 = i;
                    pair.1.add(&e.metrics);
                }
            }
        }
        let mut c = Calls::default();
        for ((file, line, callee), (_, caller, m)) in sites {
            c.at_site.entry((file, line)).or_default().push((callee, m));
            c.callers.entry(callee).or_default().push((file, line, caller, m));
        }
        for ((caller, callee), (_, m)) in pairs {
            c.callees.entry(caller).or_default().push((callee, m));
        }
        c
    }
}

#[derive(Serialize)]
struct SubNote {
    name: String,
    figs: String,
    callers: Vec<Link>,
    callers_more: usize,
    callees: Vec<Link>,
    callees_more: usize,
}

#[derive(Serialize)]
struct Row {
    n: u32,
    /// Heat classes: a letter per metric and a level from 1 to 9.
    heat: String,
    /// The figures, each right-aligned in a fixed width: one text node
    /// rather than a cell each keeps a 20,000-line page quick to parse.
    figs: String,
    src: String,
    subs: Vec<SubNote>,
    calls: Vec<Link>,
    calls_more: usize,
}

#[derive(Serialize)]
struct Chunk {
    height: usize,
    rows: Vec<Row>,
}

/// The lines of a file (its saved source, else the file on disk), where
/// they came from, and a warning if they no longer match the profile.
fn source_lines(p: &Profile, file: u32) -> (Vec<String>, String, Option<String>) {
    let f = &p.files[file as usize];
    if let Some(src) = &f.source {
        let lines = src.lines().map(String::from).collect();
        return (lines, "Source saved in the profile.".into(), None);
    }
    let name = Path::new(&f.name);
    let path: PathBuf = if name.is_relative() { Path::new(&p.run.cwd).join(name) } else { name.into() };
    let bytes = std::fs::metadata(&path)
        .ok()
        .filter(|m| m.is_file() && m.len() <= MAX_SOURCE)
        .and_then(|_| std::fs::read(&path).ok());
    let Some(bytes) = bytes else {
        let origin = format!(
            "{} could not be read: only the {} lines saved in the profile are shown.",
            path.display(),
            f.lines.len()
        );
        return (Vec::new(), origin, None);
    };
    let lines: Vec<String> = String::from_utf8_lossy(&bytes).lines().map(String::from).collect();
    let changed =
        f.lines.iter().any(|(n, text)| n.checked_sub(1).and_then(|i| lines.get(i as usize)).is_some_and(|l| l != text));
    let warning = changed.then(|| {
        "This file has changed since the profile was written: figures may sit beside the wrong lines.".to_string()
    });
    (lines, format!("Read from {}.", path.display()), warning)
}

/// The heat class of a metric (report.css shades by it): "a3".
fn heat_class(m: Metric, v: i64, max: f64) -> String {
    let letter = match m {
        Metric::Net => 'n',
        Metric::Alloc => 'a',
        Metric::Retained => 'r',
        Metric::Peak => 'p',
    };
    // A square-root scale, so that lines a hundred times smaller still show.
    let level = (9.0 * (v as f64 / max).sqrt()).ceil().clamp(1.0, 9.0);
    format!("{letter}{level} ")
}

/// Width of a figure column on a source page, in characters.
const FIG_WIDTH: usize = 13;

fn pad(text: &str) -> String {
    format!("{text:>w$}", w = FIG_WIDTH)
}

impl Report<'_> {
    fn sub_note(&self, frame: u32) -> SubNote {
        let p = self.p;
        let name = &p.frames[frame as usize].name;
        let figs = match self.a.subs.iter().find(|s| s.frame == frame) {
            Some(s) => {
                format!("everything inside it: {}; its own lines: {}", net_alloc(&s.inclusive), net_alloc(&s.exclusive))
            }
            None => "no memory was credited to it".into(),
        };
        let callers = self.calls.callers.get(&frame).map_or(Vec::new(), |v| {
            v.iter()
                .map(|(file, line, caller, m)| {
                    let link = Link {
                        text: format!("{} at {}", p.frames[*caller as usize].name, words::place(p, *file, *line)),
                        href: self.pages.href(*file, *line),
                        fig: net_alloc(m),
                    };
                    (weight(m), link)
                })
                .collect()
        });
        let callees = self
            .calls
            .callees
            .get(&frame)
            .map_or(Vec::new(), |v| v.iter().map(|(callee, m)| self.frame_link(*callee, m)).collect());
        let (callers, callers_more) = top_links(callers);
        let (callees, callees_more) = top_links(callees);
        SubNote {
            name: words::frame_phrase(p.frames[frame as usize].kind, name),
            figs,
            callers,
            callers_more,
            callees,
            callees_more,
        }
    }

    fn frame_link(&self, frame: u32, m: &Metrics) -> (i64, Link) {
        let link = Link {
            text: self.p.frames[frame as usize].name.clone(),
            href: self.pages.frame_href(frame),
            fig: net_alloc(m),
        };
        (weight(m), link)
    }

    /// A line's figures (its own, and the inclusive ones where they say
    /// more) and its heat classes.
    fn line_figures(&self, ex: &Metrics, inc: &Metrics, tops: &[(Metric, f64)], freed_top: f64) -> (String, String) {
        let mut figs: String = self.metrics.iter().map(|&m| pad(&fig(m, m.of(ex)))).collect();
        // The inclusive figures only where they say more than the line's own.
        if inc != ex {
            figs.push_str(&pad(&fig(Metric::Alloc, inc.alloc_bytes as i64)));
            figs.push_str(&pad(&fig(Metric::Net, inc.net_bytes())));
        } else {
            figs.push_str(&pad(""));
            figs.push_str(&pad(""));
        }
        let mut heat = String::new();
        for &(m, max) in tops {
            let v = m.of(ex);
            if v > 0 {
                heat.push_str(&heat_class(m, v, max));
            }
        }
        if ex.net_bytes() < 0 {
            heat.push_str(&heat_class(Metric::Net, -ex.net_bytes(), freed_top).replacen('n', "f", 1));
        }
        (figs, heat)
    }

    /// A page with every line of a file, its figures beside it.
    pub(super) fn source_page(&self, env: &Environment, file: u32, wanted: &BTreeSet<u32>) -> Result<String, String> {
        let p = self.p;
        let (text, origin, warning) = source_lines(p, file);
        let saved = &p.files[file as usize];
        let mut numbers = wanted.clone();
        numbers.extend(1..=text.len() as u32);
        let views: HashMap<u32, &crate::analysis::LineView> =
            self.a.lines.iter().filter(|l| l.file == file).map(|l| (l.line, l)).collect();
        let mut defs: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, &(f, line)) in self.pages.places.iter().enumerate() {
            if f == file {
                defs.entry(line).or_default().push(i as u32);
            }
        }
        // Heat is relative to the hottest line of this file, on a square-root
        // scale so that lines a hundred times smaller still show.
        let top =
            |m: Metric, sign: i64| views.values().map(|l| m.of(&l.exclusive) * sign).max().unwrap_or(0).max(1) as f64;
        let tops: Vec<(Metric, f64)> = self.metrics.iter().map(|&m| (m, top(m, 1))).collect();
        let freed_top = top(Metric::Net, -1);
        let mut rows = Vec::new();
        for n in numbers {
            let (ex, inc) =
                views.get(&n).map_or((Metrics::default(), Metrics::default()), |l| (l.exclusive, l.inclusive));
            let (mut figs, heat) = self.line_figures(&ex, &inc, &tops, freed_top);
            let src = match n {
                0 => String::new(),
                n => text
                    .get(n as usize - 1)
                    .map(String::as_str)
                    .or_else(|| saved.line_text(n))
                    .unwrap_or("")
                    .to_string(),
            };
            let subs: Vec<SubNote> =
                defs.get(&n).map_or(Vec::new(), |fs| fs.iter().map(|&f| self.sub_note(f)).collect());
            // What a one-line sub calls is already in its note.
            let listed = |l: &Link| subs.iter().any(|s| s.callees.iter().any(|c| c.text == l.text));
            let calls = self.calls.at_site.get(&(file, n)).map_or(Vec::new(), |v| {
                v.iter().map(|(callee, m)| self.frame_link(*callee, m)).filter(|(_, l)| !listed(l)).collect()
            });
            let (calls, calls_more) = top_links(calls);
            // The column has a fixed width (report.css), so blanks at the end can go.
            figs.truncate(figs.trim_end().len());
            rows.push(Row { n, heat, figs, src, subs, calls, calls_more });
        }
        let chunks = chunks(rows);
        let mut cols: String = self
            .metrics
            .iter()
            .map(|m| match m {
                Metric::Peak => pad("at peak"),
                m => pad(m.name()),
            })
            .collect();
        cols.push_str(&pad("incl. alloc"));
        cols.push_str(&pad("incl. net"));
        #[derive(Serialize)]
        struct Source<'x> {
            title: String,
            name: &'x str,
            origin: String,
            warning: Option<String>,
            metrics: Vec<&'static str>,
            cols: String,
            width: usize,
            chunks: Vec<Chunk>,
        }
        render_template(
            env,
            "source.html",
            &Source {
                title: format!("{} (memprof)", saved.name),
                name: &saved.name,
                origin,
                warning,
                metrics: self.metrics.iter().map(|m| m.name()).collect(),
                width: cols.len(),
                cols,
                chunks,
            },
        )
    }
}

/// The rows in blocks of CHUNK, each with the height it will take, so
/// that the browser can skip laying out blocks out of view.
fn chunks(mut rows: Vec<Row>) -> Vec<Chunk> {
    let mut chunks = Vec::new();
    while !rows.is_empty() {
        let rest = rows.split_off(rows.len().min(CHUNK));
        let notes_here: usize = rows.iter().map(|r| r.subs.len() * 3 + usize::from(!r.calls.is_empty())).sum();
        chunks.push(Chunk { height: rows.len() * 18 + notes_here * 18, rows });
        rows = rest;
    }
    chunks
}
