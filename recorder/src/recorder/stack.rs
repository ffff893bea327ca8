//! Which call stack a statement runs under.
//!
//! Perl's context stack holds the truth: one entry per sub, format, string
//! eval and required file (and loops and blocks, which don't matter here),
//! spread over stackinfos when a sort block, DESTROY, a tie or overload
//! method or a signal handler runs in a runlevel of its own.  Each
//! stackinfo keeps the index of its innermost sub-like entry
//! (`si_cxsubix`), and each entry the previous one (`old_cxsubix`), so the
//! frames form a chain we can walk without visiting loops and blocks.
//! Perls before 5.32 keep neither index: there we find the same entries by
//! searching down the context stack, as pp_ctl.c's dopoptosub_at does.
//!
//! We keep a shadow copy of that chain with the node each frame was given.
//! When the innermost frame changes (the C fast path notices), we walk the
//! real chain from the top only until it meets a shadow entry at the same
//! place with the same identity; everything below is unchanged.  A call
//! costs one new frame, a return one truncation.

use super::{Recorder, State};
use crate::perl::{self, memprof_tls, stackinfo};
use ahash::RandomState;
use memprof_profile::options::Start;
use memprof_profile::FrameKind;
use std::collections::HashMap;
use std::ffi::{c_void, CStr};

/// One sub-like context entry, read from perl's context stack.
#[derive(Clone, Copy)]
struct RealFrame {
    /// Stackinfo depth (0 for the main runlevel) and index in it.
    level: u32,
    ix: i32,
    /// The raw cx_type byte, the CV (sub, format, eval) and the caller's COP.
    ctype: u8,
    cv: *const c_void,
    oldcop: *const c_void,
    /// For eval frames: which op pushed it (CxOLD_OP_TYPE lives here).
    blk_u16: u16,
    /// For require frames: the name it was required as.
    namesv: *const c_void,
    next_ix: i32,
}

#[derive(Clone, Copy)]
struct ShadowFrame {
    level: u32,
    ix: i32,
    ctype: u8,
    cv: *const c_void,
    oldcop: *const c_void,
    node: u32,
    /// A BEGIN or UNITCHECK block, or a require from the lexer: run by
    /// the compiler, which resumes when it returns.
    compile_time: bool,
}

impl ShadowFrame {
    fn position(&self) -> (u32, i32) {
        (self.level, self.ix)
    }

    fn same(&self, r: &RealFrame) -> bool {
        self.ctype == r.ctype && self.cv == r.cv && self.oldcop == r.oldcop
    }
}

/// The last child a frame called, and the node it got: a loop calling the
/// same sub from the same place finds it here without hashing.
#[derive(Clone, Copy, Default)]
struct ChildMemo {
    oldcop: usize,
    cv: usize,
    start: usize,
    generation: u64,
    node: u32,
    compile_time: bool,
    valid: bool,
}

#[derive(Default)]
pub struct Stack {
    shadow: Vec<ShadowFrame>,
    /// memo[i]: the last child of shadow[i]; root_memo: of the top level.
    memo: Vec<ChildMemo>,
    root_memo: ChildMemo,
    fresh: Vec<RealFrame>,
    /// Callers' COPs of compile-time frames popped by the last walk.
    returned_to_compiler: Vec<*const c_void>,
    /// Whether the last node made was run by the compiler.
    last_compile_time: bool,
    /// (parent node, caller's COP, CV, CV's first op) -> node.  Emptied
    /// whenever a COP is freed, since its address may then be reused.
    node_cache: HashMap<(u32, usize, usize, usize), (u32, bool), RandomState>,
    cache_generation: u64,
}

/// What a frame is called and where it is defined.
struct Naming {
    kind: FrameKind,
    name: String,
    file: u32,
    line: u32,
    /// BEGIN and UNITCHECK blocks: run by the compiler.
    compile_time: bool,
}

