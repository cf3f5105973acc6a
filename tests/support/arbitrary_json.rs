//! Strategies for the property tests (`docs/property-tests.md`): arbitrary JSON biased toward the
//! shapes the DM API and the creator exports really use, and the bounded configuration every
//! property test runs with. Shared by the root tests (`tests/support/mod.rs`) and the crates'
//! tests (`#[path]`); it needs only `proptest` and `serde_json`.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use serde_json::{Map, Number, Value};

/// A property test's configuration: `cases` cases (`PROPTEST_CASES` overrides it for deeper
/// local runs), a bounded shrink, failures recorded in `proptest-regressions/` beside the test.
pub fn bounded(cases: u32) -> Config {
    let from_env = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse::<u32>().ok());
    Config {
        cases: from_env.unwrap_or(cases),
        max_shrink_iters: 512,
        max_shrink_time: 20_000,
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Keys of the DM API bodies, states and creator exports, and a few dangerous ones.
pub const KEYS: &[&str] = &[
    "type",
    "payload",
    "action",
    "request",
    "config",
    "state",
    "variables",
    "stack",
    "storage",
    "diagramID",
    "programID",
    "nodeID",
    "blockID",
    "commands",
    "tts",
    "stripSSML",
    "stopAll",
    "stopTypes",
    "excludeTypes",
    "selfDelegate",
    "stopDeadline",
    "seconds",
    "path",
    "intent",
    "name",
    "query",
    "entities",
    "label",
    "actions",
    "confidence",
    "session",
    "sessionID",
    "userID",
    "os",
    "device",
    "browser",
    "user",
    "unread",
    "image",
    "value",
    "id",
    "turn",
    "data",
    "text",
    "__proto__",
    "constructor",
    "",
];

/// Request types the runtime knows, and a few it does not.
pub const TYPES: &[&str] = &[
    "launch",
    "text",
    "intent",
    "event",
    "no-reply",
    "path-64a1b0000000000000000001",
    "path-",
    "success",
    "fail",
    "complete",
    "cancel",
    "goto",
    "end",
    "tick",
    "ä",
    "{name}",
];

/// Strings: short words, placeholders, ids, unicode (RTL, emoji, control characters).
pub fn string() -> BoxedStrategy<String> {
    prop_oneof![
        3 => "[a-z]{0,8}",
        2 => prop::sample::select(TYPES).prop_map(str::to_string),
        1 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => "\\{[a-z_]{1,6}\\}",
        1 => "\\{\\{\\[[a-z]{1,5}\\]\\.[a-z0-9]{1,5}\\}\\}",
        1 => "[0-9a-f]{24}",
        2 => any::<String>(),
        1 => "[\\u{0}-\\u{1f}\\u{7f}\\u{202e}\\u{200f}\\u{fe0f}\\u{1f600}-\\u{1f64f}\\u{5d0}-\\u{5ea}]{0,6}",
    ]
    .boxed()
}

/// A JSON number: small integers, any integer, any finite float.
pub fn number() -> BoxedStrategy<Value> {
    prop_oneof![
        3 => (-5i64..100).prop_map(Value::from),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        2 => any::<f64>().prop_map(|f| Number::from_f64(f).map_or(Value::Null, Value::Number)),
    ]
    .boxed()
}

pub fn leaf() -> BoxedStrategy<Value> {
    prop_oneof![
        1 => Just(Value::Null),
        1 => any::<bool>().prop_map(Value::Bool),
        2 => number(),
        3 => string().prop_map(Value::String),
    ]
    .boxed()
}

/// An object key: mostly a real one.
pub fn key() -> BoxedStrategy<String> {
    prop_oneof![
        3 => prop::sample::select(KEYS).prop_map(str::to_string),
        1 => string(),
    ]
    .boxed()
}

/// Any JSON value, nested up to `depth` levels.
pub fn json(depth: u32) -> BoxedStrategy<Value> {
    leaf()
        .prop_recursive(depth, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                prop::collection::vec((key(), inner), 0..6)
                    .prop_map(|kv| Value::Object(kv.into_iter().collect())),
            ]
        })
        .boxed()
}

