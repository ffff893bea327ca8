//! `memprof attach PID`: the entry points the debugger calls in a perl
//! that was started without the profiler.  It stops the process at a
//! statement (the entry of Perl_pp_nextstate, where perl is between two
//! statements and holds no allocator lock), loads this library and calls
//! [`memprof_attach`]; later, at another statement, [`memprof_detach`],
//! which writes the profile and gives the process its allocator and its
//! runloop back.  Blocks allocated before the attach are untracked.

use super::{forget_identity, tls, unaccounted, warn, Recorder, State};
use crate::hooks;
use crate::perl;
use memprof_profile::options;
use std::ffi::{c_char, c_int, CStr};

/// Start profiling this process with the options in `spec` (MEMPROF's
/// syntax).  Returns 0, or a negative number saying why not: -1 already
/// profiling, -2 the hooks could not be installed, -3 no statement to
/// take over from.
#[no_mangle]
pub extern "C" fn memprof_attach(spec: *const c_char) -> c_int {
    // SAFETY: the debugger calls this between two statements, on the thread
    // running perl, with no other reference to its TLS block.
    let t = unsafe { tls() };
    if !t.recorder.is_null() {
        return -1;
    }
    let spec = if spec.is_null() {
        String::new()
    } else {
        // SAFETY: the debugger passes a NUL-terminated string.
        unsafe { CStr::from_ptr(spec) }.to_string_lossy().into_owned()
    };
    let (opts, warnings) = options::parse(&spec);
    for w in &warnings {
        warn(w);
    }
    if let Err(e) = hooks::install() {
        warn(&format!("{e}; not profiling"));
        return -2;
    }
    // SAFETY: called on the perl thread (see above).
    let interp = unsafe { perl::memprof_current_interp() };
    let mut rec = Recorder::new(t, interp, opts);
    super::entry::ensure_file_cache(t);
    rec.install_perl_hooks(t);
    rec.start(t);
    forget_identity(t);
    t.interp = interp;
    t.recorder = Box::into_raw(rec).cast();
    // SAFETY: perl is between two statements; this patches the next op.
    if unsafe { perl::memprof_attach_runloop(interp) } != 0 {
        return -3;
    }
    0
}

/// Write the profile and detach: the allocation hooks' slots get the
/// original functions back and the runloop is perl's again.  Returns 0, or
/// -1 when not attached.
#[no_mangle]
pub extern "C" fn memprof_detach() -> c_int {
    let attached = {
        // SAFETY: as for memprof_attach; both borrows end in this block.
        let t = unsafe { tls() };
        // SAFETY: as above; the recorder is the one memprof_attach leaked.
        unsafe { super::recorder(t) }.map(|r| (r.interp, matches!(r.state, State::Running | State::Disabled)))
    };
    let Some((interp, running)) = attached else {
        return -1;
    };
    if running {
        // Credit what the statement running did so far (this takes the
        // TLS block and the recorder itself).
        // SAFETY: the interpreter is live and between two statements.
        unsafe { perl::memprof_force_boundary(interp) };
    }
    // SAFETY: as above; no other borrow is live now.
    let t = unsafe { tls() };
    // SAFETY: as above.
    if let Some(r) = unsafe { super::recorder(t) } {
        if running {
            r.finish(t, false);
        }
    }
    unaccounted(t, hooks::uninstall);
    // SAFETY: as above.
    unsafe { perl::memprof_detach_runloop(interp) };
    // The recorder stays allocated (a hook running on another thread may
    // still look at it) but is no longer this thread's.
    t.recorder = std::ptr::null_mut();
    t.sites = std::ptr::null_mut();
    0
}
