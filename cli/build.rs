//! `memprof run` starts the perl that the library beside it was built
//! for (the recorder's build script asks the same `$PERL`, else `perl`):
//! remember its path.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=PERL");
    let perl = std::env::var("PERL").unwrap_or_else(|_| "perl".to_string());
    let out = Command::new(&perl)
        .args(["-e", "print $^X"])
        .output()
        .unwrap_or_else(|e| panic!("cannot run perl ({perl}): {e}; set PERL to the perl to build for"));
    let exe = String::from_utf8(out.stdout).unwrap_or_default();
    if !out.status.success() || exe.is_empty() {
        panic!("{perl} could not say where it is:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    println!("cargo:rustc-env=MEMPROF_BUILD_PERL={exe}");
}
