//! When profiling starts (MEMPROF's `start=`).

use super::super::Recorder;
use crate::perl;
use memprof_profile::options::Start;

impl Recorder {
    pub(in crate::recorder) fn phase(&self) -> i32 {
        // SAFETY: the interpreter is live.
        unsafe { perl::memprof_phase(self.interp) }
    }

    pub(in crate::recorder) fn should_start(&self, compiling: bool) -> bool {
        match self.opts.start {
            // With -d:MemProf we are loaded from a BEGIN block at the top
            // of the script: start when the script's compilation resumes
            // (or, loaded at run time, when the loading returns).
            Start::Begin => compiling || self.phase() >= perl::perl_phase_PERL_PHASE_RUN as i32,
            Start::Init => self.phase() >= perl::perl_phase_PERL_PHASE_INIT as i32,
            Start::No => false,
        }
    }
}
