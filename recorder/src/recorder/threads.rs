//! Threads: every perl thread (ithread) has a recorder of its own, with
//! its own tables and site table, and the main thread's profile holds them
//! all.
//!
//! `threads->create` clones the creating interpreter and calls
//! `Devel::MemProf::CLONE` in the copy, still on the creating OS thread:
//! [`memprof_rs_cloned`] notes the creating thread's stack and statement.
//! The new OS thread runs the copy under our runloop (perl_clone copies
//! PL_runops), which finds no recorder in its TLS block and calls
//! [`memprof_rs_thread_start`]: the thread's recorder starts with that
//! stack rebuilt in its own tables and a frame `thread N` on top, so that
//! merging by content puts the thread under the create statement.  At the
//! OS thread's end a thread-specific key's destructor credits what moved
//! since its last statement.  The main thread's profile, when written,
//! merges every thread's tables into its own.
//!
//! A thread's recorder is touched by its own thread (at statement
//! boundaries and from the allocation hooks) and, once, by the thread that
//! writes the profile; its mutex (in `memprof_tls.recorder_lock`) keeps
//! the two apart.  The main thread's recorder has none: no other thread
//! reads it.

use super::{forget_identity, recorder, tls, unaccounted, Recorder, State};
use crate::perl::{self, memprof_tls, Interp};
use memprof_profile::options::Options;
use memprof_profile::{merge, FrameKind, Metrics, Peak, Profile, NONE};
use std::ffi::c_void;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

/// What a thread's recorder knows of its thread.
pub(super) struct ThreadInfo {
    /// The `thread N` node, and the create statement (its call site).
    node: u32,
    file: u32,
    line: u32,
    /// What the OS thread freed, before its recorder started (perl
    /// setting the thread up), of blocks the site tables had: their sites
    /// no longer hold them, so the frees are credited.  What it allocated
    /// then, and freed of blocks no table had, is not, as for the main
    /// thread before the profiler's boot.
    before: Metrics,
}

/// One frame of the creating thread's stack, by content.
struct Step {
    name: String,
    kind: FrameKind,
    file: Option<String>,
    line: u32,
    call_file: Option<String>,
    call_line: u32,
}

/// A thread created but not started yet.
struct Origin {
    interp: usize,
    tid: u32,
    opts: Options,
    cwd: PathBuf,
    first_pid: u32,
    /// The creating thread's stack, root first.
    path: Vec<Step>,
    create_file: String,
    create_line: u32,
}

/// A started thread's recorder (leaked, like the main one) and its lock.
struct ThreadRecorder {
    rec: *mut Recorder,
    lock: &'static Mutex<()>,
    /// The process it ran in: a forked child does not report its
    /// parent's threads.
    pid: u32,
}

// SAFETY: the recorder is only reached under its lock (see the module's
// documentation); the pointer itself is never freed.
unsafe impl Send for ThreadRecorder {}

static PENDING: Mutex<Vec<Origin>> = Mutex::new(Vec::new());
/// PENDING's length, read without the lock by every runloop that starts
/// on an OS thread without a recorder.
static PENDING_COUNT: AtomicUsize = AtomicUsize::new(0);
static THREADS: Mutex<Vec<ThreadRecorder>> = Mutex::new(Vec::new());
/// threads.xs numbers threads from 1 in creation order, one clone each,
/// over the whole process.
static NEXT_TID: AtomicU32 = AtomicU32::new(1);

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// The lock of this thread's recorder, if it is a thread's.
pub(super) fn guard(t: &memprof_tls) -> Option<MutexGuard<'static, ()>> {
    if t.recorder_lock.is_null() {
        return None;
    }
    // SAFETY: recorder_lock is a leaked Mutex set by thread_start.
    let m: &'static Mutex<()> = unsafe { &*t.recorder_lock.cast::<Mutex<()>>() };
    Some(lock(m))
}

fn pid() -> u32 {
    // SAFETY: getpid has no preconditions.
    unsafe { libc::getpid() as u32 }
}

/// The key whose destructor ends a thread's recorder.
fn exit_key() -> Option<libc::pthread_key_t> {
    static KEY: OnceLock<Option<libc::pthread_key_t>> = OnceLock::new();
    *KEY.get_or_init(|| {
        let mut key: libc::pthread_key_t = 0;
        // SAFETY: key is a valid out-pointer; thread_ends has the destructor's type.
        (unsafe { libc::pthread_key_create(&mut key, Some(thread_ends)) } == 0).then_some(key)
    })
}

