//! The report's "What holds the memory" page (heap.html): the last
//! snapshot's paths as a zoomable squarified treemap, its census, what
//! nothing reached, and its ledger as a stacked bar.
//!
//! The layout is the `streemap` crate's squarified treemap (Bruls, Huizing
//! and van Wijk), made here for every path's children
//! (and the roots) in one viewport; heap.js only draws the level asked for,
//! so zooming is a redraw with nothing computed in the browser.  The data
//! goes in heap-data.js, a file beside the page: the page's policy runs no
//! inline script.

use crate::render::heap::entry_place;
use crate::render::units::size;
use memprof_profile::heap::Snapshot;
use memprof_profile::ledger::describe;
use memprof_profile::{Profile, NONE};
use serde::Serialize;
use streemap::Rect;

/// The viewport the layouts fill (the SVG's viewBox).
pub const WIDTH: f64 = 1200.0;
pub const HEIGHT: f64 = 640.0;
/// Lines a rectangle's hover names.
const HOVER_LINES: usize = 5;

struct Item {
    node: i64,
    size: f64,
    bounds: Rect<f64>,
}

/// One path (node 0 is every root together).
#[derive(Serialize)]
pub struct Node {
    /// This step's name, the full path, bytes (with the arena part), the
    /// arena part, SVs.
    n: String,
    f: String,
    b: u64,
    a: u64,
    s: u64,
    /// Parent node, -1 for node 0.
    p: i64,
    /// The largest allocating lines: (place, bytes).
    l: Vec<(String, u64)>,
    /// Children laid out: (node, x, y, w, h); node -1 is the path's own
    /// bytes, beyond its children's.
    k: Vec<(i64, f64, f64, f64, f64)>,
}

