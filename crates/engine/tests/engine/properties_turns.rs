//! Properties of the turn (`engine::interact`) on the example agents of `diagrams/` and a few
//! small exports of the shared corpus: from any
//! state a client may `PUT` (frames on the agent's real programs and nodes, or on unknown ones,
//! with random stores) and any sequence of requests and configs, a turn never panics, its
//! state serialises, reads back to the same JSON, and stays within its size bound (`State::json_size_bound`,
//! checked by `common::Session`). Bounded case counts; `PROPTEST_CASES=5000` for a deeper run.

use crate::arbitrary_json::{self as arb, bounded};
use crate::common::{load, Session};
use flowdm_engine::{Agent, Config, State};
use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{json, Value};
use std::sync::OnceLock;

/// Small exports of the shared corpus with code, API and capture steps (when it is there).
const CORPUS: &[&str] = &[
    "../shared/corpus/voiceflow__rcjs-examples__hello-world.vf",
    "../shared/corpus/voiceflow__rcjs-examples__TraceProcessor.vf",
    "../shared/corpus/voiceflow__voiceflow-docs__catching_errors.vf",
    "../shared/corpus/voiceflow__react-chat__example_project.vf",
];

/// An agent with the ids of its programs and nodes.
struct Example {
    agent: Agent,
    programs: Vec<String>,
    nodes: Vec<String>,
}

fn examples() -> &'static [Example] {
    static EXAMPLES: OnceLock<Vec<Example>> = OnceLock::new();
    EXAMPLES.get_or_init(|| {
        let corpus = CORPUS
            .iter()
            .filter(|p| crate::common::repo_root().join(p).is_file());
        [
            "diagrams/payment.vf",
            "diagrams/handoff.vf",
            "diagrams/catalogue.vf",
        ]
        .iter()
        .chain(corpus)
        .map(|path| {
            let compiled =
                flowdm_compile::compile_file(&crate::common::repo_root().join(path)).unwrap();
            let programs = compiled.vfr["programs"].as_object().unwrap();
            let nodes = programs
                .values()
                .filter_map(|p| p["lines"].as_object())
                .flat_map(|l| l.keys().cloned())
                .collect();
            Example {
                agent: load(path).into(),
                programs: programs.keys().cloned().collect(),
                nodes,
            }
        })
        .collect()
    })
}

/// A frame: a real or random program, a real, random or no node, random stores.
fn frame() -> BoxedStrategy<(Index, Option<Index>, bool, Value, Value)> {
    (
        any::<Index>(),
        prop::option::of(any::<Index>()),
        prop::bool::weighted(0.85),
        arb::variables(),
        arb::variables(),
    )
        .boxed()
}

fn state_of(
    ex: &Example,
    frames: &[(Index, Option<Index>, bool, Value, Value)],
    vars: &Value,
) -> State {
    let stack: Vec<Value> = frames
        .iter()
        .map(|(p, n, real, storage, variables)| {
            let program = if *real {
                p.get(&ex.programs).clone()
            } else {
                format!("nope-{}", p.index(1000))
            };
            let mut f = json!({ "diagramID": program, "storage": storage, "variables": variables });
            if let Some(n) = n {
                f["nodeID"] = json!(n.get(&ex.nodes));
            }
            f
        })
        .collect();
    serde_json::from_value(json!({ "stack": stack, "storage": {}, "variables": vars })).unwrap()
}

proptest! {
    #![proptest_config(bounded(128))]

    #[test]
    fn turns_from_any_state_never_panic(
        which in any::<Index>(),
        fresh in any::<bool>(),
        frames in prop::collection::vec(frame(), 0..4),
        vars in arb::variables(),
        config in arb::good_config(),
        requests in prop::collection::vec(prop_oneof![3 => arb::good_action(), 1 => arb::action()], 1..4),
    ) {
        let ex = which.get(examples());
        let mut session = Session::new(ex.agent.clone());
        if !fresh {
            session.state = state_of(ex, &frames, &vars);
        }
        session.config = serde_json::from_value::<Config>(config).unwrap();
        for request in requests {
            if flowdm_engine::Request::from_value(request.clone()).is_err() {
                continue;
            }
            session.turn(request);
            let text = serde_json::to_value(&session.state).unwrap();
            let back: State = serde_json::from_value(text.clone()).unwrap();
            prop_assert_eq!(serde_json::to_value(&back).unwrap(), text);
        }
    }
}
