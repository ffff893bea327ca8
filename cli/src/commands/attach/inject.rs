//! Calling a function inside another process with ptrace(2), at a moment
//! when that is safe: the entry of Perl_pp_nextstate, where perl is between
//! two statements, holds no allocator lock, and (by the calling convention)
//! expects every vector register to be clobbered, so that only the general
//! registers need restoring.  (gdb does this too, but restores the vector
//! state with a ptrace request some virtual machines refuse.)  x86-64 only.

use object::{Object, ObjectSymbol};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set by memprof's signal handler: stop waiting for the statement.
pub static INTERRUPT: AtomicBool = AtomicBool::new(false);

/// A file mapped into the process: where it starts (its first mapping).
struct Mapping {
    path: PathBuf,
    base: u64,
}

fn mappings(pid: i32) -> Result<Vec<Mapping>, String> {
    let maps = std::fs::read_to_string(format!("/proc/{pid}/maps"))
        .map_err(|e| format!("cannot read /proc/{pid}/maps: {e}"))?;
    let mut out: Vec<Mapping> = Vec::new();
    for line in maps.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let (Some(range), Some(offset), Some(path)) = (fields.first(), fields.get(2), fields.get(5)) else {
            continue;
        };
        if !path.starts_with('/') || u64::from_str_radix(offset, 16) != Ok(0) {
            continue;
        }
        let start = range.split('-').next().and_then(|s| u64::from_str_radix(s, 16).ok());
        if let (Some(base), false) = (start, out.iter().any(|m| m.path == Path::new(path))) {
            out.push(Mapping { path: PathBuf::from(path), base });
        }
    }
    Ok(out)
}

/// The address of a dynamic symbol in the process, searching the mapped
/// files whose name contains `in_file` (any file when empty).
pub fn symbol(pid: i32, name: &str, in_file: &str) -> Result<u64, String> {
    for m in mappings(pid)? {
        if !m.path.to_string_lossy().contains(in_file) {
            continue;
        }
        let Ok(data) = std::fs::read(&m.path) else { continue };
        let Ok(file) = object::File::parse(&*data) else { continue };
        let found = file
            .dynamic_symbols()
            .chain(file.symbols())
            .find(|s| s.is_definition() && s.name() == Ok(name))
            .map(|s| s.address());
        if let Some(addr) = found {
            // An ET_EXEC executable is at its link address; shared objects
            // and PIE executables are linked at 0.
            let bias = if file.kind() == object::ObjectKind::Executable { 0 } else { m.base };
            return Ok(bias + addr);
        }
    }
    Err(format!("no {name} in process {pid}"))
}

/// A process stopped under ptrace, detached again when dropped.
pub struct Traced {
    pid: i32,
}

fn errno() -> std::io::Error {
    std::io::Error::last_os_error()
}

impl Traced {
    pub fn attach(pid: i32) -> Result<Traced, String> {
        // SAFETY: PTRACE_ATTACH takes no pointers.
        if unsafe { libc::ptrace(libc::PTRACE_ATTACH, pid, 0, 0) } != 0 {
            let e = errno();
            return Err(if e.raw_os_error() == Some(libc::EPERM) {
                super::not_permitted(pid)
            } else {
                format!("cannot trace process {pid}: {e}")
            });
        }
        let t = Traced { pid };
        match t.wait()? {
            Stop::Signal(_) => Ok(t),
            Stop::Exited => Err(format!("process {pid} ended")),
        }
    }

    /// Wait for the next stop, passing on signals meant for the program.
    fn wait(&self) -> Result<Stop, String> {
        let mut status = 0;
        loop {
            // SAFETY: status is a valid out-pointer.
            let r = unsafe { libc::waitpid(self.pid, &mut status, libc::__WALL) };
            if r == self.pid {
                break;
            }
            let e = errno();
            if e.raw_os_error() == Some(libc::EINTR) {
                if INTERRUPT.load(Ordering::Relaxed) {
                    // SAFETY: stopping the traced process; the next wait sees it.
                    unsafe { libc::kill(self.pid, libc::SIGSTOP) };
                }
                continue;
            }
            return Err(format!("waiting for process {}: {e}", self.pid));
        }
        if libc::WIFEXITED(status) || libc::WIFSIGNALED(status) {
            return Ok(Stop::Exited);
        }
        Ok(Stop::Signal(libc::WSTOPSIG(status)))
    }

    fn cont(&self, signal: i32) -> Result<(), String> {
        // SAFETY: PTRACE_CONT takes the signal to deliver as data.
        if unsafe { libc::ptrace(libc::PTRACE_CONT, self.pid, 0, signal as libc::c_long) } != 0 {
            return Err(format!("cannot resume process {}: {}", self.pid, errno()));
        }
        Ok(())
    }

    /// A C string of the process (at most `max` bytes).
    pub fn read_string(&self, addr: u64, max: usize) -> Result<String, String> {
        let mut bytes = Vec::new();
        let mut at = addr;
        while bytes.len() < max {
            let word = self.peek(at)?.to_le_bytes();
            if let Some(end) = word.iter().position(|&b| b == 0) {
                bytes.extend_from_slice(&word[..end]);
                break;
            }
            bytes.extend_from_slice(&word);
            at += 8;
        }
        Ok(String::from_utf8_lossy(&bytes).into_owned())
    }

