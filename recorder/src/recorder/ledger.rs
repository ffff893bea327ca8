//! The ledger's measurements, taken once a snapshot: /proc/self/status,
//! /proc/self/smaps and mallinfo2, read into buffers on the stack so that
//! reading them changes neither malloc's heap nor the mappings measured.

use crate::own_alloc;
use crate::perl;
use memprof_profile::heap::HeapTotals;
use memprof_profile::ledger::{self, Inputs, Ledger, MallocStats, MapSums, PerlFigures, ProfilerFigures, Status};
use std::ffi::{c_int, c_void};
use std::io::Read;

/// A line of smaps or status is at most a path (PATH_MAX) and its fields.
const LINE_BUFFER: usize = 8192;

/// An OS error allocates nothing; its message is made afterwards.
fn read_lines(path: &str, each: impl FnMut(&[u8])) -> std::io::Result<()> {
    // std opens a path this short with a C string on the stack.
    let mut f = std::fs::File::open(path)?;
    let mut buf = [0u8; LINE_BUFFER];
    ledger::for_each_line(&mut buf, |b| f.read(b), each)
}

fn page_rounded(bytes: u64) -> u64 {
    bytes.div_ceil(4096) * 4096
}

/// The loaded objects' bss, on the stack: dl_iterate_phdr allocates nothing.
struct Bss {
    ranges: [(u64, u64); 1024],
    len: usize,
    page: u64,
}

unsafe extern "C" fn visit_bss(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: dl_iterate_phdr passes a valid info, and `data` is the Bss
    // `bss_ranges` gave it.
    let (info, bss) = unsafe { (&*info, &mut *data.cast::<Bss>()) };
    if info.dlpi_phdr.is_null() {
        return 0;
    }
    // SAFETY: the object's program headers, dlpi_phnum of them.
    let phdrs = unsafe { std::slice::from_raw_parts(info.dlpi_phdr, usize::from(info.dlpi_phnum)) };
    let up = |a: u64| a.div_ceil(bss.page) * bss.page;
    for p in phdrs.iter().filter(|p| p.p_type == libc::PT_LOAD && p.p_memsz > p.p_filesz) {
        // The file's last page holds the bss's start; the rest is anonymous.
        let start = up(info.dlpi_addr + p.p_vaddr + p.p_filesz);
        let end = up(info.dlpi_addr + p.p_vaddr + p.p_memsz);
        if end > start && bss.len < bss.ranges.len() {
            bss.ranges[bss.len] = (start, end);
            bss.len += 1;
        }
    }
    0
}

fn bss_ranges(bss: &mut Bss) {
    // SAFETY: sysconf has no preconditions.
    bss.page = u64::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096).max(1);
    // SAFETY: visit_bss reads the headers and writes only into `bss`.
    unsafe { libc::dl_iterate_phdr(Some(visit_bss), (bss as *mut Bss).cast()) };
}

/// Measure now.  `extra`: the heap walk's figures for the ledger (stacks,
/// chunk overhead); `site_table_bytes`: the site table's mapping.
pub(super) fn measure(t: &HeapTotals, extra: (u64, u64), tracked: bool, site_table_bytes: u64) -> Ledger {
    let mut notes = Vec::new();
    // Sizes and statistics first, and the paths' messages (which
    // allocate) only after the last figure is read.
    let mut status = Status::default();
    let status_ok = read_lines("/proc/self/status", |l| ledger::status_line(l, &mut status));
    let mut bss = Bss { ranges: [(0, 0); 1024], len: 0, page: 4096 };
    bss_ranges(&mut bss);
    let mut parser = ledger::SmapsParser::new(&bss.ranges[..bss.len]);
    let smaps_ok = read_lines("/proc/self/smaps", |l| parser.line(l));
    let maps: MapSums = parser.finish();
    let mut m = perl::memprof_malloc_stats::default();
    // SAFETY: fills `m`; allocates nothing.
    let have_malloc = unsafe { perl::memprof_malloc_stats(&mut m) } == 0;
    let (own_bytes, own_overhead) = own_alloc::live();
    let malloc = have_malloc.then_some(MallocStats {
        arena_bytes: m.arena,
        in_use_bytes: m.uordblks,
        free_bytes: m.fordblks,
        top_bytes: m.keepcost,
        mmapped_bytes: m.hblkhd,
        mmapped_blocks: m.hblks,
        free_chunks: m.ordblks,
    });
    let status = match status_ok {
        Ok(()) if status.vmdata_bytes.is_some() => Some(status),
        Ok(()) => {
            notes.push("/proc/self/status has no VmData".to_string());
            None
        }
        Err(e) => {
            notes.push(format!("could not read /proc/self/status: {e}"));
            None
        }
    };
    let maps = match smaps_ok {
        Ok(()) if maps.mappings > 0 => Some(maps),
        Ok(()) => {
            notes.push("/proc/self/smaps lists no mapping: the mappings' rows are missing".to_string());
            None
        }
        Err(e) => {
            notes.push(format!("could not read /proc/self/smaps: {e}: the mappings' rows are missing"));
            None
        }
    };
    if !have_malloc {
        notes.push("mallinfo2 is not available (glibc 2.33 or later): malloc's rows are missing".to_string());
    }
    let (stack_bytes, known_overhead_bytes) = extra;
    let perl = PerlFigures {
        reached_bytes: t.reached_bytes,
        reached_arena_bytes: t.reached_arena_bytes,
        unreachable_bytes: t.unreachable_bytes,
        unreachable_arena_bytes: t.unreachable_arena_bytes,
        arena_blocks_bytes: t.arena_blocks_bytes,
        stack_bytes,
        other_bytes: t.other_bytes,
        known_bytes: t.heap_bytes,
        known_overhead_bytes,
    };
    let profiler = ProfilerFigures {
        malloc_bytes: own_bytes,
        malloc_overhead_bytes: own_overhead,
        mapped_bytes: page_rounded(site_table_bytes),
    };
    ledger::compute(Inputs { status, maps, malloc, perl, profiler, tracked, notes })
}

/// (VmRSS, VmData) now, for the timeline's samples; None without /proc.
pub(super) fn read_vm() -> Option<(u64, u64)> {
    let mut f = std::fs::File::open("/proc/self/status").ok()?;
    // Both lines are in the first 1,000 bytes but for a long Groups line.
    let mut buf = [0u8; 4096];
    let mut len = 0;
    while len < buf.len() {
        match f.read(&mut buf[len..]).ok()? {
            0 => break,
            n => len += n,
        }
        // One read gives the whole file: no second one to see its end.
        if let Some(figures) = ledger::vm_figures(&buf[..len]) {
            return Some(figures);
        }
    }
    None
}
