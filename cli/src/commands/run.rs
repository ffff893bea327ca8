//! `memprof run`: profile a program with the library built beside this
//! executable, without installing anything.
//!
//! It lays out a private Perl library directory next to the executable
//! (`perl-lib/Devel/MemProf.pm` and `perl-lib/auto/Devel/MemProf/MemProf.so`,
//! a link to the cdylib) and runs `perl -I<that> -d:MemProf ARGS`.  The
//! program's stdin, stdout and stderr are its own; memprof's words go to
//! stderr after the program ends, and memprof exits as the program did.

use super::Failure;
use crate::render::{self, Metric};
use clap::Args;
use memprof_profile::options;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicI32, Ordering};

/// The perl this library was built against: its structs must match.
pub(super) const PERL: &str = env!("MEMPROF_BUILD_PERL");
const MODULE: &str = include_str!("../../../lib/Devel/MemProf.pm");
const LIBRARY: &str = "libdevel_memprof.so";

pub const AFTER_HELP: &str = "\
Examples:
  memprof run script.pl arg1 arg2
  memprof run -o /tmp/p.out -- -Ilib script.pl
  memprof run -MMoose -e1
  MEMPROF=sites=0 memprof run -q script.pl < input > output
  MEMPROF=native=1 memprof run parse.pl     # C frames under XS calls

Options for the profiler itself go in the MEMPROF environment variable
(see `perldoc Devel::MemProf`); -o overrides its file=.";

#[derive(Args)]
pub struct RunArgs {
    /// Print nothing of memprof's own
    #[arg(short, long)]
    quiet: bool,
    /// Where to write the profile [default: memprof.out, or MEMPROF's file=]
    #[arg(short, long, value_name = "FILE")]
    output: Option<PathBuf>,
    /// Skip the flame graphs and the summary after the run
    #[arg(long)]
    no_render: bool,
    /// Directory for the flame graphs
    #[arg(long, default_value = "flamegraphs", value_name = "DIR")]
    flamegraphs: PathBuf,
    /// Perl options, then the script and its arguments (or -e CODE)
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, required = true, value_name = "PERL_ARGS")]
    perl_args: Vec<OsString>,
}

/// Escape a value for the MEMPROF variable.
fn escape(value: &str) -> String {
    value.replace('\\', "\\\\").replace(':', "\\:")
}

/// The directory with Devel/MemProf.pm and auto/Devel/MemProf/MemProf.so.
fn library_dir(exe_dir: &Path, library: &Path) -> Result<PathBuf, String> {
    let dir = exe_dir.join("perl-lib");
    let pm = dir.join("Devel/MemProf.pm");
    let so = dir.join("auto/Devel/MemProf/MemProf.so");
    let fresh = std::fs::read_to_string(&pm).is_ok_and(|s| s == MODULE)
        && std::fs::canonicalize(&so).is_ok_and(|target| target == library);
    if fresh {
        return Ok(dir);
    }
    let make = || -> std::io::Result<()> {
        std::fs::create_dir_all(pm.parent().unwrap_or(&dir))?;
        std::fs::create_dir_all(so.parent().unwrap_or(&dir))?;
        // Replace both atomically: another memprof may be running.
        let tmp_pm = pm.with_extension(format!("pm.{}", std::process::id()));
        std::fs::write(&tmp_pm, MODULE)?;
        std::fs::rename(&tmp_pm, &pm)?;
        let tmp_so = so.with_extension(format!("so.{}", std::process::id()));
        let _ = std::fs::remove_file(&tmp_so);
        std::os::unix::fs::symlink(library, &tmp_so)?;
        std::fs::rename(&tmp_so, &so)
    };
    make().map_err(|e| format!("cannot set up {}: {e}", dir.display()))?;
    Ok(dir)
}

/// Whether Devel::MemProf is installed where perl looks (`make install`):
/// both the module and its library in @INC (PERL5LIB included).
fn installed_in_perl() -> bool {
    let probe = r#"my %have; for my $d (grep { !ref } @INC) {
        $have{pm} = 1 if -f "$d/Devel/MemProf.pm";
        $have{so} = 1 if -f "$d/auto/Devel/MemProf/MemProf.so" }
        exit($have{pm} && $have{so} ? 0 : 1)"#;
    Command::new(PERL).args(["-e", probe]).status().is_ok_and(|s| s.success())
}

