//! Reading perl's context stack: one sub-like entry at a time, whatever
//! the perl (si_cxsubix from 5.32 on, a search of the stack before it;
//! the eval-block and try flags' names by version).

use crate::perl::{self, stackinfo};
use std::ffi::c_void;

/// One sub-like context entry, read from perl's context stack.
#[derive(Clone, Copy)]
pub(in crate::recorder) struct RealFrame {
    /// The stackinfo, its depth (0 for the main runlevel) and index in it.
    pub(in crate::recorder) si: *const c_void,
    pub(in crate::recorder) level: u32,
    pub(in crate::recorder) ix: i32,
    /// The raw cx_type byte, the CV (sub, format, eval) and the caller's COP.
    pub(in crate::recorder) ctype: u8,
    pub(in crate::recorder) cv: *const c_void,
    pub(in crate::recorder) oldcop: *const c_void,
    /// For eval frames: which op pushed it (CxOLD_OP_TYPE lives here).
    pub(in crate::recorder) blk_u16: u16,
    /// For require frames: the name it was required as.
    pub(in crate::recorder) namesv: *const c_void,
    pub(in crate::recorder) next_ix: i32,
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
pub(in crate::recorder) unsafe fn innermost_sub(si: *const stackinfo) -> i32 {
    // SAFETY: the caller guarantees si is live.
    unsafe { (*si).si_cxsubix }
}

/// Before 5.32 there is no si_cxsubix: search down from the top entry.
///
/// # Safety
/// `si` must be a live stackinfo.
#[cfg(not(perl_cxsubix))]
pub(in crate::recorder) unsafe fn innermost_sub(si: *const stackinfo) -> i32 {
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
pub(in crate::recorder) fn eval_op_type(blk_u16: u16) -> u32 {
    u32::from(blk_u16 >> 7)
}

impl RealFrame {
    /// # Safety
    /// `ix` must index a live sub, format or eval context of the live stackinfo `si`.
    pub(in crate::recorder) unsafe fn read(level: u32, si: *const stackinfo, ix: i32) -> RealFrame {
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
                si: si.cast(),
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

    pub(in crate::recorder) fn cx_type(&self) -> u32 {
        u32::from(self.ctype) & perl::CXTYPEMASK
    }

    /// Regex code blocks `(?{ })` run as fake subs: they get no frame.
    pub(in crate::recorder) fn transparent(&self) -> bool {
        let flags = u32::from(self.ctype) & !perl::CXTYPEMASK;
        match self.cx_type() {
            perl::CXt_SUB => flags & (perl::CXp_SUB_RE | perl::CXp_SUB_RE_FAKE) != 0,
            perl::CXt_FORMAT => false,
            perl::CXt_EVAL => flags & (CXP_EVALBLOCK | CXP_TRY) != 0,
            _ => true,
        }
    }
}
