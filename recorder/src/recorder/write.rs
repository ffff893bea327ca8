//! Turning the recorder's tables into a [`Profile`] and writing it.

use super::{now, warn, Recorder};
use crate::perl::{self, memprof_tls};
use memprof_profile::{command, source};
use memprof_profile::{format, Profile, RunInfo, NONE};
use std::path::PathBuf;

impl Recorder {
    /// Where this process's profile goes: a forked child (or `addpid=1`)
    /// adds its pid, so that no process overwrites another's profile.
    fn output_path(&self) -> PathBuf {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() } as u32;
        if self.opts.addpid || pid != self.first_pid {
            let mut s = self.output.clone().into_os_string();
            s.push(format!(".{pid}"));
            PathBuf::from(s)
        } else {
            self.output.clone()
        }
    }

    /// At the end of the run, once the last credit is in: free the
    /// indexes that intern locations and the node cache, so that they are
    /// not in memory with the end snapshot's walk and the profile being
    /// built (the peak of a run whose code has many lines was that moment).
    pub(super) fn release_indexes(&mut self, t: &mut memprof_tls) {
        self.tables.release_indexes();
        self.stack.release_cache(t);
        // The entry memo too, to its first size (it can be a megabyte).
        self.replace_entry_memo(t, 1 << perl::MEMPROF_ENTRY_MEMO_MIN_BITS);
    }

    /// Write the profile.  The last one (`last`, at the end of the run)
    /// takes the snapshots rather than copying them.
    pub(super) fn write(&mut self, last: bool) {
        let profile = self.build_profile(last);
        let path = self.output_path();
        if let Err(e) = format::write(&path, &profile) {
            warn(&format!("cannot write the profile: {e}"));
        }
    }

    /// Write the profile so far to the output path with `.N` added (N
    /// counting up from 1), and go on recording; its retained figures are
    /// what is live now.  Leaves the path in `returned`.
    pub(super) fn dump(&mut self) {
        self.dumps += 1;
        let mut profile = self.build_profile(false);
        profile.run.dump = self.dumps;
        let mut path = self.output_path().into_os_string();
        path.push(format!(".{}", self.dumps));
        let path = PathBuf::from(path);
        if let Err(e) = format::write(&path, &profile) {
            warn(&format!("cannot write dump {}: {e}", self.dumps));
        }
        self.returned = std::ffi::CString::new(path.to_string_lossy().into_owned()).unwrap_or_default();
    }

    fn command_line(&self) -> Vec<String> {
        // SAFETY: PL_origargv holds PL_origargc C strings.
        unsafe {
            let argc = perl::memprof_origargc(self.interp).max(0) as usize;
            let argv = perl::memprof_origargv(self.interp);
            if argv.is_null() {
                return Vec::new();
            }
            (0..argc).filter_map(|i| perl::c_string(*argv.add(i))).collect()
        }
    }

    fn build_profile(&mut self, last: bool) -> Profile {
        let command = self.command_line();
        self.fold_sv_counts();
        let untracked = self.site_figures(true);
        if let Some(i) = self.tables.files.iter().position(|f| f.name == "-e") {
            self.tables.set_source(i as u32, command::one_liner_source(&command));
        }
        // The last profile takes the entries: they are not needed after.
        let mut p = if last { self.tables.take_compact() } else { self.tables.compact() };
        super::native::symbolise(self.interp, &mut p);
        p.peak = self.site_peak().unwrap_or(self.peak);
        p.marks = self.marks.clone();
        p.snapshots = if last { std::mem::take(&mut self.snapshots) } else { self.snapshots.clone() };
        p.run.site_tracking = untracked.is_some();
        p.run.untracked_free_bytes = untracked.map_or(0, |u| u.0);
        p.run.untracked_free_before_peak = untracked.map_or(0, |u| u.1);
        // Every thread's figures, and the native threads', are this profile's.
        let mut p = self.merge_threads(p);
        p.timeline = self.timeline.finish(p.totals.net_bytes());
        p.vm_timeline = self.timeline.vm().to_vec();
        self.save_line_texts(&mut p);
        // SAFETY: the accessors return static or interpreter-owned strings.
        let (perl_version, script) = unsafe {
            (
                perl::c_string(perl::memprof_perl_version()).unwrap_or_default(),
                perl::c_string(perl::memprof_origfilename(self.interp)).unwrap_or_default(),
            )
        };
        p.run = RunInfo {
            writer: format!("Devel::MemProf {}", env!("CARGO_PKG_VERSION")),
            perl_version,
            command,
            script,
            cwd: self.cwd.to_string_lossy().into_owned(),
            pid: self.pid,
            // SAFETY: getppid has no preconditions.
            ppid: unsafe { libc::getppid() } as u32,
            start_time: self.start_time,
            end_time: now(),
            options: self.opts.pairs(),
            site_tracking: p.run.site_tracking,
            untracked_free_bytes: p.run.untracked_free_bytes,
            untracked_free_before_peak: p.run.untracked_free_before_peak,
            merged_pids: Vec::new(),
            // A child's profile starts at its fork (after_fork_in_child),
            // so what it frees from before then is its parent's.
            forked: self.pid != self.first_pid,
            dump: 0,
            sample_bytes: if untracked.is_some() { self.opts.sample } else { 0 },
        };
        p
    }

    /// Save the text of every line the profile mentions, read from the
    /// eval's or one-liner's saved source or from the file on disk.
    fn save_line_texts(&self, p: &mut Profile) {
        let mut wanted: Vec<Vec<u32>> = vec![Vec::new(); p.files.len()];
        let mut want = |file: u32, line: u32| {
            if file != NONE && line > 0 {
                wanted[file as usize].push(line);
            }
        };
        p.entries.iter().for_each(|e| want(e.file, e.line));
        p.nodes.iter().for_each(|n| want(n.call_file, n.call_line));
        p.frames.iter().for_each(|f| want(f.file, f.line));
        // The number of lines of each file read, to tell a line past the end.
        let mut line_counts: Vec<Option<u32>> = vec![None; p.files.len()];
        for ((file, mut lines), count) in p.files.iter_mut().zip(wanted).zip(line_counts.iter_mut()) {
            if lines.is_empty() {
                continue;
            }
            lines.sort_unstable();
            lines.dedup();
            let read;
            let bytes = match &file.source {
                Some(source) => source.as_bytes(),
                None if file.name.starts_with('(') => continue,
                None => match std::fs::read(self.cwd.join(&file.name)) {
                    Ok(b) => {
                        read = b;
                        &read[..]
                    }
                    Err(_) => continue,
                },
            };
            let (texts, lines_in_file) = source::line_texts(bytes, &lines);
            *count = Some(lines_in_file);
            file.lines = texts;
        }
        // The compiler's line counter ends one past the last line: what it
        // allocates or frees there belongs to no line of the file.
        for e in &mut p.entries {
            if let Some(Some(count)) = line_counts.get(e.file as usize) {
                if e.line > *count {
                    e.line = 0;
                }
            }
        }
    }
}
