//! `memprof`: runs Perl programs under Devel::MemProf and renders the
//! profiles they leave.  See `memprof --help`.

mod analysis;
mod commands;
mod render;

#[cfg(test)]
mod damage_tests;

fn main() {
    std::process::exit(commands::main());
}
