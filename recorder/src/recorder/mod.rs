//! The recorder: per-interpreter state of the profiler inside the perl
//! process, and the entry points the C glue calls.
//!
//! The C runloop calls in only at statement boundaries, and only when
//! something changed: memory moved ([`memprof_rs_flush`]), the innermost
//! frame changed ([`memprof_rs_sync`], in `stack.rs`), or a COP's file is
//! not in the cache ([`memprof_rs_file_id`]).  None of this calls back into
//! perl or allocates through perl's allocator.

mod attach;
pub(crate) mod entry;
mod heap;
mod ledger;
pub(crate) mod measure;
pub(crate) mod native;
pub(crate) mod sites;
mod stack;
pub(crate) mod threads;
pub(crate) mod trace;
mod write;

use crate::perl::{self, memprof_tls, Interp};
use memprof_profile::builder::Tables;
use memprof_profile::options::Options;
use memprof_profile::timeline::{self, Timeline};
use memprof_profile::{FrameKind, Mark, Metrics, Peak, NONE};
use sites::Sites;
use stack::Stack;
use std::path::PathBuf;
use trace::Trace;

/// Where the recorder is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Loaded, waiting for the moment `start=` names.
    Pending,
    /// Crediting memory to statements.
    Running,
    /// Stopped by `DB::disable_profile`: memory goes to `(disabled)`.
    Disabled,
    /// The profile has been written.
    Finished,
}

/// Roots that are not statements: see doc/profile.md, "pseudo-locations".
/// Each is a root node and a file of the same name, at line 0.
#[derive(Clone, Copy)]
struct PseudoLocation {
    node: u32,
    file: u32,
}

struct Pseudo {
    startup: PseudoLocation,
    exit: PseudoLocation,
    disabled: PseudoLocation,
    /// What a trace callback allocates.
    callback: PseudoLocation,
    /// Blocks a measure() outside a profile allocates.
    measure: PseudoLocation,
}

pub struct Recorder {
    interp: Interp,
    opts: Options,
    state: State,
    tables: Tables,
    stack: Stack,
    main_node: u32,
    script_file: u32,
    pseudo: Pseudo,
    /// `live` when profiling started: the heap's growth is measured from it.
    start_live: i64,
    peak: Peak,
    main_done: bool,
    main_leave_patched: bool,
    /// The process that loaded us, and the one now running (after a fork).
    first_pid: u32,
    pid: u32,
    start_time: f64,
    output: PathBuf,
    /// The working directory at startup: relative file names resolve against it.
    cwd: PathBuf,
    marks: Vec<Mark>,
    timeline: Timeline,
    /// Site tracking (retained and peak figures), unless `sites=0`.
    sites: Option<Sites>,
    /// measure() calls in progress.
    measuring: u32,
    /// Where each measure() in progress was called: (stackinfo depth,
    /// context index).  Frames above it are the measured block's.
    measure_floors: Vec<(u32, i32)>,
    trace: Option<Trace>,
    /// Whether the runloop and perl's hooks are installed (profiling, not
    /// just measure()).
    perl_hooks: bool,
    /// `sigexit`'s signals, for Devel/MemProf.pm to install handlers for.
    sigexit_names: std::ffi::CString,
    /// Where the runloop logs what statements moved while running.
    credit_log: Vec<perl::memprof_credit>,
    sv_log: Vec<perl::memprof_sv_record>,
    /// The runloop's changes in SVs by entry (t.sv_by_entry), not yet in
    /// the entries' figures: `fold_sv_counts` adds them in.  Index i is
    /// entry i; whatever has no entry is 0.
    sv_by_entry: Vec<i64>,
    /// The entries the runloop and the hooks find without asking.
    entry_memo: Vec<perl::memprof_entry_memo>,
    /// A perl thread's recorder (not the main thread's): see threads.rs.
    thread: Option<threads::ThreadInfo>,
    /// `dump_signal`'s signal, for Devel/MemProf.pm.
    dump_signal_name: std::ffi::CString,
    /// Dumps written so far: the next is numbered one more.
    dumps: u32,
    /// The string the last call returned to perl (dump's path, the label).
    returned: std::ffi::CString,
    /// Native frames (`native=1` or `all`), else None.
    native: Option<native::Native>,
    /// Heap snapshots taken so far.
    snapshots: Vec<memprof_profile::heap::Snapshot>,
}