/// The library itself (for `memprof attach`, which loads it into a running
/// perl): beside this executable, or where `make install` put it.
pub(super) fn library_file() -> Result<PathBuf, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own executable: {e}"))?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    if let Ok(library) = std::fs::canonicalize(dir.join(LIBRARY)) {
        return Ok(library);
    }
    let probe = r#"for my $d (grep { !ref } @INC) {
        my $so = "$d/auto/Devel/MemProf/MemProf.so"; if (-f $so) { print $so; exit 0 } } exit 1"#;
    let found = Command::new(PERL).args(["-e", probe]).output().ok().filter(|o| o.status.success());
    match found {
        Some(o) => Ok(PathBuf::from(String::from_utf8_lossy(&o.stdout).into_owned())),
        None => Err(format!(
            "cannot find {LIBRARY} beside {} nor Devel::MemProf in {PERL}'s @INC; build with `cargo build --release` or install with `perl Makefile.PL && make install`",
            exe.display()
        )),
    }
}

/// The `-I` directory for perl: the library built beside this executable
/// (a cargo build), or none when Devel::MemProf is installed.
fn perl_include_dir() -> Result<Option<PathBuf>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("cannot find my own executable: {e}"))?;
    let exe = std::fs::canonicalize(&exe).unwrap_or(exe);
    let dir = exe.parent().map(Path::to_path_buf).unwrap_or_default();
    match std::fs::canonicalize(dir.join(LIBRARY)) {
        Ok(library) => library_dir(&dir, &library).map(Some),
        Err(_) if installed_in_perl() => Ok(None),
        Err(_) => Err(format!(
            "cannot find {LIBRARY} beside {} nor Devel::MemProf in {PERL}'s @INC; build with `cargo build --release` or install with `perl Makefile.PL && make install`",
            exe.display()
        )),
    }
}

pub fn run(args: RunArgs) -> Result<i32, Failure> {
    let include = perl_include_dir()?;

    let user_spec = std::env::var("MEMPROF").ok();
    let mut spec = user_spec.clone().unwrap_or_default();
    if let Some(out) = &args.output {
        let out = std::path::absolute(out).unwrap_or_else(|_| out.clone());
        if !spec.is_empty() {
            spec.push(':');
        }
        spec.push_str(&format!("file={}", escape(&out.to_string_lossy())));
    }
    // A supervisor stops a program by signalling the process it started
    // (memprof): the program must get the chance to write its profile.
    if !spec.split(':').any(|pair| pair.trim_start().starts_with("sigexit")) {
        if !spec.is_empty() {
            spec.push(':');
        }
        spec.push_str("sigexit=1");
    }
    let (opts, _) = options::parse(&spec);

    let mut command = Command::new(PERL);
    command.args(include.iter().map(|dir| format!("-I{}", dir.display()))).arg("-d:MemProf").args(&args.perl_args);
    // Devel/MemProf.pm takes out again what is only there for it to be
    // found and configured, so that the program sees its own @INC and %ENV.
    if let Some(dir) = &include {
        command.env("MEMPROF_RUN_INC", dir);
    }
    if user_spec.as_deref() != Some(spec.as_str()) {
        command.env("MEMPROF", &spec).env("MEMPROF_RUN_SET_MEMPROF", "1");
        if let Some(user) = &user_spec {
            command.env("MEMPROF_RUN_USER_MEMPROF", user);
        }
    }
    // Before the program exists: a signal that comes while it starts is
    // held back and passed on as soon as it does.
    forward_signals();
    let mut child = command.spawn().map_err(|e| format!("cannot run {PERL}: {e}"))?;
    CHILD.store(child.id() as i32, Ordering::SeqCst);
    let pending = PENDING.swap(0, Ordering::SeqCst);
    if pending != 0 {
        // SAFETY: passing a signal on to our own child.
        unsafe { libc::kill(child.id() as i32, pending) };
    }
    let status = child.wait().map_err(|e| format!("waiting for perl: {e}"))?;

    let mut profile = std::path::absolute(&opts.file).unwrap_or_else(|_| PathBuf::from(&opts.file));
    if opts.addpid {
        let mut s = profile.into_os_string();
        s.push(format!(".{}", child.id()));
        profile = PathBuf::from(s);
    }
    if !args.no_render || !args.quiet {
        render_after(&profile, &args, &status);
    }
    Ok(exit_like(status))
}

/// The program's pid, for the signal handler.
static CHILD: AtomicI32 = AtomicI32::new(0);
/// A signal that came before the program was started.
static PENDING: AtomicI32 = AtomicI32::new(0);

/// Signals a supervisor (systemd, a shell's `kill`) sends to stop or poke
/// a program, which `memprof run` passes on to it.
const FORWARDED: [libc::c_int; 6] =
    [libc::SIGTERM, libc::SIGINT, libc::SIGHUP, libc::SIGQUIT, libc::SIGUSR1, libc::SIGUSR2];

