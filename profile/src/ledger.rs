//! The ledger (format version 5): where the process's data segment
//! (VmData) and its anonymous resident memory (RssAnon) go, as rows that
//! add up to them exactly.
//!
//! Three sources, each read once per snapshot: the heap walk (what perl's
//! data and structures hold, at malloc's usable sizes), malloc's own
//! statistics (`mallinfo2`: what its arenas hold in use and free), and
//! `/proc/self/smaps` (what every mapping is).  The parser here is fed the
//! file a line at a time and allocates nothing, so the recorder can run it
//! while the heap it measures stays as it is.

use serde::{Deserialize, Serialize};

/// What glibc reserves for each arena heap of a thread (HEAP_MAX_SIZE on
/// 64-bit): its heaps start at a multiple of it.
pub const ARENA_HEAP_ALIGN: u64 = 64 << 20;

/// One snapshot's ledger.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Ledger {
    /// VmData of /proc/self/status, or None when it could not be read.
    pub vmdata_bytes: Option<u64>,
    /// RssAnon of /proc/self/status, or None.
    pub rss_anon_bytes: Option<u64>,
    /// Rows adding up to `vmdata_bytes`, the last named `unexplained`.
    pub rows: Vec<Row>,
    /// Rows adding up to `rss_anon_bytes`, the last named `unexplained`.
    pub rss_rows: Vec<Row>,
    /// malloc's statistics, when `mallinfo2` exists.
    pub malloc: Option<MallocStats>,
    /// What could not be measured, and why.
    pub notes: Vec<String>,
}

#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct Row {
    /// One of the names in [`ROWS`] or [`RSS_ROWS`].
    pub name: String,
    /// Signed: `unexplained` is a remainder.
    pub bytes: i64,
}

/// `mallinfo2`'s figures, summed over malloc's arenas.
#[derive(Serialize, Deserialize, Clone, Debug, Default, PartialEq)]
pub struct MallocStats {
    /// Memory the arenas got with sbrk or as heaps (`arena`).
    pub arena_bytes: u64,
    /// Chunks in use in the arenas, headers included (`uordblks`).
    pub in_use_bytes: u64,
    /// Free chunks in the arenas, the top chunk included (`fordblks`).
    pub free_bytes: u64,
    /// The main arena's top chunk (`keepcost`).
    pub top_bytes: u64,
    /// Blocks malloc got with mmap (`hblkhd`, `hblks`).
    pub mmapped_bytes: u64,
    pub mmapped_blocks: u64,
    /// Free chunks (`ordblks`).
    pub free_chunks: u64,
}

/// The VmData rows, in order, with what the renderers call them.
pub const ROWS: [(&str, &str); 13] = [
    ("perl_data", "perl data reached from names"),
    ("unreachable", "unreachable SVs"),
    ("perl_internals", "perl's own structures (op trees, pads, stacks, interpreter)"),
    ("free_arena_slots", "free slots in perl's SV arenas"),
    ("untracked", "blocks allocated before profiling began (or by code not hooked)"),
    ("profiler", "the profiler's own (its tables and records)"),
    ("chunk_overhead", "malloc's chunk overhead (chunk size less usable size)"),
    ("free_chunks", "malloc's free chunks (fragmentation)"),
    ("top_pad", "malloc's top pad"),
    ("libraries", "writable data of the executable and libraries"),
    ("thread_stacks", "thread stacks"),
    ("other_mappings", "other anonymous mappings"),
    ("unexplained", "unexplained"),
];

/// The RssAnon rows.
pub const RSS_ROWS: [(&str, &str); 5] = [
    ("malloc_heap", "malloc's heap (sbrk and thread arenas)"),
    ("anonymous_mappings", "anonymous mappings (malloc's large blocks, the profiler's table, others)"),
    ("libraries", "copied pages of the executable and libraries"),
    ("stacks", "stacks"),
    ("unexplained", "unexplained"),
];

/// What a row's name means, for the renderers.
pub fn describe(name: &str) -> &str {
    ROWS.iter().chain(RSS_ROWS.iter()).find(|r| r.0 == name).map_or(name, |r| r.1)
}

