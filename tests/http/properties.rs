//! Properties of every DM route on random bodies, paths and headers (`docs/property-tests.md`):
//! the status is never 5xx (a stream's `error` event neither), and a rejected request (4xx, or a
//! stream ending in a 4xx `error` event) leaves the user's stored state byte-identical. One
//! server per test; proptest runs the cases one after the other on a Tokio runtime of its own.
//! Bounded case counts; `PROPTEST_CASES=5000` for a deeper run.

use super::validate_properties::{raw_body, DIAGRAMS};
use crate::support::arbitrary_json::{self as arb, bounded};
use crate::support::custom_actions::ADMIN_KEY;
use crate::support::server::*;
use proptest::prelude::*;
use proptest::test_runner::{TestCaseError, TestRunner};
use reqwest::Method;
use serde_json::{json, Value};

/// The user every stateful case talks to.
const USER: &str = "prop-user";

fn server() -> Server {
    Server::builder()
        .args(&["--admin-key", ADMIN_KEY, "--registry-db", ":memory:"])
        .start()
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// A path segment: percent-encoded (every byte but ASCII letters and digits).
fn segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A header value: the text when it is visible ASCII, else its percent-encoded form.
fn header(s: &str) -> String {
    if s.bytes().all(|b| (0x20..0x7f).contains(&b)) {
        s.to_string()
    } else {
        segment(s)
    }
}

/// [`bounded`] for a runner driven by hand (no source file to record failures beside).
fn runner(cases: u32) -> TestRunner {
    TestRunner::new(proptest::test_runner::Config {
        failure_persistence: None,
        ..bounded(cases)
    })
}

/// The routes that read or write `USER`'s session of the payment agent.
#[derive(Debug, Clone, Copy)]
enum Route {
    Interact,
    LegacyInteract,
    PatchVariables,
    LegacyPatchVariables,
    PutState,
    LegacyPutState,
    Reset,
    Public,
    V2Stream,
    V2PublicStream,
    BetaStream,
    V4,
    Resume,
}

const ROUTES: [Route; 13] = [
    Route::Interact,
    Route::LegacyInteract,
    Route::PatchVariables,
    Route::LegacyPatchVariables,
    Route::PutState,
    Route::LegacyPutState,
    Route::Reset,
    Route::Public,
    Route::V2Stream,
    Route::V2PublicStream,
    Route::BetaStream,
    Route::V4,
    Route::Resume,
];

/// Query strings the routes read (`verbose`, `logs`, `state`, `environment`, …).
const QUERIES: &[&str] = &[
    "",
    "",
    "?verbose=true",
    "?logs=loud",
    "?logs=nope",
    "?state=true",
    "?state=yes",
    "?environment=development",
    "?environment=nope",
    "?completion_events=1",
];

fn route_body(route: Route) -> BoxedStrategy<Value> {
    match route {
        Route::PatchVariables | Route::LegacyPatchVariables => {
            prop_oneof![3 => arb::variables(), 1 => arb::json(3)].boxed()
        }
        Route::PutState | Route::LegacyPutState => {
            prop_oneof![4 => arb::good_state(DIAGRAMS), 3 => arb::state(DIAGRAMS), 1 => arb::json(3)]
                .boxed()
        }
        Route::BetaStream => (
            good_or_any(&["action", "state"]),
            prop_oneof![4 => Just(json!({"sessionID": "", "userID": USER})), 1 => arb::json(2)],
        )
            .prop_map(|(mut body, session)| {
                if let Some(o) = body.as_object_mut() {
                    o.remove("request");
                    o.remove("variables");
                    o.insert("session".into(), session);
                }
                body
            })
            .boxed(),
        Route::Interact | Route::LegacyInteract | Route::Resume | Route::Reset => good_or_any(&["action", "config", "state"]),
        Route::Public => good_or_any(&["action", "config"]),
        Route::V2Stream | Route::V2PublicStream => good_or_any(&["action", "config", "variables"]),
        Route::V4 => good_or_any(&["action", "config", "variables", "state"]),
    }
}

/// A body the route mostly accepts, or a random one.
fn good_or_any(keys: &'static [&'static str]) -> BoxedStrategy<Value> {
    prop_oneof![
        3 => arb::good_turn_body(keys),
        2 => arb::turn_body(DIAGRAMS),
    ]
    .boxed()
}

