//! Folded stacks, the text that inferno-flamegraph, speedscope and
//! Brendan Gregg's flamegraph.pl read: `main;main::foo;t.pl:3 1048576`.
//!
//! One line per distinct stack of frame names, with the statement as the
//! leaf frame unless `lines` is off.  Stacks whose figure is zero or
//! negative are left out: a flame graph cannot draw them.

use super::Metric;
use memprof_profile::Profile;
use std::collections::BTreeMap;

/// Frame names may not contain the separator, nor end the line (a sub
/// named through a glob, `*{"a\nb"}`, can hold a newline).
fn clean(name: &str) -> String {
    name.replace(';', ",").replace(['\n', '\r'], " ")
}

/// The folded stacks and their figures, sorted by stack.  The second value
/// is the sum of what was left out for being negative (freed memory).
pub fn stacks(p: &Profile, metric: Metric, lines: bool) -> (BTreeMap<String, i64>, i64) {
    let mut out: BTreeMap<String, i64> = BTreeMap::new();
    for e in &p.entries {
        let steps = p.path(e);
        let mut names = p.frame_names(&steps).iter().map(|n| clean(n)).collect::<Vec<_>>();
        if lines {
            // The statement is the leaf, or the parent of the C functions it called.
            names.insert(p.native_start(&steps), clean(&format!("{}:{}", p.file_name(e.file), e.line)));
        }
        let key = names.join(";");
        *out.entry(key).or_default() += metric.of(&e.metrics);
    }
    let negative = out.values().filter(|&&v| v < 0).sum();
    out.retain(|_, v| *v > 0);
    (out, negative)
}

/// The folded text.
pub fn render(p: &Profile, metric: Metric, lines: bool) -> String {
    let (stacks, _) = stacks(p, metric, lines);
    let mut text = String::new();
    for (stack, value) in stacks {
        text.push_str(&stack);
        text.push(' ');
        text.push_str(&value.to_string());
        text.push('\n');
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn folded_lines() {
        let p = recursive_profile();
        assert_eq!(
            render(&p, Metric::Alloc, true),
            "main;main::bar;main::bar;t.pl:1 10\nmain;main::bar;t.pl:1 100\nmain;t.pl:5 1\n"
        );
        assert_eq!(render(&p, Metric::Alloc, false), "main 1\nmain;main::bar 100\nmain;main::bar;main::bar 10\n");
    }

    #[test]
    fn the_statement_sits_between_perl_and_native_frames() {
        let p = memprof_profile::fixtures::native_profile();
        let text = render(&p, Metric::Alloc, true);
        assert!(text.contains("main;t.pl:5;[C] Pkg::xs;[C] lib_alloc 1000\n"), "{text}");
        assert!(render(&p, Metric::Alloc, false).contains("main;[C] Pkg::xs;[C] lib_alloc 1000\n"));
    }

    #[test]
    fn negative_net_is_left_out_and_counted() {
        let mut p = recursive_profile();
        p.entries[2].metrics.free_bytes = 50;
        let (stacks, negative) = stacks(&p, Metric::Net, true);
        assert_eq!(negative, -49);
        assert!(!stacks.contains_key("main;t.pl:5"));
    }
}