extern "C" fn pass_on(sig: libc::c_int, info: *mut libc::siginfo_t, _: *mut libc::c_void) {
    // A ^C or ^\ from the terminal reaches the whole foreground process
    // group, the program too: pass on only what was sent to us alone
    // (kill(2), sigqueue(3): si_code <= 0).
    // SAFETY: the kernel passes a valid siginfo_t to an SA_SIGINFO handler.
    let sent = info.is_null() || unsafe { (*info).si_code } <= 0;
    let pid = CHILD.load(Ordering::SeqCst);
    if sent && pid > 0 {
        // SAFETY: kill is async-signal-safe.
        unsafe { libc::kill(pid, sig) };
    } else if sent {
        PENDING.store(sig, Ordering::SeqCst);
    }
}

/// Pass signals on to the program until it ends; like system(3), memprof
/// itself is not stopped by them: it waits, then renders.
fn forward_signals() {
    for sig in FORWARDED {
        // SAFETY: installing a handler that only calls kill(2); the struct
        // is zeroed and then filled as sigaction(2) describes.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = pass_on as *const () as usize;
            action.sa_flags = libc::SA_SIGINFO | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(sig, &action, std::ptr::null_mut());
        }
    }
}

/// The file name stem of the graphs: the script's, or "one-liner" for -e.
fn stem(script: &str) -> String {
    if script == "-e" || script == "-E" || script.is_empty() {
        return "one-liner".into();
    }
    Path::new(script).file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "script".into())
}

/// After the program: flame graphs and the first screen of the report,
/// on stderr so that the program's stdout stays clean for pipes.
fn render_after(profile: &Path, args: &RunArgs, status: &std::process::ExitStatus) {
    let say = |line: &str| {
        if !args.quiet {
            eprintln!("{line}");
        }
    };
    let p = match memprof_profile::format::read(profile) {
        Ok(p) => p,
        Err(e) => {
            say(&match killed_by(status) {
                Some(why) => format!("memprof: {why}: no profile could be written ({}: {e})", profile.display()),
                None => format!("memprof: no profile at {}: {e}", profile.display()),
            });
            return;
        }
    };
    let mut written = Vec::new();
    if !args.no_render {
        let metrics: &[Metric] = if p.run.site_tracking {
            &[Metric::Net, Metric::Alloc, Metric::Retained, Metric::Peak]
        } else {
            &[Metric::Net, Metric::Alloc]
        };
        if let Err(e) = std::fs::create_dir_all(&args.flamegraphs) {
            say(&format!("memprof: cannot create {}: {e}", args.flamegraphs.display()));
        }
        for &m in metrics {
            let path = args.flamegraphs.join(format!("{}-{}.svg", stem(&p.run.script), m.name()));
            let result = render::flamegraph::render(&p, m, false, None).and_then(|svg| {
                std::fs::write(&path, svg).map_err(|e| format!("cannot write {}: {e}", path.display()))
            });
            match result {
                Ok(()) => written.push(path.display().to_string()),
                Err(e) => say(&format!("memprof: {e}")),
            }
        }
    }
    if args.quiet {
        return;
    }
    eprintln!();
    eprint!(
        "{}",
        render::report::render(
            &p,
            &render::report::ReportOptions {
                top: 3,
                format: render::report::Format::Text,
                by: render::report::By::Code,
            }
        )
    );
    eprintln!();
    eprintln!("memprof: profile written to {}", profile.display());
    if !written.is_empty() {
        eprintln!("memprof: flame graphs: {}", written.join(", "));
    }
    eprintln!("memprof: more with `memprof report {}`", profile.display());
}

/// A death by a signal that leaves no chance to write the profile.
fn killed_by(status: &std::process::ExitStatus) -> Option<String> {
    use std::os::unix::process::ExitStatusExt;
    let sig = status.signal()?;
    // SAFETY: strsignal returns a pointer to a static or thread-local
    // string (never NULL on glibc); it is copied at once.
    let name = unsafe { std::ffi::CStr::from_ptr(libc::strsignal(sig)) }.to_string_lossy().into_owned();
    let how = match sig {
        libc::SIGKILL => "which no program can catch",
        libc::SIGSEGV | libc::SIGBUS | libc::SIGILL | libc::SIGFPE | libc::SIGABRT => "a crash",
        _ => "a signal it did not handle (MEMPROF=sigexit=1 writes the profile on INT, TERM and HUP)",
    };
    Some(format!("the program was killed by signal {sig} ({name}), {how}"))
}

/// Our exit status: the program's, or its death by the same signal.
fn exit_like(status: std::process::ExitStatus) -> i32 {
    use std::os::unix::process::ExitStatusExt;
    if let Some(code) = status.code() {
        return code;
    }
    if let Some(sig) = status.signal() {
        CHILD.store(0, Ordering::Relaxed);
        // SAFETY: restoring the default action and re-raising the signal
        // that ended the program, so our parent sees the same death.
        unsafe {
            libc::signal(sig, libc::SIG_DFL);
            libc::kill(libc::getpid(), sig);
        }
        return 128 + sig;
    }
    1
}