fn now() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

fn warn(message: &str) {
    eprintln!("Devel::MemProf: {message}");
}

/// Make the next boundary resolve everything afresh.
fn forget_identity(t: &mut memprof_tls) {
    t.id = perl::memprof_identity::default();
    t.last_cop = std::ptr::null();
}

/// This thread's TLS block.  The allocation hooks (C) write it on every
/// allocation perl makes and the runloop at every statement, so Rust takes
/// a `&mut` to it only for the span of one entry point and passes that
/// reference down; nothing keeps one.
///
/// # Safety
/// No other reference to this thread's block may be live while the result
/// is, and perl must not run (its allocations write the block) until the
/// result's last use.
unsafe fn tls<'a>() -> &'a mut memprof_tls {
    // SAFETY: memprof_tls_get returns this thread's block (never NULL),
    // which lives as long as the thread; the caller guarantees that this
    // is the only reference.
    unsafe { &mut *perl::memprof_tls_get() }
}

/// The recorder of this thread's interpreter, if profiling.
///
/// # Safety
/// No other reference to the recorder may be live while the result is.
/// (`t.recorder` is NULL or the Box leaked in `boot`, which is never
/// freed: the result cannot dangle.)
unsafe fn recorder<'a>(t: &memprof_tls) -> Option<&'a mut Recorder> {
    // SAFETY: as the contract says; the recorder is a heap block of its
    // own, so this does not alias `t`.
    unsafe { t.recorder.cast::<Recorder>().as_mut() }
}

/// Run `f` with the allocation hooks not counting: for the profiler's own
/// calls into libc (file writing, getcwd) that allocate through patched GOTs.
fn unaccounted<R>(t: &mut memprof_tls, f: impl FnOnce() -> R) -> R {
    // Volatile: `f` never touches `t`, so through the `&mut` the compiler
    // may drop a plain increment and decrement around it altogether (it
    // did, in release builds), but the hooks read the field meanwhile.
    // SAFETY: `t` is a valid, exclusive reference to the field.
    unsafe { std::ptr::write_volatile(&mut t.guard, std::ptr::read_volatile(&t.guard) + 1) };
    let r = f();
    // SAFETY: as above.
    unsafe { std::ptr::write_volatile(&mut t.guard, std::ptr::read_volatile(&t.guard) - 1) };
    r
}

/// A timeline that reads VmRSS and VmData beside the heap, at its samples only.
fn new_timeline() -> Timeline {
    let mut t = Timeline::new();
    t.read_vm_with(ledger::read_vm);
    t
}

