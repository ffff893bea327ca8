//! The words every renderer shares: how a place, a line's source and a
//! frame are written, and how text goes into a Markdown table cell.  One
//! definition each, so that the report, the diff, the HTML pages and the
//! timeline say the same thing the same way.

use memprof_profile::{FrameKind, Profile};

/// How a frame is introduced in a sentence: "sub main::foo", "file Moose.pm".
pub fn frame_phrase(kind: FrameKind, name: &str) -> String {
    match kind {
        FrameKind::Sub | FrameKind::AnonSub => format!("sub {name}"),
        FrameKind::Block => format!("block {name}"),
        FrameKind::Format => name.to_string(),
        FrameKind::Eval => format!("string eval {name}"),
        FrameKind::Require => format!("file {name}"),
        FrameKind::Compile => name.replacen("compile ", "the compilation of ", 1),
        FrameKind::Main => "the main program".into(),
        FrameKind::Pseudo | FrameKind::Thread => name.to_string(),
        FrameKind::Native => format!("C function {}", name.trim_start_matches("[C] ")),
    }
}

/// Where a line is, for people: "t.pl:12", "t.pl (compiling)", or the
/// pseudo-location's name.
pub fn place(p: &Profile, file: u32, line: u32) -> String {
    let name = p.file_name(file);
    if line == 0 {
        if name.starts_with('(') && !name.starts_with("(eval") {
            return name.to_string();
        }
        return format!("{name} (compiling)");
    }
    format!("{name}:{line}")
}

/// The saved text of a line, trimmed and shortened.
pub fn source_text(p: &Profile, file: u32, line: u32, width: usize) -> String {
    let Some(f) = p.files.get(file as usize) else {
        return String::new();
    };
    let Some(text) = f.line_text(line) else {
        return String::new();
    };
    let text = text.trim();
    if text.chars().count() > width {
        let cut: String = text.chars().take(width.saturating_sub(1)).collect();
        format!("{cut}…")
    } else {
        text.to_string()
    }
}

/// Text made safe for a Markdown table cell: no pipe may end the cell and
/// no newline the row.
pub fn md_cell(s: &str) -> String {
    s.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text as inline code in a Markdown cell (a backtick would end it).
pub fn md_code(s: &str) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!("`{}`", md_cell(s).replace('`', "'"))
    }
}

/// When the retained figures were measured: "at exit", or for a dump
/// written while the program ran on, "when dump 2 was written".
pub fn retained_moment(p: &Profile) -> String {
    match p.run.dump {
        0 => "at exit".into(),
        n => format!("when dump {n} was written"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_cannot_break_the_table() {
        assert_eq!(md_cell("a|b\nc"), "a\\|b c");
        assert_eq!(md_code("print `x` | y"), "`print 'x' \\| y`");
        assert_eq!(md_code(""), "");
    }
}
