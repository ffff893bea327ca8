//! What a frame is called, and which file a COP is in.

use super::super::Recorder;
use super::context::{eval_op_type, RealFrame};
use crate::perl::{self, memprof_tls, stackinfo};
use memprof_profile::FrameKind;
use std::ffi::{c_void, CStr};

/// What a frame is called and where it is defined.
pub(super) struct Naming {
    pub(super) kind: FrameKind,
    pub(super) name: String,
    pub(super) file: u32,
    pub(super) line: u32,
    /// BEGIN and UNITCHECK blocks: run by the compiler.
    pub(super) compile_time: bool,
}

impl Recorder {
    /// File index of a COP, through the C side's cache.
    pub(in crate::recorder) fn cop_file(&mut self, t: &mut memprof_tls, cop: *const c_void) -> u32 {
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

    pub(in crate::recorder) fn file_of_cop(&mut self, cop: *const c_void) -> u32 {
        // SAFETY: cop is a live COP; CopFILE is NULL or a C string.
        let raw = unsafe { perl::memprof_cop_file(cop) };
        if raw.is_null() {
            return self.tables.file(b"(unknown)");
        }
        // SAFETY: as above.
        let bytes = unsafe { CStr::from_ptr(raw) }.to_bytes();
        self.tables.file(bytes)
    }

    pub(in crate::recorder) fn compiling_file(&mut self) -> u32 {
        // SAFETY: the interpreter is live.
        let cop = unsafe { perl::memprof_compiling_cop(self.interp) };
        self.file_of_cop(cop)
    }

    pub(super) fn name_frame(
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
    pub(in crate::recorder) fn eval_compiling(&mut self) {
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