impl Recorder {
    fn new(t: &mut memprof_tls, interp: Interp, opts: Options) -> Box<Recorder> {
        let mut tables = Tables::default();
        // SAFETY: PL_origfilename is a C string owned by the interpreter.
        let script = unsafe { perl::c_string(perl::memprof_origfilename(interp)) }.unwrap_or_else(|| "-".into());
        let script_file = tables.file(script.as_bytes());
        let main_node = tables.root(FrameKind::Main, "main", script_file);
        let pseudo_root = |tables: &mut Tables, name: &str| {
            let file = tables.file(name.as_bytes());
            PseudoLocation { node: tables.root(FrameKind::Pseudo, name, file), file }
        };
        let pseudo = Pseudo {
            startup: pseudo_root(&mut tables, "(startup)"),
            exit: pseudo_root(&mut tables, "(exit)"),
            disabled: pseudo_root(&mut tables, "(disabled)"),
            callback: pseudo_root(&mut tables, "(callback)"),
            measure: pseudo_root(&mut tables, "(measure)"),
        };
        let sites = opts.sites.then(|| Sites::new(opts.sample));
        let native = native::Native::new(opts.native);
        let sigexit_names = std::ffi::CString::new(opts.sigexit.join(",")).unwrap_or_default();
        let dump_signal_name = std::ffi::CString::new(opts.dump_signal.clone().unwrap_or_default()).unwrap_or_default();
        let trace = (opts.trace > 0).then(|| Trace::new(opts.trace, opts.trace_file.as_deref()));
        let cwd = unaccounted(t, || std::env::current_dir().unwrap_or_default());
        let output = cwd.join(&opts.file);
        Box::new(Recorder {
            interp,
            opts,
            state: State::Pending,
            tables,
            stack: Stack::default(),
            main_node,
            script_file,
            pseudo,
            start_live: 0,
            peak: Peak { bytes: 0, entry: NONE },
            main_done: false,
            main_leave_patched: false,
            // SAFETY: getpid has no preconditions.
            first_pid: unsafe { libc::getpid() } as u32,
            // SAFETY: as above.
            pid: unsafe { libc::getpid() } as u32,
            start_time: now(),
            output,
            cwd,
            marks: Vec::new(),
            timeline: new_timeline(),
            sites,
            measuring: 0,
            measure_floors: Vec::new(),
            sigexit_names,
            trace,
            perl_hooks: false,
            credit_log: vec![perl::memprof_credit::default(); perl::MEMPROF_CREDIT_LOG_SIZE as usize],
            sv_log: vec![perl::memprof_sv_record::default(); perl::MEMPROF_SV_LOG_SIZE as usize],
            sv_by_entry: Vec::new(),
            entry_memo: vec![perl::memprof_entry_memo::default(); 1 << perl::MEMPROF_ENTRY_MEMO_MIN_BITS],
            thread: None,
            dump_signal_name,
            dumps: 0,
            returned: std::ffi::CString::default(),
            native,
            snapshots: Vec::new(),
        })
    }

    /// Forget what the counters did up to now: crediting starts here.
    fn reset_counters(&mut self, t: &mut memprof_tls) {
        t.snap_alloc_count = t.alloc_count;
        t.snap_free_count = t.free_count;
        // SAFETY: the interpreter is live.
        t.snap_sv_count = unsafe { perl::memprof_sv_count(self.interp) };
        t.snap_alloc_bytes = t.alloc_bytes;
        t.snap_free_bytes = t.free_bytes;
        t.peak = t.live;
        self.start_live = t.live;
        t.snap_peak = t.live;
        t.peak_noted = 0;
        self.peak = Peak { bytes: 0, entry: NONE };
        self.timeline = new_timeline();
        if let Some(s) = self.sites.as_mut() {
            s.reset(t.live);
        }
    }

    fn start(&mut self, t: &mut memprof_tls) {
        self.reset_counters(t);
        self.start_time = now();
        unaccounted(t, || self.init_native());
        self.set_state(t, State::Running);
        self.attach_sites(t);
        t.sample_countdown = timeline::ALLOCATIONS_PER_CHECK;
    }

    /// Credit what moved since the last credit, and trace it.  A trace
    /// callback is returned to be called once no reference to the
    /// recorder or the TLS block is held: it runs perl code.
    fn flush(&mut self, t: &mut memprof_tls, sv_count: i64) -> Option<trace::Callback> {
        // The log is added up when full, or by whatever reads the figures
        // (credit, set_state, set_label, dump): not at every statement.
        if t.credit_log_len as usize >= self.credit_log.len() || t.sv_log_len as usize >= self.sv_log.len() {
            self.drain_log(t);
        }
        let (node, file, line, net) = self.credit_moved(t, sv_count)?;
        self.trace(node, file, line, net)
    }

    /// Change state; the runloop may log sv-only changes only while running.
    fn set_state(&mut self, t: &mut memprof_tls, state: State) {
        self.drain_log(t);
        self.fold_sv_counts();
        self.state = state;
        // The runloop resolves frames itself only while running (the next
        // sync says so again).
        t.shadow_fast = 0;
        if state == State::Running {
            t.credit_log = self.credit_log.as_mut_ptr();
            t.sv_log = self.sv_log.as_mut_ptr();
            self.show_sv_counts(t);
            Self::forget_entry_memo(t);
            t.entry_memo = self.entry_memo.as_mut_ptr();
            t.entry_memo_shift = Self::memo_shift(self.entry_memo.len());
        } else {
            t.credit_log = std::ptr::null_mut();
            t.sv_log = std::ptr::null_mut();
            t.sv_by_entry = std::ptr::null_mut();
            t.sv_by_entry_len = 0;
            t.entry_memo = std::ptr::null_mut();
        }
        self.update_native(t);
        self.update_credit_fast(t);
    }

