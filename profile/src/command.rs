//! Reading perl's command line: the program of a one-liner.

/// Switches whose value is the rest of their argument (`-F/[eE]/`,
/// `-i.bak`, `-Mstrict`...): nothing after them in the same argument is a
/// switch.  `-I`, `-M` and `-m` take the next argument when the rest is
/// empty.  perl.c: Perl_moreswitches.
fn takes_rest(c: char) -> bool {
    matches!(c, 'F' | 'i' | 'x' | 'd' | 'D' | 'C' | 'V' | 'I' | 'M' | 'm')
}

/// Switches followed by optional digits, then more switches: `-l`, `-0`
/// (octal, or `-0xHEX`).
fn takes_digits(c: char) -> bool {
    matches!(c, 'l' | '0')
}

/// The program given with -e/-E, as perl assembles it: one line per -e.
/// `argv[0]` is perl itself.
pub fn one_liner_source(argv: &[String]) -> String {
    let mut lines = Vec::new();
    let mut args = argv.iter().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--" || !arg.starts_with('-') || arg == "-" {
            break;
        }
        let flags = &arg[1..];
        let mut chars = flags.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            let rest = &flags[i + c.len_utf8()..];
            if c == 'e' || c == 'E' {
                if rest.is_empty() {
                    if let Some(code) = args.next() {
                        lines.push(code.clone());
                    }
                } else {
                    lines.push(rest.to_string());
                }
                break;
            }
            if takes_rest(c) {
                if rest.is_empty() && matches!(c, 'I' | 'M' | 'm') {
                    args.next();
                }
                break;
            }
            if takes_digits(c) {
                if c == '0' && rest.starts_with(['x', 'X']) {
                    chars.next();
                    while chars.next_if(|(_, d)| d.is_ascii_hexdigit()).is_some() {}
                } else {
                    while chars.next_if(|(_, d)| d.is_digit(8)).is_some() {}
                }
            }
        }
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::one_liner_source;

    fn source(args: &[&str]) -> String {
        let argv: Vec<String> = std::iter::once("perl").chain(args.iter().copied()).map(String::from).collect();
        one_liner_source(&argv)
    }

    #[test]
    fn every_e_is_a_line() {
        assert_eq!(source(&["-e", "print 1;", "-E", "say 2"]), "print 1;\nsay 2");
        assert_eq!(source(&["-le", "print 1"]), "print 1");
        assert_eq!(source(&["-eprint 1"]), "print 1");
        assert_eq!(source(&["-wle", "print 1", "--", "-e", "not code"]), "print 1");
    }

    #[test]
    fn a_switch_value_holding_an_e_is_not_code() {
        assert_eq!(source(&["-F/[eE]/", "-lane", "print $F[0]"]), "print $F[0]");
        assert_eq!(source(&["-i.bake", "-pe", "s/a/b/"]), "s/a/b/");
        assert_eq!(source(&["-Mfeature=say", "-e", "say 1"]), "say 1");
        assert_eq!(source(&["-M", "strict", "-e", "1"]), "1");
        assert_eq!(source(&["-I", "-e", "-e", "2"]), "2");
        assert_eq!(source(&["-d:MemProf", "-e", "3"]), "3");
    }

    #[test]
    fn digits_after_l_and_0_are_skipped() {
        assert_eq!(source(&["-l012e", "print 1"]), "print 1");
        assert_eq!(source(&["-0777ne", "print"]), "print");
        // As perl reads it: hex digits run on as far as they go.
        assert_eq!(source(&["-0x1Fne", "1"]), "1");
    }

    #[test]
    fn a_script_ends_the_switches() {
        assert_eq!(source(&["script.pl", "-e", "x"]), "");
        assert_eq!(source(&["-", "-e", "x"]), "");
    }
}