/// Builds an object from optional fields (absent ones skipped) plus random extra keys.
fn object(fields: Vec<(&'static str, Option<Value>)>, extra: Vec<(String, Value)>) -> Value {
    let mut m: Map<String, Value> = fields
        .into_iter()
        .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
        .collect();
    for (k, v) in extra {
        m.insert(k, v);
    }
    Value::Object(m)
}

/// A field that is usually absent, sometimes `v`, sometimes anything.
fn maybe(v: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![
        2 => Just(None),
        4 => v.prop_map(Some),
        1 => json(2).prop_map(Some),
    ]
    .boxed()
}

fn few_extra() -> BoxedStrategy<Vec<(String, Value)>> {
    prop_oneof![
        4 => Just(Vec::new()),
        1 => prop::collection::vec((key(), json(2)), 0..3),
    ]
    .boxed()
}

/// An action (request) object: a known or random `type`, a random `payload`.
pub fn action() -> BoxedStrategy<Value> {
    let ty = prop_oneof![
        5 => prop::sample::select(TYPES).prop_map(Value::from),
        1 => leaf(),
    ];
    let payload = prop_oneof![
        2 => string().prop_map(Value::String),
        2 => (string(), string(), json(2)).prop_map(|(name, query, entities)| {
            serde_json::json!({"intent": {"name": name}, "query": query, "entities": entities})
        }),
        1 => (string(), json(1)).prop_map(|(label, actions)| {
            serde_json::json!({"label": label, "actions": actions})
        }),
        2 => json(3),
    ];
    (
        maybe(ty.boxed()),
        maybe(payload.boxed()),
        maybe(string().prop_map(Value::String).boxed()),
        few_extra(),
    )
        .prop_map(|(ty, payload, diagram, extra)| {
            object(
                vec![("type", ty), ("payload", payload), ("diagramID", diagram)],
                extra,
            )
        })
        .boxed()
}

/// A `config` object with its known keys, well or badly typed.
pub fn config() -> BoxedStrategy<Value> {
    let flag =
        || maybe(prop_oneof![any::<bool>().prop_map(Value::Bool), Just(Value::Null)].boxed());
    let list = || {
        maybe(
            prop::collection::vec(
                prop_oneof![5 => string().prop_map(Value::String), 1 => leaf()],
                0..4,
            )
            .prop_map(Value::Array)
            .boxed(),
        )
    };
    let deadline = maybe(
        (
            maybe(number()),
            maybe(string().prop_map(Value::String).boxed()),
        )
            .prop_map(|(s, p)| object(vec![("seconds", s), ("path", p)], Vec::new()))
            .boxed(),
    );
    (
        (flag(), flag(), flag(), flag()),
        (list(), list()),
        deadline,
        few_extra(),
    )
        .prop_map(
            |((tts, strip, all, delegate), (stop, exclude), deadline, extra)| {
                object(
                    vec![
                        ("tts", tts),
                        ("stripSSML", strip),
                        ("stopAll", all),
                        ("selfDelegate", delegate),
                        ("stopTypes", stop),
                        ("excludeTypes", exclude),
                        ("stopDeadline", deadline),
                    ],
                    extra,
                )
            },
        )
        .boxed()
}

/// A flat object of variables.
pub fn variables() -> BoxedStrategy<Value> {
    prop::collection::vec(
        (prop_oneof![3 => "[a-z_]{1,8}", 1 => string()], json(2)),
        0..5,
    )
    .prop_map(|kv| Value::Object(kv.into_iter().collect()))
    .boxed()
}

/// A stack frame: `diagramID` (real ids of the example agents or random), `nodeID`, stores.
pub fn frame(diagram_ids: &'static [&'static str]) -> BoxedStrategy<Value> {
    let diagram = prop_oneof![
        3 => prop::sample::select(diagram_ids).prop_map(Value::from),
        1 => string().prop_map(Value::String),
    ];
    let node = prop_oneof![
        2 => "[0-9a-f]{24}".prop_map(Value::String),
        1 => Just(Value::Null),
        1 => string().prop_map(Value::String),
    ];
    let commands = prop::collection::vec(
        (
            maybe(prop::sample::select(TYPES).prop_map(Value::from).boxed()),
            few_extra(),
        )
            .prop_map(|(ty, extra)| object(vec![("type", ty)], extra)),
        0..3,
    )
    .prop_map(Value::Array);
    (
        maybe(diagram.boxed()),
        maybe(node.boxed()),
        maybe(variables()),
        maybe(variables()),
        maybe(commands.boxed()),
        few_extra(),
    )
        .prop_map(|(d, n, storage, vars, commands, extra)| {
            object(
                vec![
                    ("diagramID", d),
                    ("nodeID", n),
                    ("storage", storage),
                    ("variables", vars),
                    ("commands", commands),
                ],
                extra,
            )
        })
        .boxed()
}