    /// Whether the runloop may log allocations itself: the recorder needs
    /// to see each statement when it traces one or credits native frames.
    pub(super) fn update_credit_fast(&self, t: &mut memprof_tls) {
        t.credit_fast = u8::from(self.state == State::Running && self.trace.is_none() && self.native.is_none());
    }

    /// The entry of a location while running, remembered for the runloop
    /// and the hooks (memprof_entry_memo_find); with site tracking its
    /// figures exist, as the hooks then credit blocks to it.
    pub(super) fn running_entry(&mut self, t: &mut memprof_tls, node: u32, file: u32, line: u32) -> u32 {
        let shift = Self::memo_shift(self.entry_memo.len());
        // SAFETY: a pure function of its arguments.
        let slot = unsafe { perl::memprof_entry_memo_slot(shift, node, file, line) } as usize;
        if let Some(m) = self.entry_memo.get(slot) {
            if m.generation == t.entry_generation && m.node == node && m.file == file && m.line == line {
                return m.entry;
            }
        }
        let entry = self.tables.entry(node, file, line);
        if let Some(s) = self.sites.as_mut() {
            s.ensure(entry);
        }
        if entry as usize >= self.sv_by_entry.len() {
            // Doubling: the runloop's pointer changes a few dozen times a run.
            let len = (entry as usize + 1).next_power_of_two().max(1024);
            self.sv_by_entry.resize(len, 0);
            if !t.sv_by_entry.is_null() {
                self.show_sv_counts(t);
            }
        }
        let want =
            memo_len(self.tables.entries.len(), perl::MEMPROF_ENTRY_MEMO_MIN_BITS, perl::MEMPROF_ENTRY_MEMO_MAX_BITS);
        if want > self.entry_memo.len() {
            // Emptied as it grows: misses fill it again.
            self.replace_entry_memo(t, want);
            return entry;
        }
        if let Some(m) = self.entry_memo.get_mut(slot) {
            *m = perl::memprof_entry_memo { node, file, line, entry, generation: t.entry_generation };
        }
        entry
    }

    /// Let the runloop count SV changes by entry into `sv_by_entry`.
    fn show_sv_counts(&mut self, t: &mut memprof_tls) {
        t.sv_by_entry = self.sv_by_entry.as_mut_ptr();
        t.sv_by_entry_len = u32::try_from(self.sv_by_entry.len()).unwrap_or(u32::MAX);
    }

    /// Add the runloop's SV counts into the entries' figures: before
    /// anything reads them (a profile, a dump, a thread's merge) and
    /// before the runloop stops counting.
    pub(super) fn fold_sv_counts(&mut self) {
        for (e, c) in self.tables.entries.iter_mut().zip(self.sv_by_entry.iter_mut()) {
            e.metrics.sv_delta += std::mem::take(c);
        }
    }

    /// Forget every entry and its figures (a forked child's, a new profile's).
    pub(super) fn clear_entries(&mut self, t: &mut memprof_tls) {
        self.tables.clear_entries();
        self.sv_by_entry.fill(0);
        Self::forget_entry_memo(t);
    }

    /// The shift that takes a 64-bit hash to an index of a memo of `len`
    /// slots (a power of two).
    pub(super) fn memo_shift(len: usize) -> u8 {
        (64 - len.trailing_zeros()) as u8
    }

    /// A new, empty entry memo of `len` slots, shown to the runloop and
    /// the hooks if they use one now (only while running).
    pub(super) fn replace_entry_memo(&mut self, t: &mut memprof_tls, len: usize) {
        self.entry_memo = vec![perl::memprof_entry_memo::default(); len];
        if !t.entry_memo.is_null() {
            t.entry_memo = self.entry_memo.as_mut_ptr();
            t.entry_memo_shift = Self::memo_shift(len);
        }
    }

    /// Entries or the labels they are under changed, or site tracking
    /// began: what the memo says may no longer hold.
    pub(super) fn forget_entry_memo(t: &mut memprof_tls) {
        t.entry_generation = t.entry_generation.wrapping_add(1).max(1);
    }

