//! `Devel::MemProf::measure(sub { ... })`: what a block of code allocated,
//! freed and left allocated, for tests that assert memory.  Works with or
//! without `-d`: the allocation hooks are always installed, and site
//! tracking is switched on for the length of the block if it was off.

use super::{recorder, tls};
use crate::perl::{self, memprof_measurement, Interp};
use std::ffi::c_void;

struct ArenaSum<'a> {
    table: &'a perl::memprof_sites,
    since: u64,
    bytes: u64,
}

/// Arena blocks born during the measured block: perl keeps them for
/// later SVs, so they are reported apart from what the code holds.
extern "C" fn add_new_arena(ctx: *mut c_void, block: *const c_void) {
    // SAFETY: ctx is the ArenaSum of measure_end.
    let sum = unsafe { &mut *ctx.cast::<ArenaSum>() };
    if is_new(sum.table, sum.since, block) {
        // SAFETY: an arena block is a live allocation.
        sum.bytes += unsafe { perl::memprof_block_size(block) } as u64;
    }
}

extern "C" fn is_new_arena(ctx: *mut c_void, block: *const c_void) -> i32 {
    // SAFETY: ctx is the list of arena blocks collected in measure_end.
    let arenas = unsafe { &*ctx.cast::<Vec<usize>>() };
    i32::from(arenas.binary_search(&(block as usize)).is_ok())
}

extern "C" fn collect_arena(ctx: *mut c_void, block: *const c_void) {
    // SAFETY: ctx is a Vec<usize> of measure_end.
    unsafe { &mut *ctx.cast::<Vec<usize>>() }.push(block as usize);
}

fn is_new(table: &perl::memprof_sites, since: u64, block: *const c_void) -> bool {
    let mut birth = 0u32;
    // SAFETY: the table is live.
    let site = unsafe { perl::memprof_sites_lookup(table, block, &mut birth) };
    if site == perl::MEMPROF_NO_SITE {
        return false;
    }
    let age = (table.births as u32).wrapping_sub(birth) as u64;
    age <= table.births - since
}

#[no_mangle]
pub extern "C" fn memprof_rs_measure_begin(_interp: Interp, m: *mut memprof_measurement) {
    // SAFETY: the XSUB passes its own measurement struct.
    let m = unsafe { &mut *m };
    // SAFETY: an XSUB holds no reference to the block or the recorder.
    let t = unsafe { tls() };
    m.start_alloc_bytes = t.alloc_bytes;
    m.start_alloc_count = t.alloc_count;
    m.start_free_bytes = t.free_bytes;
    m.start_free_count = t.free_count;
    m.tracking_was_off = 0;
    // SAFETY: the only reference to the recorder in this call.
    let Some(r) = (unsafe { recorder(t) }) else { return };
    if r.sites.is_none() {
        r.sites = Some(super::sites::Sites::new());
    }
    if t.sites.is_null() {
        m.tracking_was_off = 1;
        r.attach_sites(t);
    }
    r.measuring += 1;
    t.cur_site = perl::MEMPROF_UNRESOLVED;
    m.start_births = r.sites.as_ref().map_or(0, |s| s.table.births);
}

#[no_mangle]
pub extern "C" fn memprof_rs_measure_end(interp: Interp, m: *mut memprof_measurement) {
    // SAFETY: the XSUB passes the struct it gave measure_begin.
    let m = unsafe { &mut *m };
    // SAFETY: as in memprof_rs_measure_begin.
    let t = unsafe { tls() };
    m.alloc_bytes = t.alloc_bytes - m.start_alloc_bytes;
    m.alloc_count = t.alloc_count - m.start_alloc_count;
    m.free_bytes = t.free_bytes - m.start_free_bytes;
    m.free_count = t.free_count - m.start_free_count;
    // SAFETY: the only reference to the recorder in this call.
    let Some(r) = (unsafe { recorder(t) }) else { return };
    r.measuring = r.measuring.saturating_sub(1);
    let Some(s) = r.sites.as_mut() else { return };
    let mut arenas: Vec<usize> = Vec::new();
    // SAFETY: the interpreter is live; the callbacks only read.
    unsafe {
        perl::memprof_for_each_arena(interp, Some(collect_arena), (&mut arenas as *mut Vec<usize>).cast());
    }
    arenas.sort_unstable();
    let mut sum = ArenaSum { table: &s.table, since: m.start_births, bytes: 0 };
    // SAFETY: as above.
    unsafe {
        perl::memprof_for_each_arena(interp, Some(add_new_arena), (&mut sum as *mut ArenaSum).cast());
        m.retained_bytes = perl::memprof_sites_live_since(
            &*s.table,
            m.start_births,
            Some(is_new_arena),
            (&mut arenas as *mut Vec<usize>).cast(),
        );
    }
    m.retained_arena_bytes = sum.bytes;
    if m.tracking_was_off != 0 && r.measuring == 0 {
        super::Recorder::detach_sites(t);
        // SAFETY: nothing uses the table once detached.
        unsafe { perl::memprof_sites_clear(&mut *s.table) };
    }
    t.cur_site = perl::MEMPROF_UNRESOLVED;
}
