//! Allocation-site tracking, the recorder's half: which entry allocations
//! are credited to, the per-site statistics the hooks update (see
//! perl-glue/sites.h), and turning them into retained and peak figures,
//! with perl's arena blocks told apart, when the profile is written.

use super::{Recorder, State};
use crate::perl::{self, memprof_site_stats, memprof_sites, memprof_tls};
use memprof_profile::Entry;
use std::ffi::c_void;

/// A site table's lock, taken only once threads share the tables
/// (sites.c); released when dropped.
pub struct TableLock(*mut memprof_sites);

impl TableLock {
    pub fn new(table: &mut memprof_sites) -> TableLock {
        // SAFETY: reads a flag.
        if unsafe { perl::memprof_sites_are_shared() } == 0 {
            return TableLock(std::ptr::null_mut());
        }
        // SAFETY: the table is live; the lock is a spin lock on its field.
        unsafe { perl::memprof_sites_lock(table) };
        TableLock(table)
    }
}

impl Drop for TableLock {
    fn drop(&mut self) {
        if !self.0.is_null() {
            // SAFETY: we took this lock in new().
            unsafe { perl::memprof_sites_unlock(self.0) };
        }
    }
}

/// The recorder's site tracking state.
pub struct Sites {
    /// Shared with the hooks through `memprof_tls.sites` while tracking.
    pub table: Box<memprof_sites>,
    /// One per entry; `table.stats` points into it.
    pub stats: Vec<memprof_site_stats>,
}

impl Sites {
    /// `sample`: the mean bytes between tracked allocations (0: all).
    pub fn new(sample: u64) -> Sites {
        // SAFETY: memprof_sites is plain data; all zeroes is an empty table.
        let mut table = Box::new(unsafe { std::mem::zeroed::<memprof_sites>() });
        table.sample_mean = sample;
        Sites { table, stats: Vec::new() }
    }

    /// Make sure entry `index` has statistics, keeping the hooks' pointer current.
    pub fn ensure(&mut self, index: u32) {
        let want = index as usize + 1;
        if self.stats.len() < want {
            // Another thread may be freeing one of our blocks.
            let _g = TableLock::new(&mut self.table);
            self.stats.resize(want.max(self.stats.len() * 2), memprof_site_stats::default());
            self.table.stats = self.stats.as_mut_ptr();
        }
        self.table.stats = self.stats.as_mut_ptr();
    }

    /// Start afresh from the thread's current `live` (a start, or a fork).
    pub fn reset(&mut self, live: i64) {
        // SAFETY: the table is ours; clearing unmaps its slots.
        unsafe { perl::memprof_sites_clear(&mut *self.table) };
        self.stats.iter_mut().for_each(|s| *s = memprof_site_stats::default());
        let t = &mut *self.table;
        t.births = 0;
        t.peak_live = live;
        t.peak_seq = 0;
        t.peak_births = 0;
        t.untracked_free_bytes = 0;
        t.untracked_free_at_peak = 0;
        t.owned_live = live;
        t.stats = self.stats.as_mut_ptr();
        if t.sample_mean != 0 {
            // A seed of its own for each process (a forked child starts here).
            // SAFETY: getpid has no preconditions.
            let pid = u64::from(unsafe { libc::getpid() } as u32);
            t.sample_rng = (pid << 32) ^ (super::now().to_bits() | 1);
            // SAFETY: the table is ours.
            t.sample_left = unsafe { perl::memprof_sample_interval(t) };
        }
    }

    /// Retained and peak bytes of a site, from the lazily kept snapshots.
    fn figures(&self, index: usize) -> (u64, u64) {
        let Some(st) = self.stats.get(index) else {
            return (0, 0);
        };
        let at_peak = if st.snapshot_seq == self.table.peak_seq { st.peak_snapshot } else { st.live };
        (st.live.max(0) as u64, at_peak.max(0) as u64)
    }
}

struct ArenaWalk<'a> {
    table: &'a memprof_sites,
    entries: &'a mut [Entry],
}

