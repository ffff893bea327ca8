//! `Devel::MemProf::measure(sub { ... })`: what a block of code allocated,
//! freed and left allocated, for tests that assert memory.  Works with or
//! without `-d`: the allocation hooks are always installed, and site
//! tracking is switched on for the length of the block if it was off.
//!
//! Besides the totals it reports the block's peak (its high-water mark
//! above the live bytes it started with) and, by line, what each line
//! allocated inside the block and what of that is still held: what
//! Test::MemProf's diagnostics name.  Outside a profile nothing takes
//! statement boundaries, so the XSUB runs the block under a runloop that
//! only marks them (memprof_measure_runops), and allocations are credited
//! to PL_curcop's file and line under the `(measure)` root.

use super::stack::context::{eval_op_type, innermost_sub, RealFrame};
use super::{recorder, tls, Recorder};
use crate::perl::{self, memprof_measure_site, memprof_measurement, Interp};
use memprof_profile::NONE;
use std::ffi::c_void;

struct ArenaSum<'a> {
    table: &'a perl::memprof_sites,
    since: u64,
    bytes: u64,
}

/// What one measurement keeps between begin and end, and the per-line
/// report it hands the XSUB until release.  Boxed behind
/// `memprof_measurement.private_state`.
#[derive(Default)]
struct State {
    /// Every site's `alloc_bytes` when the block began.
    alloc_before: Vec<u64>,
    /// The report; its pointers point into `strings`, whose heap buffers
    /// do not move when the Vec grows.
    sites: Vec<memprof_measure_site>,
    strings: Vec<String>,
}

/// Arena blocks born during the measured block: perl keeps them for
/// later SVs, so they are reported apart from what the code holds.  The
/// shared string table's bucket array is one of them for this purpose.
extern "C" fn add_new_arena(ctx: *mut c_void, block: *const c_void) {
    // SAFETY: ctx is the ArenaSum of measure_end.
    let sum = unsafe { &mut *ctx.cast::<ArenaSum>() };
    if is_new(sum.table, sum.since, block) {
        // SAFETY: an arena block is a live allocation.
        sum.bytes += unsafe { perl::memprof_block_size(block) } as u64;
    }
}

extern "C" fn is_new_arena(ctx: *mut c_void, block: *const c_void) -> i32 {
    // SAFETY: ctx is the list of arena blocks collected in measure_end.
    let arenas = unsafe { &*ctx.cast::<Vec<usize>>() };
    i32::from(arenas.binary_search(&(block as usize)).is_ok())
}

extern "C" fn collect_arena(ctx: *mut c_void, block: *const c_void) {
    // SAFETY: ctx is a Vec<usize> of measure_end.
    unsafe { &mut *ctx.cast::<Vec<usize>>() }.push(block as usize);
}

/// Whether a block's birth number falls in the window since `since`
/// (births are kept in 32 bits: compare ages, as sites.c does).
fn born_since(table: &perl::memprof_sites, since: u64, birth: u32) -> bool {
    let age = (table.births as u32).wrapping_sub(birth) as u64;
    age <= table.births - since
}

fn is_new(table: &perl::memprof_sites, since: u64, block: *const c_void) -> bool {
    let mut birth = 0u32;
    // SAFETY: the table is live.
    let site = unsafe { perl::memprof_sites_lookup(table, block, &mut birth) };
    site != perl::MEMPROF_NO_SITE && born_since(table, since, birth)
}

impl Recorder {
    /// The file and line allocations are credited to while measuring
    /// outside a profile: the statement running now.
    pub(super) fn measured_line(&mut self) -> (u32, u32) {
        // SAFETY: the interpreter is live; PL_curcop is NULL or a live COP.
        let cop = unsafe { perl::memprof_curcop(self.interp) };
        if cop.is_null() {
            return (self.pseudo.measure.file, 0);
        }
        // SAFETY: as above.
        let line = unsafe { perl::memprof_cop_line(cop) };
        (self.file_of_cop(cop), line)
    }