/// `Idempotency-Key`s: none mostly, a few reused ones (replays and conflicts), unusable ones.
const IDEMPOTENCY_KEYS: &[Option<&str>] = &[
    None,
    None,
    None,
    None,
    Some("key-1"),
    Some("key-2"),
    Some("with space"),
    Some(""),
];

/// A route, its body, a query string, an `Idempotency-Key`.
fn case() -> impl Strategy<Value = (Route, Value, &'static str, Option<&'static str>)> {
    prop::sample::select(ROUTES.to_vec()).prop_flat_map(|r| {
        (
            Just(r),
            route_body(r),
            prop::sample::select(QUERIES),
            prop::sample::select(IDEMPOTENCY_KEYS),
        )
    })
}

/// The stream's `error` events' codes (`docs/streaming.md`).
fn stream_errors(r: &Resp) -> Vec<u64> {
    r.text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .filter(|d| d["type"] == "error")
        .filter_map(|d| d["code"].as_u64())
        .collect()
}

struct Session<'a> {
    server: &'a Server,
    v4_key: String,
}

impl Session<'_> {
    async fn state(&self) -> String {
        let r = send(
            Method::GET,
            &self.server.url(&format!("/state/user/{USER}")),
            &[("versionID", PAYMENT_VERSION)],
            None,
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.text
    }

    async fn send(&self, route: Route, body: &Value, query: &str, key: Option<&str>) -> Resp {
        let v = PAYMENT_VERSION;
        let p = PAYMENT_PROJECT;
        let vh = [("versionID", v)];
        let (method, path, headers): (Method, String, &[(&str, &str)]) = match route {
            Route::Interact => (Method::POST, format!("/state/user/{USER}/interact"), &vh),
            Route::LegacyInteract => (
                Method::POST,
                format!("/state/{v}/user/{USER}/interact"),
                &[],
            ),
            Route::PatchVariables => (Method::PATCH, format!("/state/user/{USER}/variables"), &vh),
            Route::LegacyPatchVariables => (
                Method::PATCH,
                format!("/state/{v}/user/{USER}/variables"),
                &[],
            ),
            Route::PutState => (Method::PUT, format!("/state/user/{USER}"), &vh),
            Route::LegacyPutState => (Method::PUT, format!("/state/{v}/user/{USER}"), &[]),
            Route::Reset => (Method::POST, format!("/state/user/{USER}"), &vh),
            Route::Public => (
                Method::POST,
                format!("/public/{p}/state/user/{USER}/interact"),
                &[],
            ),
            Route::V2Stream => (
                Method::POST,
                format!("/v2/project/{p}/user/{USER}/interact/stream"),
                &[],
            ),
            Route::V2PublicStream => (
                Method::POST,
                format!("/v2/public/project/{p}/user/{USER}/interact/stream"),
                &[],
            ),
            Route::BetaStream => (
                Method::POST,
                format!("/v2beta1/interact/{p}/development/stream"),
                &[],
            ),
            Route::V4 => {
                let mut auth = vec![("authorization", self.v4_key.as_str())];
                auth.extend(key.map(|k| ("idempotency-key", k)));
                let url = self.server.url(&format!("/v4/interact{query}"));
                return send(Method::POST, &url, &auth, Some(body)).await;
            }
            Route::Resume => (
                Method::POST,
                format!("/state/{v}/user/{USER}/stops/0123456789abcdef/resume"),
                &[],
            ),
        };
        let url = self.server.url(&format!("{path}{query}"));
        let mut headers = headers.to_vec();
        headers.extend(key.map(|k| ("idempotency-key", k)));
        send(method, &url, &headers, Some(body)).await
    }
}

