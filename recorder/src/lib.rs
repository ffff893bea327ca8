//! Devel::MemProf's XS library: loaded into perl by `-d:MemProf`, it
//! counts every allocation (`hooks`), credits it to the statement and call
//! stack that made it (`recorder`), and writes the profile (`profile`).
//!
//! The C glue in `perl-glue/` holds the runloop, the allocation hooks' fast
//! path and Perl's macro accessors; `perl` is the Rust view of them.

mod hooks;
mod perl;
mod recorder;

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
    unsafe { perl::memprof_xs_boot(interp, Some(recorder::boot)) }
}

/// The XS boot function DynaLoader calls (unthreaded perl).
///
/// # Safety
/// Called by perl as an XSUB.
#[cfg(not(perl_multiplicity))]
#[no_mangle]
pub unsafe extern "C" fn boot_Devel__MemProf(_cv: *mut c_void) {
    // SAFETY: perl calls us as an XSUB; the glue does the XS protocol.
    unsafe { perl::memprof_xs_boot(std::ptr::null_mut(), Some(recorder::boot)) }
}