    /// Where the measured block's frames begin: the top of the context
    /// stack when measure() was called.
    fn context_top(&self) -> (u32, i32) {
        // SAFETY: the interpreter is live; its stackinfos form a list.
        unsafe {
            let si = perl::memprof_curstackinfo(self.interp) as *const perl::stackinfo;
            if si.is_null() {
                return (0, -1);
            }
            let mut level = 0u32;
            let mut s = si;
            while !(*s).si_prev.is_null() {
                level += 1;
                s = (*s).si_prev;
            }
            (level, (*si).si_cxix)
        }
    }

    /// The subs the running statement is in, inside the measured block, as
    /// a node under `(measure)`: a light version of the profiler's stack
    /// (stack.rs), walked afresh each time, since outside a profile
    /// nothing keeps a shadow of the context stack.
    pub(super) fn measured_stack(&mut self) -> u32 {
        let root = self.pseudo.measure.node;
        let Some(&floor) = self.measure_floors.last() else { return root };
        let mut names = Vec::new();
        // SAFETY: (the whole block) the interpreter is live and between
        // ops; the stack module's walk reads only live entries at or below
        // si_cxix, whatever the perl (si_cxsubix or a search for it).
        unsafe {
            let mut si = perl::memprof_curstackinfo(self.interp) as *const perl::stackinfo;
            let (mut level, _) = self.context_top();
            'walk: while !si.is_null() {
                let mut ix = innermost_sub(si);
                while ix >= 0 && ix <= (*si).si_cxix {
                    if (level, ix) <= floor {
                        break 'walk;
                    }
                    let real = RealFrame::read(level, si, ix);
                    // Eval blocks, try and regex code blocks are no frames, as in profiles.
                    if !real.transparent() {
                        let name = if real.cx_type() == perl::CXt_EVAL {
                            let string_eval = eval_op_type(real.blk_u16) == perl::opcode_OP_ENTEREVAL;
                            let name = if string_eval { None } else { perl::sv_string(real.namesv) };
                            name.unwrap_or_else(|| "(eval)".to_string())
                        } else {
                            self.cv_frame_name(real.cv)
                        };
                        names.push(name);
                    }
                    ix = real.next_ix;
                }
                si = (*si).si_prev;
                level = level.saturating_sub(1);
            }
        }
        let mut node = root;
        for name in names.into_iter().rev() {
            let frame = self.tables.frame(memprof_profile::FrameKind::Sub, name, NONE, 0);
            node = self.tables.node(node, frame, NONE, 0);
        }
        node
    }

    /// `Pkg::name`, or `Pkg::__ANON__[file:line]`, as profiles name subs.
    fn cv_frame_name(&mut self, cv: *const c_void) -> String {
        // SAFETY: cv is the live CV of a running sub; the accessors read
        // names and the first COP without creating anything.
        let ((pkg, name, anon), start) = unsafe { (perl::cv_names(self.interp, cv), perl::memprof_cv_start_cop(cv)) };
        match name {
            Some(name) if !anon => format!("{pkg}::{name}"),
            _ if start.is_null() => format!("{pkg}::__ANON__"),
            _ => {
                let file = self.file_of_cop(start);
                let file = self.tables.files.get(file as usize).map_or("?", |f| f.name.as_str());
                // SAFETY: start is a live COP of the CV's body.
                format!("{pkg}::__ANON__[{file}:{}]", unsafe { perl::memprof_cop_line(start) })
            }
        }
    }

    /// A node's frames, innermost first, joined by " < "; empty for the
    /// `(measure)` root, which is no stack of the program's.
    fn stack_text(&self, node: u32) -> String {
        let mut names = Vec::new();
        let mut n = node;
        while n != NONE && (n as usize) < self.tables.nodes.len() {
            if n == self.pseudo.measure.node {
                break;
            }
            names.push(self.tables.frame_of(n).name.as_str());
            n = self.tables.nodes[n as usize].parent;
        }
        names.join(" < ")
    }

    /// The per-line report of a block: sites that allocated inside it,
    /// with what of it (arenas apart) is still held.
    fn measured_sites(&self, state: &mut State, s: &super::sites::Sites, since: u64, arenas: &[usize]) {
        let n = s.stats.len();
        let mut retained = vec![(0u64, 0u64); n];
        if !s.table.slots.is_null() && s.table.failed == 0 {
            // SAFETY: the table owns `capacity` slots while attached.
            let slots = unsafe { std::slice::from_raw_parts(s.table.slots, s.table.capacity as usize) };
            for b in slots {
                if b.addr == 0 || !born_since(&s.table, since, b.birth) {
                    continue;
                }
                if arenas.binary_search(&(b.addr as usize)).is_ok() {
                    continue;
                }
                if let Some(r) = retained.get_mut(b.site as usize) {
                    // SAFETY: a tracked block is a live allocation.
                    r.0 += unsafe { perl::memprof_block_size(b.addr as usize as *const c_void) } as u64;
                    r.1 += 1;
                }
            }
        }
        for (i, st) in s.stats.iter().enumerate() {
            let before = state.alloc_before.get(i).copied().unwrap_or(0);
            let allocated = st.alloc_bytes.saturating_sub(before);
            let (retained_bytes, retained_blocks) = retained[i];
            if allocated == 0 && retained_bytes == 0 {
                continue;
            }
            let Some(e) = self.tables.entries.get(i) else { continue };
            let file =
                self.tables.files.get(e.file as usize).map_or_else(|| "(unknown)".to_string(), |f| f.name.clone());
            let stack = self.stack_text(e.node);
            state.sites.push(memprof_measure_site {
                file: file.as_ptr().cast(),
                file_len: file.len(),
                line: e.line,
                stack: stack.as_ptr().cast(),
                stack_len: stack.len(),
                alloc_bytes: allocated,
                retained_bytes,
                retained_blocks,
            });
            state.strings.push(file);
            state.strings.push(stack);
        }
    }
}

