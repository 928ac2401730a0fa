//! `check --format sarif`: the findings as a SARIF 2.1.0 log, the format code-scanning tools
//! read (GitHub's `upload-sarif` among them).

use serde_json::{Value, json};

use crate::annotation::{Annotation, display_path};

const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";

/// Whether a finding is new, or known from the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Baseline {
    /// No baseline was given.
    None,
    /// Not in the baseline.
    New,
    /// In the baseline.
    Unchanged,
}

/// The SARIF log: one run, one rule per code of `rules` (code, help text) and per code used
/// by a finding, one result per finding.
pub(crate) fn log(findings: &[(Annotation, Baseline)], rules: Vec<(String, String)>) -> Value {
    let mut ids = rules;
    for (a, _) in findings {
        if !ids.iter().any(|(code, _)| *code == a.code) {
            ids.push((a.code.clone(), a.title.clone()));
        }
    }
    let rules: Vec<Value> = ids
        .iter()
        .map(|(code, help)| {
            json!({
                "id": code,
                "name": code,
                "shortDescription": { "text": first_sentence(help) },
                "help": { "text": help },
            })
        })
        .collect();
    let results: Vec<Value> = findings
        .iter()
        .map(|(a, baseline)| result(a, *baseline, &ids))
        .collect();
    json!({
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "sqlite-testdb",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": env!("CARGO_PKG_REPOSITORY"),
                "rules": rules,
            }},
            "results": results,
        }],
    })
}

fn result(a: &Annotation, baseline: Baseline, ids: &[(String, String)]) -> Value {
    let mut result = json!({
        "ruleId": a.code,
        "level": a.level.as_str(),
        "message": { "text": a.message },
    });
    if let Some(index) = ids.iter().position(|(code, _)| *code == a.code) {
        result["ruleIndex"] = json!(index);
    }
    if let Some(file) = &a.file {
        let mut location = json!({
            "physicalLocation": { "artifactLocation": { "uri": display_path(file) } }
        });
        if let Some(line) = a.line {
            location["physicalLocation"]["region"] = json!({ "startLine": line });
        }
        result["locations"] = json!([location]);
    }
    match baseline {
        Baseline::None => {}
        Baseline::New => result["baselineState"] = json!("new"),
        Baseline::Unchanged => result["baselineState"] = json!("unchanged"),
    }
    result
}

/// The first sentence of a help text, for the rule's short description.
fn first_sentence(text: &str) -> &str {
    text.split_once(". ").map_or(text, |(first, _)| first)
}
