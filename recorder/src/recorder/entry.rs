//! The entry points the C glue calls: the XS boot, the runloop's
//! boundary work, the fork handler and the XSUB bodies.  Each takes the
//! one reference to the TLS block and the recorder for its span (see
//! `tls` and `recorder` in the parent module).

use super::threads::guard;
use super::{forget_identity, now, recorder, tls, trace, unaccounted, warn, Recorder, State};
use crate::hooks;
use crate::perl::{self, memprof_tls, Interp};
use memprof_profile::options;
use memprof_profile::timeline;
use memprof_profile::NONE;
use std::ffi::{c_char, c_int, c_void};

/// The perl side of `boot_Devel__MemProf`: parse the options, install the
/// hooks and the runloop.  Returns 0 when profiling.
pub extern "C" fn boot(interp: *mut c_void) -> c_int {
    // SAFETY: called once from the XS boot, holding no other reference.
    let t = unsafe { tls() };
    if !t.recorder.is_null() {
        return 0;
    }
    t.thread_kind = perl::MEMPROF_THREAD_PERL as u8;
    let (opts, warnings) = unaccounted(t, || options::parse(&std::env::var("MEMPROF").unwrap_or_default()));
    for w in &warnings {
        warn(w);
    }
    if let Err(e) = hooks::install() {
        warn(&format!("{e}; not profiling"));
        return 1;
    }
    let mut rec = Recorder::new(t, interp, opts);
    ensure_file_cache(t);
    rec.reset_counters(t);
    t.interp = interp;
    t.recorder = Box::into_raw(rec).cast();
    0
}

/// The runloop's COP -> file cache, allocated once per thread.
pub(super) fn ensure_file_cache(t: &mut memprof_tls) {
    if t.file_cache.is_null() {
        let cache =
            vec![perl::memprof_file_slot { cop: std::ptr::null(), file: 0 }; perl::MEMPROF_FILE_CACHE_SIZE as usize];
        t.file_cache = Box::leak(cache.into_boxed_slice()).as_mut_ptr();
    }
}

/// `perl -d:MemProf`: profile, not only measure.
#[no_mangle]
pub extern "C" fn memprof_rs_start_profiling(_interp: Interp) {
    with_recorder(|r, t| r.install_perl_hooks(t));
}

/// A forked child profiles into a file of its own, from the fork on.
pub(super) extern "C" fn after_fork_in_child() {
    // SAFETY: the child's only thread runs this between fork and its next
    // instruction of perl: nothing else holds a reference.
    let t = unsafe { tls() };
    // SAFETY: as above.
    let Some(r) = (unsafe { recorder(t) }) else { return };
    t.fresh_child = 1;
    // The child's first boundary takes the full path, which clears it.
    t.id.pad = std::ptr::null();
    // Logged changes before the fork are the parent's.
    t.credit_log_len = 0;
    t.sv_log_len = 0;
    r.clear_entries(t);
    r.marks.clear();
    // SAFETY: getpid has no preconditions.
    r.pid = unsafe { libc::getpid() } as u32;
    r.start_time = now();
    r.reset_counters(t);
    if matches!(r.state, State::Running | State::Disabled) {
        r.attach_sites(t);
    }
    super::threads::after_fork(r);
}

#[no_mangle]
pub extern "C" fn memprof_rs_flush(_interp: Interp, t: *mut memprof_tls, sv_count: i64) {
    let callback = {
        // SAFETY: the glue passes this thread's TLS block.
        let t = unsafe { &mut *t };
        let _g = guard(t);
        // SAFETY: the borrow of the recorder ends with this call.
        match unsafe { recorder(t) } {
            Some(r) => r.flush(t, sv_count),
            None => None,
        }
    };
    if let Some(cb) = callback {
        trace::run_callback(t, cb);
    }
}

