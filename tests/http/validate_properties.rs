//! Properties of the request validator (`src/http/validate.rs`) on arbitrary bodies biased toward
//! the real shapes (`tests/support/arbitrary_json.rs`): it never panics, and what it accepts
//! round-trips (the validated parts written back as a body validate to the same parts).
//! Bounded case counts; `PROPTEST_CASES=5000` for a deeper run (`docs/property-tests.md`).

use crate::support::arbitrary_json::{self as arb, bounded};
use flowdm::http::validate::{self, TurnBody, TurnRoute};
use proptest::prelude::*;
use serde_json::{json, Map, Value};

/// The example agents' diagram ids (frames that point somewhere real).
pub const DIAGRAMS: &[&str] = &[
    "64a1d0000000000000000001",
    "64a1d0000000000000000002",
    "64b2d0000000000000000001",
    "64c3d0000000000000000001",
];

const ROUTES: [TurnRoute; 3] = [TurnRoute::Stateful, TurnRoute::Stateless, TurnRoute::Public];

/// A validated turn body written back as a body of the same route.
fn rebuild(b: &TurnBody, route: TurnRoute) -> Value {
    let mut body = Map::new();
    if let Some(r) = &b.request {
        body.insert("action".into(), r.as_value().clone());
    }
    let config = serde_json::to_value(&b.config).unwrap();
    if config.as_object().is_some_and(|c| !c.is_empty()) {
        body.insert("config".into(), config);
    }
    match route {
        TurnRoute::Stateful => {
            if let Some(v) = &b.variables {
                body.insert("state".into(), json!({ "variables": v }));
            }
        }
        TurnRoute::Stateless => {
            if let Some(s) = &b.state {
                body.insert("state".into(), serde_json::to_value(s).unwrap());
            }
        }
        TurnRoute::Public => {}
    }
    Value::Object(body)
}

fn same(a: &TurnBody, b: &TurnBody) -> bool {
    a.request == b.request
        && a.config == b.config
        && a.variables == b.variables
        && a.state == b.state
}

proptest! {
    #![proptest_config(bounded(256))]

    #[test]
    fn turn_bodies_never_panic_and_round_trip(body in arb::turn_body(DIAGRAMS)) {
        for route in ROUTES {
            if let Ok(ok) = validate::turn_body(&body, route) {
                let again = rebuild(&ok, route);
                let second = validate::turn_body(&again, route);
                prop_assert!(second.is_ok(), "{route:?}: {body} accepted, {again} refused: {:?}", second.err());
                prop_assert!(same(&ok, &second.unwrap()), "{route:?}: {body} -> {again}");
            }
        }
    }

    #[test]
    fn request_and_config_never_panic(action in arb::action(), config in arb::config(), public in any::<bool>()) {
        if let Ok(Some(r)) = validate::request("action", Some(&action)) {
            let again = validate::request("action", Some(r.as_value()));
            prop_assert_eq!(again.ok().flatten(), Some(r.clone()), "{}", action);
        }
        if let Ok(c) = validate::config(Some(&config), public) {
            let again = validate::config(Some(&serde_json::to_value(&c).unwrap()), public);
            prop_assert_eq!(again.ok(), Some(c.clone()), "{}", config);
        }
    }

    #[test]
    fn state_bodies_never_panic_and_round_trip(body in prop_oneof![3 => arb::state(DIAGRAMS), 1 => arb::json(3)]) {
        if let Ok(state) = validate::put_state(&body) {
            let again = serde_json::to_value(&state).unwrap();
            let second = validate::put_state(&again);
            prop_assert_eq!(second.ok(), Some(state.clone()), "{} -> {}", body, again);
        }
        if let Ok(Some(state)) = validate::client_state(Some(&body)) {
            let again = serde_json::to_value(&state).unwrap();
            let second = validate::client_state(Some(&again));
            prop_assert_eq!(second.ok().flatten(), Some(state.clone()), "{} -> {}", body, again);
        }
        if let Ok(vars) = validate::variables_patch(&body) {
            prop_assert_eq!(Some(&vars), body.as_object());
        }
    }

    #[test]
    fn transcripts_and_feedback_never_panic(body in arb::json(3), session in arb::string(), extra in arb::json(2)) {
        let _ = validate::transcript(&body);
        let _ = validate::feedback(&body);
        let shaped = json!({"sessionID": session, "user": extra, "name": session});
        if let Ok((id, fields)) = validate::transcript(&shaped) {
            prop_assert_eq!(&id, &session);
            prop_assert!(!fields.contains_key("sessionID"));
        }
        if let Ok(fields) = validate::feedback(&shaped) {
            prop_assert_eq!(Some(&fields), shaped.as_object());
        }
    }
}

/// Raw bodies: JSON-ish text, cut short, nested deeply, with odd numbers, or any bytes.
pub fn raw_body() -> BoxedStrategy<Vec<u8>> {
    prop_oneof![
        2 => arb::turn_body(DIAGRAMS).prop_map(|v| v.to_string().into_bytes()),
        2 => (arb::turn_body(DIAGRAMS), any::<prop::sample::Index>()).prop_map(|(v, i)| {
            let mut b = v.to_string().into_bytes();
            b.truncate(i.index(b.len() + 1));
            b
        }),
        1 => (1usize..5000, prop::sample::select(vec!["[", "{\"a\":", "[{\"action\":"]))
            .prop_map(|(n, open)| open.repeat(n).into_bytes()),
        1 => prop::sample::select(vec![
            "", " ", "\u{c}{}", "{}\u{0}", "\u{feff}{}", "{\"action\": {\"type\": \"launch\"}, \"action\": 1}",
            "{\"config\": {\"tts\": 1e999}}", "[1e999999999]", "{\"a\": -0}", "{\"a\": 123456789012345678901234567890}",
            "{\"action\": {\"type\": \"text\", \"payload\": \"\\ud800\"}}", "null", "true", "\"x\"", "[]",
        ])
        .prop_map(|s| s.as_bytes().to_vec()),
        1 => prop::collection::vec(any::<u8>(), 0..64),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(bounded(256))]

    #[test]
    fn raw_bodies_never_panic_the_parser(bytes in raw_body()) {
        if let Ok(v) = flowdm::http::limits::parse_json(&bytes) {
            prop_assert!(v.is_object() || v.is_array(), "{:?} -> {}", String::from_utf8_lossy(&bytes), v);
        }
    }
}
