//! `memprof timeline`: the live heap over the run as an SVG chart (drawn
//! with plotters), with the program's marks as labelled vertical lines and
//! the peak annotated.

use super::units;
use memprof_profile::{Profile, NONE};
use plotters::prelude::*;

fn where_is(p: &Profile, entry: u32) -> String {
    if entry == NONE {
        return String::new();
    }
    let e = &p.entries[entry as usize];
    let frame = &p.frames[p.nodes[e.node as usize].frame as usize];
    format!("{} at {}", frame.name, super::words::place(p, e.file, e.line))
}

/// The chart as an SVG document.
pub fn render(p: &Profile, title: Option<&str>) -> Result<String, String> {
    if p.timeline.is_empty() {
        return Err("this profile has no timeline samples".into());
    }
    let end = p.timeline.iter().map(|s| s.time).fold(0.0f64, f64::max).max(1e-3);
    let top = p.timeline.iter().map(|s| s.live_bytes).chain([p.peak.bytes, 1]).max().unwrap_or(1);
    let low = p.timeline.iter().map(|s| s.live_bytes).chain([0]).min().unwrap_or(0);
    // Plot in MiB so the axis reads naturally.
    let mib = |b: i64| b as f64 / (1024.0 * 1024.0);
    let title = title.map(String::from).unwrap_or_else(|| {
        format!(
            "{}: live heap over time (peak {})",
            super::flamegraph::script_name(p),
            units::size(p.peak.bytes.max(0) as u64)
        )
    });

    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (1200, 600)).into_drawing_area();
        let err = |e: DrawingAreaErrorKind<std::io::Error>| format!("drawing the timeline: {e}");
        root.fill(&WHITE).map_err(err)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(&title, ("sans-serif", 22))
            .margin(16)
            .x_label_area_size(40)
            .y_label_area_size(70)
            .build_cartesian_2d(0.0..end * 1.02, mib(low).min(0.0)..mib(top) * 1.12)
            .map_err(err)?;
        chart
            .configure_mesh()
            .x_desc("seconds since the profile started")
            .y_desc("live heap growth, MiB")
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(p.timeline.iter().map(|s| (s.time, mib(s.live_bytes))), BLUE.stroke_width(2)))
            .map_err(err)?;
        let y_top = mib(top) * 1.08;
        for m in &p.marks {
            chart.draw_series(LineSeries::new([(m.time, 0.0), (m.time, y_top)], BLACK.mix(0.4))).map_err(err)?;
            chart.draw_series([Text::new(m.label.clone(), (m.time, y_top), ("sans-serif", 14))]).map_err(err)?;
        }
        if let Some(peak) = p.timeline.iter().max_by_key(|s| s.live_bytes) {
            let label = format!("peak {} in {}", units::size(p.peak.bytes.max(0) as u64), where_is(p, p.peak.entry));
            chart.draw_series([Circle::new((peak.time, mib(peak.live_bytes)), 5, RED.filled())]).map_err(err)?;
            chart
                .draw_series([Text::new(
                    label,
                    (peak.time, mib(peak.live_bytes) * 1.03),
                    ("sans-serif", 14).into_font().color(&RED),
                )])
                .map_err(err)?;
        }
        root.present().map_err(err)?;
    }
    Ok(svg)
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;
    use memprof_profile::{Mark, Sample};

    #[test]
    fn chart_has_marks_in_order_and_the_peak() {
        let mut p = recursive_profile();
        p.peak.bytes = 3 << 20;
        p.peak.entry = 0;
        p.timeline = vec![
            Sample { time: 0.0, live_bytes: 0, entry: NONE },
            Sample { time: 0.5, live_bytes: 3 << 20, entry: 0 },
            Sample { time: 1.0, live_bytes: 1 << 20, entry: NONE },
        ];
        for (i, label) in ["load", "work", "save"].iter().enumerate() {
            p.marks.push(Mark { time: 0.1 + 0.3 * i as f64, live_bytes: 0, label: label.to_string() });
        }
        let svg = render(&p, None).unwrap();
        // plotters puts each text on a line of its own.
        let at = |s: &str| svg.find(&format!("\n{s}\n</text>")).unwrap_or_else(|| panic!("{s} missing"));
        assert!(at("load") < at("work") && at("work") < at("save"));
        assert!(svg.contains("peak 3.00 MiB in main::bar at t.pl:1"), "{svg}");
    }
}
