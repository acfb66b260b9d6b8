//! FIRST's EPSS scores: the probability that a CVE is exploited in the next 30 days. It
//! orders what is not (yet) in KEV by how likely it is to be.

use std::collections::HashMap;

use serde::Serialize;

use super::error::FeedError;
use super::model::is_cve_id;

/// Scores by CVE id, with the model and day they belong to.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EpssScores {
    /// From the `#model_version:…,score_date:…` line, when present.
    pub model_version: Option<String>,
    pub score_date: Option<String>,
    pub scores: HashMap<String, Epss>,
}

/// One CVE's score and its percentile among all scored CVEs, both in 0..=1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Epss {
    pub score: f32,
    pub percentile: f32,
}

impl EpssScores {
    /// Parses FIRST's CSV (`epss_scores-YYYY-MM-DD.csv`, decompressed): an optional
    /// comment line, the header `cve,epss,percentile`, then one CVE per line.
    pub fn parse(bytes: &[u8], file: &str) -> Result<EpssScores, FeedError> {
        let err = |line: usize, message: String| FeedError::Line {
            file: file.to_owned(),
            line,
            message,
        };
        let text = std::str::from_utf8(bytes)
            .map_err(|e| FeedError::file_error(file, format!("not UTF-8 text: {e}")))?;
        let mut out = EpssScores::default();
        let mut header_seen = false;
        for (i, line) in text.lines().enumerate() {
            let n = i + 1;
            let line = line.trim_end_matches('\r');
            if let Some(comment) = line.strip_prefix('#') {
                for field in comment.split(',') {
                    match field.split_once(':') {
                        Some(("model_version", v)) => out.model_version = Some(v.to_owned()),
                        Some(("score_date", v)) => out.score_date = Some(v.to_owned()),
                        _ => {}
                    }
                }
                continue;
            }
            if line.is_empty() {
                continue;
            }
            if !header_seen {
                if line != "cve,epss,percentile" {
                    return Err(err(
                        n,
                        format!("expected the header \"cve,epss,percentile\", found {line:?}"),
                    ));
                }
                header_seen = true;
                continue;
            }
            let mut fields = line.split(',');
            let (Some(cve), Some(score), Some(percentile), None) =
                (fields.next(), fields.next(), fields.next(), fields.next())
            else {
                return Err(err(
                    n,
                    format!("expected 3 fields cve,epss,percentile, found {line:?}"),
                ));
            };
            if !is_cve_id(cve) {
                return Err(err(n, format!("{cve:?} is not a CVE id")));
            }
            let unit = |what: &str, s: &str| -> Result<f32, FeedError> {
                s.parse::<f32>()
                    .ok()
                    .filter(|v| (0.0..=1.0).contains(v))
                    .ok_or_else(|| err(n, format!("{what} {s:?} is not a number between 0 and 1")))
            };
            let epss = Epss {
                score: unit("epss", score)?,
                percentile: unit("percentile", percentile)?,
            };
            if out.scores.insert(cve.to_owned(), epss).is_some() {
                return Err(err(n, format!("{cve} is listed twice")));
            }
        }
        if !header_seen {
            return Err(err(
                1,
                "no header \"cve,epss,percentile\": not an EPSS file".to_owned(),
            ));
        }
        Ok(out)
    }

    pub fn get(&self, cve: &str) -> Option<Epss> {
        self.scores.get(cve).copied()
    }
}
