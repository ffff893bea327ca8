//! The model as profile format version 1 wrote it, read into today's.

use crate::{Entry, Frame, Mark, Metrics, Node, Peak, Profile, RunInfo, Sample, SourceFile};
use serde::Deserialize;

/// `RunInfo` as format version 1 wrote it (postcard has no field names:
/// a new field would make old payloads unreadable).
#[derive(Deserialize)]
struct V1RunInfo {
    writer: String,
    perl_version: String,
    command: Vec<String>,
    script: String,
    cwd: String,
    pid: u32,
    ppid: u32,
    start_time: f64,
    end_time: f64,
    options: Vec<(String, String)>,
    site_tracking: bool,
    untracked_free_bytes: u64,
    untracked_free_before_peak: u64,
    merged_pids: Vec<u32>,
}

/// `Profile` as format version 1 wrote it.
#[derive(Deserialize)]
pub(crate) struct V1Profile {
    run: V1RunInfo,
    files: Vec<SourceFile>,
    frames: Vec<Frame>,
    nodes: Vec<Node>,
    entries: Vec<Entry>,
    totals: Metrics,
    peak: Peak,
    timeline: Vec<Sample>,
    marks: Vec<Mark>,
}

impl From<V1Profile> for Profile {
    fn from(v: V1Profile) -> Profile {
        let r = v.run;
        Profile {
            run: RunInfo {
                writer: r.writer,
                perl_version: r.perl_version,
                command: r.command,
                script: r.script,
                cwd: r.cwd,
                pid: r.pid,
                ppid: r.ppid,
                start_time: r.start_time,
                end_time: r.end_time,
                options: r.options,
                site_tracking: r.site_tracking,
                untracked_free_bytes: r.untracked_free_bytes,
                untracked_free_before_peak: r.untracked_free_before_peak,
                merged_pids: r.merged_pids,
                // Version 1 did not say; its readers took no process for a fork.
                forked: false,
            },
            files: v.files,
            frames: v.frames,
            nodes: v.nodes,
            entries: v.entries,
            totals: v.totals,
            peak: v.peak,
            timeline: v.timeline,
            marks: v.marks,
            // Version 1's merge kept no timelines.
            processes: Vec::new(),
        }
    }
}
