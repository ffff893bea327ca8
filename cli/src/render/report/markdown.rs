//! The report as Markdown tables, to paste into a pull request.

use super::{
    forked_sentence, merged_sentence, owner_name, owners, peak_sentence, thread_sentences, top_alloc_lines, top_held,
    top_held_lines, top_lines, top_subs, totals_sentence, Held, ARENA_NOTE, NO_SITES,
};
use crate::analysis::Analysis;
use crate::render::units::{count, signed, size};
use crate::render::words::{frame_phrase, md_cell as cell, md_code as code, place, retained_moment, source_text};
use std::fmt::Write;

pub(super) fn render(a: &Analysis, top: usize) -> String {
    let p = a.profile;
    let mut out = String::new();
    let _ = writeln!(out, "### Memory profile of `{}`\n", cell(&p.run.script));
    if let Some(line) = crate::render::ledger::last(p).and_then(crate::render::ledger::sentence) {
        let _ = writeln!(out, "{line}\n");
    }
    let mut merged = merged_sentence(p).map(|m| format!(" {m}")).unwrap_or_default();
    if let Some(sampled) = super::sampled_sentence(p) {
        merged = format!("{merged} {sampled}");
    }
    if let Some(forked) = forked_sentence(p) {
        merged = format!("{merged} {forked}");
    }
    let _ = writeln!(out, "{}{merged} {}\n", totals_sentence(p), peak_sentence(p));
    let t = &p.totals;
    let _ = writeln!(out, "| allocated | freed | net growth | heap peak | still held {} |", retained_moment(p));
    let _ = writeln!(out, "|---:|---:|---:|---:|---:|");
    let held = if p.run.site_tracking { size(t.retained_bytes) } else { "(not tracked)".into() };
    let _ = writeln!(
        out,
        "| {} | {} | {} | {} | {held} |\n",
        size(t.alloc_bytes),
        size(t.free_bytes),
        signed(t.net_bytes()),
        size(p.peak.bytes.max(0) as u64)
    );
    let threads = thread_sentences(p);
    if !threads.is_empty() {
        for t in threads {
            let _ = writeln!(out, "- {t}");
        }
        let _ = writeln!(out);
    }
    if p.run.site_tracking {
        held_tables(a, top, Held::AtExit, &mut out);
        held_tables(a, top, Held::AtPeak, &mut out);
    } else {
        let _ = writeln!(out, "{NO_SITES}\n");
    }
    allocated(a, top, &mut out);
    net(a, top, &mut out);
    if p.run.site_tracking {
        let _ = writeln!(out, "{ARENA_NOTE}\n");
    }
    let _ = writeln!(out, "<sub>Sizes in binary units (1 KiB = 1024 bytes). Made by Devel::MemProf.</sub>");
    out
}

fn held_tables(a: &Analysis, top: usize, held: Held, out: &mut String) {
    let p = a.profile;
    let lines = top_held_lines(a, top, held);
    if lines.is_empty() {
        return;
    }
    let owner = owners(p);
    let _ = writeln!(out, "| line | {} | of it arena | in | source |", held.when(p));
    let _ = writeln!(out, "|---|---:|---:|---|---|");
    for l in lines {
        let (bytes, arena) = held.bytes(&l.exclusive);
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            cell(&place(p, l.file, l.line)),
            size(bytes),
            size(arena),
            code(owner_name(p, &owner, l)),
            code(&source_text(p, l.file, l.line, 80))
        );
    }
    let _ = writeln!(out);
    let subs = top_held(a, top, held);
    if !subs.is_empty() {
        let _ = writeln!(out, "| allocated by | {} | of it arena |", held.when(p));
        let _ = writeln!(out, "|---|---:|---:|");
        for s in subs {
            let (bytes, arena) = held.bytes(&s.inclusive);
            let _ = writeln!(out, "| {} | {} | {} |", code(&p.frames[s.frame as usize].name), size(bytes), size(arena));
        }
        let _ = writeln!(out);
    }
}

fn allocated(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
    let lines = top_alloc_lines(a, top);
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out, "| line | allocated | allocations | source |");
    let _ = writeln!(out, "|---|---:|---:|---|");
    for l in lines {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&place(p, l.file, l.line)),
            size(l.exclusive.alloc_bytes),
            count(l.exclusive.alloc_count),
            code(&source_text(p, l.file, l.line, 80))
        );
    }
    let _ = writeln!(out);
}

fn net(a: &Analysis, top: usize, out: &mut String) {
    let p = a.profile;
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
        let _ = writeln!(out, "| line | net growth | allocated | freed here | source |");
        let _ = writeln!(out, "|---|---:|---:|---:|---|");
        for l in lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                cell(&place(p, l.file, l.line)),
                signed(l.exclusive.net_bytes()),
                size(l.exclusive.alloc_bytes),
                size(l.exclusive.free_bytes),
                code(&source_text(p, l.file, l.line, 80))
            );
        }
        let _ = writeln!(out);
    }
}