#[no_mangle]
pub extern "C" fn memprof_rs_measure_begin(interp: Interp, m: *mut memprof_measurement) {
    // SAFETY: the XSUB passes its own measurement struct.
    let m = unsafe { &mut *m };
    // SAFETY: an XSUB holds no reference to the block or the recorder.
    let t = unsafe { tls() };
    m.start_alloc_bytes = t.alloc_bytes;
    m.start_alloc_count = t.alloc_count;
    m.start_free_bytes = t.free_bytes;
    m.start_free_count = t.free_count;
    // The block's own high-water mark: `peak` restarts from here, and
    // measure_end puts back the higher of the two for the profile.
    m.start_live = t.live;
    m.saved_peak = t.peak;
    t.peak = t.live;
    // SAFETY: the interpreter is live.
    m.start_sv_count = unsafe { perl::memprof_sv_count(interp) };
    m.tracking_was_off = 0;
    m.line_runloop = 0;
    m.private_state = std::ptr::null_mut();
    m.sites = std::ptr::null();
    m.n_sites = 0;
    // SAFETY: the only reference to the recorder in this call.
    let Some(r) = (unsafe { recorder(t) }) else { return };
    if r.sites.is_none() {
        r.sites = Some(super::sites::Sites::new(0));
    }
    if t.sites.is_null() {
        m.tracking_was_off = 1;
        r.attach_sites(t);
    }
    // With perl's hooks installed the runloop takes boundaries already.
    m.line_runloop = i32::from(!r.perl_hooks);
    r.measuring += 1;
    let floor = r.context_top();
    r.measure_floors.push(floor);
    t.cur_site = perl::MEMPROF_UNRESOLVED;
    if m.line_runloop != 0 {
        // The block's first statement is a new one for the line runloop.
        t.last_cop = std::ptr::null();
    }
    let state = State {
        alloc_before: r.sites.as_ref().map_or_else(Vec::new, |s| s.stats.iter().map(|st| st.alloc_bytes).collect()),
        ..State::default()
    };
    m.start_births = r.sites.as_ref().map_or(0, |s| s.table.births);
    m.private_state = Box::into_raw(Box::new(state)).cast();
}

