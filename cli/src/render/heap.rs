//! `memprof heap`: a heap snapshot as the largest data paths (an indented
//! tree with bytes, arena part, SV count and the lines that allocated
//! them), then the census by type and class, then what nothing reached;
//! `--by line` turns it round: for each allocating line, the paths that
//! hold its bytes.  Also the snapshots' part of the JSON document and the
//! folded ownership stacks (`memprof folded --heap`).

use super::units::{count, size};
use memprof_profile::heap::{join_steps, Snapshot};
use memprof_profile::{Profile, NONE};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Path,
    Type,
    Class,
    Line,
}

impl By {
    pub fn parse(name: &str) -> Result<By, String> {
        match name {
            "path" => Ok(By::Path),
            "type" => Ok(By::Type),
            "class" => Ok(By::Class),
            "line" => Ok(By::Line),
            _ => Err(format!("unknown --by '{name}' (use path, type, class or line)")),
        }
    }
}

pub struct HeapOptions {
    pub snapshot: Option<String>,
    pub depth: usize,
    pub by: By,
    pub top: usize,
}

/// The snapshot a label names (the last one of that label), or the last.
pub fn choose<'a>(p: &'a Profile, label: Option<&str>) -> Result<&'a Snapshot, String> {
    if p.snapshots.is_empty() {
        return Err("the profile has no heap snapshot (take one with Devel::MemProf::snapshot(\"label\") or MEMPROF=snapshot=end)".into());
    }
    match label {
        None => Ok(&p.snapshots[p.snapshots.len() - 1]),
        Some(l) => p.snapshots.iter().rev().find(|s| s.label == l).ok_or_else(|| {
            let labels: Vec<&str> = p.snapshots.iter().map(|s| s.label.as_str()).collect();
            format!("no snapshot labelled '{l}' (the profile has: {})", labels.join(", "))
        }),
    }
}

/// "demo.pl:31 in main::remember_users", or why there is no line.
pub fn entry_place(p: &Profile, entry: u32) -> String {
    if entry == memprof_profile::heap::NO_BLOCK {
        return "(no buffer of their own)".into();
    }
    if entry == NONE || entry as usize >= p.entries.len() {
        return "(before profiling started)".into();
    }
    let e = &p.entries[entry as usize];
    let steps = p.path(e);
    let sub = steps.last().map_or("", |s| p.frames[s.frame as usize].name.as_str());
    let file = p.file_name(e.file);
    if e.line == 0 {
        format!("{file} in {sub}")
    } else {
        format!("{file}:{} in {sub}", e.line)
    }
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{} {}", count(n), if n == 1 { one } else { many })
}

pub fn render(p: &Profile, o: &HeapOptions) -> Result<String, String> {
    let s = choose(p, o.snapshot.as_deref())?;
    let mut out = String::new();
    if let Some(line) = s.ledger.as_ref().and_then(super::ledger::sentence) {
        let _ = writeln!(out, "{line}");
    }
    let t = &s.totals;
    let _ = writeln!(
        out,
        "Heap snapshot \"{}\" at {:.2} s: {} in {}, of it {} in perl's arenas.",
        s.label,
        s.time,
        size(t.reached_bytes + t.reached_arena_bytes + t.unreachable_bytes + t.unreachable_arena_bytes),
        plural(t.sv_count, "SV", "SVs"),
        size(t.reached_arena_bytes + t.unreachable_arena_bytes),
    );
    let _ = writeln!(
        out,
        "The live heap, {}: {} owned by reached SVs, {} by unreachable ones, {} of arena and stack blocks, {} that no SV owns.",
        size(t.heap_bytes),
        size(t.reached_bytes),
        size(t.unreachable_bytes),
        size(t.arena_blocks_bytes),
        super::units::signed(t.other_bytes).trim_start_matches('+'),
    );
    let _ = writeln!(
        out,
        "Taking it took {:.2} s, and {} of memory of its own ({:.1}% of the live heap).",
        t.walk_seconds,
        size(t.walker_bytes),
        if t.heap_bytes > 0 { 100.0 * t.walker_bytes as f64 / t.heap_bytes as f64 } else { 0.0 }
    );
    if let Some(l) = &s.ledger {
        out.push('\n');
        super::ledger::table(&mut out, l);
    }
    out.push('\n');
    match o.by {
        By::Path => {
            paths(&mut out, p, s, o);
            out.push('\n');
            census(&mut out, "By type", &s.types, o.top);
            if !s.classes.is_empty() {
                out.push('\n');
                census(&mut out, "By class", &s.classes, o.top);
            }
            out.push('\n');
            unreachable(&mut out, p, s, o.top);
        }
        By::Type => census(&mut out, "By type", &s.types, usize::MAX),
        By::Class => census(&mut out, "By class", &s.classes, usize::MAX),
        By::Line => by_line(&mut out, p, s, o.top),
    }
    Ok(out)
}