/// The eval {} flag of an eval context: cop.h names it CXp_EVALBLOCK from
/// 5.34 on, CXp_TRYBLOCK before (the same bit).
#[cfg(perl_cxp_evalblock)]
const CXP_EVALBLOCK: u32 = perl::CXp_EVALBLOCK;
#[cfg(not(perl_cxp_evalblock))]
const CXP_EVALBLOCK: u32 = perl::CXp_TRYBLOCK;
/// try/catch blocks (5.34 on); older perls have none.
#[cfg(perl_cxp_try)]
const CXP_TRY: u32 = perl::CXp_TRY;
#[cfg(not(perl_cxp_try))]
const CXP_TRY: u32 = 0;

/// The innermost sub, format or eval context of `si`: what perl keeps in
/// si_cxsubix from 5.32 on.
///
/// # Safety
/// `si` must be a live stackinfo.
#[cfg(perl_cxsubix)]
unsafe fn innermost_sub(si: *const stackinfo) -> i32 {
    // SAFETY: the caller guarantees si is live.
    unsafe { (*si).si_cxsubix }
}

/// Before 5.32 there is no si_cxsubix: search down from the top entry.
///
/// # Safety
/// `si` must be a live stackinfo.
#[cfg(not(perl_cxsubix))]
unsafe fn innermost_sub(si: *const stackinfo) -> i32 {
    // SAFETY: the caller guarantees si is live.
    unsafe { sub_context_at(si, (*si).si_cxix) }
}

/// The first sub, format or eval context at or below `from` in `si`, or -1:
/// pp_ctl.c's dopoptosub_at, except that it keeps the fake subs of regex
/// code blocks, as si_cxsubix and old_cxsubix do (they are transparent).
///
/// # Safety
/// `si` must be a live stackinfo and `from` at most its si_cxix.
#[cfg(not(perl_cxsubix))]
unsafe fn sub_context_at(si: *const stackinfo, from: i32) -> i32 {
    let mut ix = from;
    while ix >= 0 {
        // SAFETY: entries 0..=si_cxix of a live stackinfo are live.
        let ctype = unsafe { perl::cx_type((*si).si_cxstack.add(ix as usize)) };
        // Every eval context counts: try blocks, the one kind si_cxsubix
        // skips (inline.h's cx_pushtry), came after it (5.34).
        match ctype {
            perl::CXt_SUB | perl::CXt_FORMAT | perl::CXt_EVAL => return ix,
            _ => ix -= 1,
        }
    }
    -1
}

/// CxOLD_OP_TYPE: which op pushed an eval context.
fn eval_op_type(blk_u16: u16) -> u32 {
    u32::from(blk_u16 >> 7)
}

impl RealFrame {
    /// # Safety
    /// `ix` must index a live sub, format or eval context of the live stackinfo `si`.
    unsafe fn read(level: u32, si: *const stackinfo, ix: i32) -> RealFrame {
        // SAFETY: the caller guarantees the context is live; the union
        // member read matches the context's type.
        unsafe {
            let cx = (*si).si_cxstack.add(ix as usize);
            let blk = &(*cx).cx_u.cx_blk;
            let is_eval = perl::cx_type(cx) == perl::CXt_EVAL;
            let (cv, namesv) = if is_eval {
                let e = &blk.blk_u.blku_eval;
                (e.cv as *const c_void, e.old_namesv as *const c_void)
            } else {
                (blk.blk_u.blku_sub.cv as *const c_void, std::ptr::null())
            };
            // The next sub-like context down: perl links them from 5.32 on.
            #[cfg(perl_cxsubix)]
            let next_ix = if is_eval { blk.blk_u.blku_eval.old_cxsubix } else { blk.blk_u.blku_sub.old_cxsubix };
            #[cfg(not(perl_cxsubix))]
            let next_ix = sub_context_at(si, ix - 1);
            RealFrame {
                level,
                ix,
                ctype: blk.blku_type,
                blk_u16: blk.blku_u16,
                cv,
                oldcop: blk.blku_oldcop as *const c_void,
                namesv,
                next_ix,
            }
        }
    }

    fn cx_type(&self) -> u32 {
        u32::from(self.ctype) & perl::CXTYPEMASK
    }

    /// Regex code blocks `(?{ })` run as fake subs: they get no frame.
    fn transparent(&self) -> bool {
        let flags = u32::from(self.ctype) & !perl::CXTYPEMASK;
        match self.cx_type() {
            perl::CXt_SUB => flags & (perl::CXp_SUB_RE | perl::CXp_SUB_RE_FAKE) != 0,
            perl::CXt_FORMAT => false,
            perl::CXt_EVAL => flags & (CXP_EVALBLOCK | CXP_TRY) != 0,
            _ => true,
        }
    }
}

