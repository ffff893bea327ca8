//! `memprof attach PID`: profile a perl that is already running, started
//! without the profiler.  It stops the process at a statement (ptrace, see
//! attach/inject.rs), loads the library built beside this executable and
//! starts it, and lets it run on; after the duration, or a Ctrl-C, it stops
//! it at a statement again to write the profile and give the process its
//! allocator and runloop back.

use super::Failure;
use clap::Args;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

mod inject;

pub const AFTER_HELP: &str = "\
Examples:
  memprof attach 4242 --duration 60 -o worker.out
  memprof attach 4242            # until Ctrl-C

It needs permission to trace the process: the same user with kernel.yama.ptrace_scope at 0, or root.  The
process must run the perl this memprof was built for.  Blocks allocated
before attaching are untracked; the attach and the detach each wait until
the process runs a statement (a server waiting for a request waits too).";

#[derive(Args)]
pub struct AttachArgs {
    /// The process id of a running perl
    pid: String,
    /// Record for this many seconds, then detach [default: until Ctrl-C or TERM]
    #[arg(long, value_name = "SECONDS")]
    duration: Option<f64>,
    /// Where to write the profile
    #[arg(short, long, default_value = "memprof.out", value_name = "FILE")]
    output: PathBuf,
    /// Print nothing of memprof's own
    #[arg(short, long)]
    quiet: bool,
}

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn stop(_: libc::c_int) {
    STOP.store(true, Ordering::Relaxed);
    inject::INTERRUPT.store(true, Ordering::Relaxed);
}

/// Check that `pid` is a perl we can attach to; returns its executable.
fn check_process(pid: i32) -> Result<PathBuf, String> {
    let proc = PathBuf::from(format!("/proc/{pid}"));
    if !proc.exists() {
        return Err(format!("no process {pid}"));
    }
    let exe = std::fs::read_link(proc.join("exe")).map_err(|e| match e.kind() {
        std::io::ErrorKind::PermissionDenied => not_permitted(pid),
        _ => format!("cannot read /proc/{pid}/exe: {e}"),
    })?;
    let maps = std::fs::read_to_string(proc.join("maps")).unwrap_or_default();
    let name = exe.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if !name.starts_with("perl") && !maps.contains("libperl") {
        return Err(format!("process {pid} is not perl (it runs {})", exe.display()));
    }
    let ours = std::fs::canonicalize(super::run::PERL).unwrap_or_else(|_| PathBuf::from(super::run::PERL));
    if std::fs::canonicalize(&exe).unwrap_or(exe.clone()) != ours {
        return Err(format!(
            "process {pid} runs {}, but this memprof was built for {}: its structures would not match",
            exe.display(),
            ours.display()
        ));
    }
    // SAFETY: signal 0 only checks that we may signal the process.
    if unsafe { libc::kill(pid, 0) } != 0 && std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM) {
        return Err(not_permitted(pid));
    }
    Ok(exe)
}

pub(super) fn not_permitted(pid: i32) -> String {
    let scope = std::fs::read_to_string("/proc/sys/kernel/yama/ptrace_scope").unwrap_or_default();
    format!(
        "not permitted to attach to process {pid}: trace it as its own user with kernel.yama.ptrace_scope at 0 (it is {}), or as root",
        scope.trim()
    )
}

/// What a visit to the process did.
enum Visit {
    Done(i32),
    Interrupted,
    Ended,
}