extern "C" fn count_arena(ctx: *mut c_void, block: *const c_void) {
    // SAFETY: ctx is the ArenaWalk passed by arena_bytes below.
    let walk = unsafe { &mut *ctx.cast::<ArenaWalk>() };
    let mut birth = 0u32;
    // SAFETY: the table is live; block is a live arena allocation.
    let site = unsafe { perl::memprof_sites_lookup(walk.table, block, &mut birth) };
    let Some(m) = walk.entries.get_mut(site as usize).map(|e| &mut e.metrics) else {
        return;
    };
    // SAFETY: as above.
    let size = unsafe { perl::memprof_block_size(block) } as u64;
    // SAFETY: the table is live; under sampling a tracked block stands for more.
    let size = unsafe { perl::memprof_sample_weight(walk.table, size) };
    m.retained_arena_bytes += size;
    // Arenas are never freed: one born before the last peak was live at it.
    let t = walk.table;
    let age = (t.births as u32).wrapping_sub(birth) as u64;
    if t.peak_seq > 0 && age > t.births - t.peak_births {
        m.peak_arena_bytes += size;
    }
}

impl Recorder {
    /// Attach the table to the hooks (profiling runs, or measure() needs it).
    pub(super) fn attach_sites(&mut self, t: &mut memprof_tls) {
        if let Some(s) = self.sites.as_mut() {
            s.table.stats = s.stats.as_mut_ptr();
            t.sites = &mut *s.table;
            t.cur_site = perl::MEMPROF_UNRESOLVED;
            // The memo's entries may have no figures in this table.
            Self::forget_entry_memo(t);
        }
    }

    pub(super) fn detach_sites(t: &mut memprof_tls) {
        t.sites = std::ptr::null_mut();
        t.cur_site = perl::MEMPROF_UNRESOLVED;
    }

    /// The entry allocations are credited to now.
    pub(super) fn current_site(&mut self, t: &mut memprof_tls) -> u32 {
        let entry = match self.state {
            State::Running => {
                let (node, file, line) = (t.cur_node, t.cur_file, t.cur_line);
                self.running_entry(t, node, file, line)
            }
            State::Disabled => self.tables.entry(self.pseudo.disabled.node, self.pseudo.disabled.file, 0),
            State::Pending | State::Finished if self.measuring > 0 => {
                let (file, line) = self.measured_line();
                let node = self.measured_stack();
                self.tables.entry(node, file, line)
            }
            _ => return perl::MEMPROF_NO_SITE,
        };
        if let Some(s) = self.sites.as_mut() {
            s.ensure(entry);
        }
        entry
    }

    /// Fill in every entry's retained and peak figures, arenas apart
    /// (unless `arenas` is false: a thread's interpreter may be gone).
    pub(super) fn site_figures(&mut self, arenas: bool) -> Option<(u64, u64)> {
        let s = self.sites.as_mut()?;
        let _g = TableLock::new(&mut s.table);
        let s = self.sites.as_ref()?;
        if s.table.failed != 0 {
            super::warn("site tracking ran out of memory and stopped; this profile has no retained or peak figures");
            return None;
        }
        // Into the entries themselves: a copy of the figures per entry
        // would be in memory with the profile being built.
        let entries = &mut self.tables.entries;
        for (i, e) in entries.iter_mut().enumerate() {
            let (retained, peak) = s.figures(i);
            e.metrics.retained_bytes = retained;
            e.metrics.peak_bytes = peak;
            e.metrics.retained_arena_bytes = 0;
            e.metrics.peak_arena_bytes = 0;
        }
        if arenas {
            let mut walk = ArenaWalk { table: &s.table, entries };
            // SAFETY: the interpreter is live; the callback only reads the table.
            unsafe {
                perl::memprof_for_each_arena(self.interp, Some(count_arena), (&mut walk as *mut ArenaWalk).cast())
            };
        }
        Some((s.table.untracked_free_bytes, s.table.untracked_free_at_peak))
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_current_site(t: *mut memprof_tls) -> u32 {
    // SAFETY: the hook passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let _g = super::threads::guard(t);
    // SAFETY: called from the hooks, while no Rust code holds the recorder.
    match unsafe { super::recorder(t) } {
        Some(r) => r.current_site(t),
        None => perl::MEMPROF_NO_SITE,
    }
}
