//! The function step (§5.6.24) on the sans-IO turn: the function's code runs in the real
//! QuickJS sandbox; each `fetch` stops the turn with an HTTP effect the test answers (no
//! network), and the function runs again from the start with the answers so far.

use crate::common::*;
use flowdm_engine::{Effect, EffectResult, HttpBody, HttpResponse};
use serde_json::{json, Value};

const VARIABLES: &[&str] = &[
    "query",
    "title",
    "year",
    "error",
    "sessions",
    "user_id",
    "timestamp",
    "last_response",
    "last_utterance",
    "last_event",
    "intent_confidence",
];

/// An agent whose `fn` step runs `code` (function `F`, paths `found`/`missing`/`error` unless
/// `paths` says otherwise) and then says which path it took.
fn function_agent(code: &str, paths: Value, outputs: Value) -> Session {
    Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "set" },
            "set": { "type": "setV2", "sets": [ { "variable": "query", "expression": "' Alien '", "type": "value" } ], "nextId": "fn" },
            "fn": { "type": "function", "data": {
                "definition": { "functionId": "F" },
                "invocation": {
                    "inputVars": { "query": "{query}", "year": "1979" },
                    "outputVars": { "title": "title", "year": "year", "error": "error" },
                    "paths": { "found": "found", "missing": "missing", "error": "failed", "__vf__default": "default" }
                } } },
            "found": text_node("Found {title} ({year}).", None),
            "missing": text_node("Nothing for {query}.", None),
            "failed": text_node("The lookup failed: {error}", None),
            "default": text_node("Default path.", None),
            "yes": text_node("You said yes.", None),
        }),
        json!({
            "variables": VARIABLES,
            "functions": { "F": {
                "code": code,
                "inputVars": { "query": { "type": "string" }, "year": { "type": "string" } },
                "outputVars": outputs,
                "pathCodes": paths,
            } },
        }),
    ))
    .with_config(json!({ "excludeTypes": ["block", "flow"] }))
}

fn default_outputs() -> Value {
    json!({ "title": { "type": "string" }, "year": { "type": "string" }, "error": { "type": "string" } })
}

fn movie_agent(code: &str) -> Session {
    function_agent(
        code,
        json!(["found", "missing", "error"]),
        default_outputs(),
    )
}

fn http(status: u16, body: &str) -> EffectResult {
    EffectResult::Http(Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }))
}

const MOVIES: &str = r#"
export default async function main(args) {
  const { query } = args.inputVars;
  try {
    const res = await fetch(`https://api.example.com/movies?q=${encodeURIComponent(query.trim())}`, {
      method: 'post', headers: { Authorization: 'Bearer k' }, body: JSON.stringify({ year: args.inputVars.year }),
    });
    if (!res.ok) return { next: { path: 'missing' } };
    const movie = await res.json();
    return {
      outputVars: { title: movie.title, year: movie.year },
      next: { path: 'found' },
      trace: [
        { type: 'text', payload: { message: `Looked up ${query.trim()}` } },
        { type: 'movie_card', payload: { poster: movie.poster } },
      ],
    };
  } catch (e) {
    return { outputVars: { error: e.message }, next: { path: 'error' } };
  }
}
"#;