#[no_mangle]
pub extern "C" fn memprof_rs_measure_end(interp: Interp, m: *mut memprof_measurement) {
    // SAFETY: the XSUB passes the struct it gave measure_begin.
    let m = unsafe { &mut *m };
    // SAFETY: as in memprof_rs_measure_begin.
    let t = unsafe { tls() };
    m.alloc_bytes = t.alloc_bytes - m.start_alloc_bytes;
    m.alloc_count = t.alloc_count - m.start_alloc_count;
    m.free_bytes = t.free_bytes - m.start_free_bytes;
    m.free_count = t.free_count - m.start_free_count;
    m.peak_bytes = (t.peak - m.start_live).max(0);
    t.peak = t.peak.max(m.saved_peak);
    // SAFETY: the interpreter is live.
    m.sv_delta = unsafe { perl::memprof_sv_count(interp) } - m.start_sv_count;
    // SAFETY: the only reference to the recorder in this call.
    let Some(r) = (unsafe { recorder(t) }) else { return };
    r.measuring = r.measuring.saturating_sub(1);
    r.measure_floors.pop();
    let Some(s) = r.sites.as_ref() else { return };
    let mut arenas: Vec<usize> = Vec::new();
    // SAFETY: the interpreter is live; the callbacks only read.
    unsafe {
        perl::memprof_for_each_arena(interp, Some(collect_arena), (&mut arenas as *mut Vec<usize>).cast());
    }
    // SAFETY: the interpreter is live.
    let strtab = unsafe { perl::memprof_strtab_array(interp) };
    if !strtab.is_null() {
        arenas.push(strtab as usize);
    }
    arenas.sort_unstable();
    let mut sum = ArenaSum { table: &s.table, since: m.start_births, bytes: 0 };
    // SAFETY: as above; the string table's array is a live allocation.
    unsafe {
        perl::memprof_for_each_arena(interp, Some(add_new_arena), (&mut sum as *mut ArenaSum).cast());
        if !strtab.is_null() {
            add_new_arena((&mut sum as *mut ArenaSum).cast(), strtab);
        }
        m.retained_bytes = perl::memprof_sites_live_since(
            &*s.table,
            m.start_births,
            Some(is_new_arena),
            (&mut arenas as *mut Vec<usize>).cast(),
        );
    }
    m.retained_arena_bytes = sum.bytes;
    // SAFETY: private_state is NULL or the Box measure_begin leaked for this measurement.
    if let Some(state) = unsafe { m.private_state.cast::<State>().as_mut() } {
        r.measured_sites(state, s, m.start_births, &arenas);
        m.sites = state.sites.as_ptr();
        m.n_sites = state.sites.len();
    }
    if m.tracking_was_off != 0 && r.measuring == 0 {
        super::Recorder::detach_sites(t);
        if let Some(s) = r.sites.as_mut() {
            // SAFETY: nothing uses the table once detached.
            unsafe { perl::memprof_sites_clear(&mut *s.table) };
        }
    }
    t.cur_site = perl::MEMPROF_UNRESOLVED;
}

#[no_mangle]
pub extern "C" fn memprof_rs_measure_release(_interp: Interp, m: *mut memprof_measurement) {
    // SAFETY: the XSUB passes the struct measure_end filled in.
    let m = unsafe { &mut *m };
    let state = std::mem::replace(&mut m.private_state, std::ptr::null_mut());
    m.sites = std::ptr::null();
    m.n_sites = 0;
    if !state.is_null() {
        // SAFETY: the Box measure_begin leaked, released once (the pointer is cleared above).
        drop(unsafe { Box::from_raw(state.cast::<State>()) });
    }
}
