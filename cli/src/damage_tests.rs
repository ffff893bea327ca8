//! No file can crash or hang a command (issue 11, item 7): every renderer
//! runs on whatever decodes from damaged profiles, not only the decoder.
//!
//! Real encoded profiles (the committed t/golden/demo.out, a hand-built one
//! with every kind of frame, and the small recursive fixture) get bytes of
//! their payload flipped, zeroed or set to 0xff, with the checksum fixed up
//! so that the decoder and validation see them.  Whatever decodes goes
//! through report (text and Markdown), flamegraph and folded for every
//! metric, csv by line, sub and stack, json, diff against a valid profile
//! and against itself, html into a temporary directory, timeline and merge.
//! Each runs under a watchdog, so that a renderer that spins fails the test
//! rather than hanging it.

use crate::render::{self, csv::By, report, Metric};
use memprof_profile::fixtures::recursive_profile;
use memprof_profile::{
    format, merge, Entry, Frame, FrameKind, Mark, Metrics, Node, Peak, Profile, Sample, SourceFile, NONE,
};
use proptest::prelude::{any, Just, Strategy};
use std::sync::mpsc;
use std::time::Duration;

const GOLDEN: &[u8] = include_bytes!("../../t/golden/demo.out");
const HEADER_LEN: usize = 28;
/// Far more than any renderer needs on these small profiles, even in a debug build.
const WATCHDOG: Duration = Duration::from_secs(60);

/// A profile with every frame kind, a NONE frame file, a root pseudo-location,
/// negative net growth, site figures, a timeline, marks and the peak.
fn rich_profile() -> Profile {
    let mut p = Profile::default();
    let lines = |ls: &[(u32, &str)]| ls.iter().map(|(n, t)| (*n, t.to_string())).collect();
    p.files.push(SourceFile {
        name: "t.pl".into(),
        source: None,
        lines: lines(&[
            (2, "BEGIN { require Mod }"),
            (4, "my $f = sub { $f->() };"),
            (5, "Mod->new;"),
            (7, "eval $code;"),
            (9, "write;"),
        ]),
    });
    p.files.push(SourceFile {
        name: "lib/Mod.pm".into(),
        source: None,
        lines: lines(&[(3, "sub new { bless {} }"), (4, "$f->();")]),
    });
    p.files.push(SourceFile {
        name: "(eval 1)[t.pl:7]".into(),
        source: Some("my @x = (1) x 100;\n".into()),
        lines: lines(&[(1, "my @x = (1) x 100;")]),
    });
    p.files.push(SourceFile { name: "(exit)".into(), source: None, lines: Vec::new() });
    let frame = |name: &str, kind, file, line| Frame { name: name.into(), kind, file, line };
    p.frames = vec![
        frame("main", FrameKind::Main, 0, 0),
        frame("Mod::new", FrameKind::Sub, 1, 3),
        frame("main::__ANON__[t.pl:4]", FrameKind::AnonSub, 0, 4),
        frame("main::BEGIN@2", FrameKind::Block, 0, 2),
        frame("Mod.pm", FrameKind::Require, NONE, 0),
        frame("compile lib/Mod.pm", FrameKind::Compile, 1, 0),
        frame("(eval 1)[t.pl:7]", FrameKind::Eval, 2, 0),
        frame("(exit)", FrameKind::Pseudo, 3, 0),
        frame("main::STDOUT", FrameKind::Format, 0, 9),
    ];
    let node = |parent, frame, call_file, call_line| Node { parent, frame, call_file, call_line };
    p.nodes = vec![
        node(NONE, 0, NONE, 0),
        node(0, 1, 0, 5),
        node(1, 2, 1, 4),
        node(0, 3, 0, 2),
        node(3, 4, 0, 2),
        node(4, 5, 1, 0),
        node(0, 6, 0, 7),
        node(NONE, 7, NONE, 0),
        node(2, 2, 0, 4),
        node(0, 8, 0, 9),
    ];
    let m = |alloc: u64, free: u64, retained: u64, peak: u64| Metrics {
        alloc_bytes: alloc,
        alloc_count: alloc / 16 + 1,
        free_bytes: free,
        free_count: free / 16,
        sv_delta: (alloc as i64 - free as i64) / 24,
        retained_bytes: retained,
        retained_arena_bytes: retained / 2,
        peak_bytes: peak,
        peak_arena_bytes: peak / 3,
    };
    let entry = |node, file, line, metrics| Entry { node, file, line, label: NONE, metrics };
    p.entries = vec![
        entry(0, 0, 5, m(100, 0, 50, 80)),
        entry(1, 1, 3, m(5 << 20, 1 << 20, 3 << 20, 4 << 20)),
        entry(2, 0, 4, m(4096, 8192, 0, 4096)),
        entry(8, 0, 4, m(70_000, 10, 1000, 2000)),
        entry(3, 0, 2, m(300, 0, 300, 300)),
        entry(5, 1, 0, m(250_000, 50_000, 100_000, 200_000)),
        entry(6, 2, 1, m(9000, 100, 0, 9000)),
        entry(7, 3, 0, m(0, 77_000, 0, 0)),
        entry(9, 0, 9, m(512, 512, 0, 0)),
    ];
    for e in p.entries.clone() {
        p.totals.add(&e.metrics);
    }
    p.peak = Peak { bytes: 4 << 20, entry: 1 };
    p.timeline = vec![
        Sample { time: 0.0, live_bytes: 0, entry: NONE },
        Sample { time: 0.25, live_bytes: 4 << 20, entry: 1 },
        Sample { time: 0.5, live_bytes: 1 << 20, entry: 6 },
    ];
    p.marks = vec![
        Mark { time: 0.1, live_bytes: 100, label: "load".into() },
        Mark { time: 0.4, live_bytes: 2 << 20, label: "work | `x`\n".into() },
    ];
    p.run.script = "t.pl".into();
    p.run.command = vec!["perl".into(), "-d:MemProf".into(), "t.pl".into()];
    p.run.cwd = "/nonexistent".into();
    p.run.start_time = 1_700_000_000.0;
    p.run.end_time = 1_700_000_000.5;
    p.run.site_tracking = true;
    p.run.options = vec![("sites".into(), "1".into())];
    p
}

