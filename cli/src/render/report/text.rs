//! The report as text: what a person reads in ten seconds.

use super::{
    duration, forked_sentence, held_sentence, merged_sentence, own_frees, owner_name, owners, peak_sentence,
    sub_sentence, thread_sentences, top_alloc_lines, top_held, top_held_lines, top_lines, top_subs, totals_sentence,
    Held, ARENA_NOTE, NO_SITES,
};
use crate::analysis::Analysis;
use crate::render::units::{count, signed, size};
use crate::render::words::{place, retained_moment, source_text};
use std::fmt::Write;

pub(super) fn render(a: &Analysis, top: usize) -> String {
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
    // In the totals' paragraph: what the process is, then what it did.
    if let Some(line) = crate::render::ledger::last(p).and_then(crate::render::ledger::sentence) {
        let _ = writeln!(out, "{line}");
    }
    let _ = writeln!(out, "{}", totals_sentence(p));
    if let Some(merged) = merged_sentence(p) {
        let _ = writeln!(out, "{merged}");
    }
    if let Some(forked) = forked_sentence(p) {
        let _ = writeln!(out, "{forked}");
    }
    let _ = writeln!(out, "{}", peak_sentence(p));
    if let Some(sampled) = super::sampled_sentence(p) {
        let _ = writeln!(out, "{sampled}");
    }
    let threads = thread_sentences(p);
    if !threads.is_empty() {
        let _ = writeln!(out, "\nBy thread:");
        for t in threads {
            let _ = writeln!(out, "  {t}");
        }
    }
    if let Some(labels) = super::labels::pointer(p) {
        let _ = writeln!(out, "{labels}");
    }
    if p.run.site_tracking {
        held(a, top, Held::AtExit, &mut out);
        held(a, top, Held::AtPeak, &mut out);
    } else {
        let _ = writeln!(out, "\n{NO_SITES}");
    }
    allocated(a, top, &mut out);
    net(a, top, &mut out);
    if p.run.site_tracking {
        let _ = writeln!(out, "\n{ARENA_NOTE}");
    }
    out
}

/// What was held at exit (or at the peak), by the line and by the sub
/// that allocated it.
fn held(a: &Analysis, top: usize, held: Held, out: &mut String) {
    let p = a.profile;
    let lines = top_held_lines(a, top, held);
    if lines.is_empty() {
        return;
    }
    let heading = match held {
        Held::AtExit => format!("Still held {}, by the line that allocated it:", retained_moment(p)),
        Held::AtPeak => {
            format!("Live at the heap's peak ({}), by the line that allocated it:", size(p.peak.bytes.max(0) as u64))
        }
    };
    let _ = writeln!(out, "\n{heading}");
    let owner = owners(p);
    for l in lines {
        let (bytes, arena) = held.bytes(&l.exclusive);
        let arena = if arena > 0 { format!(" ({} arena)", size(arena)) } else { String::new() };
        let _ = writeln!(
            out,
            "  {:>11}{arena}  {}  {}  [{}]",
            size(bytes),
            place(p, l.file, l.line),
            source_text(p, l.file, l.line, 60),
            owner_name(p, &owner, l)
        );
    }
    let subs = top_held(a, top, held);
    if !subs.is_empty() {
        let _ = writeln!(out, "  and by the sub that allocated it:");
        for s in subs {
            let _ = writeln!(out, "    {}", held_sentence(p, s, held));
        }
    }
}

/// Gross allocations by line, freed or not.
fn allocated(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
    let lines = top_alloc_lines(a, top);
    if lines.is_empty() {
        return;
    }
    let owner = owners(p);
    let _ = writeln!(out, "\nLines that allocated most (whether freed again or not):");
    for l in lines {
        let _ = writeln!(
            out,
            "  {:>11} in {:>9} allocations  {}  {}  [{}]",
            size(l.exclusive.alloc_bytes),
            count(l.exclusive.alloc_count),
            place(p, l.file, l.line),
            source_text(p, l.file, l.line, 60),
            owner_name(p, &owner, l)
        );
    }
}

/// Net growth, by sub and by line, each line with its own frees.
fn net(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
    let subs = top_subs(a, top);
    if !subs.is_empty() {
        let _ = writeln!(out, "\nWhere memory went up, by sub (allocated minus freed, everything that ran inside it):");
        for s in subs {
            let _ = writeln!(out, "  {}", sub_sentence(p, s));
        }
    }
    let lines = top_lines(a, top);
    if !lines.is_empty() {
        let owner = owners(p);
        let _ = writeln!(
            out,
            "\nLines that made memory go up (their own statements; what one line allocates another may free):"
        );
        for l in lines {
            let _ = writeln!(
                out,
                "  {:>11}  {}  {}  [{}]  ({})",
                signed(l.exclusive.net_bytes()),
                place(p, l.file, l.line),
                source_text(p, l.file, l.line, 60),
                owner_name(p, &owner, l),
                own_frees(&l.exclusive)
            );
        }
    }
}
