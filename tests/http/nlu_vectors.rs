//! The classifier with word vectors (`--nlu-vectors`, `docs/nlu.md` § Word vectors): a
//! directory that does not load stops the start with a clear error; with the vectors that
//! `scripts/nlu-vectors` installs (`FLOWDM_TEST_NLU_VECTORS`, set by `scripts/test`), the
//! benchmark agent understands more of its held-out test utterances than without.

use crate::support::server::*;
use serde_json::json;
use std::path::{Path, PathBuf};

#[test]
fn a_vectors_directory_that_does_not_load_stops_the_start() {
    let dir = tempfile::tempdir().expect("tmp");
    for (name, contents) in [
        ("vocab.txt", "[UNK]\nhello\n"),
        ("vectors.safetensors", "nope"),
    ] {
        std::fs::write(dir.path().join(name), contents).expect("write");
    }
    for vectors in [Path::new("/nonexistent/vectors"), dir.path()] {
        let args: Vec<String> = ["--port", "0", "--diagrams"]
            .iter()
            .map(|s| s.to_string())
            .chain([diagrams_dir().display().to_string()])
            .chain(["--nlu-vectors".to_string(), vectors.display().to_string()])
            .collect();
        let config = flowdm::cli::ServeArgs::parse_args(&args)
            .expect("arguments")
            .into_config();
        let error = actix_web::rt::System::new()
            .block_on(async move { flowdm::app::Application::build(config).err() })
            .expect("the start fails");
        let text = error.to_string();
        assert!(text.starts_with("word vectors: "), "{text}");
        assert!(text.contains(&vectors.display().to_string()), "{text}");
    }
}

#[test]
fn off_and_no_flag_mean_no_vectors() {
    let parse = |extra: &[&str]| {
        let mut args = vec!["--port", "0"];
        args.extend_from_slice(extra);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        flowdm::cli::ServeArgs::parse_args(&args)
            .expect("arguments")
            .into_config()
            .nlu_vectors
    };
    assert_eq!(parse(&["--nlu-vectors", "off"]), None);
    assert_eq!(
        parse(&["--nlu-vectors", "/opt/v"]),
        Some(flowdm::config::NluVectors::Required(PathBuf::from(
            "/opt/v"
        )))
    );
}

/// The share of HWU64's first 400 test utterances a server answers with their label.
async fn accuracy(server: &Server, texts: &[&str], labels: &[&str]) -> f64 {
    let mut right = 0;
    for (i, (text, label)) in texts.iter().zip(labels).enumerate() {
        let r = send(
            reqwest::Method::POST,
            &server.url(&format!("/state/user/bench-{i}/interact?verbose=true")),
            &[("Authorization", "VF.DM.bench.key")],
            Some(&json!({ "action": { "type": "text", "payload": text } })),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        if r.json()["request"]["payload"]["intent"]["name"] == *label {
            right += 1;
        }
    }
    right as f64 / texts.len() as f64
}

#[actix_web::test]
async fn word_vectors_understand_more_of_the_benchmark() {
    let Some(vectors) = std::env::var_os("FLOWDM_TEST_NLU_VECTORS") else {
        eprintln!("FLOWDM_TEST_NLU_VECTORS unset (scripts/test installs the vectors): skipped");
        return;
    };
    let data = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/nlu");
    let Ok(agent) = std::fs::read_to_string(data.join("hwu64_10.vf")) else {
        eprintln!("../shared/nlu is not beside the checkout: skipped");
        return;
    };
    let texts = std::fs::read_to_string(data.join("hwu64_10/test/seq.in")).expect("seq.in");
    let labels = std::fs::read_to_string(data.join("hwu64_10/test/label")).expect("label");
    let texts: Vec<&str> = texts.lines().take(400).collect();
    let labels: Vec<&str> = labels.lines().map(str::trim).take(400).collect();
    let plain = Server::builder()
        .files(&[("hwu64_10.vf", agent.clone())])
        .start();
    let with = Server::builder()
        .files(&[("hwu64_10.vf", agent)])
        .args(&["--nlu-vectors", &vectors.to_string_lossy()])
        .start();
    let (without, with) = (
        accuracy(&plain, &texts, &labels).await,
        accuracy(&with, &texts, &labels).await,
    );
    eprintln!("HWU64, first 400 test utterances: {without:.3} without vectors, {with:.3} with");
    assert!(without > 0.6, "{without}");
    assert!(with >= without + 0.03, "with {with}, without {without}");
}