impl Recorder {
    /// File index of a COP, through the C side's cache.
    pub(super) fn cop_file(&mut self, t: &mut memprof_tls, cop: *const c_void) -> u32 {
        // SAFETY: file_cache was allocated in boot with the slots the
        // glue's hash indexes; the slot is not otherwise borrowed.
        let slot = unsafe { &mut *perl::memprof_file_slot(t, cop) };
        if slot.cop == cop {
            return slot.file;
        }
        let file = self.file_of_cop(cop);
        // SAFETY: cop is a live COP.
        if unsafe { perl::memprof_cop_cacheable(cop) } != 0 {
            slot.cop = cop;
            slot.file = file;
        }
        file
    }

    pub(super) fn file_of_cop(&mut self, cop: *const c_void) -> u32 {
        // SAFETY: cop is a live COP; CopFILE is NULL or a C string.
        let raw = unsafe { perl::memprof_cop_file(cop) };
        if raw.is_null() {
            return self.tables.file(b"(unknown)");
        }
        // SAFETY: as above.
        let bytes = unsafe { CStr::from_ptr(raw) }.to_bytes();
        self.tables.file(bytes)
    }

    fn compiling_file(&mut self) -> u32 {
        // SAFETY: the interpreter is live.
        let cop = unsafe { perl::memprof_compiling_cop(self.interp) };
        self.file_of_cop(cop)
    }

    /// The innermost frame changed (or compilation started or stopped):
    /// bring the shadow stack up to date and set `t.cur_node`.  Returns
    /// true when it also set the file and line.
    pub(super) fn sync(&mut self, t: &mut memprof_tls, cop: *const c_void) -> bool {
        let interp = self.interp;
        // SAFETY: the interpreter is live; its context stacks are
        // consistent at a statement boundary.
        let (compiling_cop, cur_si) =
            unsafe { (perl::memprof_compiling_cop(interp), perl::memprof_curstackinfo(interp) as *const stackinfo) };
        // SAFETY: cop is the live PL_curcop.
        let compile_time = unsafe { perl::memprof_cop_compile_time(interp, cop) } != 0;
        if self.state == State::Pending && self.should_start(compile_time) {
            self.start(t);
        }
        if t.cop_generation != self.stack.cache_generation {
            self.stack.node_cache.clear();
            self.stack.cache_generation = t.cop_generation;
        }
        // SAFETY: as above.
        unsafe { self.walk_contexts(cur_si) };
        self.push_fresh_frames(t, cop, compiling_cop);

        let top = self.stack.shadow.last().map_or(self.main_node, |f| f.node);
        // op.c: process_special_blocks runs a BEGIN block with a private
        // copy of PL_compiling as its caller, and restores PL_compiling
        // after the runloop has returned: when a BEGIN block returns, the
        // compiler resumes even though PL_curcop is not yet &PL_compiling.
        let back_in_compiler = self.stack.returned_to_compiler.contains(&cop);
        if compile_time || back_in_compiler {
            // SAFETY: the interpreter is live.
            if unsafe { perl::memprof_parser_active(interp) } != 0 {
                let file = self.compiling_file();
                t.cur_node = self.compile_node(top, file);
                t.cur_file = file;
                // SAFETY: the interpreter is live; PL_compiling lives as long.
                t.compile_line = unsafe { perl::memprof_compiling_line(interp) };
                // SAFETY: as above.
                t.cur_line = unsafe { *t.compile_line };
                t.cur_site = perl::MEMPROF_UNRESOLVED;
            } else {
                let at = if self.main_done || self.phase() >= perl::perl_phase_PERL_PHASE_END as i32 {
                    self.pseudo.exit
                } else {
                    self.pseudo.startup
                };
                Self::enter_pseudo(t, at);
            }
            true
        } else {
            t.cur_node = top;
            if !self.main_leave_patched && self.phase() == perl::perl_phase_PERL_PHASE_RUN as i32 {
                self.main_leave_patched = true;
                // SAFETY: the interpreter is live and has compiled its main program.
                unsafe { perl::memprof_patch_main_leave(interp) };
            }
            false
        }
    }