/// Called from the allocation hooks while perl compiles, when its line
/// counter has moved: what moved so far belongs to the line before.
#[no_mangle]
pub extern "C" fn memprof_rs_compile_line(t: *mut memprof_tls) {
    // SAFETY: the hook passes this thread's TLS block; it runs inside
    // perl's allocation, when no Rust code holds the block or the recorder.
    let t = unsafe { &mut *t };
    let _g = guard(t);
    // SAFETY: as above.
    let Some(r) = (unsafe { recorder(t) }) else {
        t.compile_line = std::ptr::null();
        return;
    };
    if r.state == State::Running && t.interp == r.interp {
        // SAFETY: the interpreter is live (it is compiling).
        let sv_count = unsafe { perl::memprof_sv_count(r.interp) };
        r.credit(t, sv_count);
    }
    if !t.compile_line.is_null() {
        // SAFETY: compile_line points at PL_compiling's line counter.
        t.cur_line = unsafe { *t.compile_line };
    }
    t.cur_site = perl::MEMPROF_UNRESOLVED;
}

#[no_mangle]
pub extern "C" fn memprof_rs_sample(t: *mut memprof_tls) {
    // SAFETY: the hook passes this thread's TLS block.
    let t = unsafe { &mut *t };
    t.sample_countdown = timeline::ALLOCATIONS_PER_CHECK;
    let _g = guard(t);
    // SAFETY: the borrow of the recorder ends with this block.
    if let Some(r) = unsafe { recorder(t) } {
        if r.state == State::Running {
            let entry = if t.cur_site < perl::MEMPROF_NO_SITE { t.cur_site } else { NONE };
            r.timeline.sample(t.live - r.start_live, entry);
        }
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_sync(_interp: Interp, t: *mut memprof_tls, cop: *const c_void) -> c_int {
    // SAFETY: the glue passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let _g = guard(t);
    // SAFETY: the borrow of the recorder ends with this call.
    match unsafe { recorder(t) } {
        Some(r) => c_int::from(r.sync(t, cop)),
        None => 0,
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_file_id(_interp: Interp, t: *mut memprof_tls, cop: *const c_void) -> u32 {
    // SAFETY: the glue passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let _g = guard(t);
    // SAFETY: the borrow of the recorder ends with this call.
    match unsafe { recorder(t) } {
        Some(r) => r.file_of_cop(cop),
        None => NONE,
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_eval_compile(_interp: Interp, t: *mut memprof_tls) {
    // SAFETY: the glue passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let _g = guard(t);
    // SAFETY: the borrow of the recorder ends with this block.
    if let Some(r) = unsafe { recorder(t) } {
        r.eval_compiling();
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_main_done(_interp: Interp, t: *mut memprof_tls) {
    // SAFETY: the glue passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let _g = guard(t);
    // SAFETY: the borrow of the recorder ends with this block.
    if let Some(r) = unsafe { recorder(t) } {
        r.main_done = true;
        Recorder::enter_pseudo(t, r.pseudo.exit);
    }
}

/// Run `f` on this thread's recorder, if any.  The borrows end with `f`:
/// callers take statement boundaries (which run the recorder, and maybe
/// perl) only outside it.
pub(super) fn with_recorder<R>(f: impl FnOnce(&mut Recorder, &mut memprof_tls) -> R) -> Option<R> {
    // SAFETY: entry points call this holding no reference to the block or
    // the recorder, and `f` runs no perl code; both borrows end with it.
    let t = unsafe { tls() };
    let _g = guard(t);
    // SAFETY: as above.
    let r = unsafe { recorder(t) }?;
    Some(f(r, t))
}

/// The same, only if `interp` is the one this thread's recorder profiles:
/// threads.xs destroys a joined thread's interpreter (running its exit
/// list) on the joining OS thread.
fn with_recorder_of<R>(interp: Interp, f: impl FnOnce(&mut Recorder, &mut memprof_tls) -> R) -> Option<R> {
    with_recorder(|r, t| (r.interp == interp).then(|| f(r, t))).flatten()
}

/// Credit what moved so far to the statement running, as at a boundary.
fn take_boundary(interp: Interp) {
    // SAFETY: the interpreter is live and between two ops (we are in an XSUB).
    unsafe { perl::memprof_force_boundary(interp) };
}

#[no_mangle]
pub extern "C" fn memprof_rs_enable(interp: Interp, file: *const c_char, len: usize) {
    let Some(state) = with_recorder(|r, t| {
        r.install_perl_hooks(t);
        // SAFETY: the XSUB passes a buffer of `len` bytes, or NULL.
        if let Some(f) = unsafe { perl::pv_string(file, len) } {
            r.opts.file = f;
            r.output = r.cwd.join(&r.opts.file);
        }
        r.state
    }) else {
        return;
    };
    match state {
        State::Running => {}
        State::Disabled => {
            take_boundary(interp);
            with_recorder(|r, t| r.set_state(t, State::Running));
        }
        State::Pending | State::Finished => {
            with_recorder(|r, t| {
                if r.state == State::Finished {
                    r.clear_entries(t);
                    r.marks.clear();
                }
                r.start(t);
                forget_identity(t);
            });
            take_boundary(interp);
        }
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_disable(interp: Interp) {
    if with_recorder(|r, _| r.state) == Some(State::Running) {
        take_boundary(interp);
        with_recorder(|r, t| r.set_state(t, State::Disabled));
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_finish(interp: Interp) {
    if with_recorder(|r, _| matches!(r.state, State::Running | State::Disabled)) == Some(true) {
        take_boundary(interp);
        with_recorder(|r, t| r.finish(t, false));
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_end_of_run(interp: Interp) {
    with_recorder_of(interp, |r, t| r.finish(t, true));
}

/// exec or _exit is about to end this process image without END blocks.
#[no_mangle]
pub extern "C" fn memprof_rs_process_ending(_replacing: c_int) {
    with_recorder(|r, t| {
        // The child of system() or qx// execs before running a statement:
        // its profile would be empty.
        if t.fresh_child == 0 {
            r.finish(t, false);
        }
    });
}

#[no_mangle]
pub extern "C" fn memprof_rs_sigexit_signals(_interp: Interp) -> *const c_char {
    with_recorder(|r, _| r.sigexit_names.as_ptr()).unwrap_or(c"".as_ptr())
}

#[no_mangle]
pub extern "C" fn memprof_rs_mark(_interp: Interp, label: *const c_char, len: usize) {
    // SAFETY: the XSUB passes a buffer of `len` bytes.
    let label = unsafe { perl::pv_string(label, len) }.unwrap_or_default();
    with_recorder(|r, t| r.mark(t, label));
}

#[no_mangle]
pub extern "C" fn memprof_rs_dump_signal(_interp: Interp) -> *const c_char {
    with_recorder(|r, _| r.dump_signal_name.as_ptr()).unwrap_or(c"".as_ptr())
}

#[no_mangle]
pub extern "C" fn memprof_rs_dump(interp: Interp) -> *const c_char {
    // A thread's figures are in the main thread's dumps, not a file of their own.
    if with_recorder(|r, _| r.thread.is_none() && matches!(r.state, State::Running | State::Disabled)) != Some(true) {
        return std::ptr::null();
    }
    take_boundary(interp);
    with_recorder(|r, t| {
        r.drain_log(t);
        unaccounted(t, || r.dump());
        r.returned.as_ptr()
    })
    .unwrap_or(std::ptr::null())
}

#[no_mangle]
pub extern "C" fn memprof_rs_label(interp: Interp, name: *const c_char, len: usize, start: c_int) {
    // SAFETY: the XSUB passes a buffer of `len` bytes, or NULL.
    let name = unsafe { perl::pv_string(name, len) };
    // What ran so far was under the label that was current.
    if with_recorder(|r, _| r.state) == Some(State::Running) {
        take_boundary(interp);
    }
    with_recorder(|r, t| r.set_label(t, name.as_deref(), start != 0));
}

#[no_mangle]
pub extern "C" fn memprof_rs_current_label(_interp: Interp) -> *const c_char {
    with_recorder(|r, _| {
        let name = r.tables.current_label().map(|l| l.replace('\0', ""));
        r.returned = std::ffi::CString::new(name.clone().unwrap_or_default()).unwrap_or_default();
        if name.is_some() {
            r.returned.as_ptr()
        } else {
            std::ptr::null()
        }
    })
    .unwrap_or(std::ptr::null())
}

#[no_mangle]
pub extern "C" fn memprof_rs_snapshot(interp: Interp, label: *const c_char, len: usize) {
    // SAFETY: the XSUB passes a buffer of `len` bytes, or NULL.
    let label = unsafe { perl::pv_string(label, len) }.unwrap_or_default();
    if with_recorder(|r, _| r.state) == Some(State::Running) {
        take_boundary(interp);
    }
    if with_recorder_of(interp, |r, t| r.snapshot(t, label)).is_none() {
        warn("snapshot: not profiling; no snapshot taken");
    }
}
