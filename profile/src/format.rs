//! The profile file on disk.
//!
//! ```text
//!  offset  size  field
//!  0       8     magic "MEMPROF\0"
//!  8       4     format version (little-endian u32)
//!  12      4     reserved, 0
//!  16      8     payload length in bytes (little-endian u64)
//!  24      4     CRC-32 of the payload (little-endian u32)
//!  28      n     payload: the Profile, encoded with postcard
//! ```
//!
//! The header lets the reader tell a foreign file, a profile from a newer
//! writer, a truncated file and a corrupted one apart before decoding, and
//! name the problem.  [`read`] checks the header, and its length against
//! the file's size, before reading the payload, and reads a pipe or device
//! no further than the header says (and at most [`MAX_STREAMED_PAYLOAD`]).
//! Decoding is bounded by the payload's size: postcard reads lengths from
//! the input and never allocates more than it holds.  [`Profile::validate`]
//! then checks every index, figure and time.

use super::Profile;
use std::fmt;
use std::io::Read;
use std::path::Path;

/// The version this code writes, and the newest it reads.  Version 2
/// added `RunInfo::forked` and `Profile::processes`; version 3 labels
/// (`Entry::label`, `Profile::labels`), dumps (`RunInfo::dump`) and sampling
/// (`RunInfo::sample_bytes`); version 4 heap snapshots
/// (`Profile::snapshots`); version 5 each snapshot's ledger
/// (`Snapshot::ledger`) and VmRSS and VmData over time
/// (`Profile::vm_timeline`).  Older payloads are decoded through the
/// layouts they had, in `format_old.rs`.
pub const FORMAT_VERSION: u32 = 5;
const MAGIC: &[u8; 8] = b"MEMPROF\0";
const HEADER_LEN: usize = 28;

/// Why a profile could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum ReadError {
    Io(String),
    Empty,
    NotAProfile,
    NewerVersion {
        found: u32,
    },
    Truncated {
        expected: u64,
        found: u64,
    },
    TrailingData {
        expected: u64,
        found: u64,
    },
    /// A pipe or device went on past the payload the header promised.
    MoreFollows {
        expected: u64,
    },
    /// A pipe or device whose header promises more than is read from one.
    TooLarge {
        expected: u64,
    },
    Corrupt(String),
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReadError::Io(e) => write!(f, "{e}"),
            ReadError::Empty => write!(f, "the file is empty"),
            ReadError::NotAProfile => write!(f, "not a Devel::MemProf profile"),
            ReadError::NewerVersion { found } => write!(
                f,
                "written in profile format version {found}, but this memprof reads versions up to {FORMAT_VERSION}; upgrade memprof"
            ),
            ReadError::Truncated { expected, found } => write!(
                f,
                "truncated: the header promises {expected} bytes of data but the file holds {found}"
            ),
            ReadError::TrailingData { expected, found } => write!(
                f,
                "corrupt: the header promises {expected} bytes of data but the file holds {found}"
            ),
            ReadError::MoreFollows { expected } => {
                write!(f, "corrupt: the header promises {expected} bytes of data but more follow")
            }
            ReadError::TooLarge { expected } => write!(
                f,
                "the header promises {expected} bytes of data, more than memprof reads from a file of unknown size ({MAX_STREAMED_PAYLOAD})"
            ),
            ReadError::Corrupt(why) => write!(f, "corrupt: {why}"),
        }
    }
}

/// Encode a profile as the bytes of a profile file.
pub fn encode(profile: &Profile) -> Result<Vec<u8>, String> {
    let mut out = std::io::Cursor::new(Vec::new());
    encode_to(profile, &mut out).map_err(|e| format!("encoding the profile: {e}"))?;
    Ok(out.into_inner())
}

/// The header of a profile file whose payload has `len` bytes with this CRC.
fn header(len: u64, crc: u32) -> [u8; HEADER_LEN] {
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(MAGIC);
    h[8..12].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
    h[16..24].copy_from_slice(&len.to_le_bytes());
    h[24..28].copy_from_slice(&crc.to_le_bytes());
    h
}

/// A writer that counts and checksums what passes through it.
struct Summing<W> {
    inner: W,
    crc: crc32fast::Hasher,
    len: u64,
}

impl<W: std::io::Write> std::io::Write for Summing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.len += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

const BUFFERED: usize = 1 << 16;

