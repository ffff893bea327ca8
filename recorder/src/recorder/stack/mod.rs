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

use super::{memo_len, Recorder, State};
use crate::perl::{self, memprof_tls, stackinfo};
use ahash::RandomState;
use memprof_profile::FrameKind;
use std::collections::HashMap;
use std::ffi::c_void;

pub(super) mod context;
mod naming;
mod start;
use context::{innermost_sub, RealFrame};

/// One frame of the shadow: shared with the runloop (memprof.h), which
/// resolves the commonest calls and returns in it itself.
type ShadowFrame = perl::memprof_shadow_frame;
/// The last child a frame called, and the node it got: a loop calling the
/// same sub from the same place finds it here without hashing.
type ChildMemo = perl::memprof_child_memo;

impl ShadowFrame {
    fn position(&self) -> (u32, i32) {
        (self.level, self.ix)
    }

    fn same(&self, r: &RealFrame) -> bool {
        self.ctype == r.ctype && self.cv == r.cv && self.oldcop == r.oldcop
    }
}

/// A sub's frame is known by its CV, its first op and what its name comes from.
type FrameKey = (usize, usize, usize);

#[derive(Default)]
pub struct Stack {
    /// The buffer the runloop sees through `t.shadow`: it may push within
    /// its capacity and truncate, so its length is `t.shadow_len`.
    shadow: Vec<ShadowFrame>,
    fresh: Vec<RealFrame>,
    /// Callers' COPs of compile-time frames popped by the last walk.
    returned_to_compiler: Vec<*const c_void>,
    /// Whether the last node made was run by the compiler.
    last_compile_time: bool,
    /// (parent node, caller's COP, CV, CV's first op) -> node.  Emptied
    /// whenever a COP is freed, since its address may then be reused.
    node_cache: HashMap<(u32, usize, usize, usize), (u32, bool), RandomState>,
    /// (CV, its first op, what its name comes from) -> frame, for subs
    /// and formats: a sub met again from a new caller or call site needs
    /// a node, not a new name (naming it formats a string).  A sub's
    /// frames are forgotten when its first COP is freed (`frame_starts`,
    /// which the runloop's COP-freeing hook reads): loading Moose frees
    /// COPs by the thousand, of code that has run (string evals, BEGIN
    /// blocks), hardly ever a sub's.
    frame_cache: HashMap<FrameKey, u32, RandomState>,
    /// The keys of frame_cache by their sub's first COP.
    frames_by_start: HashMap<usize, Vec<FrameKey>, RandomState>,
    frame_starts: Vec<u64>,
    freed_starts: Vec<*const c_void>,
    cache_generation: u64,
    /// The runloop's view of node_cache (a direct-mapped cache of it).
    node_memo: Vec<perl::memprof_node_memo>,
}

impl Stack {
    /// Free the node cache and the runloop's memo of it: for the end of
    /// the run, when the profile is built.
    pub(super) fn release_cache(&mut self, t: &mut memprof_tls) {
        self.node_cache = HashMap::default();
        // The runloop's memo goes too (it can be megabytes): the end of the
        // run's heap walk is what sets the peak of a big program.  A sync
        // after this one makes a small one.
        t.node_memo = std::ptr::null_mut();
        self.node_memo = Vec::new();
        self.frame_cache = HashMap::default();
        self.frames_by_start = HashMap::default();
        // frame_starts and freed_starts stay: the COP-freeing hook uses
        // them till the end.
    }

    /// Cache a sub's frame, watching its first COP.
    fn cache_frame(&mut self, t: &mut memprof_tls, key: FrameKey, start: *const c_void, frame: u32) {
        if self.frame_starts.is_empty() {
            // Allocated once, never moved: the hook keeps the pointers.
            self.frame_starts = vec![0; perl::MEMPROF_FRAME_STARTS_WORDS as usize];
            self.freed_starts = vec![std::ptr::null(); perl::MEMPROF_FREED_STARTS as usize];
            t.frame_starts = self.frame_starts.as_mut_ptr();
            t.freed_starts = self.freed_starts.as_mut_ptr();
        }
        // SAFETY: computes a hash of the address; reads nothing.
        let bit = unsafe { perl::memprof_frame_start_slot(start) } as usize;
        self.frame_starts[bit >> 6] |= 1 << (bit & 63);
        self.frame_cache.insert(key, frame);
        self.frames_by_start.entry(start as usize).or_default().push(key);
    }

