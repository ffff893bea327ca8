//! The `memprof` command line.  Every failure the user can cause (a bad
//! file, an unknown metric) is one line on stderr and exit status 2.

mod attach;
mod diff;
mod export;
mod run;

use crate::render::{self, Metric};
use clap::{Parser, Subcommand};
use memprof_profile::{format, Profile};
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
    /// Only the stacks of perl thread N (as `threads->tid` numbers it; 0 is
    /// the main thread), in every view of a profile
    #[arg(long, global = true, value_name = "N")]
    thread: Option<u32>,
}

/// `--thread`, applied to every profile read.
static THREAD: std::sync::OnceLock<u32> = std::sync::OnceLock::new();

#[derive(Subcommand)]
enum Command {
    /// Run a Perl program under the profiler (no installation needed)
    #[command(after_help = run::AFTER_HELP)]
    Run(run::RunArgs),
    /// Profile a perl that is already running (through gdb), then detach
    #[command(after_help = attach::AFTER_HELP)]
    Attach(attach::AttachArgs),
    /// Print the top subs and lines, in sentences or as a Markdown table
    Report {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// How many subs and lines to list
        #[arg(long, default_value_t = 10)]
        top: usize,
        /// text, or markdown for pasting into a pull request
        #[arg(long, default_value = "text")]
        format: String,
        /// label: per label (request, job) what it allocated and still
        /// held, per run, with the lines; code: the usual report
        #[arg(long, default_value = "code")]
        by: String,
    },
    /// Draw a memory flame graph (SVG)
    Flamegraph {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// What the frames are sized by: net, alloc, retained or peak
        #[arg(long, short, default_value = "net")]
        metric: String,
        /// Add the statements (file:line) as leaf frames
        #[arg(long)]
        lines: bool,
        /// Title of the graph [default: the script and the metric]
        #[arg(long)]
        title: Option<String>,
        /// Where to write the SVG [default: standard output]
        #[arg(short, long, value_name = "OUT.svg")]
        output: Option<PathBuf>,
        /// Ownership instead of allocation: a heap snapshot's data paths,
        /// sized by the bytes under them
        #[arg(long)]
        heap: bool,
        /// With --heap: the snapshot of this label [default: the last one]
        #[arg(long, value_name = "LABEL")]
        snapshot: Option<String>,
    },
    /// Print a table per line, sub or stack as CSV
    Csv {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// One row per line, sub or stack
        #[arg(long, default_value = "line")]
        by: String,
    },
    /// Compare two profiles: what grew, per sub and per line
    Diff {
        /// The profile before the change
        old: PathBuf,
        /// The profile after it
        new: PathBuf,
        /// text, markdown or json
        #[arg(long, default_value = "text")]
        format: String,
        /// Also write a differential flame graph (SVG) here
        #[arg(short, long, value_name = "DIFF.svg")]
        output: Option<PathBuf>,
        /// Leave out changes smaller than this many bytes
        #[arg(long, default_value_t = 1024, value_name = "BYTES")]
        threshold: u64,
        /// Exit with status 1 when the run's total, or any line, grew by more
        /// than this many bytes in --fail-over-metric (a CI gate)
        #[arg(long, value_name = "BYTES")]
        fail_over: Option<u64>,
        /// What the gate judges: retained (held at exit; the default when
        /// both runs tracked sites), peak, net (the default without site
        /// tracking) or alloc
        #[arg(long, value_name = "METRIC")]
        fail_over_metric: Option<String>,
        /// How many subs and lines to list
        #[arg(long, default_value_t = 20)]
        top: usize,
        /// Compare heap snapshots by data path (what grew, the keys added)
        /// and their ledgers (VmData row by row) instead of what was allocated
        #[arg(long)]
        heap: bool,
        /// With --heap: the label of OLD's snapshot, then NEW's (give the
        /// same profile twice to compare two snapshots of one run)
        #[arg(long, value_name = "LABEL")]
        snapshot: Vec<String>,
    },
    /// Merge several profiles (forked workers) into one
    Merge {
        /// Profiles to merge
        #[arg(required = true, num_args = 1..)]
        files: Vec<PathBuf>,
        /// Where to write the merged profile
        #[arg(short, long, required = true, value_name = "FILE")]
        output: PathBuf,
    },
    /// Draw the live heap over time, with marks and the peak (SVG)
    Timeline {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// Where to write the SVG
        #[arg(short, long, required = true, value_name = "HEAP.svg")]
        output: PathBuf,
        /// Title of the chart
        #[arg(long)]
        title: Option<String>,
    },
    /// Print the profile as JSON (the document described in doc/profile.md of the distribution)
    Json {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// Indent the output for reading
        #[arg(long)]
        pretty: bool,
        /// Leave out the `stacks` list (it grows with the square of the recursion depth)
        #[arg(long)]
        no_stacks: bool,
    },
    /// Write a browsable HTML report: index, annotated source, flame graphs
    Html {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// Directory to write the report into
        #[arg(short, long, default_value = "memprof-html", value_name = "DIR")]
        output: PathBuf,
    },
    /// Show a heap snapshot: where VmData and RSS go (the ledger), the
    /// largest data paths with the lines that allocated them, the census by
    /// type and class, and what nothing reached
    #[command(after_help = "Take snapshots with Devel::MemProf::snapshot(\"label\") in the program, or \
                  MEMPROF=snapshot=end (memprof run takes one at the end by default). \
                  Compare two with `memprof diff --heap` (paths, and the ledgers row by row).")]
    Heap {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// The snapshot of this label [default: the last one]
        #[arg(long, value_name = "LABEL")]
        snapshot: Option<String>,
        /// How deep the tree of paths goes
        #[arg(long, default_value_t = 4, value_name = "N")]
        depth: usize,
        /// path (the tree), type, class, or line (the paths holding each
        /// allocating line's bytes)
        #[arg(long, default_value = "path")]
        by: String,
        /// How many roots, rows or lines to list
        #[arg(long, default_value_t = 20)]
        top: usize,
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
        /// Ownership instead of allocation: a heap snapshot's paths
        /// (`%main::cache;{alice};{history} BYTES`)
        #[arg(long)]
        heap: bool,
        /// With --heap: the snapshot of this label [default: the last one]
        #[arg(long, value_name = "LABEL")]
        snapshot: Option<String>,
    },
    /// Write the profile for pprof, speedscope or the Firefox Profiler
    #[command(after_help = export::AFTER_HELP)]
    Export {
        /// Profile to read
        #[arg(default_value = DEFAULT_PROFILE)]
        file: PathBuf,
        /// pprof (gzipped protobuf), speedscope or firefox (JSON)
        #[arg(long, short)]
        format: String,
        /// The metric the viewer opens on (the file has them all): net, alloc, retained or peak
        #[arg(long, short, default_value = "net")]
        metric: String,
        /// Where to write it, - for standard output [default: the profile's name with .pb.gz,
        /// .speedscope.json or .firefox.json instead of .out, in the current directory]
        #[arg(short, long, value_name = "OUT")]
        output: Option<PathBuf>,
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
    let p = format::read(path).map_err(|e| Failure(format!("{}: {e}", path.display())))?;
    match THREAD.get() {
        Some(&tid) => p.only_thread(tid).map_err(|e| Failure(format!("{}: {e}", path.display()))),
        None => Ok(p),
    }
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

/// Write a file, naming it in any error.
fn write_file(path: &Path, text: &str) -> Result<(), Failure> {
    std::fs::write(path, text).map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))
}