/// Devel::MemProf::CLONE: `interp` was just cloned from the interpreter
/// this OS thread profiles (threads->create).
#[no_mangle]
pub extern "C" fn memprof_rs_cloned(interp: Interp) {
    let tid = NEXT_TID.fetch_add(1, Ordering::SeqCst);
    let origin = super::entry::with_recorder(|r, t| {
        if r.state != State::Running {
            return None;
        }
        // From now on a block may be freed on another thread than the one
        // that allocated it.
        // SAFETY: called on the thread that owns this table.
        unsafe {
            perl::memprof_sites_share();
            if let Some(s) = r.sites.as_mut() {
                perl::memprof_sites_register(&mut *s.table);
            }
        }
        Some(r.origin(t, interp, tid))
    })
    .flatten();
    if let Some(origin) = origin {
        let mut pending = lock(&PENDING);
        pending.push(origin);
        PENDING_COUNT.store(pending.len(), Ordering::SeqCst);
    }
}

impl Recorder {
    /// Where a thread is being created: this recorder's stack and statement.
    fn origin(&self, t: &memprof_tls, interp: Interp, tid: u32) -> Origin {
        let file_name = |f: u32| (f != NONE).then(|| self.tables.files[f as usize].name.clone());
        let (mut node, mut file, mut line) = (t.cur_node, t.cur_file, t.cur_line);
        // `async BLOCK` is threads.pm's sub, which goes to threads->create:
        // the thread is created where async was called.
        if node != NONE && self.tables.frame_of(node).name == "threads::async" {
            let n = self.tables.nodes[node as usize];
            (node, file, line) = (n.parent, n.call_file, n.call_line);
        }
        let mut path = Vec::new();
        while node != NONE {
            let n = self.tables.nodes[node as usize];
            let f = &self.tables.frames[n.frame as usize];
            path.push(Step {
                name: f.name.clone(),
                kind: f.kind,
                file: file_name(f.file),
                line: f.line,
                call_file: file_name(n.call_file),
                call_line: n.call_line,
            });
            node = n.parent;
        }
        path.reverse();
        Origin {
            interp: interp as usize,
            tid,
            // Tracing stays the main thread's: a thread's recorder would
            // truncate trace_file, and the callback is the main interpreter's.
            opts: Options { trace: 0, trace_file: None, ..self.opts.clone() },
            cwd: self.cwd.clone(),
            first_pid: self.first_pid,
            path,
            create_file: file_name(file).unwrap_or_else(|| "-".into()),
            create_line: line,
        }
    }

    /// The recorder of a new thread, from where it was created.
    fn for_thread(t: &mut memprof_tls, interp: Interp, o: Origin) -> Box<Recorder> {
        let mut rec = Recorder::new(t, interp, o.opts);
        rec.cwd = o.cwd;
        rec.first_pid = o.first_pid;
        let tables = &mut rec.tables;
        let file = |tables: &mut memprof_profile::builder::Tables, f: &Option<String>| {
            f.as_ref().map_or(NONE, |name| tables.file(name.as_bytes()))
        };
        let mut parent = NONE;
        for s in &o.path {
            let f = file(tables, &s.file);
            let frame = tables.frame(s.kind, s.name.clone(), f, s.line);
            let call_file = file(tables, &s.call_file);
            parent = tables.node(parent, frame, call_file, s.call_line);
        }
        let create_file = tables.file(o.create_file.as_bytes());
        let frame = tables.frame(FrameKind::Thread, format!("thread {}", o.tid), create_file, o.create_line);
        let node = tables.node(parent, frame, create_file, o.create_line);
        rec.main_node = node;
        rec.thread = Some(ThreadInfo {
            node,
            file: create_file,
            line: o.create_line,
            before: Metrics {
                free_bytes: t.native_found_free_bytes,
                free_count: t.native_found_free_count,
                ..Metrics::default()
            },
        });
        // The runloop, hooks and exit handler came with the clone.
        rec.perl_hooks = true;
        rec.main_leave_patched = true;
        rec
    }

    /// A thread's recorder at `finish`: its thread does not write a profile
    /// (the main thread's holds it); at the end of its interpreter what
    /// follows belongs to `(exit)`.
    pub(super) fn finish_thread(&mut self, t: &mut memprof_tls, at_exit: bool) {
        if matches!(self.state, State::Running | State::Disabled) {
            if at_exit && self.state == State::Running {
                Self::enter_pseudo(t, self.pseudo.exit);
            }
            // SAFETY: the interpreter is live (it is running its exit list
            // or an XSUB).
            let sv_count = unsafe { perl::memprof_sv_count(self.interp) };
            self.credit(t, sv_count);
        }
    }