/// Every route of `USER`'s session: never 5xx; a rejected request changes nothing stored.
#[test]
fn session_routes_never_fail_and_rejections_change_nothing() {
    let server = server();
    let rt = runtime();
    let session = rt.block_on(async {
        let r = send(
            Method::POST,
            &server.url(&format!("/v4/project/{PAYMENT_PROJECT}/session")),
            &[],
            Some(&json!({ "userID": USER })),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let v4_key = r.json()["sessionKey"].as_str().unwrap().to_string();
        let u = User::new(&server, USER, PAYMENT_VERSION);
        u.act(json!({"type": "launch"})).await;
        Session {
            server: &server,
            v4_key,
        }
    });
    let mut runner = runner(192);
    // Statuses by route (printed with `--nocapture`: what the cases reached).
    let seen = std::cell::RefCell::new(std::collections::BTreeMap::<String, usize>::new());
    let result = runner.run(&case(), |(route, body, query, key)| {
        rt.block_on(async {
            let before = session.state().await;
            let r = session.send(route, &body, query, key).await;
            let errors = stream_errors(&r);
            *seen
                .borrow_mut()
                .entry(format!("{route:?} {} {errors:?}", r.status))
                .or_default() += 1;
            let what = format!("{route:?}{query} {key:?} {body} -> {} {}", r.status, r.text);
            prop_assert!(r.status < 500, "5xx: {what}");
            prop_assert!(errors.iter().all(|c| *c < 500), "5xx event: {what}");
            if (400..500).contains(&r.status) || !errors.is_empty() {
                let after = session.state().await;
                prop_assert_eq!(&before, &after, "rejected but changed: {}", what);
            }
            Ok::<(), TestCaseError>(())
        })
    });
    eprintln!("statuses: {:#?}", seen.borrow());
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Raw bodies (cut short, nested deeply, any bytes) with any content type on the routes that
/// write `USER`'s session: never 5xx; a rejected one changes nothing stored.
#[test]
fn raw_bodies_never_fail_and_rejections_change_nothing() {
    let server = server();
    let rt = runtime();
    rt.block_on(async {
        User::new(&server, USER, PAYMENT_VERSION)
            .act(json!({"type": "launch"}))
            .await;
    });
    let session = Session {
        server: &server,
        v4_key: String::new(),
    };
    let routes = prop::sample::select(vec![
        (Method::POST, "/interact"),
        (Method::PUT, ""),
        (Method::PATCH, "/variables"),
        (Method::POST, ""),
    ]);
    let types = prop::sample::select(vec![
        None,
        Some("application/json"),
        Some("application/json; charset=utf-16"),
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
        Some("multipart/form-data; boundary=x"),
    ]);
    let mut runner = runner(128);
    let result = runner.run(
        &(routes, types, raw_body()),
        |((method, suffix), ty, bytes)| {
            rt.block_on(async {
                let before = session.state().await;
                let url = server.url(&format!("/state/user/{USER}{suffix}"));
                let mut headers = vec![("versionID", PAYMENT_VERSION)];
                headers.extend(ty.map(|t| ("content-type", t)));
                let r = send_raw(method.clone(), &url, &headers, bytes.clone()).await;
                let what = format!(
                    "{method} {suffix} {ty:?} {:?} -> {} {}",
                    String::from_utf8_lossy(&bytes),
                    r.status,
                    r.text
                );
                prop_assert!(r.status < 500, "5xx: {what}");
                if (400..500).contains(&r.status) {
                    prop_assert_eq!(
                        &before,
                        &session.state().await,
                        "rejected but changed: {}",
                        what
                    );
                }
                Ok::<(), TestCaseError>(())
            })
        },
    );
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Routes with a random user id, version, project, key or body: never 5xx.
#[derive(Debug, Clone, Copy)]
enum Wild {
    Interact,
    Stateless,
    StatelessVersion,
    StatelessState,
    PublicInteract,
    V4Session,
    V4Interact,
    Transcripts,
    Feedback,
    WidgetSetup,
    WidgetTranscript,
    EndTranscript,
    WebchatLog,
    Nlu,
    KnowledgeBase,
    CustomActions,
    CustomActionTest,
    Library,
    BetaStream,
}

const WILD: [Wild; 19] = [
    Wild::Interact,
    Wild::Stateless,
    Wild::StatelessVersion,
    Wild::StatelessState,
    Wild::PublicInteract,
    Wild::V4Session,
    Wild::V4Interact,
    Wild::Transcripts,
    Wild::Feedback,
    Wild::WidgetSetup,
    Wild::WidgetTranscript,
    Wild::EndTranscript,
    Wild::WebchatLog,
    Wild::Nlu,
    Wild::KnowledgeBase,
    Wild::CustomActions,
    Wild::CustomActionTest,
    Wild::Library,
    Wild::BetaStream,
];

/// A project or version id: a real one, or anything.
fn id(real: &'static [&'static str]) -> BoxedStrategy<String> {
    prop_oneof![2 => prop::sample::select(real).prop_map(str::to_string), 1 => arb::string()]
        .boxed()
}

/// A management API body: a custom action or library entry, well or badly shaped.
fn managed_body() -> BoxedStrategy<Value> {
    let kind = prop_oneof![
        Just(json!("webhook")),
        Just(json!("javascript")),
        Just(json!("client")),
        arb::leaf(),
    ];
    let config = prop_oneof![
        (arb::string(), arb::json(2))
            .prop_map(|(url, body)| json!({"url": url, "body": body, "mappings": {"a": "b"}})),
        arb::string().prop_map(|code| json!({"code": code, "events_schema": ["success"]})),
        arb::json(3),
    ];
    prop_oneof![
        3 => (arb::string(), kind, config, arb::json(1)).prop_map(|(name, kind, config, project)| {
            json!({"name": name, "action_type": kind, "config": config, "project_id": project})
        }),
        1 => arb::json(3),
    ]
    .boxed()
}

#[allow(clippy::type_complexity)]
fn wild_case() -> impl Strategy<Value = (Wild, String, String, String, Value, bool)> {
    let projects: &'static [&'static str] = &[PAYMENT_PROJECT, HANDOFF_PROJECT, CATALOGUE_PROJECT];
    let versions: &'static [&'static str] = &[
        PAYMENT_VERSION,
        HANDOFF_VERSION,
        CATALOGUE_VERSION,
        "production",
        "development",
    ];
    (
        prop::sample::select(WILD.to_vec()),
        arb::string(),
        id(versions),
        id(projects),
        prop_oneof![3 => arb::turn_body(DIAGRAMS), 1 => managed_body()],
        any::<bool>(),
    )
}