impl Ledger {
    /// A row's bytes (0 when the ledger has no such row).
    pub fn row(&self, name: &str) -> i64 {
        self.rows.iter().filter(|r| r.name == name).map(|r| r.bytes).sum()
    }

    pub fn rss_row(&self, name: &str) -> i64 {
        self.rss_rows.iter().filter(|r| r.name == name).map(|r| r.bytes).sum()
    }

    /// `self` less `before`, row by row (rows either lacks count as 0).
    pub fn difference(&self, before: &Ledger) -> Ledger {
        let diff = |a: &[Row], b: &[Row]| {
            let mut names: Vec<&str> = a.iter().map(|r| r.name.as_str()).collect();
            for r in b {
                if !names.contains(&r.name.as_str()) {
                    names.push(&r.name);
                }
            }
            let get = |rows: &[Row], n: &str| rows.iter().filter(|r| r.name == n).map(|r| r.bytes).sum::<i64>();
            // `unexplained` stays last.
            names.sort_by_key(|n| *n == "unexplained");
            names.iter().map(|n| Row { name: (*n).to_string(), bytes: get(a, n) - get(b, n) }).collect::<Vec<_>>()
        };
        let sub = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.wrapping_sub(b)),
            _ => None,
        };
        let mut notes = self.notes.clone();
        notes.extend(before.notes.iter().filter(|n| !self.notes.contains(n)).cloned());
        Ledger {
            vmdata_bytes: sub(self.vmdata_bytes, before.vmdata_bytes),
            rss_anon_bytes: sub(self.rss_anon_bytes, before.rss_anon_bytes),
            rows: diff(&self.rows, &before.rows),
            rss_rows: diff(&self.rss_rows, &before.rss_rows),
            malloc: None,
            notes,
        }
    }
}

/// What the heap walk measured, at malloc's usable sizes.
#[derive(Clone, Copy, Debug, Default)]
pub struct PerlFigures {
    pub reached_bytes: u64,
    pub reached_arena_bytes: u64,
    pub unreachable_bytes: u64,
    pub unreachable_arena_bytes: u64,
    /// Arena blocks and perl's stacks, and of them the stacks.
    pub arena_blocks_bytes: u64,
    pub stack_bytes: u64,
    /// Tracked blocks no SV owns.
    pub other_bytes: i64,
    /// Every block the walk knows of: tracked, and owned from before.
    pub known_bytes: u64,
    /// Their chunks' sizes less their usable sizes.
    pub known_overhead_bytes: u64,
}

/// What the profiler itself holds.
#[derive(Clone, Copy, Debug, Default)]
pub struct ProfilerFigures {
    /// Its malloc'd blocks: usable bytes, and chunk overhead.
    pub malloc_bytes: u64,
    pub malloc_overhead_bytes: u64,
    /// Its own mappings (the site table).
    pub mapped_bytes: u64,
}

/// The status file's two figures.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Status {
    pub vmdata_bytes: Option<u64>,
    pub rss_anon_bytes: Option<u64>,
}

/// Read VmData and RssAnon from /proc/self/status's lines.
pub fn status_line(line: &[u8], s: &mut Status) {
    if let Some(rest) = line.strip_prefix(b"VmData:") {
        s.vmdata_bytes = kb(rest);
    } else if let Some(rest) = line.strip_prefix(b"RssAnon:") {
        s.rss_anon_bytes = kb(rest);
    }
}

/// (VmRSS, VmData) from the start of /proc/self/status, for the timeline:
/// it reads them often, and the file is some 1,500 bytes of 55 lines, so
/// the two are searched for rather than every line split and matched.
pub fn vm_figures(status: &[u8]) -> Option<(u64, u64)> {
    let field = |name: &[u8]| {
        let at = memchr::memmem::find(status, name)? + name.len();
        let rest = &status[at..];
        kb(&rest[..memchr::memchr(b'\n', rest).unwrap_or(rest.len())])
    };
    Some((field(b"\nVmRSS:")?, field(b"\nVmData:")?))
}

/// "   123 kB" as bytes.
fn kb(rest: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(rest).ok()?;
    let mut words = text.split_whitespace();
    let n: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => Some(n * 1024),
        _ => None,
    }
}