    /// The OS thread ends: credit the rest to the create statement, and
    /// let go of its TLS block.
    fn end_thread(&mut self, t: &mut memprof_tls) {
        let Some(info) = self.thread.as_ref() else { return };
        if matches!(self.state, State::Running | State::Disabled) {
            if self.state == State::Running && t.cur_node != self.pseudo.exit.node {
                (t.cur_node, t.cur_file, t.cur_line) = (info.node, info.file, info.line);
            }
            // The interpreter may be gone already (a detached thread's):
            // what moved in its SV count was credited at its last statement.
            let sv_count = t.snap_sv_count;
            self.credit(t, sv_count);
            self.set_state(t, State::Finished);
        }
        t.sample_countdown = 0;
        Self::detach_sites(t);
        t.compile_line = std::ptr::null();
    }

    /// This thread's figures as a profile of its own, for the main thread's
    /// to merge: called by the writing thread under the recorder's lock.
    fn thread_profile(&mut self) -> Profile {
        self.fold_sv_counts();
        let untracked = self.site_figures(false);
        if let Some(info) = self.thread.as_mut() {
            // Into the tables once: they keep it.
            let m = std::mem::take(&mut info.before);
            if m != Metrics::default() {
                let e = self.tables.entry(info.node, info.file, info.line) as usize;
                self.tables.entries[e].metrics.add(&m);
            }
        }
        let mut p = self.tables.compact();
        p.peak = self.site_peak().unwrap_or(self.peak);
        p.marks = self.marks.clone();
        p.run.pid = self.pid;
        p.run.site_tracking = untracked.is_some();
        p.run.untracked_free_bytes = untracked.map_or(0, |u| u.0);
        p.run.untracked_free_before_peak = untracked.map_or(0, |u| u.1);
        p
    }

    /// The peak as the site table saw it, once threads exist: the
    /// thread's own blocks, whichever thread frees them.
    pub(super) fn site_peak(&self) -> Option<Peak> {
        // SAFETY: reads a flag.
        if unsafe { perl::memprof_sites_are_shared() } == 0 {
            return None;
        }
        let s = self.sites.as_ref()?;
        let bytes = (s.table.peak_live - self.start_live).max(0);
        Some(Peak { bytes, entry: if bytes > 0 { self.peak.entry } else { NONE } })
    }

    /// The main thread's profile with every thread's merged in, and what
    /// the threads without perl allocated under `(native thread)`.
    pub(super) fn merge_threads(&mut self, mut p: Profile) -> Profile {
        let mut threads = Vec::new();
        let me = pid();
        let list = if me == self.first_pid { Some(lock(&THREADS)) } else { THREADS.try_lock().ok() };
        if let Some(list) = list {
            for tr in list.iter().filter(|tr| tr.pid == me) {
                let _g = lock(tr.lock);
                // SAFETY: the recorder is leaked, and its thread touches it
                // only under the lock we hold.
                let r = unsafe { &mut *tr.rec };
                threads.push(r.thread_profile());
            }
        }
        let mut native = perl::memprof_native_totals::default();
        // SAFETY: fills in the struct.
        unsafe { perl::memprof_native_totals(&mut native) };
        if native.alloc_count > 0 || native.free_count > 0 {
            threads.push(self.native_profile(&native, p.run.site_tracking));
        }
        if threads.is_empty() {
            return p;
        }
        let run = p.run.clone();
        let timeline = std::mem::take(&mut p.timeline);
        threads.insert(0, p);
        let mut merged = merge::merge(&threads);
        merged.run = RunInfoSums::from(&merged).apply(run);
        merged.processes.clear();
        merged.timeline = timeline;
        merged
    }

    /// What the OS threads that run no perl allocated and freed, at one
    /// pseudo-location.  Their blocks are not tracked: what they freed that
    /// no perl thread had allocated is taken as their own blocks, so they
    /// retain what they allocated less that (and what that exceeds it by
    /// is untracked), which keeps retained minus untracked equal to the net
    /// growth.
    fn native_profile(&mut self, n: &perl::memprof_native_totals, site_tracking: bool) -> Profile {
        let mut tables = memprof_profile::builder::Tables::default();
        let file = tables.file(b"(native thread)");
        let node = tables.root(FrameKind::Pseudo, "(native thread)", file);
        let e = tables.entry(node, file, 0) as usize;
        tables.entries[e].metrics = Metrics {
            alloc_bytes: n.alloc_bytes,
            alloc_count: n.alloc_count,
            free_bytes: n.free_bytes,
            free_count: n.free_count,
            retained_bytes: if site_tracking { n.alloc_bytes.saturating_sub(n.untracked_free_bytes) } else { 0 },
            ..Metrics::default()
        };
        let mut p = tables.compact();
        p.peak = Peak { bytes: 0, entry: NONE };
        p.run.site_tracking = site_tracking;
        p.run.untracked_free_bytes =
            if site_tracking { n.untracked_free_bytes.saturating_sub(n.alloc_bytes) } else { 0 };
        p
    }
}

