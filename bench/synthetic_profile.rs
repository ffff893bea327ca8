//! Writes a synthetic profile of N stacks (default 1,000,000) for timing
//! the `memprof` commands on big profiles:
//!
//!   cargo run --release --example synthetic-profile -- 1000000 /tmp/big.out
//!   /usr/bin/time -v target/release/memprof report /tmp/big.out
//!
//! The shape is a program's: a few hundred files, a few thousand subs,
//! call trees ten to twenty frames deep, several statements per sub.

use memprof_profile::{Entry, Frame, FrameKind, Metrics, Node, Profile, SourceFile, NONE};

/// A small deterministic generator (xorshift), so runs are comparable.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let stacks: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let out = args.get(2).cloned().unwrap_or_else(|| "synthetic.out".into());
    let mut rng = Rng(0x2545_F491_4F6C_DD1D);
    let mut p = Profile::default();
    p.run.script = "synthetic.pl".into();
    p.run.perl_version = "5.36.0".into();
    p.run.writer = "synthetic-profile".into();
    p.run.site_tracking = true;
    for f in 0..300 {
        let lines = (1..=400).map(|n| (n, format!("my $x{n} = build_{f}_{n}(@args);"))).collect();
        p.files.push(SourceFile { name: format!("lib/Module{f}.pm"), source: None, lines });
    }
    p.frames.push(Frame { name: "main".into(), kind: FrameKind::Main, file: 0, line: 0 });
    for s in 0..5000u32 {
        let file = s % 300;
        p.frames.push(Frame { name: format!("Module{file}::sub{s}"), kind: FrameKind::Sub, file, line: 1 + s % 390 });
    }
    p.nodes.push(Node { parent: NONE, frame: 0, call_file: NONE, call_line: 0 });
    // Grow a call tree: each new node hangs under a random recent node.
    while p.entries.len() < stacks {
        let parent = if p.nodes.len() < 64 {
            rng.below(p.nodes.len() as u64) as u32
        } else {
            (p.nodes.len() as u64 - 1 - rng.below(64)) as u32
        };
        let depth_ok = {
            let mut d = 0;
            let mut n = parent;
            while n != NONE {
                d += 1;
                n = p.nodes[n as usize].parent;
            }
            d < 20
        };
        let parent = if depth_ok { parent } else { 0 };
        let frame = 1 + rng.below(5000) as u32;
        let call_file = p.frames[p.nodes[parent as usize].frame as usize].file;
        p.nodes.push(Node { parent, frame, call_file, call_line: 1 + rng.below(400) as u32 });
        let node = (p.nodes.len() - 1) as u32;
        let file = p.frames[frame as usize].file;
        for _ in 0..(1 + rng.below(8)) {
            if p.entries.len() >= stacks {
                break;
            }
            let alloc = 16 + rng.below(1 << 16);
            let free = rng.below(alloc + 1);
            let m = Metrics {
                alloc_bytes: alloc,
                alloc_count: 1 + rng.below(100),
                free_bytes: free,
                free_count: rng.below(100),
                sv_delta: rng.below(10) as i64 - 5,
                retained_bytes: alloc - free,
                peak_bytes: alloc - free / 2,
                ..Metrics::default()
            };
            p.totals.add(&m);
            p.entries.push(Entry { node, file, line: 1 + rng.below(400) as u32, label: NONE, metrics: m });
        }
    }
    p.peak.bytes = p.totals.net_bytes();
    p.peak.entry = 0;
    if let Err(e) = memprof_profile::format::write(std::path::Path::new(&out), &p) {
        eprintln!("synthetic-profile: {e}");
        std::process::exit(2);
    }
    eprintln!("wrote {out}: {} stacks, {} nodes", p.entries.len(), p.nodes.len());
}
