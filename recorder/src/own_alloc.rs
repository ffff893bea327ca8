//! The profiler's own heap: every Rust allocation of this library goes
//! through [`Counted`], which keeps what is live (usable bytes and chunk
//! overhead) so that the ledger can tell the profiler's blocks from the
//! program's.  The library's own malloc calls are never hooked (its GOT is
//! not patched), so nothing else sees them.

use crate::perl;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicI64, Ordering::Relaxed};

pub struct Counted;

static LIVE_BYTES: AtomicI64 = AtomicI64::new(0);
static LIVE_OVERHEAD: AtomicI64 = AtomicI64::new(0);

/// What the library's live blocks take: usable bytes, and their chunks'
/// overhead.
pub fn live() -> (u64, u64) {
    (LIVE_BYTES.load(Relaxed).max(0) as u64, LIVE_OVERHEAD.load(Relaxed).max(0) as u64)
}

fn count(p: *mut u8, sign: i64) {
    if p.is_null() {
        return;
    }
    let mut mmapped = 0;
    // SAFETY: `p` is a live block malloc gave System (and not freed yet).
    let (usable, overhead) =
        unsafe { (libc::malloc_usable_size(p.cast()), perl::memprof_chunk_overhead(p.cast(), &mut mmapped)) };
    LIVE_BYTES.fetch_add(sign * usable as i64, Relaxed);
    LIVE_OVERHEAD.fetch_add(sign * overhead as i64, Relaxed);
}

// SAFETY: every call is passed on to System unchanged; the counting only
// reads the blocks' sizes while they are live.
unsafe impl GlobalAlloc for Counted {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc(layout) };
        count(p, 1);
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.alloc_zeroed(layout) };
        count(p, 1);
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        count(ptr, -1);
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(ptr, -1);
        // SAFETY: the caller's contract, passed on.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        // A failed realloc leaves the old block as it was.
        count(if p.is_null() { ptr } else { p }, 1);
        p
    }
}