async fn wild(
    server: &Server,
    (route, user, version, project, body, good_key): &(Wild, String, String, String, Value, bool),
) -> Resp {
    let (u, v, p) = (segment(user), segment(version), segment(project));
    let key = if *good_key {
        format!("Bearer {ADMIN_KEY}")
    } else {
        format!("Bearer {}x", header(user))
    };
    let version_header = header(version);
    let vh = [("versionID", version_header.as_str())];
    let auth = [("authorization", key.as_str())];
    let (method, path, headers): (Method, String, &[(&str, &str)]) = match route {
        Wild::Interact => (Method::POST, format!("/state/user/{u}/interact"), &vh),
        Wild::Stateless => (Method::POST, "/interact".into(), &vh),
        Wild::StatelessVersion => (Method::POST, format!("/interact/{v}"), &[]),
        Wild::StatelessState => (Method::GET, format!("/interact/{v}/state"), &[]),
        Wild::PublicInteract => (
            Method::POST,
            format!("/public/{p}/state/user/{u}/interact"),
            &vh,
        ),
        Wild::V4Session => (
            Method::POST,
            format!("/v4/project/{p}/environment/{v}/session"),
            &[],
        ),
        Wild::V4Interact => (Method::POST, "/v4/interact".into(), &[]),
        Wild::Transcripts => (Method::POST, format!("/public/{p}/transcripts"), &vh),
        Wild::Feedback => (Method::POST, format!("/feedback/{p}/user/{u}"), &[]),
        Wild::WidgetSetup => (Method::POST, format!("/v2/public/{p}/widget/setup"), &[]),
        Wild::WidgetTranscript => (
            Method::POST,
            format!("/v2/public/{p}/transcripts/download"),
            &[],
        ),
        Wild::EndTranscript => (
            Method::POST,
            format!("/transcripts/end/project/{p}/user/{u}"),
            &[],
        ),
        Wild::WebchatLog => (Method::POST, format!("/v1alpha1/webchat-log/{p}"), &[]),
        Wild::Nlu => (
            Method::GET,
            format!("/nlu/project/{p}/version/{v}/inference?query={u}"),
            &[],
        ),
        Wild::KnowledgeBase => (Method::POST, "/knowledge-base/query".into(), &vh),
        Wild::CustomActions => (Method::POST, "/api/custom-actions".into(), &auth),
        Wild::CustomActionTest => (Method::POST, format!("/api/custom-actions/{u}/test"), &auth),
        Wild::Library => (Method::POST, "/api/library".into(), &auth),
        Wild::BetaStream => (
            Method::POST,
            format!("/v2beta1/interact/{p}/{v}/stream"),
            &[],
        ),
    };
    let body = (method != Method::GET).then_some(body);
    send(method, &server.url(&path), headers, body).await
}

