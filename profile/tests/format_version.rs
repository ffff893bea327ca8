//! A profile written in today's format version still reads.
//!
//! t/golden/demo.out was written once, in format version 1, by the
//! recorder (see t/33-golden.t) and is never regenerated.  If a change to
//! the model or the format makes it unreadable, this fails: either keep
//! reading version 1, or bump FORMAT_VERSION and make this test assert
//! the refusal that names the version (a deliberate change either way).

use memprof_profile::format;

const GOLDEN: &[u8] = include_bytes!("../../t/golden/demo.out");

#[test]
fn the_committed_version_1_profile_reads() {
    assert_eq!(&GOLDEN[..8], b"MEMPROF\0");
    assert_eq!(u32::from_le_bytes([GOLDEN[8], GOLDEN[9], GOLDEN[10], GOLDEN[11]]), 1, "written in version 1");
    let p = format::decode(GOLDEN).expect("a version 1 profile still reads");
    assert_eq!(p.run.script, "demo.pl");
    assert!(p.run.site_tracking);
    assert_eq!(p.totals.alloc_bytes, 976_344);
    assert_eq!(p.totals.free_bytes, 594_896);
    assert_eq!(p.entries.len(), 23);
    assert_eq!(p.marks.iter().map(|m| m.label.as_str()).collect::<Vec<_>>(), ["built"]);
    assert!(p.frames.iter().any(|f| f.name == "main::nest"));
    // And it survives a round trip through today's writer unchanged.
    assert_eq!(format::decode(&format::encode(&p).unwrap()), Ok(p));
}
