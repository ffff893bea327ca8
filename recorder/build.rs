//! Builds the C glue and generates Rust bindings to Perl's headers, both
//! against the perl that will load the library: `$PERL`, else `perl` in
//! PATH.  Struct layouts differ between threaded and unthreaded builds and
//! between versions, so nothing here is kept by hand.  libperl is never
//! linked: its symbols come from the process that loads us.

use std::env;
use std::path::PathBuf;
use std::process::Command;

/// What the target perl says about itself.
struct PerlConfig {
    ccopts: Vec<String>,
    multiplicity: bool,
}

fn perl_config(perl: &str) -> PerlConfig {
    // ExtUtils::Embed::ccopts is $Config{ccflags} plus the CORE directory.
    let script = r#"use Config;
        print join("\n", "$Config{ccflags} -I$Config{archlibexp}/CORE",
                   ($Config{usemultiplicity} // '') eq 'define' ? 1 : 0), "\n";"#;
    let out = Command::new(perl)
        .args(["-e", script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run perl ({perl}): {e}; set PERL to the perl to build for"));
    if !out.status.success() {
        panic!("{perl} could not report its configuration:\n{}", String::from_utf8_lossy(&out.stderr));
    }
    let text = String::from_utf8(out.stdout).expect("perl's configuration is not UTF-8");
    let mut lines = text.lines();
    let mut next = |what: &str| lines.next().unwrap_or_else(|| panic!("perl did not report {what}")).to_string();
    let ccopts = next("ccopts").split_whitespace().map(String::from).collect();
    let multiplicity = next("usemultiplicity") == "1";
    PerlConfig { ccopts, multiplicity }
}

/// Parts of perl's internals that some supported perls lack: (rustc cfg,
/// C define, what the generated bindings contain when the target perl has it).
const FEATURES: [(&str, &str, &[&str]); 5] = [
    // cop.h, 5.32 on: the stackinfo's si_cxsubix (its innermost sub, format
    // or eval context) and each such context's old_cxsubix.  Without them
    // the context stack is searched, as pp_ctl.c's dopoptosub_at does.
    ("perl_cxsubix", "MEMPROF_HAVE_CXSUBIX", &["pub si_cxsubix:", "pub old_cxsubix:"]),
    // cop.h, 5.34 on: CXp_EVALBLOCK for eval {} (before: CXp_TRYBLOCK, the
    // same bit), and CXp_TRY for try/catch, which earlier perls don't have.
    ("perl_cxp_evalblock", "MEMPROF_HAVE_CXP_EVALBLOCK", &["pub const CXp_EVALBLOCK:"]),
    ("perl_cxp_try", "MEMPROF_HAVE_CXP_TRY", &["pub const CXp_TRY:"]),
    // hv.h, 5.38 on: a hash's SVphv_HasAUX flag (HvHasAUX) says it has an
    // aux struct; before, SvOOK did (the heap walker, heap.c).  Where the
    // struct is, perl's HvAUX knows.
    ("perl_hv_has_aux", "MEMPROF_HAVE_HV_HAS_AUX", &["pub const SVphv_HasAUX:"]),
    // hv.h, 5.36 on: a hash with an aux struct has it in a body of its
    // own size (xpvhv_with_aux); before, it followed the bucket array.
    ("perl_hv_with_aux", "MEMPROF_HAVE_HV_WITH_AUX", &["pub struct xpvhv_with_aux"]),
];

fn main() {
    let perl = env::var("PERL").unwrap_or_else(|_| "perl".to_string());
    println!("cargo:rerun-if-env-changed=PERL");
    println!("cargo:rerun-if-changed=build.rs");
    let cfg = perl_config(&perl);
    // The C glue sits at the top of the repository, beside lib/ and t/.
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let glue_dir = manifest.join("../perl-glue");
    let glue_path = |file: &str| glue_dir.join(file).to_string_lossy().into_owned();

    println!("cargo:rerun-if-changed={}", glue_dir.display());
    let bindings = bindgen::Builder::default()
        .header(glue_path("bindings.h"))
        .clang_args(&cfg.ccopts)
        .clang_arg(format!("-I{}", glue_dir.display()))
        .allowlist_function("memprof_.*")
        .allowlist_type("memprof_.*|stackinfo|context|cop|xpvhv_with_aux")
        .allowlist_var("CXt_.*|CXp_.*|CXTYPEMASK|MEMPROF_.*|SVphv_HasAUX")
        .allowlist_type("opcode|perl_phase")
        .layout_tests(false)
        .derive_debug(false)
        .derive_default(true)
        .generate_comments(false)
        .parse_callbacks(Box::new(bindgen::CargoCallbacks::new()))
        .generate()
        .expect("bindgen could not generate bindings to perl's headers");
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    bindings.write_to_file(out.join("perl_bindings.rs")).expect("writing perl_bindings.rs");

    // What the target perl's headers define decides the code, not its
    // version number: the generated bindings say which fields and flags
    // exist.  The C glue is compiled afterwards with the same answers.
    let text = bindings.to_string();
    if !text.contains("pub const CXp_EVALBLOCK:") && !text.contains("pub const CXp_TRYBLOCK:") {
        panic!("perl's headers ({perl}) define neither CXp_EVALBLOCK nor CXp_TRYBLOCK: not a supported perl");
    }
    // alloc/ holds the allocation hooks, which include no perl header.
    let glue = [
        "runloop.c",
        "alloc/alloc_hooks.c",
        "alloc/sites.c",
        "alloc/native.c",
        "accessors.c",
        "xs.c",
        "heap.c",
        "heap_core.c",
        "ledger.c",
    ];
    let mut build = cc::Build::new();
    build
        .include(&glue_dir)
        .opt_level(2)
        .warnings(true)
        .extra_warnings(false)
        .flag("-Werror=implicit-function-declaration");
    for flag in &cfg.ccopts {
        build.flag(flag);
    }
    for file in glue {
        build.file(glue_path(file));
    }
    for (cfg, define, needles) in FEATURES {
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if needles.iter().all(|needle| text.contains(needle)) {
            println!("cargo:rustc-cfg={cfg}");
            build.define(define, None);
        }
    }
    // glibc 2.33 on: mallinfo2, whose fields do not wrap at 2 GiB.  Asked
    // of the C library's headers, not its version.
    if has_mallinfo2() {
        build.define("MEMPROF_HAVE_MALLINFO2", None);
    }
    build.compile("memprof_glue");

    println!("cargo::rustc-check-cfg=cfg(perl_multiplicity)");
    if cfg.multiplicity {
        println!("cargo:rustc-cfg=perl_multiplicity");
    }
}

/// Whether the C library declares mallinfo2 (a probe compiled, not linked).
fn has_mallinfo2() -> bool {
    let out = PathBuf::from(env::var("OUT_DIR").expect("OUT_DIR"));
    let probe = out.join("probe_mallinfo2.c");
    let code =
        "#include <malloc.h>\nsize_t memprof_probe(void) { struct mallinfo2 m = mallinfo2(); return m.arena; }\n";
    if std::fs::write(&probe, code).is_err() {
        return false;
    }
    cc::Build::new()
        .file(&probe)
        .flag("-Werror=implicit-function-declaration")
        .cargo_metadata(false)
        .try_compile("memprof_probe")
        .is_ok()
}
