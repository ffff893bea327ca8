//! Devel::MemProf's XS library: loaded into perl by `-d:MemProf`, it
//! counts every allocation (`hooks`), credits it to the statement and call
//! stack that made it (`recorder`), and writes the profile (`profile`).
//!
//! The C glue in `perl-glue/` holds the runloop, the allocation hooks' fast
//! path and Perl's macro accessors; `perl` is the Rust view of them.

mod hooks;
mod own_alloc;
mod perl;
mod recorder;

#[global_allocator]
static ALLOCATOR: own_alloc::Counted = own_alloc::Counted;

use std::ffi::c_void;

/// The XS boot function DynaLoader calls (`bootstrap Devel::MemProf`).
///
/// It must be defined here: a symbol defined in the C glue is not
/// exported from a Rust cdylib.
///
/// # Safety
/// Called by perl as an XSUB, with a live interpreter.
#[cfg(perl_multiplicity)]
#[no_mangle]
pub unsafe extern "C" fn boot_Devel__MemProf(interp: *mut c_void, _cv: *mut c_void) {
    // SAFETY: perl calls us as an XSUB; the glue does the XS protocol.
    unsafe { perl::memprof_xs_boot(interp, Some(recorder::entry::boot)) }
}

/// The XS boot function DynaLoader calls (unthreaded perl).
///
/// # Safety
/// Called by perl as an XSUB.
#[cfg(not(perl_multiplicity))]
#[no_mangle]
pub unsafe extern "C" fn boot_Devel__MemProf(_cv: *mut c_void) {
    // SAFETY: perl calls us as an XSUB; the glue does the XS protocol.
    unsafe { perl::memprof_xs_boot(std::ptr::null_mut(), Some(recorder::entry::boot)) }
}

/// Each Rust entry point must have the type of its C prototype in
/// perl-glue/memprof.h, as bindgen read it: a mismatch is a compile error
/// here rather than a wrong argument at run time.  (An array's elements
/// must coerce to one function pointer type.)
macro_rules! same_type_as_c {
    ($($rust:path => $c:ident,)*) => {
        const _: () = { $( let _ = [perl::$c, $rust]; )* };
    };
}

same_type_as_c! {
    hooks::memprof_rs_after_dlopen => memprof_rs_after_dlopen,
    recorder::threads::memprof_rs_cloned => memprof_rs_cloned,
    recorder::entry::memprof_rs_compile_line => memprof_rs_compile_line,
    recorder::sites::memprof_rs_current_site => memprof_rs_current_site,
    recorder::entry::memprof_rs_disable => memprof_rs_disable,
    recorder::entry::memprof_rs_enable => memprof_rs_enable,
    recorder::entry::memprof_rs_end_of_run => memprof_rs_end_of_run,
    recorder::entry::memprof_rs_eval_compile => memprof_rs_eval_compile,
    recorder::entry::memprof_rs_file_id => memprof_rs_file_id,
    recorder::entry::memprof_rs_finish => memprof_rs_finish,
    recorder::entry::memprof_rs_flush => memprof_rs_flush,
    recorder::entry::memprof_rs_main_done => memprof_rs_main_done,
    recorder::entry::memprof_rs_mark => memprof_rs_mark,
    recorder::native::memprof_rs_native_site => memprof_rs_native_site,
    recorder::measure::memprof_rs_measure_begin => memprof_rs_measure_begin,
    recorder::measure::memprof_rs_measure_end => memprof_rs_measure_end,
    recorder::measure::memprof_rs_measure_release => memprof_rs_measure_release,
    recorder::entry::memprof_rs_process_ending => memprof_rs_process_ending,
    recorder::entry::memprof_rs_sample => memprof_rs_sample,
    recorder::trace::memprof_rs_set_callback => memprof_rs_set_callback,
    recorder::entry::memprof_rs_sigexit_signals => memprof_rs_sigexit_signals,
    recorder::entry::memprof_rs_dump_signal => memprof_rs_dump_signal,
    recorder::entry::memprof_rs_dump => memprof_rs_dump,
    recorder::entry::memprof_rs_label => memprof_rs_label,
    recorder::entry::memprof_rs_current_label => memprof_rs_current_label,
    recorder::entry::memprof_rs_start_profiling => memprof_rs_start_profiling,
    recorder::entry::memprof_rs_sync => memprof_rs_sync,
    recorder::entry::memprof_rs_snapshot => memprof_rs_snapshot,
    recorder::threads::memprof_rs_thread_start => memprof_rs_thread_start,
}