    fn phase(&self) -> i32 {
        // SAFETY: the interpreter is live.
        unsafe { perl::memprof_phase(self.interp) }
    }

    fn should_start(&self, compiling: bool) -> bool {
        match self.opts.start {
            // With -d:MemProf we are loaded from a BEGIN block at the top
            // of the script: start when the script's compilation resumes
            // (or, loaded at run time, when the loading returns).
            Start::Begin => compiling || self.phase() >= perl::perl_phase_PERL_PHASE_RUN as i32,
            Start::Init => self.phase() >= perl::perl_phase_PERL_PHASE_INIT as i32,
            Start::No => false,
        }
    }

    /// Walk the real frames from the top, collecting those not in the
    /// shadow into `fresh` (top first), and cut the shadow back to what
    /// still matches.
    ///
    /// # Safety
    /// `cur_si` must be the interpreter's current stackinfo.
    unsafe fn walk_contexts(&mut self, cur_si: *const stackinfo) {
        let stack = &mut self.stack;
        stack.fresh.clear();
        stack.returned_to_compiler.clear();
        // SAFETY: (the whole block) stackinfos and their context arrays
        // are live; innermost_sub and next_ix index entries below si_cxix.
        unsafe {
            let mut level = 0u32;
            let mut s = cur_si;
            while !(*s).si_prev.is_null() {
                level += 1;
                s = (*s).si_prev;
            }
            let mut keep = stack.shadow.len();
            let mut matched = false;
            let mut si = cur_si;
            'walk: while !si.is_null() {
                let mut ix = innermost_sub(si);
                let mut limit = (*si).si_cxix;
                while ix >= 0 && ix <= limit {
                    let real = RealFrame::read(level, si, ix);
                    let position = (level, ix);
                    while keep > 0 && stack.shadow[keep - 1].position() > position {
                        keep -= 1;
                    }
                    if keep > 0 && stack.shadow[keep - 1].position() == position {
                        if stack.shadow[keep - 1].same(&real) {
                            matched = true;
                            break 'walk;
                        }
                        keep -= 1;
                    }
                    stack.fresh.push(real);
                    limit = ix - 1;
                    ix = real.next_ix;
                }
                si = (*si).si_prev;
                level = level.saturating_sub(1);
            }
            let keep = if matched { keep } else { 0 };
            for gone in &stack.shadow[keep..] {
                if gone.compile_time {
                    stack.returned_to_compiler.push(gone.oldcop);
                }
            }
            stack.shadow.truncate(keep);
            stack.memo.truncate(keep);
        }
    }

    /// Give each fresh frame its node, bottom up, and push it on the shadow.
    fn push_fresh_frames(&mut self, t: &mut memprof_tls, cop: *const c_void, compiling_cop: *const c_void) {
        for k in (0..self.stack.fresh.len()).rev() {
            let real = self.stack.fresh[k];
            // What runs in this frame: the next frame's call site, or the statement.
            let exec_cop = if k > 0 { self.stack.fresh[k - 1].oldcop } else { cop };
            let parent = self.stack.shadow.last().map_or(self.main_node, |f| f.node);
            self.stack.last_compile_time = false;
            let node =
                if real.transparent() { parent } else { self.frame_node(t, parent, &real, exec_cop, compiling_cop) };
            self.stack.shadow.push(ShadowFrame {
                level: real.level,
                ix: real.ix,
                ctype: real.ctype,
                cv: real.cv,
                oldcop: real.oldcop,
                node,
                compile_time: self.stack.last_compile_time,
            });
            self.stack.memo.push(ChildMemo::default());
        }
    }

    fn frame_node(
        &mut self,
        t: &mut memprof_tls,
        parent: u32,
        real: &RealFrame,
        exec_cop: *const c_void,
        compiling_cop: *const c_void,
    ) -> u32 {
        let start_op = if real.cx_type() == perl::CXt_EVAL || real.cv.is_null() {
            std::ptr::null()
        } else {
            // SAFETY: cv is the live CV of a running sub or format.
            unsafe { perl::memprof_cv_start_op(real.cv) }
        };
        let key = (parent, real.oldcop as usize, real.cv as usize, start_op as usize);
        // A require from the lexer is called with PL_curcop == &PL_compiling,
        // whose line moves on: never cached.
        let from_compiling_cop = real.oldcop == compiling_cop;
        let generation = self.stack.cache_generation;
        let memo = match self.stack.memo.last() {
            Some(m) => *m,
            None => self.stack.root_memo,
        };
        if !from_compiling_cop
            && memo.valid
            && (memo.oldcop, memo.cv, memo.start, memo.generation) == (key.1, key.2, key.3, generation)
        {
            self.stack.last_compile_time = memo.compile_time;
            return memo.node;
        }
        let remember = |stack: &mut Stack, node: u32, compile_time: bool| {
            let m = ChildMemo {
                oldcop: key.1,
                cv: key.2,
                start: key.3,
                generation,
                node,
                compile_time,
                valid: !from_compiling_cop,
            };
            match stack.memo.last_mut() {
                Some(slot) => *slot = m,
                None => stack.root_memo = m,
            }
        };
        if !from_compiling_cop {
            if let Some(&(node, compile_time)) = self.stack.node_cache.get(&key) {
                self.stack.last_compile_time = compile_time;
                remember(&mut self.stack, node, compile_time);
                return node;
            }
        }
        let start = if start_op.is_null() {
            std::ptr::null()
        } else {
            // SAFETY: as above.
            unsafe { perl::memprof_cv_start_cop(real.cv) }
        };
        // Where the parent was when this frame was entered.
        let (call_file, call_line) = if from_compiling_cop {
            // SAFETY: compiling_cop is &PL_compiling.
            (self.compiling_file(), unsafe { perl::memprof_cop_line(compiling_cop) })
        } else {
            // SAFETY: oldcop of a live context is a live COP.
            (self.cop_file(t, real.oldcop), unsafe { perl::memprof_cop_line(real.oldcop) })
        };
        let naming = self.name_frame(t, real, start, exec_cop, compiling_cop, call_line);
        // SAFETY: the interpreter is live.
        let parsing = unsafe { perl::memprof_parser_active(self.interp) } != 0;
        // BEGIN and UNITCHECK blocks run while perl compiles the parent's
        // file (op.c: process_special_blocks calls them with a private copy
        // of PL_compiling as the caller), as does a require from the lexer:
        // they hang under that file's compile frame.  END blocks are called
        // from perl_destruct, at line 0 of the script.
        let compile_time = parsing && (from_compiling_cop || naming.compile_time);
        self.stack.last_compile_time = compile_time;
        let (parent, call_file, call_line) = if compile_time {
            (self.compile_node(parent, call_file), call_file, call_line)
        } else if from_compiling_cop {
            (parent, self.script_file, 0)
        } else {
            (parent, call_file, call_line)
        };
        let frame = self.tables.frame(naming.kind, naming.name, naming.file, naming.line);
        let node = self.tables.node(parent, frame, call_file, call_line);
        if !from_compiling_cop {
            self.stack.node_cache.insert(key, (node, compile_time));
        }
        remember(&mut self.stack, node, compile_time);
        node
    }

    /// The compile frame for `file` under `parent`: `compile Moose.pm`.
    fn compile_node(&mut self, parent: u32, file: u32) -> u32 {
        let parent_frame = self.tables.frame_of(parent);
        let what = match parent_frame.kind {
            FrameKind::Require | FrameKind::Eval => parent_frame.name.clone(),
            _ => self.tables.files[file as usize].name.clone(),
        };
        let frame = self.tables.frame(FrameKind::Compile, format!("compile {what}"), file, 0);
        self.tables.node(parent, frame, file, 0)
    }

    fn name_frame(
        &mut self,
        t: &mut memprof_tls,
        real: &RealFrame,
        start: *const c_void,
        exec_cop: *const c_void,
        compiling_cop: *const c_void,
        call_line: u32,
    ) -> Naming {
        if real.cx_type() == perl::CXt_EVAL {
            let op = eval_op_type(real.blk_u16);
            if op == perl::opcode_OP_ENTEREVAL {
                // A string eval is named after the file its statements are in.
                let file = if exec_cop == compiling_cop || exec_cop.is_null() {
                    self.compiling_file()
                } else {
                    self.cop_file(t, exec_cop)
                };
                let name = self.tables.files[file as usize].name.clone();
                return Naming { kind: FrameKind::Eval, name, file, line: 0, compile_time: false };
            }
            // require, use, do FILE: named as in %INC.
            // SAFETY: old_namesv of a live require context is NULL or a live SV.
            let name = unsafe { perl::sv_string(real.namesv) }.unwrap_or_else(|| "(require)".into());
            return Naming { kind: FrameKind::Require, name, file: perl_none(), line: 0, compile_time: false };
        }
        let (file, line) = if start.is_null() {
            (perl_none(), 0)
        } else {
            // SAFETY: start is a live COP of the CV's body.
            (self.cop_file(t, start), unsafe { perl::memprof_cop_line(start) })
        };
        // SAFETY: cv is a live CV; the accessor reads names without creating anything.
        let (pkg, name, anon) = unsafe { perl::cv_names(self.interp, real.cv) };
        let file_name = |r: &Recorder| {
            if file == perl_none() {
                "?".to_string()
            } else {
                r.tables.files[file as usize].name.clone()
            }
        };
        if real.cx_type() == perl::CXt_FORMAT {
            let name = name.unwrap_or_else(|| "STDOUT".into());
            return Naming {
                kind: FrameKind::Format,
                name: format!("format {pkg}::{name}"),
                file,
                line,
                compile_time: false,
            };
        }
        if anon || name.is_none() {
            let name = format!("{pkg}::__ANON__[{}:{line}]", file_name(self));
            return Naming { kind: FrameKind::AnonSub, name, file, line, compile_time: false };
        }
        let name = name.unwrap_or_default();
        if matches!(name.as_str(), "BEGIN" | "END" | "INIT" | "CHECK" | "UNITCHECK") {
            let at = if line != 0 { line } else { call_line };
            let compile_time = matches!(name.as_str(), "BEGIN" | "UNITCHECK");
            return Naming {
                kind: FrameKind::Block,
                name: format!("{pkg}::{name}@{at}"),
                file,
                line: at,
                compile_time,
            };
        }
        Naming { kind: FrameKind::Sub, name: format!("{pkg}::{name}"), file, line, compile_time: false }
    }

    /// A string eval or require is about to be compiled: remember a string
    /// eval's origin and source, then take the boundary into its compile.
    pub(super) fn eval_compiling(&mut self) {
        // SAFETY: called from bhk_eval: the new eval context is on top of
        // the current stackinfo and PL_compiling names the eval.
        unsafe {
            let si = perl::memprof_curstackinfo(self.interp) as *const stackinfo;
            let ix = (*si).si_cxix;
            if ix < 0 {
                return;
            }
            let cx = (*si).si_cxstack.add(ix as usize);
            if perl::cx_type(cx) != perl::CXt_EVAL {
                return;
            }
            let blk = &(*cx).cx_u.cx_blk;
            if eval_op_type(blk.blku_u16) != perl::opcode_OP_ENTEREVAL {
                return;
            }
            let compiling = perl::memprof_compiling_cop(self.interp);
            let raw = perl::memprof_cop_file(compiling);
            if raw.is_null() {
                return;
            }
            let raw = CStr::from_ptr(raw).to_bytes().to_vec();
            let origin = blk.blku_oldcop as *const c_void;
            let origin_file = self.file_of_cop(origin);
            let origin_line = perl::memprof_cop_line(origin);
            let display = format!(
                "{}[{}:{origin_line}]",
                String::from_utf8_lossy(&raw),
                self.tables.files[origin_file as usize].name
            );
            let source = perl::sv_string(blk.blk_u.blku_eval.cur_text as *const c_void).map(|mut s| {
                // The lexer appends "\n;" to an eval's text.
                if s.ends_with("\n;") {
                    s.truncate(s.len() - 2);
                }
                s
            });
            self.tables.register_eval(&raw, display, source);
        }
    }
}

fn perl_none() -> u32 {
    memprof_profile::NONE
}
