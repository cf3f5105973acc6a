//! The JavaScript sandbox (`cargo bench -p flowdm-actions --bench sandbox`): an ifV2 condition,
//! setV2 assignments and a 20-line code step, each over the same 12 variables, and a function
//! step without and with one (answered) `fetch`; all warm (the thread's runtime exists; a
//! function step still creates its own context).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use criterion::{criterion_group, criterion_main, Criterion};
use flowdm_actions::sandbox::QuickJs;
use flowdm_engine::effects::{HttpRequest, HttpResponse};
use flowdm_engine::state::Vars;
use flowdm_engine::{FunctionRun, Sandbox, ScriptEnv};
use serde_json::{json, Value};

const ENV: ScriptEnv = ScriptEnv {
    now_ms: 1_709_649_000_000,
    seed: 1,
    budget_ms: None,
};

const CODE: &str = r#"
const items = cart.items;
let total = 0;
const names = [];
for (const item of items) {
  total += item.price * item.qty;
  names.push(item.name);
}
if (total > 100) {
  discount = 0.1;
} else {
  discount = 0;
}
total = total * (1 - discount);
summary = names.join(', ');
count = count + 1;
last_intent = 'checkout';
const parts = user_name.split(' ');
first_name = parts[0];
greeting = 'Hello ' + first_name + '!';
order_total = Math.round(total * 100) / 100;
flag = order_total > 50 && count < 10;
score = Math.max(score, order_total);
"#;

const FUNCTION: &str = r#"
export default async function main(args) {
  const { name, count } = args.inputVars;
  const greeting = `Hello ${name}!`;
  return {
    outputVars: { greeting, count: count + 1 },
    next: { path: count > 2 ? 'many' : 'few' },
    trace: [{ type: 'text', payload: { message: greeting } }],
  };
}
"#;

const FUNCTION_FETCH: &str = r#"
export default async function main(args) {
  const res = await fetch('https://api.example.com/users/' + args.inputVars.id, {
    headers: { Accept: 'application/json' },
  });
  const user = await res.json();
  return { outputVars: { name: user.name, ok: res.ok }, next: { path: 'found' }, trace: [] };
}
"#;

fn vars() -> Vars {
    let v = json!({
        "user_name": "Ada Lovelace", "count": 3, "score": 72.5, "last_intent": "browse",
        "cart": { "items": [ { "name": "tea", "price": 12.5, "qty": 2 }, { "name": "cups", "price": 40, "qty": 3 } ] },
        "discount": 0, "summary": "", "first_name": "", "greeting": "", "order_total": 0,
        "flag": false, "locale": "en-US"
    });
    match v {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn bench_sandbox(c: &mut Criterion, name: &str, sandbox: &dyn Sandbox) {
    let vars = vars();
    let sets = vec![
        ("score".to_string(), "score + 10".to_string()),
        ("greeting".to_string(), "'Hi ' + user_name".to_string()),
    ];
    c.bench_function(&format!("{name}/ifV2"), |b| {
        b.iter(|| {
            sandbox
                .eval_expression("count > 2 && last_intent === 'browse'", &vars, &ENV)
                .unwrap()
        })
    });
    c.bench_function(&format!("{name}/setV2"), |b| {
        b.iter(|| sandbox.run_sets(&sets, &vars, &ENV).unwrap())
    });
    // The commonest setV2 of real agents: a literal (answered without entering QuickJS).
    let literal = vec![("amount".to_string(), "25".to_string())];
    c.bench_function(&format!("{name}/setV2_literal"), |b| {
        b.iter(|| sandbox.run_sets(&literal, &vars, &ENV).unwrap())
    });
    c.bench_function(&format!("{name}/code20"), |b| {
        b.iter(|| sandbox.run_code(CODE, &vars, false, &ENV).unwrap())
    });
}

fn bench_function(c: &mut Criterion, name: &str, sandbox: &dyn Sandbox) {
    let args = json!({ "inputVars": { "name": "Ada", "count": 3, "id": 7 } });
    let answer = HttpResponse {
        status: 200,
        headers: vec![("content-type".into(), "application/json".into())],
        body: r#"{"id": 7, "name": "Ada Lovelace", "email": "ada@example.com"}"#.into(),
    };
    let mut none = |_: &HttpRequest| None;
    let mut answered = |_: &HttpRequest| Some(Ok(answer.clone()));
    for (code, fetch, label) in [
        (
            FUNCTION,
            &mut none as &mut flowdm_engine::Fetch<'_>,
            "function",
        ),
        (FUNCTION_FETCH, &mut answered, "function_fetch"),
    ] {
        c.bench_function(&format!("{name}/{label}"), |b| {
            b.iter(|| {
                let out = sandbox.run_function(code, &args, &ENV, fetch).unwrap();
                assert!(matches!(out, FunctionRun::Returned(_)));
            })
        });
    }
}

fn sandboxes(c: &mut Criterion) {
    bench_sandbox(c, "quickjs", &QuickJs);
    bench_function(c, "quickjs", &QuickJs);
}

criterion_group!(benches, sandboxes);
criterion_main!(benches);
