//! `POST /knowledge-base/query` (`docs/knowledge-base.md`): chunks of the fixture knowledge base
//! (`tests/fixtures/kb/`, the payment project's documents) for the key's project, validation
//! (400, ValidationError), the same authorization as the other project routes, and empty
//! answers for a project without documents or a server without a knowledge base.

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

fn kb_dir() -> String {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kb")
        .display()
        .to_string()
}

/// The example agents, the test keys, the fixture knowledge base.
fn kb_server() -> Server {
    Server::builder()
        .test_keys_file()
        .args(&["--kb-dir", &kb_dir()])
        .start()
}

/// A query; every answer has a status `openapi.yaml` documents.
async fn query(server: &Server, key: Option<&str>, body: &Value) -> Resp {
    let headers: Vec<(&str, &str)> = key.map(|k| ("Authorization", k)).into_iter().collect();
    let r = send(
        Method::POST,
        &server.url("/knowledge-base/query"),
        &headers,
        Some(body),
    )
    .await;
    let documented = documented_statuses("/knowledge-base/query");
    assert!(documented.contains(&200) && documented.contains(&400));
    assert!(
        documented.contains(&r.status),
        "{} not documented: {}",
        r.status,
        r.text
    );
    r
}

#[tokio::test]
async fn answers_the_best_chunks_of_the_keys_project() {
    let server = kb_server();
    let r = query(
        &server,
        Some(PAY_KEY),
        &json!({"question": "How long is the warranty on the kettle?", "chunkLimit": 3}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let b = r.json();
    assert_eq!(b["output"], Value::Null);
    let chunks = b["chunks"].as_array().unwrap();
    assert!(!chunks.is_empty() && chunks.len() <= 3, "{b}");
    let first = &chunks[0];
    assert_eq!(first["source"], "policies/warranty.html", "{b}");
    assert!(
        first["content"].as_str().unwrap().contains("two-year"),
        "{b}"
    );
    let document = first["documentID"].as_str().unwrap();
    assert!(first["chunkID"]
        .as_str()
        .unwrap()
        .starts_with(&format!("{document}:")));
    assert_eq!(first["metadata"], json!({}));
    let scores: Vec<f64> = chunks
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");

    // The default chunkLimit is 2; synthesis without a provider: chunks only.
    let r = query(
        &server,
        Some(PAY_KEY),
        &json!({"question": "shipping costs delivery parcel", "synthesis": true, "settings": {"temperature": 0.1}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["chunks"].as_array().unwrap().len(), 2);
    assert_eq!(r.json()["output"], Value::Null);

    // Query syntax in the question is plain text.
    let r = query(
        &server,
        Some(PAY_KEY),
        &json!({"question": "warranty:(){}[]^~\" AND -kettle* \\"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["chunks"][0]["source"], "policies/warranty.html");
}

#[tokio::test]
async fn bad_bodies_are_400() {
    let server = kb_server();
    for (body, field) in [
        (json!({}), "question"),
        (json!({"question": 3}), "question"),
        (json!({"question": ""}), "question"),
        (json!({"question": "q".repeat(10_001)}), "question"),
        (json!({"question": "q", "chunkLimit": 0}), "chunkLimit"),
        (json!({"question": "q", "chunkLimit": 11}), "chunkLimit"),
        (json!({"question": "q", "chunkLimit": "3"}), "chunkLimit"),
        (json!({"question": "q", "synthesis": 1}), "synthesis"),
        (json!({"question": "q", "settings": "fast"}), "settings"),
        (json!({"question": "q", "filters": [1]}), "filters"),
        (json!([{"question": "q"}]), "body"),
    ] {
        let r = query(&server, Some(PAY_KEY), &body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.text);
        assert!(
            r.json()["errors"][field]["message"].is_string(),
            "{body}: {}",
            r.text
        );
    }
    let r = send_raw(
        Method::POST,
        &server.url("/knowledge-base/query"),
        &[
            ("Authorization", PAY_KEY),
            ("content-type", "application/json"),
        ],
        b"{\"question\": ".to_vec(),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.text);
}

#[tokio::test]
async fn authorised_like_the_other_project_routes() {
    let server = kb_server();
    let body = json!({"question": "warranty"});
    let r = query(&server, None, &body).await;
    assert_eq!(r.status, 401, "{}", r.text);
    assert_eq!(r.json()["data"], "Auth Key Required");
    for key in ["VF.DM.unknown.s3cr3t", "not-a-key"] {
        let r = query(&server, Some(key), &body).await;
        let interact = launch_with(&server, &[("Authorization", key)]).await;
        assert_eq!(
            r.status, interact.status,
            "{key}: {} / {}",
            r.text, interact.text
        );
        assert!(r.status == 400 || r.status == 401, "{key}: {}", r.text);
        assert!(r.json().get("chunks").is_none(), "{key}: {}", r.text);
    }
}

#[tokio::test]
async fn no_documents_no_chunks() {
    // The hand-off project has no folder in the fixture knowledge base.
    let server = kb_server();
    let r = query(&server, Some(HANDOFF_KEY), &json!({"question": "warranty"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"output": null, "chunks": []}));

    // A server whose knowledge-base directory does not exist.
    let missing = tempfile::tempdir().unwrap();
    let server = Server::builder()
        .test_keys_file()
        .args(&["--kb-dir", &missing.path().join("kb").display().to_string()])
        .start();
    let r = query(&server, Some(PAY_KEY), &json!({"question": "warranty"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json(), json!({"output": null, "chunks": []}));
}

/// A runtime export: launch → `kb-search` (its best chunks into `chunks`) → end.
fn kb_search_agent() -> String {
    json!({
        "project": { "_id": "kbp", "name": "KB", "type": "chat", "platform": "webchat", "devVersion": "kbv" },
        "version": { "_id": "kbv", "projectID": "kbp", "rootDiagramID": "D", "variables": ["chunks"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "KB", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": {} } } },
        "programs": {
            "kbv": { "id": "kbv", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "kb" },
                "kb": { "type": "kb-search", "question": "How long is the warranty?", "maxChunks": 2,
                    "variable": "chunks", "nextId": null }
            } }
        }
    })
    .to_string()
}

#[tokio::test]
async fn a_kb_search_step_searches_the_knowledge_base() {
    let kb = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(kb.path().join("kbp")).unwrap();
    std::fs::write(
        kb.path().join("kbp/warranty.md"),
        "# Warranty\n\nThe warranty lasts two years.",
    )
    .unwrap();
    std::fs::write(
        kb.path().join("kbp/shipping.txt"),
        "Parcels ship on Mondays.",
    )
    .unwrap();
    let server = Server::builder()
        .files(&[("kb.vfr", kb_search_agent())])
        .args(&["--kb-dir", &kb.path().display().to_string()])
        .start();
    let u = User::new(&server, "kb-user", "kbv");
    u.act(json!({ "type": "launch" })).await;
    let vars = u.state().await["variables"].clone();
    let chunks: Value = serde_json::from_str(vars["chunks"].as_str().unwrap()).unwrap();
    assert_eq!(chunks.as_array().unwrap().len(), 1, "{chunks}");
    assert_eq!(chunks[0]["source"], "warranty.md");
    assert!(chunks[0]["content"].as_str().unwrap().contains("two years"));
}

#[tokio::test]
async fn synthesis_answers_from_the_chunks_with_the_provider() {
    let stub = crate::support::llm_stub::LlmStub::start();
    stub.reply_when("warranty", "Two years, parts and labour.");
    let server = Server::builder()
        .test_keys_file()
        .args(&[
            "--kb-dir",
            &kb_dir(),
            "--ai-url",
            &stub.base,
            "--allow-outbound",
            "127.0.0.1/32",
        ])
        .start();
    let body = json!({"question": "How long is the warranty on the kettle?", "synthesis": true});
    let r = query(&server, Some(PAY_KEY), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["output"], "Two years, parts and labour.");
    let sent = stub.requests();
    let system = sent[0].body["messages"][0]["content"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        system.contains("two-year"),
        "the chunks are the knowledge: {system}"
    );
    // Not asked: no call.
    let body = json!({"question": "How long is the warranty on the kettle?"});
    assert_eq!(
        query(&server, Some(PAY_KEY), &body).await.json()["output"],
        Value::Null
    );
    assert_eq!(stub.requests().len(), 1);
    // The model finds no answer in the chunks: `null`.
    stub.reply_when("opening hours", "NOT_FOUND");
    let body = json!({"question": "opening hours of the shop", "synthesis": true});
    assert_eq!(
        query(&server, Some(PAY_KEY), &body).await.json()["output"],
        Value::Null
    );
}

#[tokio::test]
async fn with_an_embeddings_provider_the_chunks_are_re_ranked_by_fusion() {
    use crate::support::embeddings_stub::{EmbeddingsStub, Mode};
    let stub = EmbeddingsStub::start();
    let server = Server::builder()
        .test_keys_file()
        .args(&["--kb-dir", &kb_dir()])
        .nlu_provider(&stub.base, "stub-embed-64", None)
        .start();
    let before = stub.requests();
    let body = json!({"question": "How long is the warranty on the kettle?", "chunkLimit": 3});
    let r = query(&server, Some(PAY_KEY), &body).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        stub.requests() > before,
        "the question and candidates were embedded"
    );
    let b = r.json();
    let scores: Vec<f64> = b["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["score"].as_f64().unwrap())
        .collect();
    // Reciprocal rank fusion scores (two terms of at most 1/61 each), not BM25's.
    assert!(
        scores.iter().all(|s| *s > 0.0 && *s <= 2.0 / 61.0 + 1e-9),
        "{scores:?}"
    );
    assert_eq!(b["chunks"][0]["source"], "policies/warranty.html", "{b}");
    // The candidates' embeddings are kept: the same query embeds the question only.
    let after_first = stub.requests();
    query(&server, Some(PAY_KEY), &body).await;
    assert_eq!(stub.requests(), after_first + 1);
    // A failing provider costs the re-ranking only.
    stub.set_mode(Mode::Fail);
    let b = query(&server, Some(PAY_KEY), &body).await.json();
    assert!(
        b["chunks"][0]["score"].as_f64().unwrap() > 1.0,
        "BM25 scores: {b}"
    );
    assert_eq!(b["chunks"][0]["source"], "policies/warranty.html", "{b}");
}
