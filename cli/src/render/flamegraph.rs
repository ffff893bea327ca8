//! Memory flame graphs, drawn by inferno from the folded stacks.
//!
//! Tooltips and the status line show sizes as people read them
//! ("1.00 MiB, 1,048,576 bytes"), the title names the script and the
//! metric, and the subtitle the total (and, for net growth, what was freed
//! by stacks that shrank, since those cannot be drawn).

use super::{folded, units, Metric};
use inferno::flamegraph::{self, color::BasicPalette, color::Palette, Options};
use memprof_profile::Profile;

/// What the graph shows, for its title.
fn describe(p: &Profile, metric: Metric) -> String {
    match metric {
        Metric::Net => "net memory growth".into(),
        Metric::Alloc => "memory allocated".into(),
        Metric::Retained => format!("memory still held {}", crate::render::words::retained_moment(p)),
        Metric::Peak => "memory held at the heap's peak".into(),
    }
}

/// The script's name as the title shows it.
pub fn script_name(p: &Profile) -> &str {
    if p.run.script.is_empty() {
        "perl"
    } else {
        &p.run.script
    }
}

/// The graph's subtitle: the total drawn and, for net growth, what stacks
/// that shrank freed (they cannot be drawn).
pub fn subtitle(total: i64, negative: i64) -> String {
    let mut s = format!("{} in all", units::size(total.max(0) as u64));
    if negative < 0 {
        s.push_str(&format!("; freed elsewhere: {}", units::magnitude(negative)));
    }
    s
}

/// Render the flame graph of a profile as an SVG document.
pub fn render(p: &Profile, metric: Metric, lines: bool, title: Option<&str>) -> Result<String, String> {
    let (stacks, negative) = folded::stacks(p, metric, lines);
    let total: i64 = stacks.values().sum();
    let title = title.map(String::from).unwrap_or_else(|| format!("{}: {}", script_name(p), describe(p, metric)));
    let subtitle = subtitle(total, negative);
    if stacks.is_empty() {
        return Ok(empty_svg(&title, &format!("Nothing to draw: no stack has a positive {}.", describe(p, metric))));
    }
    let text: Vec<String> = stacks.into_iter().map(|(k, v)| format!("{k} {v}")).collect();
    let mut opts = options(title, Some(subtitle));
    draw(&mut opts, text.iter().map(String::as_str))
}

/// Inferno's options for our graphs.
pub fn options(title: String, subtitle: Option<String>) -> Options<'static> {
    let mut opts = Options::default();
    opts.title = title;
    opts.subtitle = subtitle;
    opts.count_name = "bytes".into();
    opts.name_type = "Frame:".into();
    opts.colors = Palette::Basic(BasicPalette::Mem);
    opts.hash = true;
    opts.deterministic = true;
    opts
}

/// Run inferno over folded lines and make its tooltips speak in sizes.
pub fn draw<'a>(opts: &mut Options<'_>, lines: impl IntoIterator<Item = &'a str>) -> Result<String, String> {
    let mut svg = Vec::new();
    flamegraph::from_lines(opts, lines, &mut svg).map_err(|e| format!("drawing the flame graph: {e}"))?;
    let svg = String::from_utf8(svg).map_err(|e| format!("the flame graph is not UTF-8: {e}"))?;
    Ok(humanize_titles(&svg))
}

/// A valid SVG saying why there is no graph.
pub fn empty_svg(title: &str, message: &str) -> String {
    let esc = |s: &str| s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;");
    format!(
        "<?xml version=\"1.0\" standalone=\"no\"?>\n<svg version=\"1.1\" width=\"1200\" height=\"80\" \
         xmlns=\"http://www.w3.org/2000/svg\"><text x=\"600\" y=\"24\" text-anchor=\"middle\" \
         font-family=\"Verdana\" font-size=\"17\">{}</text><text x=\"600\" y=\"56\" text-anchor=\"middle\" \
         font-family=\"Verdana\" font-size=\"12\">{}</text></svg>\n",
        esc(title),
        esc(message)
    )
}

/// Rewrite "(1,048,576 bytes, 50.00%)" in every <title> as
/// "(1.00 MiB, 1,048,576 bytes, 50.00%)".
fn humanize_titles(svg: &str) -> String {
    let mut out = String::with_capacity(svg.len() + svg.len() / 8);
    let mut rest = svg;
    while let Some(start) = rest.find("<title>") {
        let body_start = start + "<title>".len();
        let Some(len) = rest[body_start..].find("</title>") else {
            break;
        };
        out.push_str(&rest[..body_start]);
        out.push_str(&humanize_title(&rest[body_start..body_start + len]));
        rest = &rest[body_start + len..];
    }
    out.push_str(rest);
    out
}

fn humanize_title(title: &str) -> String {
    let Some(open) = title.rfind(" (") else {
        return title.to_string();
    };
    let after = &title[open + 2..];
    let Some(end) = after.find(" bytes") else {
        return title.to_string();
    };
    let digits = &after[..end];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b',') {
        return title.to_string();
    }
    let Ok(n) = digits.replace(',', "").parse::<u64>() else {
        return title.to_string();
    };
    if n < 1024 {
        return title.to_string();
    }
    format!("{} ({}, {}", &title[..open], units::size(n), after)
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn titles_carry_human_sizes() {
        assert_eq!(
            humanize_title("main::foo (1,048,576 bytes, 50.00%)"),
            "main::foo (1.00 MiB, 1,048,576 bytes, 50.00%)"
        );
        assert_eq!(humanize_title("all (10 bytes, 100%)"), "all (10 bytes, 100%)");
        assert_eq!(humanize_title("no numbers here"), "no numbers here");
    }

    #[test]
    fn graph_has_frames_title_and_total() {
        let p = recursive_profile();
        let svg = render(&p, Metric::Alloc, false, None).unwrap();
        assert!(svg.contains("main::bar (110 bytes, 99.10%)"), "{svg}");
        assert!(svg.contains("111 bytes in all"));
        assert!(svg.contains("memory allocated"));
    }

    #[test]
    fn nothing_positive_gives_a_valid_message() {
        let mut p = recursive_profile();
        for e in &mut p.entries {
            e.metrics.free_bytes = e.metrics.alloc_bytes * 2;
        }
        let svg = render(&p, Metric::Net, false, None).unwrap();
        assert!(svg.starts_with("<?xml"));
        assert!(svg.contains("Nothing to draw"));
    }
}