#[test]
fn any_route_with_random_ids_never_fails() {
    let server = server();
    let rt = runtime();
    let mut runner = runner(192);
    let result = runner.run(&wild_case(), |case| {
        rt.block_on(async {
            let r = wild(&server, &case).await;
            let errors = stream_errors(&r);
            let what = format!("{case:?} -> {} {}", r.status, r.text);
            prop_assert!(r.status < 500, "5xx: {what}");
            prop_assert!(errors.iter().all(|c| *c < 500), "5xx event: {what}");
            Ok::<(), TestCaseError>(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// The management API: a rejected create leaves the registry as it was.
#[test]
fn rejected_registry_writes_change_nothing() {
    let server = server();
    let rt = runtime();
    let auth = format!("Bearer {ADMIN_KEY}");
    let list = |base: &'static str| {
        let auth = auth.clone();
        let url = server.url(base);
        async move {
            let r = send(Method::GET, &url, &[("authorization", auth.as_str())], None).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.text
        }
    };
    let mut runner = runner(96);
    let bases = prop::sample::select(vec!["/api/custom-actions", "/api/library"]);
    let result = runner.run(&(bases, managed_body()), |(base, body)| {
        rt.block_on(async {
            let before = list(base).await;
            let r = send(
                Method::POST,
                &server.url(base),
                &[("authorization", auth.as_str())],
                Some(&body),
            )
            .await;
            let what = format!("{base} {body} -> {} {}", r.status, r.text);
            prop_assert!(r.status < 500, "5xx: {what}");
            if (400..500).contains(&r.status) {
                prop_assert_eq!(&before, &list(base).await, "rejected but changed: {}", what);
            }
            Ok::<(), TestCaseError>(())
        })
    });
    if let Err(e) = result {
        panic!("{e}");
    }
}

/// Found by the sandbox's properties (`crates/actions/tests/sandbox/properties.rs`): a float a
/// client sends is stored as the very same number (serde_json's default parser could be one
/// ULP off; `float_roundtrip`, root `Cargo.toml`).
#[tokio::test]
async fn floats_are_stored_exactly() {
    let server = server();
    let u = User::new(&server, "float-user", PAYMENT_VERSION);
    let r = u
        .raw(
            Method::PATCH,
            "/variables",
            Some(&json!({ "x": 2.0408020368223362e-85, "y": [-2.7652366199908546e-306] })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let state = u.state().await;
    assert_eq!(state["variables"]["x"], json!(2.0408020368223362e-85));
    assert_eq!(state["variables"]["y"], json!([-2.7652366199908546e-306]));
}