/// Stop the process at its next statement and call the library's
/// `memprof_attach(spec)` (loading it first) or `memprof_detach()`.
fn visit(pid: i32, attach: bool, library: &Path, spec: &str) -> Result<Visit, String> {
    let nextstate = inject::symbol(pid, "Perl_pp_nextstate", "")?;
    let traced = inject::Traced::attach(pid)?;
    if !traced.run_to(nextstate)? {
        // SAFETY: signal 0 only checks that the process exists.
        return Ok(if unsafe { libc::kill(pid, 0) } == 0 { Visit::Interrupted } else { Visit::Ended });
    }
    let lib = library.to_string_lossy().into_owned();
    if attach {
        let dlopen = inject::symbol(pid, "dlopen", "libc.so")?;
        let mut path = lib.clone().into_bytes();
        path.push(0);
        // RTLD_NOW | RTLD_GLOBAL
        if traced.call(dlopen, Some(&path), 0, 0x102)? == 0 {
            let dlerror = inject::symbol(pid, "dlerror", "libc.so")?;
            let why = match traced.call(dlerror, None, 0, 0)? {
                0 => String::from("no reason given"),
                at => traced.read_string(at, 512)?,
            };
            return Err(format!("could not load {lib} into process {pid}: {why}"));
        }
        let f = inject::symbol(pid, "memprof_attach", &lib)?;
        let mut arg = spec.as_bytes().to_vec();
        arg.push(0);
        Ok(Visit::Done(traced.call(f, Some(&arg), 0, 0)? as i32))
    } else {
        let f = inject::symbol(pid, "memprof_detach", &lib)?;
        Ok(Visit::Done(traced.call(f, None, 0, 0)? as i32))
    }
}

pub fn run(args: AttachArgs) -> Result<i32, Failure> {
    let pid: i32 = match args.pid.parse() {
        Ok(n) if n > 0 => n,
        _ => return Err(format!("not a process id: '{}'", args.pid).into()),
    };
    if let Some(d) = args.duration {
        if !(d.is_finite() && d > 0.0) {
            return Err(format!("--duration must be a positive number of seconds, not {d}").into());
        }
    }
    check_process(pid)?;
    let threads = std::fs::read_dir(format!("/proc/{pid}/task")).map(|d| d.count()).unwrap_or(1);
    if threads > 1 {
        return Err(format!(
            "process {pid} runs {threads} threads: memprof attach supports single-threaded processes only"
        )
        .into());
    }
    let library = super::run::library_file()?;
    let output = std::path::absolute(&args.output).unwrap_or(args.output.clone());
    let spec = format!("file={}", output.to_string_lossy().replace('\\', "\\\\").replace(':', "\\:"));
    for sig in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
        // SAFETY: installing a handler that stores a flag and calls kill.
        unsafe { libc::signal(sig, stop as *const () as libc::sighandler_t) };
    }
    let say = |s: &str| {
        if !args.quiet {
            eprintln!("memprof: {s}");
        }
    };
    say(&format!("attaching to process {pid} (at its next statement)"));
    match visit(pid, true, &library, &spec)? {
        Visit::Done(0) => {}
        Visit::Interrupted => {
            return Err(format!("stopped before process {pid} ran a statement: nothing attached").into())
        }
        Visit::Ended => return Err(format!("process {pid} ended before it ran a statement").into()),
        Visit::Done(-1) => return Err(format!("process {pid} is already being profiled").into()),
        Visit::Done(n) => return Err(format!("could not start profiling in process {pid} (error {n})").into()),
    }
    say(&format!(
        "recording process {pid}; {}",
        match args.duration {
            Some(d) => format!("detaching after {d} s"),
            None => "Ctrl-C to detach".into(),
        }
    ));
    let start = Instant::now();
    let gone = || {
        // SAFETY: signal 0 only checks that the process exists.
        unsafe { libc::kill(pid, 0) != 0 }
    };
    while !STOP.load(Ordering::Relaxed) && args.duration.is_none_or(|d| start.elapsed().as_secs_f64() < d) {
        if gone() {
            say(&format!("process {pid} ended; it wrote its profile at exit"));
            return Ok(0);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    STOP.store(false, Ordering::Relaxed);
    say(&format!("detaching from process {pid} (at its next statement)"));
    match visit(pid, false, &library, &spec)? {
        Visit::Done(0) => {}
        Visit::Interrupted => {
            return Err(format!("stopped before process {pid} ran a statement: it is still being profiled").into())
        }
        Visit::Ended => say(&format!("process {pid} ended; it wrote its profile at exit")),
        Visit::Done(n) => return Err(format!("could not detach from process {pid} (error {n})").into()),
    }
    say(&format!("profile written to {}", output.display()));
    Ok(0)
}