/// postcard's output, gathered here before it goes to the writer: postcard
/// hands over a field (a varint's byte or two) at a time, and a call into
/// a writer for each was most of the time the end of a run spent writing.
struct Buffered<'a, W: std::io::Write> {
    buf: Vec<u8>,
    out: &'a mut W,
    /// The write error, when there was one (postcard's own error has no room for it).
    failed: &'a mut Option<std::io::Error>,
}

impl<W: std::io::Write> Buffered<'_, W> {
    fn drain(&mut self) -> postcard::Result<()> {
        let r = put(self.out, self.failed, &self.buf);
        self.buf.clear();
        r
    }
}

fn put<W: std::io::Write>(out: &mut W, failed: &mut Option<std::io::Error>, data: &[u8]) -> postcard::Result<()> {
    out.write_all(data).map_err(|e| {
        *failed = Some(e);
        postcard::Error::SerializeBufferFull
    })
}

impl<W: std::io::Write> postcard::ser_flavors::Flavor for Buffered<'_, W> {
    type Output = ();

    #[inline]
    fn try_push(&mut self, data: u8) -> postcard::Result<()> {
        if self.buf.len() == BUFFERED {
            self.drain()?;
        }
        self.buf.push(data);
        Ok(())
    }

    #[inline]
    fn try_extend(&mut self, data: &[u8]) -> postcard::Result<()> {
        if self.buf.len() + data.len() > BUFFERED {
            self.drain()?;
            if data.len() > BUFFERED {
                // A long string (an eval's source): straight through.
                return put(self.out, self.failed, data);
            }
        }
        self.buf.extend_from_slice(data);
        Ok(())
    }

    fn finalize(mut self) -> postcard::Result<()> {
        self.drain()
    }
}

/// Write a profile file to `out`: the payload is streamed (a profiled
/// process holds no copy of it), then the header is filled in.
fn encode_to<W: std::io::Write + std::io::Seek>(profile: &Profile, out: &mut W) -> std::io::Result<()> {
    use std::io::SeekFrom;
    let start = out.stream_position()?;
    out.write_all(&[0u8; HEADER_LEN])?;
    let (len, crc) = {
        let mut sum = Summing { inner: &mut *out, crc: crc32fast::Hasher::new(), len: 0 };
        let mut failed = None;
        let flavor = Buffered { buf: Vec::with_capacity(BUFFERED), out: &mut sum, failed: &mut failed };
        if let Err(e) = postcard::serialize_with_flavor::<Profile, _, ()>(profile, flavor) {
            return Err(failed.unwrap_or_else(|| std::io::Error::other(e.to_string())));
        }
        (sum.len, sum.crc.finalize())
    };
    out.seek(SeekFrom::Start(start))?;
    out.write_all(&header(len, crc))?;
    out.seek(SeekFrom::Start(start + HEADER_LEN as u64 + len))?;
    Ok(())
}

/// The most a pipe, a device or any other file whose size is not known
/// beforehand may hold: what is read from it stays bounded (`/dev/zero`, a
/// FIFO that never ends) however big the header says the payload is.
pub const MAX_STREAMED_PAYLOAD: u64 = 1 << 30;

/// What the header says.
struct Header {
    version: u32,
    payload_len: u64,
    crc: u32,
}

/// Check the first bytes of a file: the magic, the version and that the
/// header is whole.  `bytes` may be longer than the header.
fn parse_header(bytes: &[u8]) -> Result<Header, ReadError> {
    if bytes.is_empty() {
        return Err(ReadError::Empty);
    }
    if bytes.len() < MAGIC.len() || &bytes[..MAGIC.len()] != MAGIC {
        return Err(ReadError::NotAProfile);
    }
    if bytes.len() < HEADER_LEN {
        return Err(ReadError::Truncated { expected: HEADER_LEN as u64, found: bytes.len() as u64 });
    }
    let word = |at: usize| u32::from_le_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    let version = word(8);
    if version > FORMAT_VERSION {
        return Err(ReadError::NewerVersion { found: version });
    }
    if version == 0 {
        return Err(ReadError::Corrupt("format version 0".into()));
    }
    let mut len_bytes = [0u8; 8];
    len_bytes.copy_from_slice(&bytes[16..24]);
    Ok(Header { version, payload_len: u64::from_le_bytes(len_bytes), crc: word(24) })
}

