//! Retrieval quality on the fixture knowledge base (`tests/fixtures/kb/`: 11 short documents
//! about a fictional kettle shop in .md, .txt, .html and .pdf) and its 25 questions
//! (`tests/fixtures/kb-questions.json`, each with the document and a phrase that answer it):
//! recall@3 — the share of questions whose answering chunk is among the top 3 — with a floor.
//! `cargo test -p flowdm-kb --test recall -- --nocapture` prints the figure.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use flowdm_kb::KnowledgeBase;
use serde_json::Value;
use std::path::PathBuf;

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/fixtures")
}

/// The whitespace of a phrase and of a chunk compared alike.
fn normal(s: &str) -> String {
    s.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

#[test]
fn recall_at_3_on_the_fixture_questions() {
    let kb = KnowledgeBase::load(fixtures().join("kb")).unwrap();
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(fixtures().join("kb-questions.json")).unwrap(),
    )
    .unwrap();
    let project = doc["project"].as_str().unwrap();
    let questions = doc["questions"].as_array().unwrap();
    assert!(questions.len() >= 20);
    let mut found = 0;
    let mut first = 0;
    let mut misses = Vec::new();
    for q in questions {
        let question = q["question"].as_str().unwrap();
        let source = q["source"].as_str().unwrap();
        let phrase = normal(q["phrase"].as_str().unwrap());
        let hits = kb.search(project, question, 3).unwrap();
        let answers =
            |h: &flowdm_kb::KbChunk| h.source == source && normal(&h.content).contains(&phrase);
        match hits.iter().position(answers) {
            Some(rank) => {
                found += 1;
                if rank == 0 {
                    first += 1;
                }
            }
            None => misses.push(format!(
                "{question} → {:?}",
                hits.iter().map(|h| h.source.as_str()).collect::<Vec<_>>()
            )),
        }
    }
    let n = questions.len() as f64;
    let recall = f64::from(found) / n;
    println!(
        "knowledge base recall@3: {recall:.2} ({found}/{}), recall@1: {:.2}; misses: {misses:#?}",
        questions.len(),
        f64::from(first) / n
    );
    assert!(recall >= 0.85, "recall@3 {recall:.2} < 0.85: {misses:#?}");
}

#[test]
fn every_format_of_the_fixtures_is_read() {
    let kb = KnowledgeBase::load(fixtures().join("kb")).unwrap();
    let project = "64a1f0000000000000000001";
    let pdf = kb.search(project, "immerse the base in water", 1).unwrap();
    assert_eq!(pdf[0].source, "product/safety-manual.pdf");
    assert!(
        pdf[0].content.contains("Never immerse the kettle"),
        "{}",
        pdf[0].content
    );
    let html = kb
        .search(project, "analytics track warranty page", 3)
        .unwrap();
    assert!(
        html.iter().all(|h| !h.content.contains("analytics")),
        "scripts are not text: {html:?}"
    );
    let hidden = kb.search(project, "hidden provider token", 3).unwrap();
    assert!(hidden
        .iter()
        .all(|h| !h.content.contains("hidden-provider-token")));
}