/// The encoded profiles the damage starts from.
fn bases() -> Vec<Vec<u8>> {
    let mut rich = rich_profile();
    assert_eq!(rich.validate(), Ok(()));
    let recursive = recursive_profile();
    rich.run.merged_pids = vec![1, 2];
    vec![GOLDEN.to_vec(), format::encode(&rich).unwrap(), format::encode(&recursive).unwrap()]
}

#[derive(Clone, Copy, Debug)]
enum Edit {
    Flip(u8),
    Zero,
    Ones,
    Set(u8),
    /// Replace the byte with postcard's varint of u32::MAX (NONE): a small
    /// index or count becomes NONE, and everything after stays aligned.
    None32,
    /// Replace the byte with the varint of u64::MAX.
    Max64,
    /// Overwrite eight bytes with a float: where a time was, it is now this.
    Float(f64),
}

/// Apply edits to the payload of an encoded profile and fix up the header's
/// length and checksum, so that the decoder and validation see the bytes.
fn damaged(good: &[u8], edits: &[(usize, Edit)]) -> Vec<u8> {
    let mut payload = good[HEADER_LEN..].to_vec();
    for &(at, edit) in edits {
        let at = at % payload.len();
        let splice = |payload: &mut Vec<u8>, with: &[u8]| {
            payload.splice(at..at + 1, with.iter().copied());
        };
        match edit {
            Edit::Flip(mask) => payload[at] ^= mask.max(1),
            Edit::Zero => payload[at] = 0,
            Edit::Ones => payload[at] = 0xff,
            Edit::Set(v) => payload[at] = v,
            Edit::None32 => splice(&mut payload, &[0xff, 0xff, 0xff, 0xff, 0x0f]),
            Edit::Max64 => splice(&mut payload, &[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]),
            Edit::Float(x) => {
                let end = (at + 8).min(payload.len());
                payload[at..end].copy_from_slice(&x.to_le_bytes()[..end - at]);
            }
        }
    }
    let mut bytes = good[..16].to_vec();
    bytes.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32fast::hash(&payload).to_le_bytes());
    bytes.extend_from_slice(&payload);
    bytes
}

/// The edits the sweep tries, one at each offset.
const SWEEP: [Edit; 9] = [
    Edit::Zero,
    Edit::Ones,
    Edit::Flip(1),
    Edit::Flip(0x80),
    Edit::None32,
    Edit::Max64,
    Edit::Float(f64::INFINITY),
    Edit::Float(f64::NAN),
    Edit::Float(-1.0),
];

