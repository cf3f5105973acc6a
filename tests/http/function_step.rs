//! The function step over HTTP: the function's `fetch` goes out through the SSRF guard (to a
//! local test server on 127.0.0.1, allowed with `--allow-outbound`), the function runs again
//! with the answer, and its output variables, traces and path all land in one interact answer.

use crate::api_step::api_stub;
use crate::support::server::*;
use serde_json::{json, Value};

const CODE: &str = r#"
export default async function main(args) {
  const { base, query } = args.inputVars;
  try {
    const res = await fetch(`${base}/movies?q=${encodeURIComponent(query)}`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ query }),
    });
    const movie = await res.json();
    return {
      outputVars: { title: movie.title },
      next: { path: 'found' },
      trace: [{ type: 'poster', payload: { year: movie.year } }],
    };
  } catch (error) {
    return { outputVars: { error: error.message }, next: { path: 'error' } };
  }
}
"#;

/// A runtime export whose launch runs the movie function against `{base}`.
fn movie_agent(base: &str) -> String {
    let text = |msg: &str| json!({ "type": "text", "texts": [ { "id": "t", "content": [ { "children": [ { "text": msg } ] } ] } ], "nextId": null });
    json!({
        "project": { "_id": "fnp", "name": "Movies", "type": "chat", "platform": "webchat", "devVersion": "fnv" },
        "version": { "_id": "fnv", "projectID": "fnp", "rootDiagramID": "D", "variables": ["query", "title", "error"],
            "platformData": { "settings": {} },
            "prototype": { "type": "chat", "platform": "webchat", "data": { "name": "Movies", "locales": ["en-US"] },
                "model": { "intents": [], "slots": [] }, "context": { "variables": { "query": "Alien" } },
                "surveyorContext": { "functionDefinitions": { "F": {
                    "code": CODE,
                    "inputVars": { "base": { "type": "string" }, "query": { "type": "string" } },
                    "outputVars": { "title": { "type": "string" }, "error": { "type": "string" } },
                    "pathCodes": ["found", "error"] } } } } },
        "programs": {
            "fnv": { "id": "fnv", "startId": "", "lines": {}, "commands": [], "variables": [] },
            "D": { "id": "D", "name": "Home", "startId": "start", "commands": [], "variables": [], "lines": {
                "start": { "type": "start", "nextId": "fn" },
                "fn": { "type": "function", "data": { "definition": { "functionId": "F" }, "invocation": {
                    "inputVars": { "base": base, "query": "{query}" },
                    "outputVars": { "title": "title", "error": "error" },
                    "paths": { "found": "ok", "error": "err", "__vf__default": null } } } },
                "ok": text("Found {title}."),
                "err": text("The lookup failed: {error}.")
            } }
        }
    })
    .to_string()
}

#[tokio::test]
async fn a_function_fetches_through_the_guard_and_the_turn_goes_on() {
    let (base, seen) = api_stub(
        json!({ "title": "Alien", "year": 1979 }),
        Default::default(),
    )
    .await;
    let server = Server::builder()
        .files(&[("movies.vfr", movie_agent(&base))])
        .args(&["--allow-outbound", "127.0.0.1/32"])
        .start();
    let u = User::new(&server, "fn-user", "fnv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["Found Alien."], "{t}");
    let poster: Vec<&Value> = t
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "poster")
        .collect();
    assert_eq!(poster.len(), 1, "{t}");
    assert_eq!(poster[0]["payload"], json!({ "year": 1979 }));
    assert_eq!(u.state().await["variables"]["title"], json!("Alien"));
    let requests = seen.lock().unwrap().clone();
    assert_eq!(
        requests.len(),
        1,
        "one call, however often the function ran: {requests:?}"
    );
    let r = &requests[0];
    assert!(r.starts_with("POST /movies?q=Alien HTTP/1.1"), "{r}");
    assert!(r.ends_with(r#"{"query":"Alien"}"#), "{r}");
}

#[tokio::test]
async fn without_the_allow_list_the_fetch_fails_inside_the_function() {
    let (base, seen) = api_stub(json!({ "title": "Alien" }), Default::default()).await;
    let server = Server::builder()
        .files(&[("movies.vfr", movie_agent(&base))])
        .start();
    let u = User::new(&server, "fn-refused", "fnv");
    let t = u.act(json!({ "type": "launch" })).await;
    assert_eq!(messages(&t), ["The lookup failed: fetch failed."], "{t}");
    assert!(
        seen.lock().unwrap().is_empty(),
        "a refused address was contacted"
    );
}
