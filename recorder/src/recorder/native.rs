//! Native frames (`MEMPROF=native=1`): the C functions beneath a Perl
//! statement that allocated, as frames under the statement's stack.
//!
//! The allocation hook unwinds the C stack (perl-glue/alloc/native.c) and
//! hands the return addresses here.  Of that stack we keep what lies
//! between the allocator and the innermost Perl runloop (ours: every Perl
//! statement runs under it), and with `native=1` only the frames of XS
//! modules and the libraries they call: perl's own (`Perl_*`, `pp_*`, in
//! the perl binary or libperl) and the profiler's are folded away, and so
//! is whatever called perl from outside (`main`, libc's start).  An
//! allocation with no such frame is a plain Perl one and is credited at
//! the next statement boundary as always; one with native frames is
//! credited at once, to the entry (its native leaf node, the statement's
//! file and line), and skipped by that boundary's delta.
//!
//! Frames are keyed by the start of their function, from the unwind
//! tables, and named only when the profile is written (see [`symbolise`]):
//! an XSUB by its Perl name, else the exported symbol holding it, else
//! `object+0xoffset`.

use super::{Recorder, State};
use crate::perl::{self, memprof_tls};
use ahash::RandomState;
use memprof_profile::options::Native as Mode;
use memprof_profile::{FrameKind, Profile, NONE};
use std::collections::HashMap;
use std::ffi::{c_char, c_int, c_void, CStr};

type Map<K, V> = HashMap<K, V, RandomState>;

/// Where a code address is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Class {
    /// The profiler's library: its hooks and its runloop.
    Ours,
    /// Perl itself: the binary, or libperl when perl has one.
    Perl,
    /// Anything else: XS modules, the libraries they call, libc.
    Other,
}

/// What a native frame's placeholder name starts with until it is
/// symbolised; followed by the function's start in hex.
const PLACEHOLDER: &str = "[C] 0x";

pub struct Native {
    mode: Mode,
    /// Executable ranges of the loaded objects: (start, end, class), by start.
    ranges: Vec<(u64, u64, Class)>,
    /// Return address -> its class and frame (NONE for Ours and Perl).
    pcs: Map<u64, (Class, u32)>,
    /// Function start -> frame.
    functions: Map<u64, u32>,
    /// Scratch: the frames kept of one allocation, innermost first.
    kept: Vec<u32>,
    /// perl's `main`: while perl compiles the main program no runloop of
    /// ours is on the stack, and what lies beyond `main` is libc's start.
    main: u64,
}

struct RangeWalk {
    ranges: Vec<(u64, u64, Class)>,
    ours: u64,
    perl: u64,
    first: bool,
}

unsafe extern "C" fn each_object(info: *mut libc::dl_phdr_info, _size: usize, data: *mut c_void) -> c_int {
    // SAFETY: data is the RangeWalk that `Native::load_ranges` passes.
    let walk = unsafe { &mut *data.cast::<RangeWalk>() };
    // SAFETY: the loader passes a valid dl_phdr_info for the callback's span.
    let info = unsafe { &*info };
    let mut segments = Vec::new();
    for i in 0..usize::from(info.dlpi_phnum) {
        // SAFETY: dlpi_phdr holds dlpi_phnum headers.
        let ph = unsafe { &*info.dlpi_phdr.add(i) };
        if ph.p_type == libc::PT_LOAD && ph.p_flags & libc::PF_X != 0 {
            let start = info.dlpi_addr.wrapping_add(ph.p_vaddr);
            segments.push((start, start.wrapping_add(ph.p_memsz)));
        }
    }
    let holds = |a: u64| segments.iter().any(|&(s, e)| s <= a && a < e);
    // The first object is the executable: perl's binary.
    let class = if holds(walk.ours) {
        Class::Ours
    } else if walk.first || (walk.perl != 0 && holds(walk.perl)) {
        Class::Perl
    } else {
        Class::Other
    };
    walk.first = false;
    walk.ranges.extend(segments.into_iter().map(|(s, e)| (s, e, class)));
    0
}