/// Run every renderer on `p`, checking that each gives the kind of output
/// it promises (or, where it may, a one-line error).
fn render_everything(p: &Profile, good: &Profile) {
    for fmt in [report::Format::Text, report::Format::Markdown] {
        let text = report::render(p, &report::ReportOptions { top: 10, format: fmt, by: report::By::Code });
        let head = if fmt == report::Format::Text { "Memory profile of " } else { "### Memory profile of " };
        assert!(text.starts_with(head), "report: {text}");
    }
    for m in [Metric::Net, Metric::Alloc, Metric::Retained, Metric::Peak] {
        for lines in [false, true] {
            let svg = render::flamegraph::render(p, m, lines, None).expect("a flame graph");
            assert!(svg.starts_with("<?xml") && svg.trim_end().ends_with("</svg>"), "flamegraph {m:?}");
            for line in render::folded::render(p, m, lines).lines() {
                let count = line.rsplit(' ').next().and_then(|c| c.parse::<i64>().ok());
                assert!(count.is_some_and(|c| c > 0), "folded {m:?}: {line:?}");
            }
        }
    }
    for (by, lead) in [(By::Line, "file,line,"), (By::Sub, "name,kind,"), (By::Stack, "stack,file,")] {
        let text = render::csv::render(p, by).expect("CSV");
        assert!(text.starts_with(lead), "csv {by:?}");
        let rows = ::csv::Reader::from_reader(text.as_bytes()).records().count();
        assert!(rows <= p.entries.len() * 64 + 1, "csv {by:?} has {rows} rows");
    }
    for pretty in [false, true] {
        let mut out = Vec::new();
        render::json::write(p, &mut out, pretty, true).expect("JSON");
        let v: serde_json::Value = serde_json::from_slice(&out).expect("JSON parses");
        assert_eq!(v["stack_count"], p.entries.len());
    }
    for (old, new) in [(p, good), (good, p), (p, p)] {
        let c = render::diff::compare(old, new, 0);
        assert!(render::diff::text(&c, 20).starts_with("Memory of "));
        assert!(render::diff::markdown(&c, 20).starts_with("### Memory: "));
        assert!(serde_json::from_str::<serde_json::Value>(&render::diff::json(&c)).is_ok());
        let svg = render::diff::flamegraph(old, new).expect("a differential flame graph");
        assert!(svg.starts_with("<?xml"));
    }
    // Damage can make a name disagree with its file (an anonymous sub's
    // name carries its file's), so a self-diff may rename a sub; but what
    // moves from one name to another adds up to nothing.
    let same = render::diff::compare(p, p, 0);
    for m in same.metrics() {
        use render::diff::Change;
        assert_eq!(same.delta(m), 0, "a profile's total equals itself");
        assert_eq!(same.subs.iter().map(|s| i128::from(s.delta(m))).sum::<i128>(), 0, "{:?}", same.subs);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("html");
    match render::html::write(p, &out) {
        Ok(_) => assert!(out.join("index.html").is_file(), "html wrote its index"),
        Err(e) => assert!(!e.contains('\n'), "html: {e}"),
    }
    match render::timeline::render(p, None) {
        Ok(svg) => assert!(svg.contains("<svg") && !p.timeline.is_empty()),
        Err(e) => assert!(p.timeline.is_empty(), "timeline: {e}"),
    }
    let merged = merge::merge(&[p.clone(), good.clone(), p.clone()]);
    if merged.validate().is_ok() {
        assert_eq!(format::decode(&format::encode(&merged).unwrap()), Ok(merged), "a merge reads back");
    }
}

/// `render_everything` on another thread, failing if it takes too long.
fn watched(p: Profile, good: Profile) {
    let (tx, rx) = mpsc::channel();
    let worker = std::thread::spawn(move || {
        render_everything(&p, &good);
        let _ = tx.send(());
    });
    match rx.recv_timeout(WATCHDOG) {
        Ok(()) => worker.join().expect("renderers finished"),
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            // The worker panicked: join gives its message to the test.
            if let Err(e) = worker.join() {
                std::panic::resume_unwind(e);
            }
        }
        Err(mpsc::RecvTimeoutError::Timeout) => panic!("a renderer ran for more than {WATCHDOG:?}"),
    }
}

#[test]
fn the_undamaged_bases_render() {
    let good = format::decode(GOLDEN).unwrap();
    for base in bases() {
        watched(format::decode(&base).unwrap(), good.clone());
    }
}

/// An edit of [`SWEEP`] at every offset of every base, through every
/// renderer; and enough of them decode for the renderers to be what is
/// tested.
#[test]
fn swept_damage_is_rendered_or_refused() {
    let good = format::decode(GOLDEN).unwrap();
    let (mut decoded, mut tried) = (0, 0);
    for base in bases() {
        for at in 0..base.len() - HEADER_LEN {
            // One kind per offset, scattered (a fixed cycle could keep a
            // kind off the fields of records of the same length).
            let edit = SWEEP[(at.wrapping_mul(2_654_435_761) >> 7) % SWEEP.len()];
            tried += 1;
            match format::decode(&damaged(&base, &[(at, edit)])) {
                Ok(p) => {
                    decoded += 1;
                    watched(p, good.clone());
                }
                Err(e) => assert!(!e.to_string().contains('\n'), "one line: {e}"),
            }
        }
    }
    eprintln!("{decoded} of {tried} damaged profiles decoded and were rendered");
    assert!(decoded * 5 > tried, "only {decoded} of {tried} damaged profiles decoded: the renderers went untested");
}

/// One edit, at any offset (taken modulo the payload's length).
fn edit() -> impl Strategy<Value = (usize, Edit)> {
    let kind = proptest::prop_oneof![
        any::<u8>().prop_map(Edit::Flip),
        Just(Edit::Zero),
        Just(Edit::Ones),
        any::<u8>().prop_map(Edit::Set),
        Just(Edit::None32),
        Just(Edit::Max64),
        proptest::prop_oneof![Just(f64::INFINITY), Just(f64::NAN), Just(1e300), any::<f64>()].prop_map(Edit::Float),
    ];
    (0usize..1 << 16, kind)
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]

    /// Several edits at once, anywhere in the payload.
    #[test]
    fn damaged_profiles_render_or_are_refused(base in 0usize..3, edits in proptest::collection::vec(edit(), 1..6)) {
        let good = format::decode(GOLDEN).unwrap();
        let bytes = damaged(&bases()[base], &edits);
        if let Ok(p) = format::decode(&bytes) {
            watched(p, good);
        }
    }
}