    fn peek(&self, addr: u64) -> Result<u64, String> {
        // PEEKDATA returns the word; -1 is a valid word, so errno tells.
        // SAFETY: errno is this thread's.
        unsafe { *libc::__errno_location() = 0 };
        // SAFETY: PTRACE_PEEKDATA reads a word of the stopped process.
        let v = unsafe { libc::ptrace(libc::PTRACE_PEEKDATA, self.pid, addr as usize, 0) };
        if v == -1 && errno().raw_os_error().unwrap_or(0) != 0 {
            return Err(format!("cannot read process {}'s memory at {addr:#x}: {}", self.pid, errno()));
        }
        Ok(v as u64)
    }

    fn poke(&self, addr: u64, word: u64) -> Result<(), String> {
        // SAFETY: PTRACE_POKEDATA writes a word of the stopped process.
        if unsafe { libc::ptrace(libc::PTRACE_POKEDATA, self.pid, addr as usize, word as usize) } != 0 {
            return Err(format!("cannot write process {}'s memory at {addr:#x}: {}", self.pid, errno()));
        }
        Ok(())
    }

    fn regs(&self) -> Result<libc::user_regs_struct, String> {
        // SAFETY: user_regs_struct is plain integers.
        let mut regs: libc::user_regs_struct = unsafe { std::mem::zeroed() };
        // SAFETY: GETREGS fills the struct.
        if unsafe { libc::ptrace(libc::PTRACE_GETREGS, self.pid, 0, &mut regs as *mut _) } != 0 {
            return Err(format!("cannot read process {}'s registers: {}", self.pid, errno()));
        }
        Ok(regs)
    }

    fn set_regs(&self, regs: &libc::user_regs_struct) -> Result<(), String> {
        // SAFETY: SETREGS reads the struct.
        if unsafe { libc::ptrace(libc::PTRACE_SETREGS, self.pid, 0, regs as *const _) } != 0 {
            return Err(format!("cannot set process {}'s registers: {}", self.pid, errno()));
        }
        Ok(())
    }

    /// Run the process until it enters the function at `addr` (a
    /// breakpoint there); Ok(false) if interrupted first or it ended.
    pub fn run_to(&self, addr: u64) -> Result<bool, String> {
        let saved = self.peek(addr)?;
        self.poke(addr, (saved & !0xff) | 0xcc)?;
        let mut signal = 0;
        let hit = loop {
            self.cont(signal)?;
            match self.wait()? {
                Stop::Exited => return Ok(false),
                Stop::Signal(libc::SIGTRAP) if self.regs()?.rip == addr + 1 => break true,
                Stop::Signal(libc::SIGSTOP) if INTERRUPT.load(Ordering::Relaxed) => break false,
                // Anything else is the program's: deliver it.
                Stop::Signal(s) => signal = if s == libc::SIGTRAP || s == libc::SIGSTOP { 0 } else { s },
            }
        };
        self.poke(addr, saved)?;
        if hit {
            let mut regs = self.regs()?;
            regs.rip = addr;
            self.set_regs(&regs)?;
        }
        Ok(hit)
    }

    /// Call `func(arg, flags)` in the process, at a function's entry (see
    /// the module's comment); `data` is copied onto its stack and `arg` is
    /// its address if given, else `arg` itself.  Returns the result.
    pub fn call(&self, func: u64, data: Option<&[u8]>, arg: u64, flags: u64) -> Result<u64, String> {
        let saved = self.regs()?;
        let mut regs = saved;
        // Below the red zone: the string, then the call's frame.
        let mut sp = (saved.rsp - 128 - data.map_or(0, |d| d.len() as u64 + 16)) & !0xf;
        let mut first = arg;
        if let Some(d) = data {
            first = sp;
            for (i, chunk) in d.chunks(8).enumerate() {
                let mut word = [0u8; 8];
                word[..chunk.len()].copy_from_slice(chunk);
                self.poke(sp + 8 * i as u64, u64::from_le_bytes(word))?;
            }
            if d.len() % 8 == 0 {
                self.poke(sp + d.len() as u64, 0)?;
            }
        }
        sp -= 256;
        sp &= !0xf;
        // The return address 0: the call ends in a fault we catch.
        sp -= 8;
        self.poke(sp, 0)?;
        regs.rsp = sp;
        regs.rip = func;
        regs.rdi = first;
        regs.rsi = flags;
        regs.rax = 0;
        // Not in a system call: keep the kernel from restarting one.
        regs.orig_rax = u64::MAX;
        self.set_regs(&regs)?;
        let mut signal = 0;
        let result = loop {
            self.cont(signal)?;
            match self.wait()? {
                Stop::Exited => return Err(format!("process {} ended during the call", self.pid)),
                Stop::Signal(libc::SIGSEGV) if self.regs()?.rip == 0 => break self.regs()?.rax,
                Stop::Signal(libc::SIGSEGV) => {
                    return Err(format!("process {} crashed in the call (at {:#x})", self.pid, self.regs()?.rip))
                }
                Stop::Signal(s) => signal = if s == libc::SIGSTOP { 0 } else { s },
            }
        };
        self.set_regs(&saved)?;
        Ok(result)
    }
}

impl Drop for Traced {
    fn drop(&mut self) {
        // SAFETY: PTRACE_DETACH lets the process run on.
        unsafe { libc::ptrace(libc::PTRACE_DETACH, self.pid, 0, 0) };
    }
}

enum Stop {
    Signal(i32),
    Exited,
}