impl Native {
    pub fn new(mode: Mode) -> Option<Native> {
        if mode == Mode::Off {
            return None;
        }
        let mut n = Native {
            mode,
            ranges: Vec::new(),
            pcs: Map::default(),
            functions: Map::default(),
            kept: Vec::new(),
            // SAFETY: as in load_ranges.
            main: unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"main".as_ptr()) } as u64,
        };
        n.load_ranges();
        Some(n)
    }

    /// Read the loaded objects' code ranges afresh (a dlopen adds some).
    fn load_ranges(&mut self) {
        // SAFETY: dlsym with a NUL-terminated name has no other precondition.
        let perl = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"Perl_sv_grow".as_ptr()) } as u64;
        let mut walk =
            RangeWalk { ranges: Vec::new(), ours: memprof_rs_native_site as *const () as u64, perl, first: true };
        // SAFETY: the callback only reads the headers it is given and
        // writes the RangeWalk, which outlives the call.
        unsafe { libc::dl_iterate_phdr(Some(each_object), (&mut walk as *mut RangeWalk).cast()) };
        walk.ranges.sort_unstable_by_key(|r| r.0);
        self.ranges = walk.ranges;
    }

    fn class_in_ranges(&self, addr: u64) -> Option<Class> {
        let i = self.ranges.partition_point(|r| r.0 <= addr);
        let r = self.ranges.get(i.checked_sub(1)?)?;
        (addr < r.1).then_some(r.2)
    }
}

impl Recorder {
    /// Native frames are recorded while profiling runs.
    pub(super) fn update_native(&mut self, t: &mut memprof_tls) {
        t.native = u8::from(self.state == State::Running && self.native.is_some());
    }

    /// Open libunwind when native frames are asked for; without it they are off.
    pub(super) fn init_native(&mut self) {
        // SAFETY: memprof_native_init only dlopens libunwind and looks up symbols.
        if self.native.is_some() && unsafe { perl::memprof_native_init() } != 0 {
            super::warn("MEMPROF=native needs libunwind (libunwind.so.8), which could not be loaded; no native frames");
            self.native = None;
        }
    }

    /// The class and frame of a return address.
    fn native_frame(&mut self, pc: u64) -> (Class, u32) {
        let Some(n) = self.native.as_mut() else { return (Class::Ours, NONE) };
        if let Some(&known) = n.pcs.get(&pc) {
            return known;
        }
        // A return address is just past its call: the call is in the function.
        let at = pc.wrapping_sub(1);
        let class = match n.class_in_ranges(at) {
            Some(c) => c,
            None => {
                n.load_ranges();
                n.class_in_ranges(at).unwrap_or(Class::Other)
            }
        };
        // SAFETY: the lookup only reads the loaded objects' unwind tables.
        let start = match unsafe { perl::memprof_native_function_start(at) } {
            0 => at,
            s => s,
        };
        let class = if class == Class::Perl && start == n.main { Class::Ours } else { class };
        let keep = class == Class::Other || (n.mode == Mode::All && class == Class::Perl);
        let frame = if keep {
            match n.functions.get(&start) {
                Some(&f) => f,
                None => {
                    let f = self.tables.frame(FrameKind::Native, format!("{PLACEHOLDER}{start:x}"), NONE, 0);
                    n.functions.insert(start, f);
                    f
                }
            }
        } else {
            NONE
        };
        let n = self.native.as_mut().expect("checked above");
        n.pcs.insert(pc, (class, frame));
        (class, frame)
    }