#[test]
fn a_fetch_is_an_effect_and_the_function_goes_on_with_its_answer() {
    let mut s = movie_agent(MOVIES);
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        http(
            200,
            r#"{"title": "Alien", "year": 1979, "poster": "a.png"}"#,
        )
    });
    assert_eq!(effects.len(), 1);
    let Effect::Http(req) = &effects[0] else {
        panic!("not an HTTP effect")
    };
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "https://api.example.com/movies?q=Alien");
    assert_eq!(
        req.headers,
        vec![("Authorization".to_string(), "Bearer k".to_string())]
    );
    assert_eq!(req.body, HttpBody::Raw(r#"{"year":"1979"}"#.into()));
    let shown: Vec<&Value> = traces
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] != "debug")
        .collect();
    assert_eq!(shown[0]["type"], "text");
    assert_eq!(shown[0]["payload"]["message"], "Looked up Alien");
    assert_eq!(
        shown[0]["payload"]["slate"]["content"][0]["children"][0]["text"],
        "Looked up Alien"
    );
    assert_eq!(
        shown[1],
        &json!({ "type": "movie_card", "payload": { "poster": "a.png" } })
    );
    assert_eq!(shown[2]["payload"]["message"], "Found Alien (1979).");
    assert_eq!(s.var("title"), Some(&json!("Alien")));
    assert_eq!(s.var("year"), Some(&json!(1979)));
    // A declared output the function did not return is `undefined`: the variable goes.
    assert_eq!(s.var("error"), None);
}

#[test]
fn the_function_s_paths_follow_its_answers() {
    let mut s = movie_agent(MOVIES);
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| http(404, "{}"));
    assert_eq!(messages(&traces), ["Nothing for  Alien ."]);

    let mut s = movie_agent(MOVIES);
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| {
        EffectResult::Http(Err("refused: 10.0.0.1 is a private address".into()))
    });
    assert_eq!(messages(&traces), ["The lookup failed: fetch failed"]);

    let mut s = movie_agent(MOVIES);
    let (traces, _) = s.turn_with_effects(json!({ "type": "launch" }), |_| http(200, "not json"));
    let said = messages(&traces);
    assert!(said[0].starts_with("The lookup failed: "), "{said:?}");
}

#[test]
fn each_fetch_in_turn_then_one_run_with_every_answer() {
    let code = r#"
export default async function main({ inputVars }) {
  const search = await (await fetch('https://api.example.com/search?q=' + inputVars.year)).json();
  const detail = await (await fetch('https://api.example.com/movies/' + search.id)).json();
  return { outputVars: { title: detail.title, year: inputVars.year }, next: { path: 'found' } };
}"#;
    let mut s = movie_agent(code);
    let (traces, effects) = s.turn_with_effects(json!({ "type": "launch" }), |e| {
        let Effect::Http(r) = e else {
            panic!("not an HTTP effect")
        };
        if r.url.contains("search") {
            http(200, r#"{"id": 42}"#)
        } else {
            http(200, r#"{"title": "Alien"}"#)
        }
    });
    let urls: Vec<&str> = effects
        .iter()
        .map(|e| {
            let Effect::Http(r) = e else {
                panic!("not an HTTP effect")
            };
            r.url.as_str()
        })
        .collect();
    assert_eq!(
        urls,
        [
            "https://api.example.com/search?q=1979",
            "https://api.example.com/movies/42"
        ]
    );
    assert_eq!(messages(&traces), ["Found Alien (1979)."]);
}

#[test]
fn listen_waits_for_the_next_request_and_matches_it() {
    let code = r#"
export default function main() {
  return {
    trace: [{ type: 'choice', payload: { buttons: [{ name: 'Yes', request: { type: 'yes' } }] } }],
    next: { listen: true, to: [
      { on: { 'event.type': 'yes' }, dest: 'found' },
      // Typed text reaches the step as the NLU's intent request, its words in payload.query.
      { on: { 'event.payload.query': { $regex: '^no', $options: 'i' } }, dest: { type: 'path', path: 'missing' } },
    ], defaultTo: 'error' },
  };
}"#;
    let listening = || {
        let mut s = movie_agent(code);
        let traces = s.turn(json!({ "type": "launch" }));
        let choice = traces
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["type"] == "choice")
            .cloned()
            .unwrap();
        // A choice trace passes as the function gave it (the reference adapts no choice).
        assert_eq!(
            choice["payload"],
            json!({ "buttons": [{ "name": "Yes", "request": { "type": "yes" } }] })
        );
        assert!(messages(&traces).is_empty(), "{traces}");
        s
    };
    let mut s = listening();
    let traces = s.turn(json!({ "type": "yes" }));
    assert_eq!(messages(&traces), ["Found 0 (0)."]);
    assert_eq!(
        s.state.storage["__vf_internal_function_conditional_transfers__"],
        Value::Null
    );

    let mut s = listening();
    let traces = s.turn(json!({ "type": "text", "payload": "No thanks" }));
    assert_eq!(messages(&traces), ["Nothing for  Alien ."]);

    let mut s = listening();
    let traces = s.turn(json!({ "type": "intent", "payload": { "intent": { "name": "x" } } }));
    assert_eq!(messages(&traces), ["The lookup failed: 0"]);
}

/// The debug message of a failed function step, and that the flow ended there.
fn failure(code: &str, paths: Value) -> String {
    let mut s = function_agent(code, paths, default_outputs());
    let traces = s.turn(json!({ "type": "launch" }));
    assert!(messages(&traces).is_empty(), "the flow went on: {traces}");
    traces
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["payload"]["message"].as_str())
        .find(|m| m.starts_with("[ERROR]: Encountered an error in a Function step."))
        .unwrap_or_else(|| panic!("no error trace: {traces}"))
        .to_string()
}

