#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::tests::{ENV, NOW};
use super::*;
use flowdm_engine::effects::{HttpBody, HttpRequest, HttpResponse};
use serde_json::json;
use std::time::Instant;

type Answer = Option<Result<HttpResponse, String>>;

/// Runs `code` with `{inputVars}`; the callback answers the n-th request with `answers[n]`
/// (`None` past the end) and records every request it was asked.
fn run_with(
    code: &str,
    inputs: Value,
    answers: &[Answer],
) -> (Result<FunctionRun, ScriptError>, Vec<HttpRequest>) {
    let mut asked = Vec::new();
    let mut fetch = |request: &HttpRequest| {
        asked.push(request.clone());
        answers.get(asked.len() - 1).cloned().flatten()
    };
    let out = QuickJs.run_function(code, &json!({ "inputVars": inputs }), &ENV, &mut fetch);
    (out, asked)
}

fn run(code: &str) -> Result<FunctionRun, ScriptError> {
    run_with(code, json!({}), &[]).0
}

fn returned(code: &str) -> Value {
    match run(code) {
        Ok(FunctionRun::Returned(v)) => v,
        other => panic!("{other:?}"),
    }
}

fn ok(status: u16, body: &str) -> Answer {
    Some(Ok(HttpResponse {
        status,
        headers: vec![("content-type".into(), "application/json".into())],
        body: body.into(),
    }))
}

fn thrown(code: &str) -> String {
    match run(code) {
        Err(ScriptError::Thrown(m)) => m,
        other => panic!("{other:?}"),
    }
}

#[test]
fn main_returns_its_result() {
    let v = returned(
        "export default async function main(args) {
           return { outputVars: { a: 1 }, next: { path: 'yes' }, trace: [{ type: 'text', payload: { message: 'hi' } }] };
         }",
    );
    assert_eq!(
        v,
        json!({ "outputVars": { "a": 1 }, "next": { "path": "yes" }, "trace": [{ "type": "text", "payload": { "message": "hi" } }] })
    );
    assert_eq!(
        returned("export default function main() { return 5; }"),
        json!(5)
    );
    assert_eq!(
        returned("function main() { return helper() + 1; }\nexport default main;\nconst helper = () => 41;"),
        json!(42)
    );
    assert_eq!(returned("export default async () => {}"), Value::Null);
}

#[test]
fn main_receives_the_input_variables() {
    let (out, _) = run_with(
        "export default async function main(args) { return args.inputVars.name + '!' + typeof Promise; }",
        json!({ "name": "Ada" }),
        &[],
    );
    assert_eq!(out, Ok(FunctionRun::Returned(json!("Ada!function"))));
}