    /// An allocation's C stack (innermost first): credit it to its native
    /// frames, or leave it to the statement if it has none.  Returns the site.
    fn native_site(&mut self, t: &mut memprof_tls, pcs: &[*const c_void], size: u64) -> u32 {
        let Some(mode) = self.native.as_ref().map(|n| n.mode) else {
            return self.current_site(t);
        };
        if self.state != State::Running {
            return self.current_site(t);
        }
        let mut kept = std::mem::take(&mut self.native.as_mut().expect("checked above").kept);
        kept.clear();
        // Our hook's frames first, then the stack down to our runloop.
        let mut outer_perl = None;
        let mut started = false;
        for &pc in pcs {
            let (class, frame) = self.native_frame(pc as u64);
            if class == Class::Ours {
                if started {
                    break;
                }
                continue;
            }
            started = true;
            if class == Class::Perl {
                outer_perl = Some(kept.len());
            }
            kept.push(frame);
        }
        // native=1: what called into perl from outside is not the statement's.
        if mode == Mode::On {
            if let Some(o) = outer_perl {
                kept.truncate(o);
            }
            kept.retain(|&f| f != NONE);
        }
        let site = if kept.is_empty() {
            self.current_site(t)
        } else {
            let (file, line) = (t.cur_file, t.cur_line);
            let mut node = t.cur_node;
            for &frame in kept.iter().rev() {
                node = self.tables.node(node, frame, file, line);
            }
            let entry = self.tables.entry(node, file, line);
            let m = &mut self.tables.entries[entry as usize].metrics;
            m.alloc_bytes += size;
            m.alloc_count += 1;
            // Counted in the thread's totals, credited here: the next
            // boundary's delta leaves it out.
            t.snap_alloc_bytes += size;
            t.snap_alloc_count += 1;
            if let Some(s) = self.sites.as_mut() {
                s.ensure(entry);
            }
            entry
        };
        if let Some(n) = self.native.as_mut() {
            n.kept = kept;
        }
        site
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_native_site(t: *mut memprof_tls, pcs: *const *const c_void, n: u32, size: u64) -> u32 {
    // SAFETY: the hook passes this thread's TLS block.
    let t = unsafe { &mut *t };
    let pcs: &[*const c_void] = if pcs.is_null() || n == 0 {
        &[]
    } else {
        // SAFETY: native.c passes n addresses in pcs.
        unsafe { std::slice::from_raw_parts(pcs, n as usize) }
    };
    // SAFETY: called from the hooks, while no Rust code holds the recorder.
    match unsafe { super::recorder(t) } {
        Some(r) => r.native_site(t, pcs, size),
        None => t.cur_site,
    }
}

struct XsubWalk {
    names: Map<u64, Vec<String>>,
}

unsafe extern "C" fn each_xsub(
    ctx: *mut c_void,
    function: *const c_void,
    pkg: *const c_char,
    pkg_len: usize,
    name: *const c_char,
    name_len: usize,
) {
    // SAFETY: ctx is the XsubWalk passed by `xsub_names`.
    let walk = unsafe { &mut *ctx.cast::<XsubWalk>() };
    // SAFETY: the glue passes perl's package and key strings with their lengths.
    let (Some(pkg), Some(name)) =
        (unsafe { perl::pv_string(pkg, pkg_len) }, unsafe { perl::pv_string(name, name_len) })
    else {
        return;
    };
    walk.names.entry(function as u64).or_default().push(format!("{pkg}::{name}"));
}

/// Every XSUB's C function and its Perl names (several when aliased).
fn xsub_names(interp: perl::Interp) -> Map<u64, Vec<String>> {
    let mut walk = XsubWalk { names: Map::default() };
    // SAFETY: the interpreter is live; the callback only copies strings.
    unsafe { perl::memprof_for_each_xsub(interp, Some(each_xsub), (&mut walk as *mut XsubWalk).cast()) };
    walk.names
}

/// xsubpp's C name of an XSUB: `XS_` and the package with `::` as `__`, `_`, the name.
fn xs_c_name(perl_name: &str) -> String {
    let (pkg, name) = perl_name.rsplit_once("::").unwrap_or(("", perl_name));
    format!("XS_{}_{name}", pkg.replace("::", "__"))
}

/// The name of the function starting at `addr`.
fn symbol_name(addr: u64, xsubs: &Map<u64, Vec<String>>) -> String {
    let mut object: *const c_char = std::ptr::null();
    let mut offset = 0u64;
    // SAFETY: dladdr1 reads the loader's tables; the strings it returns are
    // the loader's and live while the object stays loaded (now).
    let sym = unsafe { perl::memprof_native_symbol(addr, &mut object, &mut offset) };
    // SAFETY: as above: NULL or NUL-terminated.
    let sym = (!sym.is_null()).then(|| unsafe { CStr::from_ptr(sym) }.to_string_lossy().into_owned());
    if let Some(names) = xsubs.get(&addr) {
        // Aliases share a function: the name xsubpp gave it, else the first.
        let c_name = sym.as_deref().unwrap_or("");
        let mut names = names.clone();
        names.sort();
        return names.iter().find(|n| xs_c_name(n) == c_name).unwrap_or(&names[0]).clone();
    }
    if let Some(s) = sym {
        return s;
    }
    let file = if object.is_null() {
        "?".to_string()
    } else {
        // SAFETY: as above.
        let path = unsafe { CStr::from_ptr(object) }.to_string_lossy().into_owned();
        // An XS module's object is auto/Pkg/Name/Name.so: most are XS.so.
        match path.rsplit_once("/auto/") {
            Some((_, module)) => module.to_string(),
            None => path.rsplit('/').next().unwrap_or(&path).to_string(),
        }
    };
    if object.is_null() {
        format!("0x{addr:x}")
    } else {
        format!("{file}+0x{offset:x}")
    }
}

/// Name the native frames of a profile about to be written.
pub(super) fn symbolise(interp: perl::Interp, p: &mut Profile) {
    if !p.frames.iter().any(|f| f.kind == FrameKind::Native) {
        return;
    }
    let xsubs = xsub_names(interp);
    for f in p.frames.iter_mut().filter(|f| f.kind == FrameKind::Native) {
        let Some(addr) = f.name.strip_prefix(PLACEHOLDER).and_then(|h| u64::from_str_radix(h, 16).ok()) else {
            continue;
        };
        f.name = format!("[C] {}", symbol_name(addr, &xsubs));
    }
}