fn paths(out: &mut String, p: &Profile, s: &Snapshot, o: &HeapOptions) {
    let _ = writeln!(out, "Largest paths (bytes with the arena part, SVs, and the lines that allocated the bytes):");
    let mut depth = vec![0usize; s.paths.len()];
    let mut shown_roots = 0;
    let mut skip_under = NONE;
    for i in memprof_profile::heap::tree_order(&s.paths) {
        let path = &s.paths[i as usize];
        let d = if path.parent == NONE { 0 } else { depth[path.parent as usize] + 1 };
        depth[i as usize] = d;
        if path.parent == NONE {
            shown_roots += 1;
            skip_under = NONE;
            if shown_roots > o.top {
                break;
            }
        }
        if skip_under != NONE && d > depth[skip_under as usize] {
            continue;
        }
        skip_under = NONE;
        if d >= o.depth {
            skip_under = path.parent;
            continue;
        }
        let indent = "  ".repeat(d + 1);
        let name = &path.name;
        let _ = writeln!(
            out,
            "{indent}{name}: {} ({} arena) in {}{}",
            size(path.bytes + path.arena_bytes),
            size(path.arena_bytes),
            plural(path.sv_count, "SV", "SVs"),
            if path.shared > 0 { format!(", {} also held elsewhere", count(path.shared)) } else { String::new() }
        );
        for (place, bytes) in places(p, &path.lines).into_iter().take(3) {
            let _ = writeln!(out, "{indent}    {} allocated at {place}", size(bytes));
        }
    }
}

/// Lines by place (file, line and sub): stacks that differ only further
/// out are one line here.  Largest first.
fn places(p: &Profile, lines: &[(u32, u64)]) -> Vec<(String, u64)> {
    let mut by: Vec<(String, u64)> = Vec::new();
    for &(entry, bytes) in lines {
        let place = entry_place(p, entry);
        match by.iter_mut().find(|(k, _)| *k == place) {
            Some(slot) => slot.1 += bytes,
            None => by.push((place, bytes)),
        }
    }
    by.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    by
}

fn census(out: &mut String, title: &str, rows: &[memprof_profile::heap::HeapCount], top: usize) {
    let _ = writeln!(out, "{title}:");
    for c in rows.iter().take(top) {
        let _ = write!(
            out,
            "  {}: {} in {} ({} arena)",
            c.name,
            size(c.bytes + c.arena_bytes),
            plural(c.count, "SV", "SVs"),
            size(c.arena_bytes)
        );
        if c.unreachable_count > 0 {
            let _ = write!(out, ", {} unreachable", count(c.unreachable_count));
        }
        out.push('\n');
    }
}

fn unreachable(out: &mut String, p: &Profile, s: &Snapshot, top: usize) {
    if s.unreachable.is_empty() {
        let _ = writeln!(out, "Unreachable: none (every live SV was reached from a root).");
        return;
    }
    let _ = writeln!(
        out,
        "Unreachable (live SVs nothing reached: reference cycles, leaked reference counts): {} in {}:",
        size(s.totals.unreachable_bytes + s.totals.unreachable_arena_bytes),
        plural(s.totals.unreachable_svs, "SV", "SVs")
    );
    for u in s.unreachable.iter().take(top) {
        let _ = writeln!(
            out,
            "  (unreachable) {}: {} in {}, allocated at {}",
            u.kind,
            size(u.bytes + u.arena_bytes),
            plural(u.count, "SV", "SVs"),
            entry_place(p, u.entry)
        );
    }
}

fn by_line(out: &mut String, p: &Profile, s: &Snapshot, top: usize) {
    type Holders = (u64, Vec<(u32, u64)>);
    let mut lines: HashMap<u32, Holders> = HashMap::new();
    for i in 0..s.paths.len() as u32 {
        if s.paths[i as usize].summary {
            continue;
        }
        for (entry, bytes) in s.own_lines(i) {
            let l = lines.entry(entry).or_default();
            l.0 += bytes;
            l.1.push((i, bytes));
        }
    }
    let mut rows: Vec<(u32, Holders)> = lines.into_iter().collect();
    rows.sort_by(|a, b| b.1 .0.cmp(&a.1 .0).then(a.0.cmp(&b.0)));
    let _ = writeln!(out, "By allocating line (the paths that hold what it allocated):");
    for (entry, (total, mut holders)) in rows.into_iter().take(top) {
        let _ = writeln!(out, "  {}: {}", entry_place(p, entry), size(total));
        holders.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        for (path, bytes) in holders.into_iter().take(5) {
            let _ = writeln!(out, "    {} held by {}", size(bytes), s.full_name(path));
        }
    }
}

