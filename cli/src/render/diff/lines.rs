//! Matching the lines of two runs: by file and line number and, where
//! the source moved, by the text of the line (a Myers diff of the saved
//! line texts, edited runs paired in order).

use memprof_profile::{FrameKind, Profile};
use similar::{capture_diff_slices, Algorithm, DiffOp};
use std::collections::HashMap;

/// Old (file, line) -> new (file, line), for every line both profiles know.
pub(super) struct LineMap {
    files: HashMap<String, String>,
    lines: HashMap<(String, u32), (String, u32)>,
}

fn main_file(p: &Profile) -> Option<String> {
    p.frames.iter().find(|f| f.kind == FrameKind::Main).map(|f| p.file_name(f.file).to_string())
}

pub(super) fn map_lines(old: &Profile, new: &Profile) -> LineMap {
    let mut files = HashMap::new();
    let new_names: HashMap<&str, usize> = new.files.iter().enumerate().map(|(i, f)| (f.name.as_str(), i)).collect();
    let mut pairs = Vec::new();
    for (i, f) in old.files.iter().enumerate() {
        if let Some(&j) = new_names.get(f.name.as_str()) {
            pairs.push((i, j));
        }
    }
    if let (Some(om), Some(nm)) = (main_file(old), main_file(new)) {
        if om != nm {
            let oi = old.files.iter().position(|f| f.name == om);
            let ni = new.files.iter().position(|f| f.name == nm);
            if let (Some(oi), Some(ni)) = (oi, ni) {
                pairs.retain(|&(i, j)| i != oi && j != ni);
                pairs.push((oi, ni));
            }
        }
    }
    let mut lines = HashMap::new();
    for (i, j) in pairs {
        let (of, nf) = (&old.files[i], &new.files[j]);
        files.insert(of.name.clone(), nf.name.clone());
        let ot: Vec<&str> = of.lines.iter().map(|(_, t)| t.trim()).collect();
        let nt: Vec<&str> = nf.lines.iter().map(|(_, t)| t.trim()).collect();
        let mut matched_old = vec![false; ot.len()];
        let mut matched_new = vec![false; nt.len()];
        for op in capture_diff_slices(Algorithm::Myers, &ot, &nt) {
            // Equal runs are the same lines; a replaced run is the same
            // lines edited, paired in order.
            let (old_index, new_index, len) = match op {
                DiffOp::Equal { old_index, new_index, len } => (old_index, new_index, len),
                DiffOp::Replace { old_index, old_len, new_index, new_len } => {
                    (old_index, new_index, old_len.min(new_len))
                }
                _ => continue,
            };
            for k in 0..len {
                let (ol, nl) = (of.lines[old_index + k].0, nf.lines[new_index + k].0);
                lines.insert((of.name.clone(), ol), (nf.name.clone(), nl));
                matched_old[old_index + k] = true;
                matched_new[new_index + k] = true;
            }
        }
        // An edited line that stayed where it was is still the same line.
        let free_new: HashMap<u32, usize> =
            nf.lines.iter().enumerate().filter(|(k, _)| !matched_new[*k]).map(|(k, (n, _))| (*n, k)).collect();
        for (k, (n, _)) in of.lines.iter().enumerate() {
            if !matched_old[k] && free_new.contains_key(n) {
                lines.insert((of.name.clone(), *n), (nf.name.clone(), *n));
            }
        }
    }
    LineMap { files, lines }
}

impl LineMap {
    pub(super) fn line(&self, file: &str, line: u32) -> Option<(String, u32)> {
        if let Some(m) = self.lines.get(&(file.to_string(), line)) {
            return Some(m.clone());
        }
        // Lines without saved text (line 0: compilation) keep their number.
        if line == 0 {
            return self.files.get(file).map(|f| (f.clone(), 0));
        }
        None
    }

    /// The name an old frame would have in the new profile.
    pub(super) fn frame_name(&self, old: &Profile, frame: usize) -> String {
        let f = &old.frames[frame];
        let file = old.file_name(f.file);
        match f.kind {
            FrameKind::AnonSub => {
                if let (Some(at), Some((nf, nl))) = (f.name.find("::__ANON__["), self.line(file, f.line)) {
                    return format!("{}::__ANON__[{nf}:{nl}]", &f.name[..at]);
                }
            }
            FrameKind::Block => {
                if let (Some(at), Some((_, nl))) = (f.name.rfind('@'), self.line(file, f.line)) {
                    return format!("{}@{nl}", &f.name[..at]);
                }
            }
            FrameKind::Compile => {
                if let Some(nf) = self.files.get(file) {
                    if f.name == format!("compile {file}") {
                        return format!("compile {nf}");
                    }
                }
            }
            _ => {}
        }
        f.name.clone()
    }
}
