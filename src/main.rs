//! `memprof`: runs Perl programs under Devel::MemProf and renders the
//! profiles they leave.  See `memprof --help`.

mod analysis;
mod cli;
mod options;
mod profile;
mod render;

fn main() {
    std::process::exit(cli::main());
}