    /// Take the peak the runloop noted, before any later one.
    fn take_noted_peak(&mut self, t: &mut memprof_tls) {
        if t.peak_noted == 0 {
            return;
        }
        t.peak_noted = 0;
        let mut now = libc::timespec { tv_sec: 0, tv_nsec: 0 };
        // SAFETY: clock_gettime writes the timespec it is given.
        unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
        let now_ns = now.tv_sec as u64 * 1_000_000_000 + now.tv_nsec as u64;
        let ago = now_ns.saturating_sub(t.peak_ns) as f64 / 1e9;
        let entry = if t.peak_entry == perl::MEMPROF_UNRESOLVED {
            self.running_entry(t, t.peak_node, t.peak_file, t.peak_line)
        } else {
            t.peak_entry
        };
        self.peak = Peak { bytes: t.peak_live - self.start_live, entry };
        self.timeline.peak_at((self.timeline.now() - ago).max(0.0), self.peak.bytes, entry);
    }

    /// Add up what the runloop logged (see memprof_sv_record, memprof_credit).
    fn drain_log(&mut self, t: &mut memprof_tls) {
        self.take_noted_peak(t);
        let n = (t.sv_log_len as usize).min(self.sv_log.len());
        t.sv_log_len = 0;
        if !t.sv_log.is_null() {
            for i in 0..n {
                let r = self.sv_log[i];
                let entry = self.running_entry(t, r.node, r.file, r.line);
                self.tables.entries[entry as usize].metrics.sv_delta += i64::from(r.delta);
            }
        }
        let n = (t.credit_log_len as usize).min(self.credit_log.len());
        t.credit_log_len = 0;
        if t.credit_log.is_null() {
            return;
        }
        for i in 0..n {
            let r = self.credit_log[i];
            let entry = match r.entry {
                e if (e as usize) < self.tables.entries.len() => e,
                _ => self.running_entry(t, r.node, r.file, r.line),
            };
            self.tables.entries[entry as usize].metrics.add(&Metrics {
                alloc_bytes: r.alloc_bytes,
                alloc_count: r.alloc_count,
                free_bytes: r.free_bytes,
                free_count: r.free_count,
                sv_delta: r.sv_delta,
                ..Metrics::default()
            });
        }
    }

    /// Credit what moved since the last credit to the current location;
    /// returns the location and its net growth.
    fn credit(&mut self, t: &mut memprof_tls, sv_count: i64) -> Option<(u32, u32, u32, i64)> {
        self.drain_log(t);
        self.credit_moved(t, sv_count)
    }

    /// The same, leaving the SV log as it is.
    fn credit_moved(&mut self, t: &mut memprof_tls, sv_count: i64) -> Option<(u32, u32, u32, i64)> {
        self.take_noted_peak(t);
        let delta = Metrics {
            alloc_bytes: t.alloc_bytes - t.snap_alloc_bytes,
            alloc_count: t.alloc_count - t.snap_alloc_count,
            free_bytes: t.free_bytes - t.snap_free_bytes,
            free_count: t.free_count - t.snap_free_count,
            sv_delta: sv_count - t.snap_sv_count,
            ..Metrics::default()
        };
        t.snap_alloc_bytes = t.alloc_bytes;
        t.snap_free_bytes = t.free_bytes;
        t.snap_alloc_count = t.alloc_count;
        t.snap_free_count = t.free_count;
        t.snap_sv_count = sv_count;
        let (node, file, line) = match self.state {
            State::Running => (t.cur_node, t.cur_file, t.cur_line),
            State::Disabled => (self.pseudo.disabled.node, self.pseudo.disabled.file, 0),
            State::Pending | State::Finished => return None,
        };
        // With site tracking the statement's first allocation looked its
        // entry up already (current_site).
        let entry = match self.state {
            State::Running if t.cur_site < perl::MEMPROF_NO_SITE => t.cur_site,
            State::Running => self.running_entry(t, node, file, line),
            _ => self.tables.entry(node, file, line),
        };
        self.tables.entries[entry as usize].metrics.add(&delta);
        if t.peak > t.snap_peak {
            t.snap_peak = t.peak;
            self.peak = Peak { bytes: t.peak - self.start_live, entry };
            self.timeline.peak(self.peak.bytes, entry);
        }
        self.timeline.tick(&mut t.tick_countdown, t.live - self.start_live, entry);
        Some((node, file, line, delta.net_bytes()))
    }