/// The run facts a merge of threads keeps from the main thread's profile:
/// all of them but the sums.
struct RunInfoSums {
    untracked_free_bytes: u64,
    untracked_free_before_peak: u64,
    site_tracking: bool,
}

impl RunInfoSums {
    fn from(p: &Profile) -> RunInfoSums {
        RunInfoSums {
            untracked_free_bytes: p.run.untracked_free_bytes,
            untracked_free_before_peak: p.run.untracked_free_before_peak,
            site_tracking: p.run.site_tracking,
        }
    }

    fn apply(self, mut run: memprof_profile::RunInfo) -> memprof_profile::RunInfo {
        run.untracked_free_bytes = self.untracked_free_bytes;
        run.untracked_free_before_peak = self.untracked_free_before_peak;
        run.site_tracking = self.site_tracking;
        run
    }
}

/// A runloop starts on an OS thread whose TLS block has no recorder: if
/// its interpreter is a thread just created, its recorder starts here.
#[no_mangle]
pub extern "C" fn memprof_rs_thread_start(interp: Interp, t: *mut memprof_tls) {
    if PENDING_COUNT.load(Ordering::SeqCst) == 0 {
        return;
    }
    let origin = {
        let mut pending = lock(&PENDING);
        let Some(i) = pending.iter().position(|o| o.interp == interp as usize) else { return };
        let o = pending.swap_remove(i);
        PENDING_COUNT.store(pending.len(), Ordering::SeqCst);
        o
    };
    // SAFETY: the runloop passes this thread's TLS block; no recorder
    // exists on this thread yet, so nothing else refers to it.
    let t = unsafe { &mut *t };
    if !t.recorder.is_null() {
        return;
    }
    let rec_lock: &'static Mutex<()> = Box::leak(Box::new(Mutex::new(())));
    let mut rec = Recorder::for_thread(t, interp, origin);
    if t.file_cache.is_null() {
        let cache =
            vec![perl::memprof_file_slot { cop: std::ptr::null(), file: 0 }; perl::MEMPROF_FILE_CACHE_SIZE as usize];
        t.file_cache = Box::leak(cache.into_boxed_slice()).as_mut_ptr();
    }
    // SAFETY: this thread's block: it is a perl thread's, not a native one's.
    unaccounted(t, || unsafe { perl::memprof_thread_is_perl(perl::memprof_tls_get()) });
    t.interp = interp;
    rec.start(t);
    if let Some(s) = rec.sites.as_mut() {
        // SAFETY: the table is boxed and never freed: its address stays valid.
        unsafe { perl::memprof_sites_register(&mut *s.table) };
    }
    let ptr = Box::into_raw(rec);
    t.recorder = ptr.cast();
    t.recorder_lock = (rec_lock as *const Mutex<()>).cast_mut().cast();
    forget_identity(t);
    if let Some(key) = exit_key() {
        // SAFETY: key was created by exit_key; the value is only compared.
        unsafe { libc::pthread_setspecific(key, ptr.cast()) };
    }
    lock(&THREADS).push(ThreadRecorder { rec: ptr, lock: rec_lock, pid: pid() });
}

/// The thread-specific key's destructor: the OS thread of a perl thread ends.
extern "C" fn thread_ends(arg: *mut c_void) {
    // SAFETY: runs on the ending thread, whose TLS block is still valid,
    // outside any other entry point.
    let t = unsafe { tls() };
    if t.recorder != arg {
        return;
    }
    {
        let _g = guard(t);
        // SAFETY: under the recorder's lock; nothing else holds it.
        if let Some(r) = unsafe { recorder(t) } {
            r.end_thread(t);
        }
    }
    t.recorder = std::ptr::null_mut();
    t.recorder_lock = std::ptr::null_mut();
    // What the rest of the thread's exit frees is not credited any more:
    // nor may it take blocks off their sites' live figures.
    t.guard += 1;
}

/// A forked child: its one thread's table is the only one left.
pub(super) fn after_fork(r: &mut Recorder) {
    let table = r.sites.as_mut().map_or(std::ptr::null_mut(), |s| &mut *s.table as *mut perl::memprof_sites);
    // SAFETY: the child's only thread; the table is ours (or NULL).
    unsafe {
        perl::memprof_sites_keep_only(table);
        perl::memprof_native_reset();
    }
}