/// The mappings' sizes by what they are.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapSums {
    pub mappings: u64,
    /// Private writable mappings but the stack: the kernel's VmData.
    pub data_bytes: u64,
    /// Of them: [heap] and thread arenas' heaps.
    pub malloc_heap_bytes: u64,
    /// Writable data of files, and the bss after each.
    pub library_bytes: u64,
    /// Anonymous mappings under a guard page.
    pub thread_stack_bytes: u64,
    pub anonymous_bytes: u64,
    /// `Anonymous:` pages of every mapping (the kernel's RssAnon), by kind.
    pub rss_anon_bytes: u64,
    pub rss_malloc_heap: u64,
    pub rss_anonymous: u64,
    pub rss_libraries: u64,
    pub rss_stacks: u64,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Name {
    #[default]
    Anonymous,
    Heap,
    Stack,
    /// [vdso], [vvar] and the like.
    Special,
    File,
}

#[derive(Clone, Copy, Debug, Default)]
struct Mapping {
    start: u64,
    end: u64,
    read: bool,
    write: bool,
    exec: bool,
    private: bool,
    name: Name,
    anon_rss: u64,
}

impl Mapping {
    fn none_access(&self) -> bool {
        !self.read && !self.write && !self.exec
    }
}

/// /proc/self/smaps, a line at a time.
#[derive(Default)]
pub struct SmapsParser<'a> {
    /// The loaded objects' bss (start, end), page-aligned: from their
    /// program headers, since the kernel merges a bss with the anonymous
    /// mappings placed after it.
    bss: &'a [(u64, u64)],
    /// The mapping before `pending`, `pending` (waiting for the next, which
    /// tells an arena heap), and the one being read.
    before: Option<Mapping>,
    pending: Option<Mapping>,
    current: Option<Mapping>,
    sums: MapSums,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Class {
    MallocHeap,
    Library,
    ThreadStack,
    MainStack,
    Anonymous,
}

