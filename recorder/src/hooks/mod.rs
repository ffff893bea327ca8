//! The allocation hooks: which libc functions are replaced (the table lives
//! in perl-glue/alloc_hooks.c) and how the replacements get installed
//! (GOT patching, see [`got`]).

mod got;

use crate::perl;
use std::sync::atomic::{AtomicBool, Ordering};

static INSTALLED: AtomicBool = AtomicBool::new(false);

/// Resolve the original functions and patch every loaded object.
pub fn install() -> Result<usize, String> {
    // SAFETY: resolving symbols with dlsym has no preconditions.
    if unsafe { perl::memprof_hooks_resolve() } != 0 {
        return Err("could not find malloc, free, calloc and realloc in this process".into());
    }
    let patched = got::patch_loaded_objects();
    INSTALLED.store(true, Ordering::Release);
    Ok(patched)
}

/// Put the original functions back everywhere (detaching).
pub fn uninstall() -> usize {
    INSTALLED.store(false, Ordering::Release);
    got::restore_loaded_objects()
}

/// Called by the dlopen hook: patch whatever the new library brought in.
#[no_mangle]
pub extern "C" fn memprof_rs_after_dlopen() {
    if INSTALLED.load(Ordering::Acquire) {
        got::patch_loaded_objects();
    }
}