/// Folded ownership stacks: `%main::cache;{alice};{history} BYTES`, each
/// path's own bytes (its subtree less its children's).
pub fn folded(p: &Profile, label: Option<&str>) -> Result<String, String> {
    let s = choose(p, label)?;
    let mut own: Vec<i128> = s.paths.iter().map(|x| i128::from(x.bytes + x.arena_bytes)).collect();
    for x in &s.paths {
        if x.parent != NONE {
            own[x.parent as usize] -= i128::from(x.bytes + x.arena_bytes);
        }
    }
    let mut out = String::new();
    for (i, &b) in own.iter().enumerate() {
        if b <= 0 {
            continue;
        }
        let steps: Vec<String> = s.steps(i as u32).iter().map(|st| st.replace([';', '\n'], " ")).collect();
        let _ = writeln!(out, "{} {b}", steps.join(";"));
    }
    for u in &s.unreachable {
        let _ = writeln!(
            out,
            "(unreachable) {};{} {}",
            u.kind,
            entry_place(p, u.entry).replace(';', " "),
            u.bytes + u.arena_bytes
        );
    }
    Ok(out)
}

/// Compare two snapshots by path: what grew, with the keys added.
pub fn diff(old: &Snapshot, new: &Snapshot, top: usize) -> String {
    let index = |s: &Snapshot| -> HashMap<String, (u64, u64, u64)> {
        s.paths
            .iter()
            .enumerate()
            .filter(|(_, x)| !x.summary)
            .map(|(i, x)| (s.full_name(i as u32), (x.bytes + x.arena_bytes, x.sv_count, x.elements)))
            .collect()
    };
    let a = index(old);
    let b = index(new);
    let mut rows: Vec<(String, i128, i128, i128)> = Vec::new();
    for (name, &(bytes, svs, children)) in &b {
        let (ob, os, oc) = a.get(name).copied().unwrap_or((0, 0, 0));
        let d = i128::from(bytes) - i128::from(ob);
        if d != 0 {
            rows.push((name.clone(), d, i128::from(svs) - i128::from(os), i128::from(children) - i128::from(oc)));
        }
    }
    for (name, &(bytes, svs, children)) in &a {
        if !b.contains_key(name) {
            rows.push((name.clone(), -i128::from(bytes), -i128::from(svs), -i128::from(children)));
        }
    }
    // The largest changes first.
    rows.sort_by(|x, y| y.1.abs().cmp(&x.1.abs()).then(x.0.cmp(&y.0)));
    let mut out = String::new();
    let ot = &old.totals;
    let nt = &new.totals;
    let total = |t: &memprof_profile::heap::HeapTotals| {
        i128::from(t.reached_bytes + t.reached_arena_bytes + t.unreachable_bytes + t.unreachable_arena_bytes)
    };
    let dt = total(nt) - total(ot);
    let _ = writeln!(
        out,
        "From snapshot \"{}\" to \"{}\": the SVs' memory {} {}, {} SVs {}.",
        old.label,
        new.label,
        if dt >= 0 { "grew" } else { "shrank" },
        size(dt.unsigned_abs() as u64),
        count((i128::from(nt.sv_count) - i128::from(ot.sv_count)).unsigned_abs() as u64),
        if nt.sv_count >= ot.sv_count { "more" } else { "fewer" },
    );
    for (name, d, svs, children) in rows.into_iter().take(top) {
        let verb = if d >= 0 { "grew" } else { "shrank" };
        let mut line = format!("  `{name}` {verb} {}", size(d.unsigned_abs() as u64));
        // An array's children are elements: `@x`, `my @x (...)`, `...[3]`.
        let var = ["my ", "our ", "state "].iter().find_map(|p| name.strip_prefix(p)).unwrap_or(&name);
        let (one, many) =
            if name.ends_with(']') || var.starts_with('@') { ("element", "elements") } else { ("key", "keys") };
        if children > 0 {
            let _ = write!(line, ": {} added", plural(children as u64, one, many));
        } else if children < 0 {
            let _ = write!(line, ": {} removed", plural(children.unsigned_abs() as u64, one, many));
        }
        if svs != 0 {
            let _ = write!(line, " ({}{} SVs)", if svs > 0 { "+" } else { "-" }, count(svs.unsigned_abs() as u64));
        }
        let _ = writeln!(out, "{line}");
    }
    out.push('\n');
    super::ledger::difference(&mut out, old, new);
    out
}