#[test]
fn what_a_function_may_return_is_checked_before_anything_applies() {
    let paths = || json!(["found"]);
    let cases = [
        (
            "export default () => ({ next: { path: 'elsewhere' } })",
            "invalid path 'elsewhere'",
        ),
        (
            "export default () => ({ outputVars: { title: {} } })",
            "plain data values",
        ),
        (
            "export default () => ({ nextt: { path: 'found' } })",
            "Unrecognized key(s) in object: 'nextt'",
        ),
        ("export default () => 42", "must return an object"),
        (
            "export default () => ({ trace: [{ type: 'text', payload: {} }] })",
            "'text' trace",
        ),
        (
            "export default () => ({ next: { listen: true, to: [] } })",
            "a next command must be",
        ),
        (
            "export default async () => { throw new Error('boom') }",
            "uncaught exception: Error: boom",
        ),
        ("export default () => { for (;;) {} }", "time"),
        (
            "export default () => ({ next: { path: 'found' } }",
            "SyntaxError",
        ),
        ("const x = 1;", "default export"),
    ];
    for (code, expected) in cases {
        let message = failure(code, paths());
        assert!(message.contains(expected), "{code}: {message}");
    }
}

#[test]
fn a_missing_definition_or_input_is_reported() {
    let mut s = Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "fn" },
            "fn": { "type": "function", "data": { "definition": { "functionId": "nope" }, "invocation": { "inputVars": {}, "outputVars": {}, "paths": {} } } },
        }),
        json!({}),
    ))
    .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert!(
        traces.to_string().contains("definition was not found"),
        "{traces}"
    );

    // A declared input the step does not give.
    let code = "export default () => ({})";
    let mut s = Session::new(agent(
        json!({
            "start": { "type": "start", "nextId": "fn" },
            "fn": { "type": "function", "data": { "definition": { "functionId": "F" }, "invocation": { "inputVars": {}, "outputVars": {}, "paths": {} } } },
        }),
        json!({ "functions": { "F": { "code": code, "inputVars": { "city": { "type": "string" } }, "outputVars": {}, "pathCodes": [] } } }),
    ))
    .with_config(json!({ "excludeTypes": ["block", "flow"] }));
    let traces = s.turn(json!({ "type": "launch" }));
    assert!(
        traces
            .to_string()
            .contains("missing input value for required variable 'city'"),
        "{traces}"
    );
}

#[test]
fn without_path_codes_the_default_path_is_taken() {
    let mut s = function_agent(
        "export default async () => ({ outputVars: { title: 'T' } })",
        json!([]),
        json!({ "title": { "type": "string" } }),
    );
    let traces = s.turn(json!({ "type": "launch" }));
    assert_eq!(messages(&traces), ["Default path."]);
    assert_eq!(s.var("title"), Some(&json!("T")));
}