impl<'a> SmapsParser<'a> {
    pub fn new(bss: &'a [(u64, u64)]) -> SmapsParser<'a> {
        SmapsParser { bss, ..SmapsParser::default() }
    }

    pub fn line(&mut self, line: &[u8]) {
        if let Some(m) = header(line) {
            if let Some(c) = self.current.take() {
                self.push(c);
            }
            self.current = Some(m);
        } else if let Some(rest) = line.strip_prefix(b"Anonymous:") {
            if let Some(c) = self.current.as_mut() {
                c.anon_rss = kb(rest).unwrap_or(0);
            }
        }
    }

    /// A mapping is read in full: the one before it can be classed now.
    fn push(&mut self, m: Mapping) {
        if let Some(p) = self.pending.take() {
            self.class(p, Some(&m));
            self.before = Some(p);
        }
        self.pending = Some(m);
    }

    fn class(&mut self, m: Mapping, next: Option<&Mapping>) {
        let before = self.before;
        // The bss of the loaded objects: an anonymous mapping after a
        // file's data, which mmap'd blocks placed right after it join.
        let bss: u64 = if m.name == Name::Anonymous {
            self.bss.iter().map(|&(a, b)| b.min(m.end).saturating_sub(a.max(m.start))).sum()
        } else {
            0
        };
        let class = match m.name {
            Name::Heap => Class::MallocHeap,
            Name::Stack => Class::MainStack,
            Name::File => Class::Library,
            Name::Special => Class::Anonymous,
            Name::Anonymous => {
                let guard_after =
                    next.is_some_and(|n| n.name == Name::Anonymous && n.start == m.end && n.none_access());
                let guard_before =
                    before.is_some_and(|b| b.name == Name::Anonymous && b.end == m.start && b.none_access());
                if m.write && m.start % ARENA_HEAP_ALIGN == 0 && (guard_after || m.end - m.start == ARENA_HEAP_ALIGN) {
                    Class::MallocHeap
                } else if m.write && guard_before && bss == 0 {
                    Class::ThreadStack
                } else {
                    Class::Anonymous
                }
            }
        };
        let s = &mut self.sums;
        s.mappings += 1;
        s.rss_anon_bytes += m.anon_rss;
        // Which pages of a mixed mapping are resident is not told: the bss
        // gets them first.
        let bss_rss = m.anon_rss.min(bss);
        s.rss_libraries += bss_rss;
        let rss = m.anon_rss - bss_rss;
        match class {
            Class::MallocHeap => s.rss_malloc_heap += rss,
            Class::Library => s.rss_libraries += rss,
            Class::ThreadStack | Class::MainStack => s.rss_stacks += rss,
            Class::Anonymous => s.rss_anonymous += rss,
        }
        // The kernel's data_vm: writable, private, not the stack.
        if !(m.write && m.private) || class == Class::MainStack {
            return;
        }
        let size = m.end - m.start;
        s.data_bytes += size;
        s.library_bytes += bss;
        let size = size - bss;
        match class {
            Class::MallocHeap => s.malloc_heap_bytes += size,
            Class::Library => s.library_bytes += size,
            Class::ThreadStack => s.thread_stack_bytes += size,
            Class::Anonymous => s.anonymous_bytes += size,
            Class::MainStack => {}
        }
    }

    pub fn finish(mut self) -> MapSums {
        if let Some(c) = self.current.take() {
            self.push(c);
        }
        if let Some(p) = self.pending.take() {
            self.class(p, None);
        }
        self.sums
    }
}

/// "7f..-7f.. rw-p 00000000 00:00 0      [heap]", or None for a field line.
fn header(line: &[u8]) -> Option<Mapping> {
    let text = std::str::from_utf8(line).ok()?;
    let mut f = text.split_ascii_whitespace();
    let range = f.next()?;
    let (a, b) = range.split_once('-')?;
    let start = u64::from_str_radix(a, 16).ok()?;
    let end = u64::from_str_radix(b, 16).ok()?;
    let perms = f.next()?.as_bytes();
    if perms.len() != 4 || end < start {
        return None;
    }
    let _offset = f.next()?;
    let _dev = f.next()?;
    let inode: u64 = f.next()?.parse().ok()?;
    let path = f.next();
    let name = match path {
        Some("[heap]") => Name::Heap,
        Some("[stack]") => Name::Stack,
        Some(p) if p.starts_with('[') => Name::Special,
        Some(_) => Name::File,
        None if inode != 0 => Name::File,
        None => Name::Anonymous,
    };
    Some(Mapping {
        start,
        end,
        read: perms[0] == b'r',
        write: perms[1] == b'w',
        exec: perms[2] == b'x',
        private: perms[3] == b'p',
        name,
        anon_rss: 0,
    })
}

/// Feed `each` the complete lines of a file read in pieces into `buf`
/// (whose size bounds a line: longer ones are cut).  `read` fills a slice
/// and says how much it read, 0 at the end.
pub fn for_each_line<E>(
    buf: &mut [u8],
    mut read: impl FnMut(&mut [u8]) -> Result<usize, E>,
    mut each: impl FnMut(&[u8]),
) -> Result<(), E> {
    let mut len = 0usize;
    loop {
        if len == buf.len() {
            // A line longer than the buffer: give what there is of it.
            each(&buf[..len]);
            len = 0;
        }
        let n = read(&mut buf[len..])?;
        if n == 0 {
            if len > 0 {
                each(&buf[..len]);
            }
            return Ok(());
        }
        len += n;
        let mut start = 0;
        while let Some(nl) = buf[start..len].iter().position(|&c| c == b'\n') {
            each(&buf[start..start + nl]);
            start += nl + 1;
        }
        buf.copy_within(start..len, 0);
        len -= start;
    }
}

/// Everything the recorder measured, read at one moment.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    pub status: Option<Status>,
    pub maps: Option<MapSums>,
    pub malloc: Option<MallocStats>,
    pub perl: PerlFigures,
    pub profiler: ProfilerFigures,
    /// Whether the walk saw every tracked block (site tracking, unsampled).
    pub tracked: bool,
    pub notes: Vec<String>,
}

fn row(name: &str, bytes: i64) -> Row {
    Row { name: name.to_string(), bytes }
}