    /// Forget the frames of the subs whose first COPs were freed.
    fn forget_freed_frames(&mut self, t: &mut memprof_tls) {
        if t.freed_starts_lost != 0 {
            self.frame_cache.clear();
            self.frames_by_start.clear();
            self.frame_starts.fill(0);
            t.freed_starts_lost = 0;
            t.freed_starts_len = 0;
            return;
        }
        let n = (t.freed_starts_len as usize).min(self.freed_starts.len());
        for &cop in &self.freed_starts[..n] {
            for key in self.frames_by_start.remove(&(cop as usize)).unwrap_or_default() {
                self.frame_cache.remove(&key);
            }
        }
        t.freed_starts_len = 0;
    }

    /// Push a frame, keeping the memo of the frame that last stood at that
    /// depth if it had the same node: the memo belongs to the node, so a
    /// loop's next call from a frame popped since still finds it.
    fn push_frame(&mut self, mut frame: ShadowFrame) {
        let shadow = &mut self.shadow;
        if shadow.len() == shadow.capacity() {
            shadow.reserve(shadow.capacity().max(SHADOW_RESERVE));
            let spare = shadow.spare_capacity_mut();
            spare.fill(std::mem::MaybeUninit::new(ShadowFrame::default()));
        }
        // SAFETY: every slot up to the capacity was written (zeroed frames
        // above, or frames pushed and since truncated).
        let last = unsafe { shadow.spare_capacity_mut()[0].assume_init() };
        if last.node == frame.node && last.memo.valid != 0 {
            frame.memo = last.memo;
        }
        shadow.push(frame);
    }
}

/// Frames deep enough for most programs before the buffer must grow (the
/// runloop never grows it: deeper calls go to the recorder).
const SHADOW_RESERVE: usize = 256;

impl Recorder {
    /// The innermost frame changed (or compilation started or stopped):
    /// bring the shadow stack up to date and set `t.cur_node`.  Returns
    /// true when it also set the file and line.
    pub(super) fn sync(&mut self, t: &mut memprof_tls, cop: *const c_void) -> bool {
        self.adopt_shadow(t);
        let resolved = self.sync_shadow(t, cop);
        self.publish_shadow(t);
        resolved
    }

    /// Take the runloop's pushes and pops since the last sync.
    fn adopt_shadow(&mut self, t: &memprof_tls) {
        let shadow = &mut self.stack.shadow;
        if std::ptr::eq(t.shadow, shadow.as_ptr()) && t.shadow_len as usize <= shadow.capacity() {
            // SAFETY: the runloop writes whole frames below shadow_cap (this
            // buffer's capacity, published with it) before counting them.
            unsafe { shadow.set_len(t.shadow_len as usize) };
        }
    }

    /// Show the runloop the shadow as this sync left it.
    fn publish_shadow(&mut self, t: &mut memprof_tls) {
        let shadow = &mut self.stack.shadow;
        if shadow.capacity() < SHADOW_RESERVE {
            shadow.reserve(SHADOW_RESERVE);
            shadow.spare_capacity_mut().fill(std::mem::MaybeUninit::new(ShadowFrame::default()));
        }
        // Sized by the profile's nodes, not the node cache's: loading a
        // program empties that every time a COP is freed.
        let want =
            memo_len(self.tables.nodes.len(), perl::MEMPROF_NODE_MEMO_MIN_BITS, perl::MEMPROF_NODE_MEMO_MAX_BITS);
        if self.stack.node_memo.len() < want {
            // Emptied as it grows: the runloop's misses fill it again.
            self.stack.node_memo = vec![perl::memprof_node_memo::default(); want];
        }
        t.node_memo = self.stack.node_memo.as_mut_ptr();
        t.node_memo_shift = Recorder::memo_shift(self.stack.node_memo.len());
        let shadow = &mut self.stack.shadow;
        t.shadow = shadow.as_mut_ptr();
        t.shadow_len = shadow.len() as u32;
        t.shadow_cap = u32::try_from(shadow.capacity()).unwrap_or(u32::MAX);
        t.main_node = self.main_node;
        // Before the main program runs (while `use` and BEGIN blocks run at
        // its compile time), a return to its top level still comes here:
        // the first one in the run phase patches its last op.
        t.shadow_fast = match (self.state == State::Running, self.main_leave_patched) {
            (false, _) => perl::MEMPROF_SHADOW_OFF as u8,
            (true, false) => perl::MEMPROF_SHADOW_CALLS as u8,
            (true, true) => perl::MEMPROF_SHADOW_ALL as u8,
        };
    }

