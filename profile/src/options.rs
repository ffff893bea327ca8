//! The `MEMPROF` environment variable: `name=value` pairs joined by `:`,
//! as `NYTPROF` does.  A `\` escapes the next character, so a value can
//! hold a colon (`file=C\:/x`) or a backslash (`\\`).  An unknown name or a
//! bad value is reported once, and the default is kept.

/// When profiling starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// As soon as Devel::MemProf is loaded (with `-d:MemProf`, before the
    /// rest of the script is compiled).
    Begin,
    /// When the INIT phase begins: after compilation.
    Init,
    /// Only when the program calls `DB::enable_profile`.
    No,
}

/// Whether allocations record the C frames beneath the Perl line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Native {
    Off,
    /// XS and library frames only: perl's own and the profiler's are folded away.
    On,
    /// Every C frame between the Perl line and the allocator.
    All,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Options {
    pub file: String,
    pub addpid: bool,
    pub start: Start,
    /// Signals on which the profile is written before the process ends.
    pub sigexit: Vec<String>,
    pub sites: bool,
    /// Report statements whose net growth reaches this many bytes (0: off).
    pub trace: u64,
    pub trace_file: Option<String>,
    /// The signal on which a dump of the profile so far is written, and
    /// the run goes on.
    pub dump_signal: Option<String>,
    /// Sampled site tracking: the mean bytes between two tracked
    /// allocations (0: track every allocation).
    pub sample: u64,
    pub native: Native,
    /// `snapshot=end` (the default): a heap snapshot at the end of the run,
    /// when the retained figures are measured (after END blocks, before
    /// global destruction); `snapshot=0` leaves it out.  On by default:
    /// it costs under 5% of every workload of bench/ (see lib/memprof.pod).
    pub snapshot_end: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            file: "memprof.out".into(),
            addpid: false,
            start: Start::Begin,
            sigexit: Vec::new(),
            sites: true,
            trace: 0,
            trace_file: None,
            dump_signal: None,
            sample: 0,
            native: Native::Off,
            snapshot_end: true,
        }
    }
}

/// The names `MEMPROF` accepts, for the warning about an unknown one.
pub const KNOWN: &[&str] = &[
    "file",
    "addpid",
    "start",
    "sigexit",
    "sites",
    "trace",
    "trace_file",
    "dump_signal",
    "sample",
    "native",
    "snapshot",
];

/// Signals `sigexit=1` means.
const DEFAULT_SIGEXIT: &[&str] = &["INT", "TERM", "HUP"];

/// Split on unescaped `:`, removing the escapes.
fn split_pairs(spec: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(s)) = (chars.next(), out.last_mut()) {
                    s.push(next);
                }
            }
            ':' => out.push(String::new()),
            _ => {
                if let Some(s) = out.last_mut() {
                    s.push(c);
                }
            }
        }
    }
    out.retain(|s| !s.is_empty());
    out
}

fn flag(value: &str) -> Option<bool> {
    match value {
        "0" | "no" | "off" => Some(false),
        "1" | "yes" | "on" => Some(true),
        _ => None,
    }
}

fn signal_list(value: &str) -> Option<Vec<String>> {
    match flag(value) {
        Some(true) => return Some(DEFAULT_SIGEXIT.iter().map(|s| s.to_string()).collect()),
        Some(false) => return Some(Vec::new()),
        None => {}
    }
    let mut out = Vec::new();
    for name in value.split(',') {
        let name = name.trim().trim_start_matches("SIG").trim_start_matches("sig").to_ascii_uppercase();
        signal_number(&name)?;
        out.push(name);
    }
    Some(out)
}

/// Numbers of the signals `sigexit` may name.
pub fn signal_number(name: &str) -> Option<i32> {
    Some(match name {
        "INT" => libc::SIGINT,
        "TERM" => libc::SIGTERM,
        "HUP" => libc::SIGHUP,
        "QUIT" => libc::SIGQUIT,
        "USR1" => libc::SIGUSR1,
        "USR2" => libc::SIGUSR2,
        "ALRM" => libc::SIGALRM,
        "PIPE" => libc::SIGPIPE,
        _ => return None,
    })
}

/// Parse `MEMPROF`; the second value holds one warning per problem.
pub fn parse(spec: &str) -> (Options, Vec<String>) {
    let mut opts = Options::default();
    let mut warnings = Vec::new();
    for pair in split_pairs(spec) {
        let (name, value) = match pair.split_once('=') {
            Some((n, v)) => (n.trim().to_string(), v.to_string()),
            None => (pair.trim().to_string(), String::new()),
        };
        let mut bad = |expected: &str| {
            warnings.push(format!(
                "bad value '{value}' for option '{name}' in MEMPROF (expected {expected}); using the default"
            ))
        };
        match name.as_str() {
            "file" => {
                if value.is_empty() {
                    bad("a file name")
                } else {
                    opts.file = value.clone()
                }
            }
            "addpid" => match flag(&value) {
                Some(b) => opts.addpid = b,
                None => bad("0 or 1"),
            },
            "sites" => match flag(&value) {
                Some(b) => opts.sites = b,
                None => bad("0 or 1"),
            },
            "start" => match value.as_str() {
                "begin" => opts.start = Start::Begin,
                "init" => opts.start = Start::Init,
                "no" | "none" => opts.start = Start::No,
                _ => bad("begin, init or no"),
            },
            "sigexit" => match signal_list(&value) {
                Some(list) => opts.sigexit = list,
                None => bad("0, 1 or a list of signal names such as INT,TERM"),
            },
            "trace" => match value.parse::<u64>() {
                Ok(n) => opts.trace = n,
                Err(_) => bad("a number of bytes"),
            },
            "native" => match value.as_str() {
                "all" => opts.native = Native::All,
                v => match flag(v) {
                    Some(true) => opts.native = Native::On,
                    Some(false) => opts.native = Native::Off,
                    None => bad("0, 1 or all"),
                },
            },
            "trace_file" => {
                if value.is_empty() {
                    bad("a file name")
                } else {
                    opts.trace_file = Some(value.clone())
                }
            }
            "dump_signal" => match signal_list(&value) {
                Some(mut list) if list.len() == 1 && flag(&value).is_none() => opts.dump_signal = list.pop(),
                Some(list) if list.is_empty() => opts.dump_signal = None,
                _ => bad("one signal name such as USR2, or 0"),
            },
            "snapshot" => match value.as_str() {
                "end" => opts.snapshot_end = true,
                v if flag(v) == Some(false) => opts.snapshot_end = false,
                _ => bad("end or 0"),
            },
            "sample" => match value.parse::<u64>() {
                Ok(n) => opts.sample = n,
                Err(_) => bad("a number of bytes, or 0 to track every allocation"),
            },
            _ => warnings
                .push(format!("unknown option '{name}' in MEMPROF (known options: {}); ignored", KNOWN.join(", "))),
        }
    }
    (opts, warnings)
}