/// A whole state `{stack, storage, variables}`, well or badly shaped.
pub fn state(diagram_ids: &'static [&'static str]) -> BoxedStrategy<Value> {
    (
        maybe(
            prop::collection::vec(frame(diagram_ids), 0..3)
                .prop_map(Value::Array)
                .boxed(),
        ),
        maybe(variables()),
        maybe(variables()),
        few_extra(),
    )
        .prop_map(|(stack, storage, vars, extra)| {
            object(
                vec![("stack", stack), ("storage", storage), ("variables", vars)],
                extra,
            )
        })
        .boxed()
}

/// An interact body: `{action?, request?, config?, state?, variables?}`, or anything at all.
pub fn turn_body(diagram_ids: &'static [&'static str]) -> BoxedStrategy<Value> {
    let shaped = (
        maybe(action()),
        maybe(action()),
        maybe(config()),
        maybe(state(diagram_ids)),
        maybe(variables()),
        few_extra(),
    )
        .prop_map(|(a, r, c, s, v, extra)| {
            object(
                vec![
                    ("action", a),
                    ("request", r),
                    ("config", c),
                    ("state", s),
                    ("variables", v),
                ],
                extra,
            )
        });
    prop_oneof![
        6 => shaped,
        1 => json(3),
    ]
    .boxed()
}

/// A request the validators accept: a known `type`, a payload of the usual shapes.
pub fn good_action() -> BoxedStrategy<Value> {
    let payload = prop_oneof![
        1 => Just(None),
        2 => string().prop_map(|s| Some(Value::String(s))),
        2 => (string(), string()).prop_map(|(name, query)| {
            Some(serde_json::json!({"intent": {"name": name}, "query": query, "entities": []}))
        }),
        1 => (string(), json(1)).prop_map(|(label, actions)| {
            Some(serde_json::json!({"label": label, "actions": actions}))
        }),
        1 => json(2).prop_map(Some),
    ];
    (prop::sample::select(TYPES), payload)
        .prop_map(|(ty, payload)| {
            object(
                vec![("type", Some(Value::from(ty))), ("payload", payload)],
                Vec::new(),
            )
        })
        .boxed()
}

/// A `config` the validators accept.
pub fn good_config() -> BoxedStrategy<Value> {
    let flag = || prop::option::of(any::<bool>().prop_map(Value::Bool));
    let list = || {
        prop::option::of(
            prop::collection::vec(prop::sample::select(TYPES).prop_map(Value::from), 0..3)
                .prop_map(Value::Array),
        )
    };
    (flag(), flag(), flag(), list(), list())
        .prop_map(|(tts, strip, all, stop, exclude)| {
            object(
                vec![
                    ("tts", tts),
                    ("stripSSML", strip),
                    ("stopAll", all),
                    ("stopTypes", stop),
                    ("excludeTypes", exclude),
                ],
                Vec::new(),
            )
        })
        .boxed()
}

/// An interact body the validators mostly accept, with only the keys in `keys`: `action`,
/// `config`, `variables`, `state` (`{variables}`).
pub fn good_turn_body(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    (
        prop::option::of(good_action()),
        prop::option::of(good_config()),
        prop::option::of(variables()),
        prop::option::of(variables().prop_map(|v| serde_json::json!({ "variables": v }))),
    )
        .prop_map(move |(a, c, v, s)| {
            let fields = vec![("action", a), ("config", c), ("variables", v), ("state", s)];
            object(
                fields
                    .into_iter()
                    .filter(|(k, _)| keys.contains(k))
                    .collect(),
                Vec::new(),
            )
        })
        .boxed()
}

/// A state `PUT /state/user/{userID}` accepts: frames on real or random diagrams, at real-looking
/// or random nodes, with random stores.
pub fn good_state(diagram_ids: &'static [&'static str]) -> BoxedStrategy<Value> {
    let frame = (
        prop_oneof![4 => prop::sample::select(diagram_ids).prop_map(str::to_string), 1 => string()],
        prop::option::of(prop_oneof![
            "64(a1|b2|c3)0[0-9]0{16}[0-9a-c]{2}".prop_map(Value::String),
            "[0-9a-f]{24}".prop_map(Value::String),
            Just(Value::Null),
            string().prop_map(Value::String),
        ]),
        prop::option::of(variables()),
        prop::option::of(variables()),
    )
        .prop_map(|(d, n, storage, vars)| {
            object(
                vec![
                    ("diagramID", Some(Value::String(d))),
                    ("nodeID", n),
                    ("storage", storage),
                    ("variables", vars),
                ],
                Vec::new(),
            )
        });
    (prop::collection::vec(frame, 0..4), variables(), variables())
        .prop_map(|(stack, storage, vars)| {
            serde_json::json!({ "stack": stack, "storage": storage, "variables": vars })
        })
        .boxed()
}
