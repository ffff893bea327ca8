//! `memprof csv`: one row per line, sub or stack, every metric of the profile
//! (`memprof_profile::FIELDS`),
//! with a header row.  Written with the `csv` crate, so names with commas
//! or quotes come out properly quoted.

use crate::analysis::Analysis;
use memprof_profile::{Metrics, Profile, FIELDS};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum By {
    Line,
    Sub,
    Stack,
}

impl By {
    pub fn parse(s: &str) -> Result<By, String> {
        match s {
            "line" => Ok(By::Line),
            "sub" => Ok(By::Sub),
            "stack" => Ok(By::Stack),
            _ => Err(format!("unknown --by '{s}' (use line, sub or stack)")),
        }
    }
}

/// Every metric, site-tracking ones included (zero without it), so that
/// the columns are the same for every profile.
fn values(m: &Metrics) -> impl Iterator<Item = String> + '_ {
    FIELDS.iter().map(move |f| (f.get)(m).to_string())
}

fn header(lead: &[&str], inclusive: bool) -> Vec<String> {
    let mut h: Vec<String> = lead.iter().map(|s| s.to_string()).collect();
    h.extend(FIELDS.iter().map(|f| f.name.to_string()));
    if inclusive {
        h.extend(FIELDS.iter().map(|f| format!("inclusive_{}", f.name)));
    }
    h
}

/// The CSV text.
pub fn render(p: &Profile, by: By) -> Result<String, String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: Vec<String>| w.write_record(&fields).map_err(|e| e.to_string());
    let a = Analysis::new(p);
    match by {
        By::Line => {
            row(header(&["file", "line"], true))?;
            let mut lines: Vec<_> = a.lines.iter().collect();
            lines.sort_by(|x, y| (p.file_name(x.file), x.line).cmp(&(p.file_name(y.file), y.line)));
            for l in lines {
                let mut r = vec![p.file_name(l.file).to_string(), l.line.to_string()];
                r.extend(values(&l.exclusive));
                r.extend(values(&l.inclusive));
                row(r)?;
            }
        }
        By::Sub => {
            row(header(&["name", "kind", "file", "line"], true))?;
            let mut subs: Vec<_> = a.subs.iter().collect();
            subs.sort_by(|x, y| p.frames[x.frame as usize].name.cmp(&p.frames[y.frame as usize].name));
            for s in subs {
                let f = &p.frames[s.frame as usize];
                let mut r = vec![
                    f.name.clone(),
                    f.kind.name().to_string(),
                    p.file_name(f.file).to_string(),
                    f.line.to_string(),
                ];
                r.extend(values(&s.exclusive));
                r.extend(values(&s.inclusive));
                row(r)?;
            }
        }
        By::Stack => {
            row(header(&["stack", "file", "line"], false))?;
            for e in &p.entries {
                let steps = p.path(e);
                let mut r = vec![p.frame_names(&steps).join(";"), p.file_name(e.file).to_string(), e.line.to_string()];
                r.extend(values(&e.metrics));
                row(r)?;
            }
        }
    }
    let bytes = w.into_inner().map_err(|e| e.to_string())?;
    String::from_utf8(bytes).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use memprof_profile::fixtures::recursive_profile;

    #[test]
    fn rows_parse_back_to_the_same_numbers() {
        let p = recursive_profile();
        let text = render(&p, By::Sub).unwrap();
        let mut r = csv::Reader::from_reader(text.as_bytes());
        let headers = r.headers().unwrap().clone();
        let col = |name: &str| headers.iter().position(|h| h == name).unwrap();
        let rows: Vec<csv::StringRecord> = r.records().map(|x| x.unwrap()).collect();
        let bar = rows.iter().find(|row| &row[0] == "main::bar").unwrap();
        assert_eq!(&bar[col("alloc_bytes")], "110");
        assert_eq!(&bar[col("inclusive_alloc_bytes")], "110");
        let lines = render(&p, By::Line).unwrap();
        assert!(lines.starts_with("file,line,alloc_bytes,"));
        let stacks = render(&p, By::Stack).unwrap();
        assert!(stacks.contains("main;main::bar;main::bar,t.pl,1,10,1,0,0,10,0"));
    }
}