impl Options {
    /// The options as name and value, for the profile's record of the run.
    #[allow(dead_code)] // the library's profile writer uses it; the binary doesn't
    pub fn pairs(&self) -> Vec<(String, String)> {
        let start = match self.start {
            Start::Begin => "begin",
            Start::Init => "init",
            Start::No => "no",
        };
        let mut out = vec![
            ("file".to_string(), self.file.clone()),
            ("addpid".to_string(), u8::from(self.addpid).to_string()),
            ("start".to_string(), start.to_string()),
            ("sigexit".to_string(), self.sigexit.join(",")),
            ("sites".to_string(), u8::from(self.sites).to_string()),
            ("trace".to_string(), self.trace.to_string()),
        ];
        let native = match self.native {
            Native::Off => None,
            Native::On => Some("1"),
            Native::All => Some("all"),
        };
        if let Some(n) = native {
            out.push(("native".to_string(), n.to_string()));
        }
        if let Some(f) = &self.trace_file {
            out.push(("trace_file".to_string(), f.clone()));
        }
        if let Some(sig) = &self.dump_signal {
            out.push(("dump_signal".to_string(), sig.clone()));
        }
        if self.sample > 0 {
            out.push(("sample".to_string(), self.sample.to_string()));
        }
        out.push(("snapshot".to_string(), if self.snapshot_end { "end" } else { "0" }.to_string()));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_escapes_and_defaults() {
        let (o, w) = parse("file=/tmp/a\\:b.out:addpid=1:start=init:sites=0");
        assert!(w.is_empty(), "{w:?}");
        assert_eq!(o.file, "/tmp/a:b.out");
        assert!(o.addpid);
        assert_eq!(o.start, Start::Init);
        assert!(!o.sites);
        assert_eq!(parse("").0, Options::default());
        assert_eq!(parse("file=a\\\\b").0.file, "a\\b");
        assert_eq!(parse("native=1").0.native, Native::On);
        assert_eq!(parse("native=all").0.native, Native::All);
        assert_eq!(parse("native=0").0.native, Native::Off);
        let (o, w) = parse("native=some");
        assert_eq!(o.native, Native::Off);
        assert_eq!(w, ["bad value 'some' for option 'native' in MEMPROF (expected 0, 1 or all); using the default"]);
    }

    #[test]
    fn sigexit_forms() {
        assert_eq!(parse("sigexit=1").0.sigexit, vec!["INT", "TERM", "HUP"]);
        assert_eq!(parse("sigexit=SIGUSR1,term").0.sigexit, vec!["USR1", "TERM"]);
        assert!(parse("sigexit=0").0.sigexit.is_empty());
    }

    #[test]
    fn dump_signal_and_sample() {
        assert_eq!(parse("dump_signal=USR2").0.dump_signal.as_deref(), Some("USR2"));
        assert_eq!(parse("dump_signal=sigusr1").0.dump_signal.as_deref(), Some("USR1"));
        assert_eq!(parse("dump_signal=0").0.dump_signal, None);
        let (o, w) = parse("dump_signal=USR1,USR2:sample=lots");
        assert_eq!((o.dump_signal, o.sample), (None, 0));
        assert_eq!(w.len(), 2, "{w:?}");
        assert_eq!(parse("sample=524288").0.sample, 524288);
    }

    #[test]
    fn snapshot_end() {
        assert!(parse("").0.snapshot_end, "on by default");
        assert!(parse("snapshot=end").0.snapshot_end);
        assert!(!parse("snapshot=0").0.snapshot_end);
        let (o, w) = parse("snapshot=start");
        assert!(o.snapshot_end);
        assert_eq!(w, ["bad value 'start' for option 'snapshot' in MEMPROF (expected end or 0); using the default"]);
    }

    #[test]
    fn unknown_names_and_bad_values_warn_and_keep_defaults() {
        let (o, w) = parse("colour=red:addpid=maybe:start=later:trace=lots");
        assert_eq!(o, Options::default());
        assert_eq!(
            w,
            vec![
                format!("unknown option 'colour' in MEMPROF (known options: {}); ignored", KNOWN.join(", ")),
                "bad value 'maybe' for option 'addpid' in MEMPROF (expected 0 or 1); using the default".to_string(),
                "bad value 'later' for option 'start' in MEMPROF (expected begin, init or no); using the default"
                    .to_string(),
                "bad value 'lots' for option 'trace' in MEMPROF (expected a number of bytes); using the default"
                    .to_string(),
            ]
        );
    }
}