/// Check the payload's length and checksum, decode it and validate it.
fn decode_payload(header: &Header, payload: &[u8]) -> Result<Profile, ReadError> {
    let (expected, found) = (header.payload_len, payload.len() as u64);
    if found < expected {
        return Err(ReadError::Truncated { expected, found });
    }
    if found > expected {
        return Err(ReadError::TrailingData { expected, found });
    }
    if crc32fast::hash(payload) != header.crc {
        return Err(ReadError::Corrupt("the checksum does not match the data".into()));
    }
    let corrupt = |e: postcard::Error| ReadError::Corrupt(e.to_string());
    let profile: Profile = match header.version {
        1 => postcard::from_bytes::<crate::format_old::V1Profile>(payload).map_err(corrupt)?.into(),
        2 => postcard::from_bytes::<crate::format_old::V2Profile>(payload).map_err(corrupt)?.into(),
        3 => postcard::from_bytes::<crate::format_old::V3Profile>(payload).map_err(corrupt)?.into(),
        4 => postcard::from_bytes::<crate::format_old::V4Profile>(payload).map_err(corrupt)?.into(),
        _ => postcard::from_bytes(payload).map_err(corrupt)?,
    };
    profile.validate().map_err(ReadError::Corrupt)?;
    Ok(profile)
}

/// Decode the bytes of a profile file.
pub fn decode(bytes: &[u8]) -> Result<Profile, ReadError> {
    let header = parse_header(bytes)?;
    decode_payload(&header, &bytes[HEADER_LEN..])
}

/// Read into `buf` until it is full or the file ends; returns how much was read.
fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> Result<usize, ReadError> {
    let mut got = 0;
    while got < buf.len() {
        match file.read(&mut buf[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(ReadError::Io(io_message(&e))),
        }
    }
    Ok(got)
}

/// Read and decode a profile file.  The header is read and checked first,
/// and the payload length it gives against the file's size, so that a
/// foreign, truncated or padded file is refused without reading it all; a
/// file of unknown size (a pipe, a device) is read no further than the
/// header says, and at most [`MAX_STREAMED_PAYLOAD`] bytes.
pub fn read(path: &Path) -> Result<Profile, ReadError> {
    let io = |e: std::io::Error| ReadError::Io(io_message(&e));
    let mut file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if meta.is_dir() {
        return Err(ReadError::Io("is a directory".into()));
    }
    let mut head = [0u8; HEADER_LEN];
    let got = read_up_to(&mut file, &mut head)?;
    let header = parse_header(&head[..got])?;
    let expected = header.payload_len;
    if meta.is_file() {
        let found = meta.len().saturating_sub(HEADER_LEN as u64);
        if found < expected {
            return Err(ReadError::Truncated { expected, found });
        }
        if found > expected {
            return Err(ReadError::TrailingData { expected, found });
        }
    } else if expected > MAX_STREAMED_PAYLOAD {
        return Err(ReadError::TooLarge { expected });
    }
    // The size is checked (or bounded), so the buffer can be made once; a
    // stream's grows as data comes, in case it ends early.
    let capacity = if meta.is_file() { expected } else { expected.min(1 << 20) };
    let mut payload = Vec::with_capacity(usize::try_from(capacity).unwrap_or(0));
    (&mut file).take(expected).read_to_end(&mut payload).map_err(io)?;
    let found = payload.len() as u64;
    if found < expected {
        return Err(ReadError::Truncated { expected, found });
    }
    // One byte more than promised is enough to know the file is not this
    // profile (a stream may never end, so it is not read to its end).
    if read_up_to(&mut file, &mut [0u8; 1])? > 0 {
        return Err(if meta.is_file() {
            ReadError::TrailingData { expected, found: found.saturating_add(1) }
        } else {
            ReadError::MoreFollows { expected }
        });
    }
    decode_payload(&header, &payload)
}

fn io_message(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "no such file".into(),
        std::io::ErrorKind::PermissionDenied => "permission denied".into(),
        std::io::ErrorKind::IsADirectory => "is a directory".into(),
        _ => e.to_string(),
    }
}