    /// Make a pseudo-location the current one.
    fn enter_pseudo(t: &mut memprof_tls, at: PseudoLocation) {
        t.cur_node = at.node;
        t.cur_file = at.file;
        t.cur_line = 0;
        t.compile_line = std::ptr::null();
        t.cur_site = perl::MEMPROF_UNRESOLVED;
    }

    /// Credit the last movement and write the profile.  At the end of the
    /// run what moved since the last statement belongs to `(exit)`; from
    /// `DB::finish_profile` it belongs to the statement that called it.
    fn finish(&mut self, t: &mut memprof_tls, at_exit: bool) {
        if self.thread.is_some() {
            self.finish_thread(t, at_exit);
            return;
        }
        if matches!(self.state, State::Running | State::Disabled) {
            if at_exit && self.state == State::Running {
                Self::enter_pseudo(t, self.pseudo.exit);
            }
            // SAFETY: the interpreter is live.
            let sv_count = unsafe { perl::memprof_sv_count(self.interp) };
            self.credit(t, sv_count);
            if at_exit {
                self.release_indexes(t);
            }
            // At the moment the retained figures are measured: after END
            // blocks, before global destruction.
            if at_exit && self.opts.snapshot_end {
                self.snapshot(t, "end".to_string());
            }
            self.set_state(t, State::Finished);
            t.sample_countdown = 0;
            if self.measuring == 0 {
                Self::detach_sites(t);
            }
            unaccounted(t, || self.write(at_exit));
            // The last profile took the entries the memo names.
            Self::forget_entry_memo(t);
        }
    }

    /// Install the runloop and perl's hooks: we are profiling, not only measuring.
    fn install_perl_hooks(&mut self, t: &mut memprof_tls) {
        if self.perl_hooks {
            return;
        }
        self.perl_hooks = true;
        // SAFETY: the interpreter is live; this installs PL_runops and hooks.
        unsafe {
            perl::memprof_install_perl_hooks(self.interp);
            perl::memprof_register_exit(self.interp);
            libc::pthread_atfork(None, None, Some(entry::after_fork_in_child));
        }
        // The next boundary re-resolves everything.
        forget_identity(t);
    }

    /// Make a label current; what is credited from now on is under it.
    fn set_label(&mut self, t: &mut memprof_tls, name: Option<&str>, start: bool) {
        self.drain_log(t);
        self.tables.set_label(name, start);
        Self::forget_entry_memo(t);
        t.cur_site = perl::MEMPROF_UNRESOLVED;
    }

    fn mark(&mut self, t: &memprof_tls, label: String) {
        if self.state == State::Running {
            self.marks.push(Mark { time: self.timeline.now(), live_bytes: t.live - self.start_live, label });
        }
    }
}

/// The size of a runloop memo (node or entry memo) for a profile of
/// `items` of what it caches: at most half full, between 2^min_bits and
/// 2^max_bits slots.
pub(super) fn memo_len(items: usize, min_bits: u32, max_bits: u32) -> usize {
    items.saturating_mul(2).checked_next_power_of_two().unwrap_or(usize::MAX).clamp(1 << min_bits, 1 << max_bits)
}

#[cfg(test)]
mod tests {
    use super::{memo_len, Recorder};

    #[test]
    fn memos_are_at_most_half_full_between_their_bounds() {
        assert_eq!(memo_len(0, 12, 16), 4096);
        assert_eq!(memo_len(2048, 12, 16), 4096);
        assert_eq!(memo_len(2049, 12, 16), 8192);
        assert_eq!(memo_len(58_801, 12, 16), 65_536);
        assert_eq!(memo_len(usize::MAX, 12, 16), 65_536);
        assert_eq!(Recorder::memo_shift(4096), 52);
        assert_eq!(Recorder::memo_shift(65_536), 48);
    }
}
