//! Rust's view of Perl: the bindings that bindgen generated from the
//! target perl's headers (struct layouts, constants, the glue's functions),
//! and small accessors over them.  Everything that reads Perl's memory
//! goes through here.

#[allow(non_camel_case_types, non_upper_case_globals, non_snake_case, dead_code, clippy::all)]
#[allow(clippy::undocumented_unsafe_blocks, unsafe_op_in_unsafe_fn)]
mod sys {
    include!(concat!(env!("OUT_DIR"), "/perl_bindings.rs"));
}

pub use sys::*;

use std::ffi::{c_void, CStr};

/// The running interpreter, as the glue wants it (NULL on an unthreaded perl).
pub type Interp = *mut c_void;

/// The type of a context (CxTYPE).
///
/// # Safety
/// `cx` must point at a live context entry.
pub unsafe fn cx_type(cx: *const context) -> u32 {
    // SAFETY: the caller guarantees cx is live; blku_type is the first byte
    // of every context entry.
    unsafe { u32::from((*cx).cx_u.cx_blk.blku_type) & CXTYPEMASK }
}

/// Turn a C string owned by perl into an owned Rust string (lossily).
///
/// # Safety
/// `p` must be NULL or point at a NUL-terminated string.
pub unsafe fn c_string(p: *const std::ffi::c_char) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees NUL termination.
    Some(unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

/// Bytes of a perl-owned buffer as a Rust string (lossily).
///
/// # Safety
/// `p` must point at `len` readable bytes (or be NULL).
pub unsafe fn pv_string(p: *const std::ffi::c_char, len: usize) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees the length.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    Some(String::from_utf8_lossy(bytes).into_owned())
}

/// A name perl owns (a sub's, a package's): UTF-8 when perl's flag says so,
/// else Latin-1, one character per byte, as perl reads it.
///
/// # Safety
/// `p` must point at `len` readable bytes (or be NULL).
pub unsafe fn name_string(p: *const std::ffi::c_char, len: usize, utf8: bool) -> Option<String> {
    if p.is_null() {
        return None;
    }
    // SAFETY: the caller guarantees the length.
    let bytes = unsafe { std::slice::from_raw_parts(p.cast::<u8>(), len) };
    Some(if utf8 {
        String::from_utf8_lossy(bytes).into_owned()
    } else {
        bytes.iter().map(|&b| char::from(b)).collect()
    })
}

/// A CV's package, its own name (None for an XSUB without one) and whether
/// it is anonymous, read without creating a GV, decoded by perl's flags.
///
/// # Safety
/// `cv` must be a live CV of the interpreter `interp`.
pub unsafe fn cv_names(interp: Interp, cv: *const c_void) -> (String, Option<String>, bool) {
    let mut pkg: *const std::ffi::c_char = std::ptr::null();
    let (mut pkg_len, mut name_len, mut anon, mut utf8) = (0usize, 0usize, 0i32, 0i32);
    // SAFETY: the caller guarantees cv is live; the accessor only reads.
    unsafe {
        let name = memprof_cv_name(interp, cv, &mut pkg, &mut pkg_len, &mut name_len, &mut anon, &mut utf8);
        let flag = |bit: u32| utf8 as u32 & bit != 0;
        (
            name_string(pkg, pkg_len, flag(MEMPROF_PKG_UTF8)).unwrap_or_else(|| "main".into()),
            name_string(name, name_len, flag(MEMPROF_NAME_UTF8)),
            anon != 0,
        )
    }
}

/// The string value of an SV, if it has one already.
///
/// # Safety
/// `sv` must be NULL or a live SV.
pub unsafe fn sv_string(sv: *const c_void) -> Option<String> {
    let mut len = 0usize;
    // SAFETY: memprof_sv_pv only reads a live SV (or returns NULL).
    unsafe {
        let p = memprof_sv_pv(sv, &mut len);
        pv_string(p, len)
    }
}
