//! The lines of source text a profile keeps: only those its entries,
//! call sites and frames name.

/// The texts of the `wanted` lines of `bytes` (1-based, sorted, without
/// duplicates; those past the end are left out), and how many lines it
/// has.  Lines are what `str::lines` makes of the text read as UTF-8 with
/// invalid bytes replaced, but only the wanted lines are decoded: the
/// sources of a large program are megabytes, read at the end of its run.
pub fn line_texts(bytes: &[u8], wanted: &[u32]) -> (Vec<(u32, String)>, u32) {
    let mut out = Vec::with_capacity(wanted.len());
    let mut want = wanted.iter().copied().peekable();
    let mut count = 0u32;
    let mut start = 0usize;
    let mut newlines = memchr::memchr_iter(b'\n', bytes);
    while start < bytes.len() {
        // The line and its end, with "\r\n" or "\n" taken off as str::lines does.
        let (line, next) = match newlines.next() {
            Some(nl) => {
                let line = &bytes[start..nl];
                (line.strip_suffix(b"\r").unwrap_or(line), nl + 1)
            }
            None => (&bytes[start..], bytes.len()),
        };
        count += 1;
        while want.next_if(|&n| n < count).is_some() {}
        if want.next_if_eq(&count).is_some() {
            out.push((count, String::from_utf8_lossy(line).into_owned()));
        }
        start = next;
    }
    (out, count)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What line_texts replaced: the whole text decoded, then split.
    fn by_whole_text(bytes: &[u8], wanted: &[u32]) -> (Vec<(u32, String)>, u32) {
        let text = String::from_utf8_lossy(bytes);
        let all: Vec<&str> = text.lines().collect();
        let lines = wanted.iter().filter_map(|&n| all.get(n as usize - 1).map(|t| (n, t.to_string()))).collect();
        (lines, all.len() as u32)
    }

    #[test]
    fn lines_as_perl_numbers_them() {
        let text = b"my $x = 1;\r\nmy $y = \"\xe2\x82\";\n\nprint $x\r";
        let (lines, count) = line_texts(text, &[1, 2, 3, 4, 9]);
        assert_eq!(count, 4);
        assert_eq!(
            lines,
            vec![
                (1, "my $x = 1;".to_string()),
                (2, "my $y = \"\u{fffd}\";".to_string()),
                (3, String::new()),
                (4, "print $x\r".to_string()),
            ]
        );
        assert_eq!(line_texts(b"", &[1]), (vec![], 0));
        assert_eq!(line_texts(b"\n", &[1]), (vec![(1, String::new())], 1));
    }

    proptest::proptest! {
        #[test]
        fn the_same_lines_as_the_whole_text_split(
            bytes in proptest::collection::vec(proptest::sample::select(vec![b'a', b'\n', b'\r', 0xe2, 0x82, 0xac, 0xff, b' ']), 0..80),
            wanted in proptest::collection::btree_set(1u32..30, 0..12),
        ) {
            let wanted: Vec<u32> = wanted.into_iter().collect();
            proptest::prop_assert_eq!(line_texts(&bytes, &wanted), by_whole_text(&bytes, &wanted));
        }
    }
}