#[derive(Serialize)]
pub struct Data {
    label: String,
    width: f64,
    height: f64,
    nodes: Vec<Node>,
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Lay out `children` (node, bytes) and, when the parent holds more than
/// they do, its own part.
fn layout(children: &[(i64, u64)], total: u64) -> Vec<(i64, f64, f64, f64, f64)> {
    let sum: u64 = children.iter().map(|c| c.1).sum();
    let none = Rect::from_size(0.0, 0.0);
    let mut items: Vec<Item> =
        children.iter().filter(|c| c.1 > 0).map(|&(node, b)| Item { node, size: b as f64, bounds: none }).collect();
    if total > sum {
        items.push(Item { node: -1, size: (total - sum) as f64, bounds: none });
    }
    if items.is_empty() {
        return Vec::new();
    }
    // Squarifying works best on items largest first.
    items.sort_by(|a, b| b.size.total_cmp(&a.size));
    streemap::squarify(Rect::from_size(WIDTH, HEIGHT), &mut items, |i| i.size, |i, r| i.bounds = r);
    items.iter().map(|i| (i.node, round(i.bounds.x), round(i.bounds.y), round(i.bounds.w), round(i.bounds.h))).collect()
}

pub fn data(p: &Profile, s: &Snapshot) -> Data {
    let order = memprof_profile::heap::tree_order(&s.paths);
    // Node i + 1 is path i.
    let mut kids: Vec<Vec<(i64, u64)>> = vec![Vec::new(); s.paths.len() + 1];
    for &i in &order {
        let x = &s.paths[i as usize];
        let parent = if x.parent == NONE { 0 } else { x.parent as usize + 1 };
        kids[parent].push((i64::from(i) + 1, x.bytes + x.arena_bytes));
    }
    let mut nodes = Vec::with_capacity(s.paths.len() + 1);
    let root_total: u64 = kids[0].iter().map(|c| c.1).sum();
    nodes.push(Node {
        n: format!("snapshot \"{}\"", s.label),
        f: String::new(),
        b: root_total,
        a: s.paths.iter().filter(|x| x.parent == NONE).map(|x| x.arena_bytes).sum(),
        s: s.paths.iter().filter(|x| x.parent == NONE).map(|x| x.sv_count).sum(),
        p: -1,
        l: Vec::new(),
        k: layout(&kids[0], root_total),
    });
    for (i, x) in s.paths.iter().enumerate() {
        let total = x.bytes + x.arena_bytes;
        nodes.push(Node {
            n: x.name.clone(),
            f: s.full_name(i as u32),
            b: total,
            a: x.arena_bytes,
            s: x.sv_count,
            p: if x.parent == NONE { 0 } else { i64::from(x.parent) + 1 },
            l: x.lines.iter().take(HOVER_LINES).map(|&(e, b)| (entry_place(p, e), b)).collect(),
            k: layout(&kids[i + 1], total),
        });
    }
    Data { label: s.label.clone(), width: WIDTH, height: HEIGHT, nodes }
}

/// A census row.
#[derive(Serialize)]
pub struct CountRow {
    name: String,
    count: u64,
    bytes: (u64, String),
    arena: (u64, String),
    unreachable: u64,
}

#[derive(Serialize)]
pub struct UnreachableRow {
    kind: String,
    place: String,
    count: u64,
    bytes: (u64, String),
}

/// A part of the ledger's stacked bar.
#[derive(Serialize)]
pub struct Bar {
    name: String,
    what: String,
    bytes: i64,
    fig: String,
    /// Width in percent of VmData (0 for a negative row).
    width: f64,
}

#[derive(Serialize)]
pub struct Page {
    pub title: String,
    pub label: String,
    pub sentence: Option<String>,
    pub types: Vec<CountRow>,
    pub classes: Vec<CountRow>,
    pub unreachable: Vec<UnreachableRow>,
    pub bars: Vec<Bar>,
    pub notes: Vec<String>,
    pub width: f64,
    pub height: f64,
}

fn counts(c: &[memprof_profile::heap::HeapCount]) -> Vec<CountRow> {
    c.iter()
        .map(|h| CountRow {
            name: h.name.clone(),
            count: h.count,
            bytes: (h.bytes + h.arena_bytes, size(h.bytes + h.arena_bytes)),
            arena: (h.arena_bytes, size(h.arena_bytes)),
            unreachable: h.unreachable_count,
        })
        .collect()
}

pub fn page(p: &Profile, s: &Snapshot, script: &str) -> Page {
    let (mut bars, mut notes) = (Vec::new(), Vec::new());
    if let Some(l) = &s.ledger {
        let vm = l.vmdata_bytes.unwrap_or(0).max(1) as f64;
        bars = l
            .rows
            .iter()
            .map(|r| Bar {
                name: r.name.clone(),
                what: describe(&r.name).to_string(),
                bytes: r.bytes,
                fig: crate::render::units::signed(r.bytes).trim_start_matches('+').to_string(),
                width: if r.bytes > 0 { (r.bytes as f64 * 10000.0 / vm).round() / 100.0 } else { 0.0 },
            })
            .collect();
        notes = l.notes.clone();
    }
    Page {
        title: format!("What holds the memory: {script}"),
        label: s.label.clone(),
        sentence: s.ledger.as_ref().and_then(crate::render::ledger::sentence),
        types: counts(&s.types),
        classes: counts(&s.classes),
        unreachable: s
            .unreachable
            .iter()
            .map(|u| UnreachableRow {
                kind: u.kind.clone(),
                place: entry_place(p, u.entry),
                count: u.count,
                bytes: (u.bytes + u.arena_bytes, size(u.bytes + u.arena_bytes)),
            })
            .collect(),
        bars,
        notes,
        width: WIDTH,
        height: HEIGHT,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layout_fills_the_viewport_in_proportion() {
        let k = layout(&[(1, 600), (2, 300)], 1000);
        assert_eq!(k.len(), 3, "two children and the parent's own part");
        let area = |n: i64| k.iter().find(|c| c.0 == n).map(|c| c.3 * c.4).unwrap();
        let whole = WIDTH * HEIGHT;
        assert!((area(1) / whole - 0.6).abs() < 0.01);
        assert!((area(2) / whole - 0.3).abs() < 0.01);
        assert!((area(-1) / whole - 0.1).abs() < 0.01);
        // Many children: each inside the viewport, in proportion, together all of it.
        let many: Vec<(i64, u64)> = (1..=40).map(|i| (i, (i * i) as u64)).collect();
        let total: u64 = many.iter().map(|c| c.1).sum();
        let k = layout(&many, total);
        assert_eq!(k.len(), 40);
        for &(n, x, y, w, h) in &k {
            assert!(x >= 0.0 && y >= 0.0 && x + w <= WIDTH + 0.2 && y + h <= HEIGHT + 0.2, "{n} inside");
            let want = (n * n) as f64 / total as f64;
            assert!((w * h / whole - want).abs() < 0.002 + want * 0.02, "{n}: {} for {want}", w * h / whole);
        }
    }
}