#[test]
fn a_fetch_is_answered_by_the_callback() {
    let code = "export default async function main() {
      const res = await fetch('https://api.example.com/x?q=1', {
        method: 'post', headers: { 'X-Key': 'k', Accept: 'application/json' }, body: JSON.stringify({ a: 1 }),
      });
      const data = await res.json();
      return { data, ok: res.ok, status: res.status, text: res.statusText, url: res.url,
               type: res.headers.get('Content-Type'), has: res.headers.has('CONTENT-TYPE') };
    }";
    let (out, asked) = run_with(code, json!({}), &[ok(200, r#"{"b": [2]}"#)]);
    assert_eq!(
        out,
        Ok(FunctionRun::Returned(json!({
            "data": { "b": [2] }, "ok": true, "status": 200, "text": "OK",
            "url": "https://api.example.com/x?q=1", "type": "application/json", "has": true
        })))
    );
    assert_eq!(
        asked,
        vec![HttpRequest {
            method: "POST".into(),
            url: "https://api.example.com/x?q=1".into(),
            headers: vec![
                ("X-Key".into(), "k".into()),
                ("Accept".into(), "application/json".into())
            ],
            body: HttpBody::Raw(r#"{"a":1}"#.into()),
            policy: flowdm_engine::CallPolicy {
                origin: flowdm_engine::HttpOrigin::Fetch,
                ..flowdm_engine::CallPolicy::default()
            },
        }]
    );
}

const TWO: &str = "export default async function main() {
  const a = await (await fetch('https://a.example/1')).text();
  const b = await (await fetch('https://a.example/' + a, { headers: [['h', 'v']] })).text();
  return a + b;
}";

#[test]
fn an_unanswered_fetch_makes_the_run_wait() {
    let (out, asked) = run_with(TWO, json!({}), &[ok(200, "2")]);
    let second = HttpRequest {
        method: "GET".into(),
        url: "https://a.example/2".into(),
        headers: vec![("h".into(), "v".into())],
        body: HttpBody::None,
        policy: flowdm_engine::CallPolicy {
            origin: flowdm_engine::HttpOrigin::Fetch,
            ..flowdm_engine::CallPolicy::default()
        },
    };
    assert_eq!(out, Ok(FunctionRun::Fetching(second)));
    assert_eq!(asked.len(), 2);
    let (out, _) = run_with(TWO, json!({}), &[ok(200, "2"), ok(200, "b")]);
    assert_eq!(out, Ok(FunctionRun::Returned(json!("2b"))));
}

#[test]
fn a_fetch_not_awaited_is_still_performed() {
    let code = "export default async function main() { fetch('https://log.example/'); return 1; }";
    let (out, _) = run_with(code, json!({}), &[]);
    assert!(
        matches!(&out, Ok(FunctionRun::Fetching(r)) if r.url == "https://log.example/"),
        "{out:?}"
    );
    let (out, _) = run_with(code, json!({}), &[ok(204, "")]);
    assert_eq!(out, Ok(FunctionRun::Returned(json!(1))));
}

#[test]
fn fetch_failures_reject() {
    let code = "export default async function main() {
      try { await fetch('https://down.example/'); return 'no'; }
      catch (e) { return [e.name, e.message, e.cause.message]; }
    }";
    let (out, _) = run_with(code, json!({}), &[Some(Err("connection refused".into()))]);
    assert_eq!(
        out,
        Ok(FunctionRun::Returned(json!([
            "TypeError",
            "fetch failed",
            "connection refused"
        ])))
    );
    let code = "export default async function main() {
      const res = await fetch('https://x.example/');
      let bad;
      try { await res.json(); } catch (e) { bad = e.name; }
      return [res.ok, res.status, res.statusText, bad];
    }";
    let (out, _) = run_with(code, json!({}), &[ok(404, "<html>")]);
    assert_eq!(
        out,
        Ok(FunctionRun::Returned(json!([
            false,
            404,
            "Not Found",
            "SyntaxError"
        ])))
    );
    let code = "export default async function main() {
      try { await fetch('/relative'); } catch (e) { return e.name + ': ' + e.message; }
    }";
    let (out, asked) = run_with(code, json!({}), &[]);
    assert_eq!(
        out,
        Ok(FunctionRun::Returned(json!(
            "TypeError: Failed to parse URL from /relative"
        )))
    );
    assert!(asked.is_empty());
}

#[test]
fn headers_follow_the_standard() {
    let v = returned(
        "export default function main() {
          const h = new Headers({ 'Content-Type': 'text/plain' });
          h.append('X-A', '1'); h.append('x-a', '2'); h.set('Accept', 'a'); h.set('accept', 'b');
          const seen = [];
          h.forEach((v, k) => seen.push(k + '=' + v));
          h.delete('CONTENT-type');
          return [h.get('content-type'), h.get('X-A'), h.has('ACCEPT'), seen, [...h.keys()], [...new Headers(h)].length];
        }",
    );
    assert_eq!(
        v,
        json!([
            null,
            "1, 2",
            true,
            ["accept=b", "content-type=text/plain", "x-a=1, 2"],
            ["accept", "x-a"],
            2
        ])
    );
}

