//! Reading is bounded: the header is checked before the payload is read,
//! a pipe is read no further than the header says, and whatever decodes
//! has every index, figure and time in range (issue 11, item 7).

use memprof_profile::fixtures::recursive_profile;
use memprof_profile::format::{self, ReadError, MAX_STREAMED_PAYLOAD};
use memprof_profile::{Mark, Sample, MAX_FIGURE, MAX_SECONDS, NONE};
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// A header (format version 1, the given payload length and checksum) and payload.
fn framed(payload_len: u64, payload: &[u8]) -> Vec<u8> {
    let mut out = b"MEMPROF\0".to_vec();
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&payload_len.to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

/// A FIFO in a new directory, fed by a thread with `bytes` and then, if
/// `forever`, zeros until the reader goes away.
fn fifo_with(dir: &Path, bytes: Vec<u8>, forever: bool) -> std::path::PathBuf {
    let path = dir.join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&path).status().expect("mkfifo runs");
    assert!(made.success(), "mkfifo {}", path.display());
    let writer_path = path.clone();
    std::thread::spawn(move || {
        let Ok(mut w) = std::fs::OpenOptions::new().write(true).open(&writer_path) else { return };
        if w.write_all(&bytes).is_err() {
            return;
        }
        let zeros = vec![0u8; 1 << 16];
        while forever && w.write_all(&zeros).is_ok() {}
    });
    path
}

#[test]
fn dev_zero_is_refused_at_the_magic() {
    let started = Instant::now();
    assert_eq!(format::read(Path::new("/dev/zero")), Err(ReadError::NotAProfile));
    assert!(started.elapsed() < Duration::from_secs(1));
}

#[test]
fn a_huge_promise_in_a_small_file_is_refused_unread() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("p.out");
    std::fs::write(&path, framed(1 << 62, b"short")).unwrap();
    assert_eq!(format::read(&path), Err(ReadError::Truncated { expected: 1 << 62, found: 5 }));
    std::fs::write(&path, framed(2, b"long")).unwrap();
    assert_eq!(format::read(&path), Err(ReadError::TrailingData { expected: 2, found: 4 }));
}

#[test]
fn a_profile_reads_from_a_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let p = recursive_profile();
    let path = fifo_with(dir.path(), format::encode(&p).unwrap(), false);
    assert_eq!(format::read(&path), Ok(p));
}

#[test]
fn a_pipe_that_goes_on_is_refused_after_the_payload() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = format::encode(&recursive_profile()).unwrap();
    let expected = (bytes.len() - 28) as u64;
    let path = fifo_with(dir.path(), bytes, true);
    assert_eq!(format::read(&path), Err(ReadError::MoreFollows { expected }));
    assert!(ReadError::MoreFollows { expected }.to_string().contains("more follow"));
}

#[test]
fn a_pipe_promising_too_much_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let path = fifo_with(dir.path(), framed(MAX_STREAMED_PAYLOAD + 1, b""), true);
    assert_eq!(format::read(&path), Err(ReadError::TooLarge { expected: MAX_STREAMED_PAYLOAD + 1 }));
    let path2 = dir.path().join("short");
    std::fs::write(&path2, b"MEMPROF\0\x01").unwrap();
    assert_eq!(format::read(&path2), Err(ReadError::Truncated { expected: 28, found: 9 }));
}

fn refused(p: &memprof_profile::Profile) -> String {
    match format::decode(&format::encode(p).unwrap()) {
        Err(ReadError::Corrupt(why)) => why,
        other => panic!("expected a corrupt profile, got {other:?}"),
    }
}

#[test]
fn an_entry_without_a_file_is_refused() {
    let mut p = recursive_profile();
    p.entries[1].file = NONE;
    assert_eq!(refused(&p), "entry 1 names no file");
    let mut p = recursive_profile();
    p.nodes[2].call_file = NONE;
    assert_eq!(refused(&p), "node 2 has a caller but no call file");
    // A root's call site and a frame's file may be NONE.
    let mut p = recursive_profile();
    p.frames[1].file = NONE;
    assert_eq!(p.validate(), Ok(()));
}

#[test]
fn times_must_be_finite_and_in_range() {
    let sample = |time| Sample { time, live_bytes: 0, entry: NONE };
    for (t, why) in [
        (f64::INFINITY, "the time of timeline sample 0 is inf, not a number of seconds"),
        (f64::NAN, "the time of timeline sample 0 is NaN, not a number of seconds"),
        (-1.0, "the time of timeline sample 0 is negative (-1 s)"),
        (MAX_SECONDS * 2.0, "the time of timeline sample 0 is 200000000000 s, more than 100000000000 s"),
    ] {
        let mut p = recursive_profile();
        p.timeline.push(sample(t));
        assert_eq!(refused(&p), why);
    }
    let mut p = recursive_profile();
    p.marks.push(Mark { time: f64::NEG_INFINITY, live_bytes: 0, label: "x".into() });
    assert_eq!(refused(&p), "the time of mark 0 is -inf, not a number of seconds");
    let mut p = recursive_profile();
    p.run.end_time = f64::INFINITY;
    assert_eq!(refused(&p), "the end time is inf, not a number of seconds");
    let mut p = recursive_profile();
    p.timeline.push(sample(MAX_SECONDS));
    assert_eq!(p.validate(), Ok(()), "the bound itself is allowed");
}

#[test]
fn figures_and_their_sums_are_bounded() {
    let mut p = recursive_profile();
    p.entries[0].metrics.free_bytes = MAX_FIGURE + 1;
    assert_eq!(refused(&p), format!("entry 0 has free_bytes of magnitude {}, more than {MAX_FIGURE}", MAX_FIGURE + 1));
    let mut p = recursive_profile();
    p.entries[0].metrics.sv_delta = i64::MIN;
    assert!(refused(&p).starts_with("entry 0 has sv_delta of magnitude 9223372036854775808"));
    // Each in range, but the sum (with entry 2's one byte) is not: renderers add them up.
    let mut p = recursive_profile();
    p.entries[0].metrics.alloc_bytes = MAX_FIGURE;
    p.entries[1].metrics.alloc_bytes = MAX_FIGURE;
    assert_eq!(
        refused(&p),
        format!("the entries' alloc_bytes add up to {}, more than {MAX_FIGURE}", 2 * MAX_FIGURE + 1)
    );
    let mut p = recursive_profile();
    p.peak.bytes = i64::MAX;
    assert_eq!(refused(&p), format!("the peak's size is {}, more than {MAX_FIGURE} in magnitude", i64::MAX));
}

#[test]
fn saved_lines_must_be_in_order() {
    let mut p = recursive_profile();
    p.files[0].lines.swap(0, 1);
    assert_eq!(refused(&p), "file 0's saved lines are out of order (line 2 before line 1)");
}

#[test]
fn merging_saturates_instead_of_overflowing() {
    let mut p = recursive_profile();
    p.totals.alloc_bytes = u64::MAX - 1;
    p.peak.bytes = i64::MAX - 1;
    let merged = memprof_profile::merge::merge(&[p.clone(), p]);
    assert_eq!(merged.totals.alloc_bytes, u64::MAX);
    assert_eq!(merged.peak.bytes, i64::MAX);
    assert!(merged.validate().is_err(), "and the result is refused");
}
