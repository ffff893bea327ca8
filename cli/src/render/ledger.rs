//! The ledger of a snapshot in words and as a table: where the process's
//! data segment (VmData) and its anonymous RSS go, and between two
//! snapshots what accounts for the difference between the data's growth
//! and VmData's.

use super::units::{signed, size};
use memprof_profile::heap::Snapshot;
use memprof_profile::ledger::{describe, Ledger, Row};
use memprof_profile::Profile;
use std::fmt::Write;

/// Rows the sentence groups, with its words for them.
const GROUPS: [(&str, &[&str]); 6] = [
    ("perl's data", &["perl_data", "unreachable", "perl_internals", "free_arena_slots", "untracked"]),
    ("malloc's free chunks", &["free_chunks", "top_pad"]),
    ("chunk overhead", &["chunk_overhead"]),
    ("the profiler", &["profiler"]),
    ("libraries and stacks", &["libraries", "thread_stacks"]),
    ("other mappings", &["other_mappings", "malloc_rest"]),
];

/// A signed size without a plus sign.
fn amount(bytes: i64) -> String {
    signed(bytes).trim_start_matches('+').to_string()
}

/// The last snapshot's ledger, for `memprof report`.
pub fn last(p: &Profile) -> Option<&Ledger> {
    p.snapshots.iter().rev().find_map(|s| s.ledger.as_ref())
}

/// "The process's data segment is 118 MiB: perl's data 81.2 MiB (of it
/// 12.0 MiB free arena slots), malloc's free chunks 23.1 MiB, ...".
pub fn sentence(l: &Ledger) -> Option<String> {
    let vmdata = l.vmdata_bytes?;
    let mut parts = Vec::new();
    for (words, rows) in GROUPS {
        if !rows.iter().any(|r| l.rows.iter().any(|x| x.name == *r)) {
            continue;
        }
        let bytes: i64 = rows.iter().map(|r| l.row(r)).sum();
        if bytes == 0 && words != "perl's data" {
            continue;
        }
        let mut part = format!("{words} {}", amount(bytes));
        if words == "perl's data" {
            let _ = write!(part, " (of it {} free arena slots)", amount(l.row("free_arena_slots")));
        }
        parts.push(part);
    }
    parts.push(format!("unexplained {}", amount(l.row("unexplained"))));
    let mut s = format!("The process's data segment is {}: {}.", size(vmdata), parts.join(", "));
    if !l.notes.is_empty() {
        let _ = write!(s, " (Not measured: {}.)", l.notes.join("; "));
    }
    Some(s)
}

/// The two tables: VmData's rows and RssAnon's, each row with its share.
/// One of the two tables: a title with its total, then the rows with
/// their shares of it.
fn rows_of(out: &mut String, title: &str, total: Option<u64>, rows: &[Row]) {
    let _ = writeln!(out, "{title} {}):", total.map_or("not readable".to_string(), size));
    for r in rows {
        let share = match total {
            Some(t) if t > 0 => format!("{:6.1}%", 100.0 * r.bytes as f64 / t as f64),
            _ => String::new(),
        };
        let _ = writeln!(out, "  {:>12}  {share}  {}", amount(r.bytes), describe(&r.name));
    }
}

pub fn table(out: &mut String, l: &Ledger) {
    rows_of(out, "Where the data segment goes (VmData", l.vmdata_bytes, &l.rows);
    if let Some(m) = &l.malloc {
        if m.mmapped_blocks > 0 {
            let _ = writeln!(
                out,
                "  (malloc got {} of the blocks above with mmap, {} block{})",
                size(m.mmapped_bytes),
                m.mmapped_blocks,
                if m.mmapped_blocks == 1 { "" } else { "s" }
            );
        }
    }
    rows_of(out, "Where the anonymous resident memory goes (RssAnon", l.rss_anon_bytes, &l.rss_rows);
    for n in &l.notes {
        let _ = writeln!(out, "  Note: {n}.");
    }
}

/// Between two snapshots: the ledger as differences, and what accounts
/// for the gap between the data's growth and VmData's.
pub fn difference(out: &mut String, old: &Snapshot, new: &Snapshot) {
    let (Some(a), Some(b)) = (old.ledger.as_ref(), new.ledger.as_ref()) else {
        let _ = writeln!(out, "(No ledger to compare: a snapshot of a profile before format version 5.)");
        return;
    };
    let d = b.difference(a);
    let data = d.row("perl_data") + d.row("unreachable");
    let vm = match (a.vmdata_bytes, b.vmdata_bytes) {
        (Some(x), Some(y)) => Some(y as i64 - x as i64),
        _ => None,
    };
    let _ = writeln!(
        out,
        "The ledger from \"{}\" to \"{}\": VmData {}, the SVs' data {}{}:",
        old.label,
        new.label,
        vm.map_or("not readable".to_string(), signed),
        signed(data),
        vm.map_or(String::new(), |v| format!("; the gap, {}, is the other rows", signed(v - data))),
    );
    for r in &d.rows {
        let _ = writeln!(out, "  {:>12}  {}", signed(r.bytes), describe(&r.name));
    }
    if let (Some(x), Some(y)) = (a.rss_anon_bytes, b.rss_anon_bytes) {
        let _ = writeln!(out, "RssAnon {}:", signed(y as i64 - x as i64));
        for r in &d.rss_rows {
            let _ = writeln!(out, "  {:>12}  {}", signed(r.bytes), describe(&r.name));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::ledger::Row;

    fn ledger(rows: &[(&str, i64)]) -> Ledger {
        let rows: Vec<Row> = rows.iter().map(|(n, b)| Row { name: (*n).into(), bytes: *b }).collect();
        Ledger {
            vmdata_bytes: Some(rows.iter().map(|r| r.bytes).sum::<i64>() as u64),
            rss_anon_bytes: None,
            rows,
            ..Ledger::default()
        }
    }

    #[test]
    fn the_sentence_groups_the_rows() {
        let l = ledger(&[
            ("perl_data", 70 << 20),
            ("free_arena_slots", 12 << 20),
            ("free_chunks", 23 << 20),
            ("chunk_overhead", 6 << 20),
            ("libraries", 7 << 20),
            ("unexplained", 1 << 19),
        ]);
        assert_eq!(
            sentence(&l).unwrap(),
            "The process's data segment is 118 MiB: perl's data 82.0 MiB (of it 12.0 MiB free arena slots), \
             malloc's free chunks 23.0 MiB, chunk overhead 6.00 MiB, libraries and stacks 7.00 MiB, unexplained 512 KiB."
        );
    }
}