fn report_format(name: &str) -> Result<render::report::Format, Failure> {
    match name {
        "text" => Ok(render::report::Format::Text),
        "markdown" | "md" => Ok(render::report::Format::Markdown),
        _ => Err(Failure(format!("unknown format '{name}' (use text or markdown)"))),
    }
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Report { file, top, format, by } => {
            let format = report_format(&format)?;
            let by = render::report::By::parse(&by)?;
            let p = load(&file)?;
            print(&render::report::render(&p, &render::report::ReportOptions { top, format, by }))?;
            Ok(0)
        }
        Command::Flamegraph { file, metric: name, lines, title, output, heap, snapshot } => {
            let p = load(&file)?;
            let svg = if heap {
                render::heap::flamegraph(&p, snapshot.as_deref(), title.as_deref())?
            } else {
                let m = metric(&name, &p)?;
                render::flamegraph::render(&p, m, lines, title.as_deref())?
            };
            match output {
                Some(path) => write_file(&path, &svg)?,
                None => print(&svg)?,
            }
            Ok(0)
        }
        Command::Csv { file, by } => {
            let by = render::csv::By::parse(&by)?;
            let p = load(&file)?;
            print(&render::csv::render(&p, by)?)?;
            Ok(0)
        }
        Command::Diff { old, new, format, output, threshold, fail_over, fail_over_metric, top, heap, snapshot } => {
            let o = diff::DiffOptions {
                format,
                output,
                threshold,
                fail_over,
                fail_over_metric,
                top,
                heap,
                snapshots: snapshot,
            };
            diff::diff(&old, &new, &o)
        }
        Command::Timeline { file, output, title } => {
            let p = load(&file)?;
            let svg = render::timeline::render(&p, title.as_deref())
                .map_err(|e| Failure(format!("{}: {e}", file.display())))?;
            for why in render::timeline::why_not(&p) {
                eprintln!("memprof: {}: {why}", file.display());
            }
            write_file(&output, &svg)?;
            Ok(0)
        }
        Command::Merge { files, output } => {
            let profiles = files.iter().map(|f| load(f)).collect::<Result<Vec<_>, _>>()?;
            let merged = memprof_profile::merge::merge(&profiles);
            // Inputs valid one by one can add up past what a profile may
            // hold; such a result is refused now rather than when read.
            merged.validate().map_err(|e| Failure(format!("the merged profile would be invalid: {e}")))?;
            format::write(&output, &merged).map_err(Failure)?;
            Ok(0)
        }
        Command::Run(args) => run::run(args),
        Command::Attach(args) => attach::run(args),
        Command::Json { file, pretty, no_stacks } => {
            let p = load(&file)?;
            let stdout = std::io::stdout().lock();
            let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout);
            let written = render::json::write(&p, &mut out, pretty, !no_stacks)
                .and_then(|()| out.write_all(b"\n"))
                .and_then(|()| out.flush());
            match written {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Failure(format!("writing output: {e}"))),
                _ => Ok(0),
            }
        }
        Command::Html { file, output } => {
            let p = load(&file)?;
            let pages = render::html::write(&p, &output)?;
            print(&format!("Wrote {} ({pages} source pages)\n", output.join("index.html").display()))?;
            Ok(0)
        }
        Command::Folded { file, heap: true, snapshot, .. } => {
            let p = load(&file)?;
            print(&render::heap::folded(&p, snapshot.as_deref())?)?;
            Ok(0)
        }
        Command::Heap { file, snapshot, depth, by, top } => {
            let by = render::heap::By::parse(&by)?;
            let p = load(&file)?;
            print(&render::heap::render(&p, &render::heap::HeapOptions { snapshot, depth, by, top })?)?;
            Ok(0)
        }
        Command::Folded { file, metric: name, no_lines, .. } => {
            let p = load(&file)?;
            let m = metric(&name, &p)?;
            print(&render::folded::render(&p, m, !no_lines))?;
            Ok(0)
        }
        Command::Export { file, format, metric: name, output } => export::export(&file, &format, &name, output),
    }
}

/// Run the command line; returns the exit status.
pub fn main() -> i32 {
    let cli = Cli::parse();
    if let Some(tid) = cli.thread {
        let _ = THREAD.set(tid);
    }
    match dispatch(cli) {
        Ok(code) => code,
        Err(Failure(message)) => {
            eprintln!("memprof: {message}");
            2
        }
    }
}