/// Write a profile atomically: a new temporary file in the same directory
/// (created exclusively, so a symlink planted there is never followed),
/// then a rename over the destination.
pub fn write(path: &Path, profile: &Profile) -> Result<(), String> {
    use std::io::Write;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".memprof-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| format!("cannot create a temporary file in {}: {e}", dir.display()))?;
    encode_to(profile, tmp.as_file_mut())
        .and_then(|()| tmp.flush())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    tmp.persist(path).map_err(|e| format!("cannot rename the temporary file to {}: {}", path.display(), e.error))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Entry, Frame, FrameKind, Metrics, Node, SourceFile, NONE};

    fn sample() -> Profile {
        let mut p = Profile::default();
        p.run.script = "t.pl".into();
        p.files.push(SourceFile { name: "t.pl".into(), source: None, lines: vec![(3, "my $x;".into())] });
        p.frames.push(Frame { name: "main".into(), kind: FrameKind::Main, file: 0, line: 0 });
        p.nodes.push(Node { parent: NONE, frame: 0, call_file: NONE, call_line: 0 });
        let m = Metrics { alloc_bytes: 100, alloc_count: 1, ..Metrics::default() };
        p.entries.push(Entry { node: 0, file: 0, line: 3, label: NONE, metrics: m });
        p.totals = m;
        p
    }

    #[test]
    fn round_trip() {
        let p = sample();
        assert_eq!(decode(&encode(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn a_payload_beyond_the_buffer_is_the_same_as_postcard_makes_it() {
        // Many small fields across the buffer's edge, and a string longer
        // than the buffer (an eval's source).
        let mut p = sample();
        let e = p.entries[0];
        p.entries.extend((0..20_000u32).map(|i| Entry { line: i, ..e }));
        p.files[0].source = Some("x".repeat(3 * BUFFERED / 2));
        let bytes = encode(&p).unwrap();
        assert_eq!(&bytes[HEADER_LEN..], &postcard::to_stdvec(&p).unwrap()[..]);
        assert_eq!(decode(&bytes).unwrap(), p);
    }

    /// A disk that fills after `room` bytes.
    struct Filling {
        inner: std::io::Cursor<Vec<u8>>,
        room: usize,
    }

    impl std::io::Write for Filling {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            if buf.len() > self.room {
                return Err(std::io::Error::new(std::io::ErrorKind::StorageFull, "no space left on device"));
            }
            self.room -= buf.len();
            self.inner.write(buf)
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl std::io::Seek for Filling {
        fn seek(&mut self, pos: std::io::SeekFrom) -> std::io::Result<u64> {
            self.inner.seek(pos)
        }
    }

    #[test]
    fn a_write_error_is_reported_as_itself() {
        let mut p = sample();
        p.files[0].source = Some("x".repeat(3 * BUFFERED));
        for room in [HEADER_LEN + 10, HEADER_LEN + BUFFERED + 10] {
            let mut disk = Filling { inner: std::io::Cursor::new(Vec::new()), room };
            let e = encode_to(&p, &mut disk).unwrap_err();
            assert_eq!(e.to_string(), "no space left on device");
        }
    }

    #[test]
    fn each_kind_of_damage_is_named() {
        let bytes = encode(&sample()).unwrap();
        assert_eq!(decode(&[]), Err(ReadError::Empty));
        assert_eq!(decode(b"#!/usr/bin/perl\n"), Err(ReadError::NotAProfile));
        let cut = &bytes[..bytes.len() - 3];
        assert_eq!(
            decode(cut),
            Err(ReadError::Truncated {
                expected: (bytes.len() - HEADER_LEN) as u64,
                found: (cut.len() - HEADER_LEN) as u64
            })
        );
        let mut newer = bytes.clone();
        newer[8] = 9;
        assert_eq!(decode(&newer), Err(ReadError::NewerVersion { found: 9 }));
        assert!(ReadError::NewerVersion { found: 9 }.to_string().contains("version 9"));
        assert!(ReadError::NewerVersion { found: 9 }.to_string().contains(&format!("up to {FORMAT_VERSION}")));
        let mut flipped = bytes.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 0x55;
        assert_eq!(decode(&flipped), Err(ReadError::Corrupt("the checksum does not match the data".into())));
    }

    #[test]
    fn bad_indices_are_refused_not_followed() {
        let mut p = sample();
        p.entries[0].node = 7;
        let err = decode(&encode(&p).unwrap()).unwrap_err();
        assert_eq!(err, ReadError::Corrupt("entry 0 names node 7 of 1".into()));
        let mut p = sample();
        p.nodes.push(Node { parent: 1, frame: 0, call_file: NONE, call_line: 0 });
        assert!(decode(&encode(&p).unwrap()).is_err());
    }

    #[test]
    fn written_atomically_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("memprof.out");
        write(&path, &sample()).unwrap();
        assert_eq!(read(&path).unwrap(), sample());
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        assert_eq!(read(&dir.path().join("missing")), Err(ReadError::Io("no such file".into())));
    }

    /// A header around any payload, with a correct checksum, so that the
    /// decoder itself sees the bytes.
    fn framed(payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes());
        out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// A committed profile in t/golden.  The crate's directory as cargo
    /// gives it when the test runs, not when it was built: t/70-install.t
    /// builds this crate from a copy of the checkout in a temporary
    /// directory, and cargo may run that build's binary again later.
    fn golden(name: &str) -> std::path::PathBuf {
        let dir = std::env::var_os("CARGO_MANIFEST_DIR")
            .map_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf(), std::path::PathBuf::from);
        dir.join("../t/golden").join(name)
    }

    #[test]
    fn a_version_1_file_is_read_into_the_new_model() {
        // The golden profile was written by format version 1.
        let path = golden("demo.out");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[8], 1, "the golden profile is a version 1 file");
        let p = decode(&bytes).unwrap();
        assert!(p.run.script.ends_with("demo.pl"), "{}", p.run.script);
        assert!(!p.entries.is_empty() && !p.timeline.is_empty());
        assert!(!p.run.forked && p.processes.is_empty());
        // Written again, it is a file of today's version that reads back the same.
        let again = encode(&p).unwrap();
        assert_eq!(u32::from(again[8]), FORMAT_VERSION);
        assert_eq!(decode(&again).unwrap(), p);
    }

    #[test]
    fn a_version_2_file_is_read_into_the_new_model() {
        // Written by format version 2 (t/61-run-signals.t's first script).
        let path = golden("format-v2.out");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[8], 2, "a version 2 file");
        let p = decode(&bytes).unwrap();
        assert!(p.run.script.ends_with("h.pl"), "{}", p.run.script);
        assert!(p.run.site_tracking && p.run.dump == 0 && p.run.sample_bytes == 0);
        assert!(p.labels.is_empty() && p.entries.iter().all(|e| e.label == crate::NONE));
        let held = p.entries.iter().filter(|e| e.line == 4).map(|e| e.metrics.alloc_bytes).sum::<u64>();
        assert!(held >= 2_000_000, "the push line allocated {held}");
        assert_eq!(decode(&encode(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn a_version_3_file_is_read_into_the_new_model() {
        // Written by format version 3 (t/64-labels.t's first script).
        let path = golden("format-v3.out");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[8], 3, "a version 3 file");
        let p = decode(&bytes).unwrap();
        assert!(!p.labels.is_empty(), "version 3 wrote labels");
        assert!(p.snapshots.is_empty());
        assert_eq!(decode(&encode(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn a_version_4_file_is_read_into_the_new_model() {
        // Written by format version 4: a script with a snapshot labelled
        // "built" and the one at the end.
        let path = golden("format-v4.out");
        let bytes = std::fs::read(&path).unwrap();
        assert_eq!(bytes[8], 4, "a version 4 file");
        let p = decode(&bytes).unwrap();
        assert_eq!(p.snapshots.iter().map(|s| s.label.as_str()).collect::<Vec<_>>(), ["built", "end"]);
        assert!(p.snapshots.iter().all(|s| s.ledger.is_none() && !s.paths.is_empty()));
        assert_eq!(decode(&encode(&p).unwrap()).unwrap(), p);
    }

    #[test]
    fn huge_lengths_do_not_allocate() {
        // The run info's first string claims 2^62 bytes.
        let mut payload = vec![0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40];
        payload.extend_from_slice(b"short");
        assert!(matches!(decode(&framed(&payload)), Err(ReadError::Corrupt(_))));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(3000))]

        /// The fuzz target: arbitrary bytes never panic, hang or allocate
        /// without bound; they are a profile or a named error.
        #[test]
        fn arbitrary_bytes_are_refused_cleanly(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let _ = decode(&bytes);
            let _ = decode(&framed(&bytes));
        }

        /// Valid profiles with bytes changed (and the checksum fixed, so the
        /// decoder and the index checks see them).
        #[test]
        fn damaged_profiles_are_refused_cleanly(flips in proptest::collection::vec((0usize..4096, proptest::prelude::any::<u8>()), 1..8), cut in 0usize..4096) {
            let good = encode(&crate::fixtures::recursive_profile()).unwrap();
            let mut payload = good[HEADER_LEN..].to_vec();
            for (at, byte) in flips {
                let n = payload.len();
                payload[at % n] = byte;
            }
            payload.truncate(payload.len() - cut % payload.len());
            if let Ok(p) = decode(&framed(&payload)) {
                // Whatever decodes has every index in range.
                proptest::prop_assert_eq!(p.validate(), Ok(()));
            }
        }
    }
}