#[test]
fn errors_limits_and_modules() {
    assert_eq!(
        thrown("export default async function main() { throw new Error('boom'); }"),
        "Error: boom"
    );
    assert_eq!(
        thrown("export default function main() { throw new Error('boom'); }"),
        "Error: boom"
    );
    assert!(thrown("export const x = 1;").contains("no default export function"));
    assert!(thrown("export default async function main( {").starts_with("SyntaxError"));
    assert!(
        thrown("export default async () => { await new Promise(() => {}); }")
            .contains("never finished")
    );
    let m = thrown("import x from 'lodash';\nexport default () => x;");
    assert!(m.contains("lodash"), "{m}");
    let m = thrown("export default async () => { await import('fs'); }");
    assert!(m.contains("fs"), "{m}");
    let start = Instant::now();
    let e = run("export default async function main() { await 0; while (true) {} }").unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("time")),
        "{e:?}"
    );
    assert!(start.elapsed().as_secs_f64() < 2.5);
    let e = run(
        "export default () => { const a = []; while (true) a.push('x'.repeat(1000) + a.length); }",
    )
    .unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("memory")),
        "{e:?}"
    );
    assert_eq!(returned("export default () => 7"), json!(7));
}

#[test]
fn the_clock_and_random_are_the_turns() {
    let code =
        "export default () => [Date.now(), new Date().getTime(), Math.random(), Math.random()]";
    let draw = |seed| {
        let env = ScriptEnv {
            now_ms: NOW,
            seed,
            budget_ms: None,
        };
        let mut fetch = |_: &HttpRequest| None;
        match QuickJs.run_function(code, &json!({}), &env, &mut fetch) {
            Ok(FunctionRun::Returned(v)) => v,
            other => panic!("{other:?}"),
        }
    };
    let a = draw(7);
    assert_eq!(a[0], json!(NOW));
    assert_eq!(a[1], json!(NOW));
    assert_eq!(a, draw(7));
    assert_ne!(a, draw(8));
}

#[test]
fn code_steps_see_nothing_of_a_function_run() {
    returned("globalThis.leak = 1; Array.prototype.evil = 1; export default () => 1;");
    let vars = Vars::new();
    assert_eq!(
        QuickJs.eval_expression(
            "[typeof fetch, typeof leak, typeof [].evil, Promise, typeof console]",
            &vars,
            &ENV
        ),
        Ok(json!([
            "undefined",
            "undefined",
            "undefined",
            null,
            "undefined"
        ]))
    );
    let out = QuickJs
        .run_code("n = typeof Headers;", &vars_n(), false, &ENV)
        .unwrap();
    assert_eq!(out.variables.get("n"), Some(&json!("undefined")));
    // And the module of the previous run is gone: the same code runs again.
    assert_eq!(returned("export default () => 1;"), json!(1));
}

fn vars_n() -> Vars {
    let mut v = Vars::new();
    v.insert("n".into(), json!(0));
    v
}

#[test]
fn requests_are_bounded() {
    let e = run("export default async () => { for (let i = 0; i < 100; i++) fetch('https://x.example/' + i); }")
        .unwrap_err();
    assert!(
        matches!(&e, ScriptError::Limit(m) if m.contains("64 requests")),
        "{e:?}"
    );
    assert_eq!(
        thrown("export default async () => { await fetch('https://x.example/', { body: 'x' }); }"),
        "TypeError: Request with GET/HEAD method cannot have body."
    );
}

#[test]
fn fetches_before_a_throw_or_at_the_top_level_are_performed() {
    let code = "fetch('https://log.example/a');\nexport default () => { throw new Error('late'); }";
    let (out, _) = run_with(code, json!({}), &[]);
    assert!(
        matches!(&out, Ok(FunctionRun::Fetching(r)) if r.url.ends_with("/a")),
        "{out:?}"
    );
    let (out, _) = run_with(code, json!({}), &[ok(200, "")]);
    assert_eq!(out, Err(ScriptError::Thrown("Error: late".into())));
    let code = "const config = await (await fetch('https://cfg.example/')).json();\n\
                export default () => config.v;";
    let (out, _) = run_with(code, json!({}), &[ok(200, r#"{"v": 3}"#)]);
    assert_eq!(out, Ok(FunctionRun::Returned(json!(3))));
}

#[test]
fn contexts_do_not_pile_up() {
    for i in 0..300 {
        let code =
            format!("const big = new Array(20000).fill({i}); export default () => big.length;");
        assert_eq!(returned(&code), json!(20000), "run {i}");
    }
}
