//! The `memprof` command line.  Every failure the user can cause (a bad
//! file, an unknown metric) is one line on stderr and exit status 2.

mod run;

use crate::profile::{format, Profile};
use crate::render::{self, Metric};
use clap::{Parser, Subcommand};
use std::io::Write;
use std::path::{Path, PathBuf};

const DEFAULT_PROFILE: &str = "memprof.out";

#[derive(Parser)]
#[command(
    name = "memprof",
    version,
    about = "Memory profiles of Perl programs: run them, then render flame graphs, reports and diffs",
    after_help = "Profile a script with `memprof run script.pl` (or `perl -d:MemProf script.pl`), \
                  then look at it with `memprof report`, `memprof flamegraph` or `memprof json`."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run a Perl program under the profiler (no installation needed)
    #[command(after_help = run::AFTER_HELP)]
    Run(run::RunArgs),
    /// Print the profile as JSON (the document described in DESIGN §7)
    Json {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// Indent the output for reading
        #[arg(long)]
        pretty: bool,
    },
    /// Print folded stacks for inferno-flamegraph, speedscope or flamegraph.pl
    Folded {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// What the stacks are weighed by: net, alloc, retained or peak
        #[arg(long, short, default_value = "net")]
        metric: String,
        /// Leave out the file:line leaf frames
        #[arg(long)]
        no_lines: bool,
    },
}

/// A failure to report: one line, exit status 2.
pub struct Failure(pub String);

impl From<String> for Failure {
    fn from(s: String) -> Failure {
        Failure(s)
    }
}

/// Read a profile, naming the file in any error.
pub fn load(path: &Path) -> Result<Profile, Failure> {
    format::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))
}

/// Parse a metric and check the profile can answer it.
fn metric(name: &str, p: &Profile) -> Result<Metric, Failure> {
    let m = Metric::parse(name)?;
    if m.needs_sites() && !p.run.site_tracking {
        return Err(Failure(format!(
            "the {} metric needs site tracking, and this profile was made with MEMPROF=sites=0",
            m.name()
        )));
    }
    Ok(m)
}

/// Write to stdout; a closed pipe (`memprof json | head`) is not an error.
fn print(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure(format!("writing output: {e}"))),
        _ => Ok(()),
    }
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Json { file, pretty } => {
            let p = load(&file)?;
            print(&render::json::render(&p, pretty))?;
            print("\n")?;
            Ok(0)
        }
        Command::Folded { file, metric: name, no_lines } => {
            let p = load(&file)?;
            let m = metric(&name, &p)?;
            print(&render::folded::render(&p, m, !no_lines))?;
            Ok(0)
        }
    }
}

/// Run the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    match dispatch(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("memprof: {message}");
            2
        }
    }
}