/// Make the rows: each measured, and `unexplained` what VmData (RssAnon)
/// holds beyond their sum.
pub fn compute(i: Inputs) -> Ledger {
    let mut notes = i.notes;
    let status = i.status.unwrap_or_default();
    let mut vmdata = status.vmdata_bytes;
    let mut rss_anon = status.rss_anon_bytes;
    if i.status.is_none() || vmdata.is_none() {
        // The mappings add up to the same figure, when they could be read.
        if let Some(m) = &i.maps {
            vmdata = Some(m.data_bytes);
            rss_anon = Some(m.rss_anon_bytes);
            notes.push("VmData and RssAnon are the sums of /proc/self/smaps".into());
        }
    }
    let p = &i.perl;
    let s = |v: u64| v as i64;
    let mut rows = vec![
        row("perl_data", s(p.reached_bytes + p.reached_arena_bytes)),
        row("unreachable", s(p.unreachable_bytes + p.unreachable_arena_bytes)),
        row("perl_internals", p.other_bytes + s(p.stack_bytes)),
        row(
            "free_arena_slots",
            s(p.arena_blocks_bytes) - s(p.stack_bytes) - s(p.reached_arena_bytes) - s(p.unreachable_arena_bytes),
        ),
    ];
    let profiler_malloc = s(i.profiler.malloc_bytes + i.profiler.malloc_overhead_bytes);
    if let Some(m) = &i.malloc {
        // malloc's chunks in use, less what the walk and the profiler know.
        let in_use = s(m.in_use_bytes + m.mmapped_bytes);
        let known = s(p.known_bytes + p.known_overhead_bytes);
        rows.push(row("untracked", in_use - known - profiler_malloc));
        rows.push(row("profiler", profiler_malloc + s(i.profiler.mapped_bytes)));
        rows.push(row("chunk_overhead", s(p.known_overhead_bytes)));
        rows.push(row("free_chunks", s(m.free_bytes) - s(m.top_bytes)));
        rows.push(row("top_pad", s(m.top_bytes)));
    } else {
        rows.push(row("profiler", profiler_malloc + s(i.profiler.mapped_bytes)));
    }
    if !i.tracked {
        notes.push("no site table was walked (site tracking off or sampled): perl's own structures are counted with the untracked blocks".into());
    }
    if let Some(m) = &i.maps {
        rows.push(row("libraries", s(m.library_bytes)));
        rows.push(row("thread_stacks", s(m.thread_stack_bytes)));
        let mmapped = i.malloc.as_ref().map_or(0, |m| m.mmapped_bytes);
        rows.push(row("other_mappings", s(m.anonymous_bytes) - s(mmapped) - s(i.profiler.mapped_bytes)));
        if i.malloc.is_none() {
            // Without malloc's figures the heap's mappings stay one row.
            let perl: i64 = rows.iter().map(|r| r.bytes).sum();
            rows.push(row("malloc_rest", s(m.malloc_heap_bytes) - perl));
        }
    }
    if let Some(v) = vmdata {
        let sum: i64 = rows.iter().map(|r| r.bytes).sum();
        rows.push(row("unexplained", s(v) - sum));
    } else {
        notes.push("VmData could not be read: no unexplained row".into());
    }
    let mut rss_rows = Vec::new();
    if let Some(m) = &i.maps {
        rss_rows.push(row("malloc_heap", s(m.rss_malloc_heap)));
        rss_rows.push(row("anonymous_mappings", s(m.rss_anonymous)));
        rss_rows.push(row("libraries", s(m.rss_libraries)));
        rss_rows.push(row("stacks", s(m.rss_stacks)));
    }
    if let Some(r) = rss_anon {
        let sum: i64 = rss_rows.iter().map(|r| r.bytes).sum();
        rss_rows.push(row("unexplained", s(r) - sum));
    }
    Ledger { vmdata_bytes: vmdata, rss_anon_bytes: rss_anon, rows, rss_rows, malloc: i.malloc, notes }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0c0000000-55d0c0001000 r--p 00000000 08:01 1234   /usr/bin/perl
Anonymous:             0 kB
55d0c0200000-55d0c0203000 rw-p 00200000 08:01 1234   /usr/bin/perl
Anonymous:             8 kB
55d0c0203000-55d0c0205000 rw-p 00000000 00:00 0
Anonymous:             8 kB
55d0c1000000-55d0c1400000 rw-p 00000000 00:00 0      [heap]
Anonymous:          4000 kB
7f0004000000-7f0004021000 rw-p 00000000 00:00 0
Anonymous:           100 kB
7f0004021000-7f0008000000 ---p 00000000 00:00 0
Anonymous:             0 kB
7f0010000000-7f0010001000 ---p 00000000 00:00 0
Anonymous:             0 kB
7f0010001000-7f0010801000 rw-p 00000000 00:00 0
Anonymous:            12 kB
7f0020000000-7f0020100000 rw-p 00000000 00:00 0
Anonymous:          1024 kB
7f0030000000-7f0030001000 r--p 00001000 08:01 99     /usr/lib/libc.so.6
Anonymous:             4 kB
7ffc00000000-7ffc00021000 rw-p 00000000 00:00 0      [stack]
Anonymous:            20 kB
";

    fn parse(text: &str) -> MapSums {
        // perl's bss, and a library's whose anonymous mapping an mmap'd
        // block joined.
        let bss = [(0x55d0c0203000, 0x55d0c0205000), (0x7f0020000000, 0x7f0020002000)];
        let mut p = SmapsParser::new(&bss);
        let mut buf = [0u8; 64];
        let mut src = text.as_bytes();
        for_each_line(
            &mut buf,
            |b: &mut [u8]| -> Result<usize, ()> {
                let n = b.len().min(src.len()).min(7);
                b[..n].copy_from_slice(&src[..n]);
                src = &src[n..];
                Ok(n)
            },
            |l| p.line(l),
        )
        .unwrap();
        p.finish()
    }

    #[test]
    fn mappings_are_classed_as_the_kernel_counts_them() {
        let m = parse(SMAPS);
        assert_eq!(m.mappings, 11);
        assert_eq!(m.library_bytes, 0x3000 + 0x2000 + 0x2000, "the files' data and their bss");
        assert_eq!(m.malloc_heap_bytes, 0x40_0000 + 0x21000, "[heap] and a thread arena");
        assert_eq!(m.thread_stack_bytes, 0x80_0000, "under its guard page");
        assert_eq!(m.anonymous_bytes, 0x10_0000 - 0x2000, "an mmap'd block joined to a bss");
        assert_eq!(
            m.data_bytes,
            m.library_bytes + m.malloc_heap_bytes + m.thread_stack_bytes + m.anonymous_bytes,
            "guard pages, read-only mappings and [stack] are not VmData"
        );
        assert_eq!(m.rss_anon_bytes, (8 + 8 + 4000 + 100 + 12 + 1024 + 4 + 20) * 1024);
        assert_eq!(m.rss_libraries, (8 + 8 + 8 + 4) * 1024);
        assert_eq!(m.rss_stacks, (12 + 20) * 1024);
        assert_eq!(m.rss_malloc_heap, 4100 * 1024);
    }

    #[test]
    fn status_gives_vmdata_and_rss_anon() {
        let mut s = Status::default();
        for l in
            ["Name:\tperl", "VmData:\t  118004 kB", "VmRSS:\t 95000 kB", "RssAnon:\t   90000 kB", "VmStk:\t 132 kB"]
        {
            status_line(l.as_bytes(), &mut s);
        }
        assert_eq!(s, Status { vmdata_bytes: Some(118_004 * 1024), rss_anon_bytes: Some(90_000 * 1024) });
    }

    #[test]
    fn vm_figures_are_found_in_the_whole_file() {
        let status = b"Name:\tperl\nUmask:\t0022\nGroups:\t1 2 3\nVmPeak:\t  200000 kB\nVmRSS:\t   95000 kB\n\
RssAnon:\t   90000 kB\nVmData:\t  118004 kB\nVmStk:\t     132 kB\n";
        assert_eq!(vm_figures(status), Some((95_000 * 1024, 118_004 * 1024)));
        // Cut before the end of VmData's line (a buffer too short): its number is still whole.
        let cut = memchr::memmem::find(status, b" kB\nVmStk").unwrap();
        assert_eq!(vm_figures(&status[..cut]), None);
        assert_eq!(vm_figures(&status[..cut + 3]), Some((95_000 * 1024, 118_004 * 1024)));
        // Not at the start of a line: RssAnon's "VmRSS"-like text does not count.
        assert_eq!(vm_figures(b"Name:\tXVmRSS: 1 kB\nVmData:\t 2 kB\n"), None);
        assert_eq!(vm_figures(b""), None);
    }

    #[test]
    fn rows_add_up_to_vmdata_exactly() {
        let maps = parse(SMAPS);
        let malloc = MallocStats {
            arena_bytes: 0x40_0000 + 0x21000,
            in_use_bytes: 3_000_000,
            free_bytes: 0x42_1000 - 3_000_000,
            top_bytes: 100_000,
            mmapped_bytes: 0x8_0000,
            mmapped_blocks: 2,
            free_chunks: 50,
        };
        let perl = PerlFigures {
            reached_bytes: 1_000_000,
            reached_arena_bytes: 300_000,
            unreachable_bytes: 1_000,
            unreachable_arena_bytes: 480,
            arena_blocks_bytes: 400_000,
            stack_bytes: 20_000,
            other_bytes: 500_000,
            known_bytes: 1_901_000,
            known_overhead_bytes: 80_000,
        };
        let profiler = ProfilerFigures { malloc_bytes: 50_000, malloc_overhead_bytes: 800, mapped_bytes: 0x1000 };
        let vmdata = maps.data_bytes + 12_288;
        let l = compute(Inputs {
            status: Some(Status { vmdata_bytes: Some(vmdata), rss_anon_bytes: Some(maps.rss_anon_bytes) }),
            maps: Some(maps),
            malloc: Some(malloc),
            perl,
            profiler,
            tracked: true,
            notes: Vec::new(),
        });
        let names: Vec<&str> = l.rows.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, ROWS.iter().map(|r| r.0).collect::<Vec<_>>());
        assert_eq!(l.rows.iter().map(|r| r.bytes).sum::<i64>(), vmdata as i64);
        assert_eq!(l.row("unexplained"), 12_288, "what the mappings hold beyond malloc's arena");
        assert_eq!(l.row("free_arena_slots"), 400_000 - 20_000 - 300_000 - 480);
        assert_eq!(l.row("untracked"), 3_000_000 + 0x8_0000 - 1_981_000 - 50_800);
        assert_eq!(l.row("other_mappings"), 0x10_0000 - 0x2000 - 0x8_0000 - 0x1000);
        assert_eq!(l.rss_rows.iter().map(|r| r.bytes).sum::<i64>(), l.rss_anon_bytes.unwrap() as i64);
        assert_eq!(l.rss_row("unexplained"), 0);
        let d = l.difference(&l);
        assert!(d.rows.iter().all(|r| r.bytes == 0));
        assert_eq!(d.rows.last().map(|r| r.name.as_str()), Some("unexplained"));
    }

    #[test]
    fn without_proc_the_rows_it_could_measure_and_a_note() {
        let l =
            compute(Inputs { perl: PerlFigures { reached_bytes: 10, ..PerlFigures::default() }, ..Inputs::default() });
        assert_eq!(l.vmdata_bytes, None);
        assert_eq!(l.row("perl_data"), 10);
        assert!(!l.rows.iter().any(|r| r.name == "unexplained"));
        assert!(l.notes.iter().any(|n| n.contains("VmData could not be read")));
    }

    #[test]
    fn long_lines_are_cut_not_lost() {
        let mut lines = Vec::new();
        let text = format!("a\n{}\nb", "x".repeat(100));
        let mut src = text.as_bytes();
        let mut buf = [0u8; 16];
        for_each_line(
            &mut buf,
            |b: &mut [u8]| -> Result<usize, ()> {
                let n = b.len().min(src.len());
                b[..n].copy_from_slice(&src[..n]);
                src = &src[n..];
                Ok(n)
            },
            |l| lines.push(l.to_vec()),
        )
        .unwrap();
        assert_eq!(lines.first().map(Vec::as_slice), Some(&b"a"[..]));
        assert_eq!(lines.last().map(Vec::as_slice), Some(&b"b"[..]));
    }
}
