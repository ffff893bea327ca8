//! The attribution tables: interned files, frames and stack nodes, and the
//! memory credited to each (stack, file, line).

use crate::profile::{Entry, Frame, FrameKind, Metrics, Node, SourceFile, NONE};
use ahash::RandomState;
use std::collections::HashMap;

type Map<K, V> = HashMap<K, V, RandomState>;

/// Largest eval source kept, and the total kept, so a program that evals
/// megabytes of generated code cannot make the profile unbounded.
const MAX_EVAL_SOURCE: usize = 1 << 20;
const MAX_EVAL_SOURCES_TOTAL: usize = 64 << 20;

#[derive(Default)]
pub struct Tables {
    pub files: Vec<SourceFile>,
    file_index: Map<Vec<u8>, u32>,
    /// String evals registered when they were compiled, by perl's name
    /// for them ("(eval 5)"): the name to show and the source.
    evals: Map<Vec<u8>, (String, Option<String>)>,
    eval_source_bytes: usize,
    pub frames: Vec<Frame>,
    /// Frame names are unique across kinds (subs always carry a package).
    frame_index: Map<String, u32>,
    pub nodes: Vec<Node>,
    node_index: Map<(u32, u32, u32, u32), u32>,
    pub entries: Vec<Entry>,
    entry_index: Map<(u32, u32, u32), u32>,
    /// The entries looked up lately, direct-mapped: a loop alternates
    /// between a handful of statements, each looked up at every boundary.
    recent: Vec<(u32, u32, u32, u32)>,
}

const RECENT_SLOTS: usize = 1024;

fn recent_slot(node: u32, file: u32, line: u32) -> usize {
    let h = node.wrapping_mul(0x9E37_79B1) ^ file.wrapping_mul(0x85EB_CA77) ^ line.wrapping_mul(0xC2B2_AE3D);
    (h >> 22) as usize & (RECENT_SLOTS - 1)
}

impl Tables {
    /// File index for perl's name of a file.
    pub fn file(&mut self, raw: &[u8]) -> u32 {
        if let Some(&id) = self.file_index.get(raw) {
            return id;
        }
        let (name, source) = match self.evals.remove(raw) {
            Some(registered) => registered,
            None => (String::from_utf8_lossy(raw).into_owned(), None),
        };
        let id = self.files.len() as u32;
        self.files.push(SourceFile { name, source, lines: Vec::new() });
        self.file_index.insert(raw.to_vec(), id);
        id
    }

    /// Remember how to name a string eval before any of its statements runs.
    pub fn register_eval(&mut self, raw: &[u8], display: String, source: Option<String>) {
        let source = source.filter(|s| {
            let keep = s.len() <= MAX_EVAL_SOURCE && self.eval_source_bytes + s.len() <= MAX_EVAL_SOURCES_TOTAL;
            if keep {
                self.eval_source_bytes += s.len();
            }
            keep
        });
        self.evals.insert(raw.to_vec(), (display, source));
    }

    /// Set the saved source of a file (for `-e`).
    pub fn set_source(&mut self, file: u32, source: String) {
        if let Some(f) = self.files.get_mut(file as usize) {
            f.source = Some(source);
        }
    }

    pub fn frame(&mut self, kind: FrameKind, name: String, file: u32, line: u32) -> u32 {
        if let Some(&id) = self.frame_index.get(name.as_str()) {
            return id;
        }
        let id = self.frames.len() as u32;
        self.frames.push(Frame { name: name.clone(), kind, file, line });
        self.frame_index.insert(name, id);
        id
    }

    pub fn node(&mut self, parent: u32, frame: u32, call_file: u32, call_line: u32) -> u32 {
        let key = (parent, frame, call_file, call_line);
        if let Some(&id) = self.node_index.get(&key) {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node { parent, frame, call_file, call_line });
        self.node_index.insert(key, id);
        id
    }

    pub fn root(&mut self, kind: FrameKind, name: &str, file: u32) -> u32 {
        let frame = self.frame(kind, name.to_string(), file, 0);
        self.node(NONE, frame, NONE, 0)
    }

    pub fn frame_of(&self, node: u32) -> &Frame {
        &self.frames[self.nodes[node as usize].frame as usize]
    }

    /// Entry index for a statement under a stack, created empty if new.
    pub fn entry(&mut self, node: u32, file: u32, line: u32) -> u32 {
        if self.recent.is_empty() {
            self.recent = vec![(NONE, NONE, NONE, NONE); RECENT_SLOTS];
        }
        let slot = recent_slot(node, file, line);
        let (n, f, l, id) = self.recent[slot];
        if (n, f, l) == (node, file, line) {
            return id;
        }
        let key = (node, file, line);
        let id = match self.entry_index.get(&key) {
            Some(&id) => id,
            None => {
                let id = self.entries.len() as u32;
                self.entries.push(Entry { node, file, line, metrics: Metrics::default() });
                self.entry_index.insert(key, id);
                id
            }
        };
        self.recent[slot] = (node, file, line, id);
        id
    }

    /// Forget the memory credited so far (a forked child starts afresh).
    pub fn clear_entries(&mut self) {
        self.entries.clear();
        self.entry_index.clear();
        self.recent.clear();
    }
}