// ---- JSON ---------------------------------------------------------------

#[derive(Serialize)]
pub struct LineJson {
    file: String,
    line: u32,
    sub: String,
    bytes: u64,
}

#[derive(Serialize)]
pub struct PathJson {
    path: String,
    depth: usize,
    bytes: u64,
    arena_bytes: u64,
    sv_count: u64,
    shared: u64,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    summary: bool,
    lines: Vec<LineJson>,
}

#[derive(Serialize)]
pub struct UnreachableJson {
    kind: String,
    file: String,
    line: u32,
    sub: String,
    count: u64,
    bytes: u64,
    arena_bytes: u64,
}

#[derive(Serialize)]
pub struct SnapshotJson<'a> {
    label: &'a str,
    time: f64,
    paths: Vec<PathJson>,
    types: &'a [memprof_profile::heap::HeapCount],
    classes: &'a [memprof_profile::heap::HeapCount],
    unreachable: Vec<UnreachableJson>,
    totals: &'a memprof_profile::heap::HeapTotals,
    /// Absent from profiles before format version 5.
    #[serde(skip_serializing_if = "Option::is_none")]
    ledger: Option<&'a memprof_profile::ledger::Ledger>,
}

fn line_json(p: &Profile, entry: u32, bytes: u64) -> LineJson {
    if entry == NONE || entry as usize >= p.entries.len() {
        return LineJson { file: String::new(), line: 0, sub: String::new(), bytes };
    }
    let e = &p.entries[entry as usize];
    let steps = p.path(e);
    let sub = steps.last().map_or(String::new(), |s| p.frames[s.frame as usize].name.clone());
    LineJson { file: p.file_name(e.file).to_string(), line: e.line, sub, bytes }
}

pub fn json(p: &Profile) -> Vec<SnapshotJson<'_>> {
    p.snapshots
        .iter()
        .map(|s| {
            let mut depth = vec![0usize; s.paths.len()];
            let paths = memprof_profile::heap::tree_order(&s.paths)
                .into_iter()
                .map(|i| {
                    let x = &s.paths[i as usize];
                    let d = if x.parent == NONE { 0 } else { depth[x.parent as usize] + 1 };
                    depth[i as usize] = d;
                    PathJson {
                        path: join_steps(&s.steps(i)),
                        depth: d,
                        bytes: x.bytes,
                        arena_bytes: x.arena_bytes,
                        sv_count: x.sv_count,
                        shared: x.shared,
                        summary: x.summary,
                        lines: x.lines.iter().map(|&(e, b)| line_json(p, e, b)).collect(),
                    }
                })
                .collect();
            let unreachable = s
                .unreachable
                .iter()
                .map(|u| {
                    let l = line_json(p, u.entry, 0);
                    UnreachableJson {
                        kind: u.kind.clone(),
                        file: l.file,
                        line: l.line,
                        sub: l.sub,
                        count: u.count,
                        bytes: u.bytes,
                        arena_bytes: u.arena_bytes,
                    }
                })
                .collect();
            SnapshotJson {
                label: &s.label,
                time: s.time,
                paths,
                types: &s.types,
                classes: &s.classes,
                unreachable,
                totals: &s.totals,
                ledger: s.ledger.as_ref(),
            }
        })
        .collect()
}

/// `memprof flamegraph --heap`: ownership drawn as a flame graph, each
/// frame a step of a data path, sized by the bytes under it.
pub fn flamegraph(p: &Profile, label: Option<&str>, title: Option<&str>) -> Result<String, String> {
    let s = choose(p, label)?;
    let text = folded(p, Some(s.label.as_str()))?;
    let title = title.map(String::from).unwrap_or_else(|| {
        format!("{}: what holds the memory (snapshot \"{}\")", super::flamegraph::script_name(p), s.label)
    });
    if text.is_empty() {
        return Ok(super::flamegraph::empty_svg(&title, "Nothing to draw: the snapshot holds no bytes."));
    }
    let t = &s.totals;
    let total = t.reached_bytes + t.reached_arena_bytes + t.unreachable_bytes + t.unreachable_arena_bytes;
    let mut opts = super::flamegraph::options(title, Some(format!("{} held by SVs", size(total))));
    super::flamegraph::draw(&mut opts, text.lines())
}
