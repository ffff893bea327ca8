//! The live trace (`MEMPROF=trace=BYTES`): one line for each statement
//! whose net growth reaches the threshold, as the program runs, in
//! Devel::MemoryTrace::Light's form with the sub added, or a call to the
//! program's own callback (`Devel::MemProf::set_callback`).

use super::{warn, Recorder};
use crate::perl::{self, memprof_tls};

use std::ffi::{c_void, CString};
use std::io::Write;

pub struct Trace {
    pub threshold: u64,
    file: Option<std::fs::File>,
    /// The callback's CV, with a reference held, or NULL.
    pub callback: *mut c_void,
}

impl Trace {
    pub fn new(threshold: u64, path: Option<&str>) -> Trace {
        let file = path.and_then(|p| match std::fs::File::create(p) {
            Ok(f) => Some(f),
            Err(e) => {
                warn(&format!("cannot write the trace to {p}: {e}; tracing to stderr"));
                None
            }
        });
        Trace { threshold, file, callback: std::ptr::null_mut() }
    }

    fn print(&mut self, line: &str) {
        let written = match self.file.as_mut() {
            Some(f) => f.write_all(line.as_bytes()),
            None => std::io::stderr().write_all(line.as_bytes()),
        };
        let _ = written;
    }
}

/// A call of the program's trace callback, prepared while the recorder
/// was borrowed and made after.
pub struct Callback {
    cv: *mut c_void,
    pkg: CString,
    file: CString,
    line: u32,
    net: i64,
}

impl Recorder {
    /// A statement's movement was just credited: trace it if it grew
    /// enough.  Printing happens here; a callback is returned to be run.
    pub(super) fn trace(&mut self, node: u32, file: u32, line: u32, net: i64) -> Option<Callback> {
        let trace = self.trace.as_ref()?;
        if net <= 0 || (net as u64) < trace.threshold {
            return None;
        }
        let sub = &self.tables.frame_of(node).name;
        let file_name = &self.tables.files[file as usize].name;
        if trace.callback.is_null() {
            let text = format!(">> {} {sub}, {file_name} ({line}) used {net} bytes\n", self.pid);
            if let Some(trace) = self.trace.as_mut() {
                trace.print(&text);
            }
            return None;
        }
        let pkg = match sub.rfind("::") {
            Some(at) => &sub[..at],
            None => "main",
        };
        Some(Callback {
            cv: trace.callback,
            pkg: CString::new(pkg).ok()?,
            file: CString::new(file_name.as_str()).ok()?,
            line,
            net,
        })
    }
}

/// Run the program's callback.  What it allocates is credited to the
/// `(callback)` pseudo-location, not to any line of the program, and its
/// statements are not profiled.  No Rust reference into the TLS block or
/// the recorder is alive while perl runs: the hooks and the runloop
/// change both.
pub(super) fn run_callback(t: *mut memprof_tls, cb: Callback) {
    let (interp, recorder_ptr, saved) = {
        // SAFETY: t is this thread's TLS block; this borrow ends before perl runs.
        let t = unsafe { &mut *t };
        // SAFETY: no other reference to the recorder is live here.
        let Some(r) = (unsafe { super::recorder(t) }) else { return };
        let saved = (t.cur_node, t.cur_file, t.cur_line);
        Recorder::enter_pseudo(t, r.pseudo.callback);
        let entry = r.tables.entry(t.cur_node, t.cur_file, 0);
        if let Some(s) = r.sites.as_mut() {
            s.ensure(entry);
        }
        let interp = r.interp;
        let recorder_ptr = t.recorder;
        t.recorder = std::ptr::null_mut();
        t.cur_site = entry;
        (interp, recorder_ptr, saved)
    };
    // SAFETY: the interpreter is between two ops; the callback is a live
    // CV we hold a reference to; a die inside it is trapped (G_EVAL).
    unsafe {
        perl::memprof_call_trace_callback(interp, cb.cv, cb.pkg.as_ptr(), cb.file.as_ptr(), cb.line, cb.net);
    }
    // SAFETY: as above; perl is done running.
    let t = unsafe { &mut *t };
    t.recorder = recorder_ptr;
    // SAFETY: perl is done running; this is the only reference.
    if let Some(r) = unsafe { super::recorder(t) } {
        // SAFETY: the interpreter is live.
        let sv_count = unsafe { perl::memprof_sv_count(interp) };
        r.credit(t, sv_count);
    }
    (t.cur_node, t.cur_file, t.cur_line) = saved;
    t.cur_site = perl::MEMPROF_UNRESOLVED;
    // SAFETY: the interpreter is live.
    t.last_cop = unsafe { perl::memprof_curcop(interp) };
}

#[no_mangle]
pub extern "C" fn memprof_rs_set_callback(interp: perl::Interp, cv: *mut c_void) {
    // SAFETY: an XSUB holds no reference to the block or the recorder.
    let t = unsafe { super::tls() };
    // SAFETY: as above.
    let Some(r) = (unsafe { super::recorder(t) }) else { return };
    let trace = r.trace.get_or_insert_with(|| Trace::new(1, None));
    if !trace.callback.is_null() {
        // SAFETY: we hold a reference to the old callback.
        unsafe { perl::memprof_sv_unref(interp, trace.callback) };
    }
    if cv.is_null() && r.opts.trace == 0 {
        // Tracing was only on for the callback.
        r.trace = None;
    } else {
        trace.callback = if cv.is_null() {
            std::ptr::null_mut()
        } else {
            // SAFETY: cv is a live CV from the XSUB's argument.
            unsafe { perl::memprof_sv_ref(interp, cv) }
        };
    }
    r.update_credit_fast(t);
}
