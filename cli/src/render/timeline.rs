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

/// Why a merged profile's process has no line, one sentence per such
/// process (empty when every process has one, or for a single process).
pub fn why_not(p: &Profile) -> Vec<String> {
    p.processes
        .iter()
        .filter(|t| t.samples.is_empty())
        .map(|t| format!("process {} has no timeline samples (its profile was written by a memprof before format version 2, or it never ran a statement)", t.pid))
        .collect()
}

/// The chart as an SVG document: the heap, or for a merged profile each
/// process's heap, one line per pid.
pub fn render(p: &Profile, title: Option<&str>) -> Result<String, String> {
    if !p.processes.is_empty() {
        return render_processes(p, title);
    }
    if p.timeline.is_empty() {
        return Err("this profile has no timeline samples".into());
    }
    let end = p.timeline.iter().map(|s| s.time).fold(0.0f64, f64::max).max(1e-3);
    // VmRSS and VmData, where they were sampled, on the same axis: the gap
    // between them and the heap is what the heap does not explain.
    let vm_top = p.vm_timeline.iter().map(|v| v.rss_bytes.max(v.data_bytes) as i64).max().unwrap_or(0);
    let top = p.timeline.iter().map(|s| s.live_bytes).chain([p.peak.bytes, 1, vm_top]).max().unwrap_or(1);
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
            .y_desc(if p.vm_timeline.is_empty() { "live heap growth, MiB" } else { "MiB" })
            .draw()
            .map_err(err)?;
        chart
            .draw_series(LineSeries::new(p.timeline.iter().map(|s| (s.time, mib(s.live_bytes))), BLUE.stroke_width(2)))
            .map_err(err)?
            .label("live heap growth")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], BLUE.stroke_width(2)));
        if !p.vm_timeline.is_empty() {
            let vm = |f: fn(&memprof_profile::VmSample) -> u64| {
                p.vm_timeline.iter().map(move |v| (v.time, mib(f(v) as i64))).collect::<Vec<_>>()
            };
            let rss_colour = RGBColor(0, 150, 60);
            let data_colour = RGBColor(200, 100, 0);
            chart
                .draw_series(LineSeries::new(vm(|v| v.rss_bytes), rss_colour.stroke_width(2)))
                .map_err(err)?
                .label("VmRSS")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], rss_colour.stroke_width(2)));
            chart
                .draw_series(LineSeries::new(vm(|v| v.data_bytes), data_colour.stroke_width(2)))
                .map_err(err)?
                .label("VmData")
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], data_colour.stroke_width(2)));
            chart
                .configure_series_labels()
                .position(SeriesLabelPosition::UpperLeft)
                .background_style(WHITE.mix(0.8))
                .border_style(BLACK)
                .draw()
                .map_err(err)?;
        }
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

/// A merged profile: one line per process, on a common clock (seconds
/// since the first process started), a legend naming the pids.
fn render_processes(p: &Profile, title: Option<&str>) -> Result<String, String> {
    let drawn: Vec<_> = p.processes.iter().filter(|t| !t.samples.is_empty()).collect();
    if drawn.is_empty() {
        return Err(format!("no process of this merged profile has timeline samples: {}", why_not(p).join("; ")));
    }
    let first = drawn.iter().map(|t| t.start_time).fold(f64::INFINITY, f64::min);
    let x = |t: &memprof_profile::ProcessTimeline, time: f64| (t.start_time - first).max(0.0) + time;
    let all = || drawn.iter().flat_map(|t| t.samples.iter().map(move |s| (x(t, s.time), s.live_bytes)));
    let end = all().map(|(t, _)| t).fold(0.0f64, f64::max).max(1e-3);
    let top = all().map(|(_, b)| b).chain([1]).max().unwrap_or(1);
    let low = all().map(|(_, b)| b).chain([0]).min().unwrap_or(0);
    let mib = |b: i64| b as f64 / (1024.0 * 1024.0);
    let title = title.map(String::from).unwrap_or_else(|| {
        format!("{}: live heap of each of {} processes", super::flamegraph::script_name(p), p.processes.len())
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
            .x_desc("seconds since the first process started")
            .y_desc("live heap growth of each process, MiB")
            .draw()
            .map_err(err)?;
        for (i, t) in p.processes.iter().enumerate() {
            let color = Palette99::pick(i).to_rgba();
            if t.samples.is_empty() {
                // Said in the legend too, so that the chart alone tells.
                chart
                    .draw_series(std::iter::empty::<Circle<(f64, f64), i32>>())
                    .map_err(err)?
                    .label(format!("pid {}: no samples", t.pid))
                    .legend(move |(lx, ly)| Circle::new((lx + 10, ly), 3, color));
                continue;
            }
            chart
                .draw_series(LineSeries::new(
                    t.samples.iter().map(|s| (x(t, s.time), mib(s.live_bytes))),
                    color.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("pid {}", t.pid))
                .legend(move |(lx, ly)| PathElement::new(vec![(lx, ly), (lx + 20, ly)], color.stroke_width(2)));
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .label_font(("sans-serif", 14))
            .draw()
            .map_err(err)?;
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

    #[test]
    fn a_merged_profile_has_a_line_per_process_and_says_which_has_none() {
        use memprof_profile::ProcessTimeline;
        let mut p = recursive_profile();
        let s = |time, live_bytes| Sample { time, live_bytes, entry: NONE };
        p.processes = vec![
            ProcessTimeline { pid: 101, start_time: 10.0, samples: vec![s(0.0, 0), s(1.0, 2 << 20)] },
            ProcessTimeline { pid: 102, start_time: 10.5, samples: vec![s(0.0, 0), s(0.5, 1 << 20)] },
            ProcessTimeline { pid: 103, start_time: 11.0, samples: vec![] },
        ];
        let svg = render(&p, None).unwrap();
        // Series and their legend keys are 2 px wide, the mesh 1 px.
        assert_eq!(
            svg.matches("stroke-width=\"2\"").count(),
            4,
            "two processes' lines and their two legend keys: {svg}"
        );
        for label in ["pid 101", "pid 102", "pid 103: no samples"] {
            assert!(svg.contains(&format!("\n{label}\n</text>")), "{label} missing from the legend");
        }
        assert_eq!(why_not(&p).len(), 1);
        assert!(why_not(&p)[0].contains("process 103"));
        p.processes.truncate(0);
        p.processes.push(ProcessTimeline { pid: 7, start_time: 0.0, samples: vec![] });
        assert!(render(&p, None).unwrap_err().contains("process 7"));
    }
}
