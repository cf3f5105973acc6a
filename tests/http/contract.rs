//! The request contract of the interact routes: a body that is not what `openapi.yaml` describes
//! is a 400 Validation error (`{"errors":{field:{message}}}`), never a 500, and changes nothing.
//! See `docs/compatibility.md` for where the reference differs (it answers 500 to some of these).

use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};

/// The four interact routes of one user of the payment agent.
#[derive(Clone, Copy, Debug)]
enum Route {
    Stateful,
    Legacy,
    Stateless,
    Public,
}

const ROUTES: [Route; 4] = [
    Route::Stateful,
    Route::Legacy,
    Route::Stateless,
    Route::Public,
];

async fn post(server: &Server, route: Route, user: &str, body: &Value) -> Resp {
    let path = match route {
        Route::Stateful => format!("/state/user/{user}/interact"),
        Route::Legacy => format!("/state/{PAYMENT_VERSION}/user/{user}/interact"),
        Route::Stateless => "/interact".to_string(),
        Route::Public => format!("/public/{PAYMENT_PROJECT}/state/user/{user}/interact"),
    };
    let headers: &[(&str, &str)] = match route {
        Route::Legacy => &[],
        _ => &[("versionID", PAYMENT_VERSION)],
    };
    send(Method::POST, &server.url(&path), headers, Some(body)).await
}

/// Sends `body` on every route in `routes`, expects a 400 Validation error on `field`, and checks
/// the user's stored session is the same before and after.
async fn refused(server: &Server, u: &User<'_>, routes: &[Route], body: Value, field: &str) {
    let before = u.state().await;
    for &route in routes {
        let r = post(server, route, &u.id, &body).await;
        assert_eq!(r.status, 400, "{route:?} {body}: {}", r.text);
        assert_validation(&r, field);
        let errors = r.json()["errors"].clone();
        assert_eq!(
            errors.as_object().map(|o| o.len()),
            Some(1),
            "{route:?} {body}: one field: {errors}"
        );
        assert_eq!(
            u.state().await,
            before,
            "{route:?} {body} changed the session"
        );
    }
}

/// A user whose session is launched (waiting in the payment agent).
async fn launched<'a>(server: &'a Server, id: &str) -> User<'a> {
    let u = User::new(server, id, PAYMENT_VERSION);
    u.act(json!({"type": "launch"})).await;
    u
}

#[tokio::test]
async fn malformed_actions_are_400_on_every_route() {
    let server = Server::start();
    let u = launched(&server, "contract-action").await;
    for (action, field) in [
        (json!("launch"), "action"),
        (json!(5), "action"),
        (json!(["launch"]), "action"),
        (json!(true), "action"),
        (json!({}), "action"),
        (json!({"payload": "x"}), "action"),
        (json!({"type": ""}), "action.type"),
        (json!({"type": 3}), "action.type"),
        (json!({"type": null}), "action.type"),
        (json!({"type": ["launch"]}), "action.type"),
        (
            json!({"type": "intent", "diagramID": ["d"]}),
            "action.diagramID",
        ),
        (
            json!({"type": "launch", "diagramID": 1}),
            "action.diagramID",
        ),
    ] {
        refused(&server, &u, &ROUTES, json!({ "action": action }), field).await;
    }
}

#[tokio::test]
async fn a_resume_with_an_empty_type_is_400_and_the_action_stays_pending() {
    let server = Server::start();
    let u = User::new(&server, "contract-resume", PAYMENT_VERSION);
    // Stop on the custom action, then resume with an empty type.
    u.interact_body(
        json!({"action": {"type": "launch"}, "config": {"stopTypes": ["Pay Credit Card"]}}),
    )
    .await;
    refused(
        &server,
        &u,
        &ROUTES,
        json!({"action": {"type": ""}}),
        "action.type",
    )
    .await;
}

#[tokio::test]
async fn malformed_legacy_requests_are_400() {
    let server = Server::start();
    let u = launched(&server, "contract-request").await;
    // The public route has no `request` key at all (additional property → `body`).
    let routes = [Route::Stateful, Route::Legacy, Route::Stateless];
    for (request, field) in [
        (json!("launch"), "request"),
        (json!(7), "request"),
        (json!([]), "request"),
        (json!({"type": ""}), "request.type"),
        (json!({"payload": 1}), "request"),
    ] {
        refused(&server, &u, &routes, json!({ "request": request }), field).await;
    }
    // Checked even when `action` is present (and would win).
    refused(
        &server,
        &u,
        &routes,
        json!({"action": {"type": "launch"}, "request": 5}),
        "request",
    )
    .await;
    refused(
        &server,
        &u,
        &routes,
        json!({"action": {"type": "launch"}, "request": "launch"}),
        "request",
    )
    .await;
    refused(
        &server,
        &u,
        &[Route::Public],
        json!({"request": {"type": "launch"}}),
        "body",
    )
    .await;
}

#[tokio::test]
async fn null_config_is_400_and_null_action_is_no_request() {
    let server = Server::start();
    let u = launched(&server, "contract-config").await;
    refused(
        &server,
        &u,
        &ROUTES,
        json!({"action": {"type": "launch"}, "config": null}),
        "config",
    )
    .await;
    refused(&server, &u, &ROUTES, json!({"config": "x"}), "config").await;
    // `action: null` is the spec's "no request" (§2.1) on the stateful and stateless routes; on
    // the public route `action` must be an object (the reference's schema).
    refused(
        &server,
        &u,
        &[Route::Public],
        json!({"action": null}),
        "action",
    )
    .await;
    for route in [Route::Stateful, Route::Legacy, Route::Stateless] {
        let r = post(&server, route, &u.id, &json!({"action": null})).await;
        assert_eq!(r.status, 200, "{route:?}: {}", r.text);
    }
    // `action: null` falls back to `request`.
    let r = post(
        &server,
        Route::Stateless,
        &u.id,
        &json!({"action": null, "request": {"type": "launch"}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["request"]["type"], json!("launch"));
}

#[tokio::test]
async fn a_new_user_is_not_created_by_a_refused_request() {
    let server = Server::start();
    let u = User::new(&server, "contract-new", PAYMENT_VERSION);
    assert_eq!(u.state().await, json!({}));
    refused(&server, &u, &ROUTES, json!({"action": "launch"}), "action").await;
    assert_eq!(u.state().await, json!({}));
}

#[tokio::test]
async fn the_served_document_names_the_loaded_agents() {
    let server = Server::builder()
        .files(&[("counter.vfr", counter_agent())])
        .start();
    let r = send(Method::GET, &server.url("/openapi.yaml"), &[], None).await;
    assert_eq!(r.status, 200);
    let version_enum =
        format!("      enum:\n        - '{COUNTER_VERSION}'\n        - '{COUNTER_PROJECT}'\n");
    let project_enum = format!("      enum:\n        - '{COUNTER_PROJECT}'\n");
    assert!(r.text.contains(&version_enum), "{}", r.text);
    assert!(r.text.contains(&project_enum), "{}", r.text);
    assert!(
        !r.text.contains(PAYMENT_VERSION),
        "the example agents are not loaded here"
    );
}