    fn sync_shadow(&mut self, t: &mut memprof_tls, cop: *const c_void) -> bool {
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
        self.stack.forget_freed_frames(t);
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
                if gone.compile_time != 0 {
                    stack.returned_to_compiler.push(gone.oldcop);
                }
            }
            stack.shadow.truncate(keep);
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
            self.stack.push_frame(ShadowFrame {
                si: real.si,
                level: real.level,
                ix: real.ix,
                ctype: real.ctype,
                cv: real.cv,
                oldcop: real.oldcop,
                node,
                compile_time: u8::from(self.stack.last_compile_time),
                memo: ChildMemo::default(),
            });
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
        let memo = match self.stack.shadow.last() {
            Some(f) => f.memo,
            None => t.root_memo,
        };
        if !from_compiling_cop
            && memo.valid != 0
            && (memo.oldcop, memo.cv, memo.start, memo.generation) == (real.oldcop, real.cv, start_op, generation)
        {
            self.stack.last_compile_time = memo.compile_time != 0;
            return memo.node;
        }
        let remember = |stack: &mut Stack, t: &mut memprof_tls, node: u32, compile_time: bool| {
            let m = ChildMemo {
                oldcop: real.oldcop,
                cv: real.cv,
                start: start_op,
                generation,
                node,
                compile_time: u8::from(compile_time),
                valid: u8::from(!from_compiling_cop),
            };
            match stack.shadow.last_mut() {
                Some(f) => f.memo = m,
                None => t.root_memo = m,
            }
            if m.valid != 0 && !stack.node_memo.is_empty() {
                // SAFETY: a pure function of its arguments.
                let slot =
                    unsafe { perl::memprof_node_memo_slot(t.node_memo_shift, parent, real.oldcop, real.cv) } as usize;
                // The latest first: what was there moves to the pair's other
                // slot, unless it was this call's older entry.
                let first = stack.node_memo[slot];
                let same_call = first.parent == parent
                    && (first.child.oldcop, first.child.cv, first.child.start) == (m.oldcop, m.cv, m.start);
                if first.child.valid != 0 && !same_call {
                    stack.node_memo[slot ^ 1] = first;
                }
                stack.node_memo[slot] = perl::memprof_node_memo { parent, child: m };
            }
        };
        if !from_compiling_cop {
            if let Some(&(node, compile_time)) = self.stack.node_cache.get(&key) {
                self.stack.last_compile_time = compile_time;
                remember(&mut self.stack, t, node, compile_time);
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
        // A sub's or format's name depends on the CV, its body and its
        // GV only (BEGIN blocks and the like are named after their call too).
        let frame_key = if start_op.is_null() {
            None
        } else {
            // SAFETY: cv is the live CV of a running sub or format.
            Some((real.cv as usize, start_op as usize, unsafe { perl::memprof_cv_name_id(self.interp, real.cv) }
                as usize))
        };
        // The frame if the cache has it, else its naming.
        let named = match frame_key.and_then(|k| self.stack.frame_cache.get(&k).copied()) {
            Some(frame) => Ok(frame),
            None => Err(self.name_frame(t, real, start, exec_cop, compiling_cop, call_line)),
        };
        // SAFETY: the interpreter is live.
        let parsing = unsafe { perl::memprof_parser_active(self.interp) } != 0;
        // BEGIN and UNITCHECK blocks run while perl compiles the parent's
        // file (op.c: process_special_blocks calls them with a private copy
        // of PL_compiling as the caller), as does a require from the lexer:
        // they hang under that file's compile frame.  END blocks are called
        // from perl_destruct, at line 0 of the script.
        let compile_time = parsing && (from_compiling_cop || named.as_ref().is_err_and(|n| n.compile_time));
        self.stack.last_compile_time = compile_time;
        let (parent, call_file, call_line) = if compile_time {
            (self.compile_node(parent, call_file), call_file, call_line)
        } else if from_compiling_cop {
            (parent, self.script_file, 0)
        } else {
            (parent, call_file, call_line)
        };
        let frame = match named {
            Ok(frame) => frame,
            Err(n) => {
                let cacheable =
                    !n.compile_time && matches!(n.kind, FrameKind::Sub | FrameKind::AnonSub | FrameKind::Format);
                let frame = self.tables.frame(n.kind, n.name, n.file, n.line);
                if let (true, Some(k), false) = (cacheable, frame_key, start.is_null()) {
                    self.stack.cache_frame(t, k, start, frame);
                }
                frame
            }
        };
        let node = self.tables.node(parent, frame, call_file, call_line);
        if !from_compiling_cop {
            self.stack.node_cache.insert(key, (node, compile_time));
        }
        remember(&mut self.stack, t, node, compile_time);
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
}
