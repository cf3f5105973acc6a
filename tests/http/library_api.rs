//! `/api/library` (`docs/custom-actions.md` § Library sub-flows, Management API): CRUD with
//! versions, rollback and clone in the envelope, the admin key, validation naming the field,
//! names unique in every scope, file entries read-only, the `test` route, and end to end: an
//! entry created through the API runs in an agent's `subflow` step, an update reaches new
//! sessions while a running one finishes on its version, a draft is not used, and the redb
//! database keeps it across a restart.

use crate::support::custom_actions::*;
use crate::support::library::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

/// A server on the shop agent with the admin key, the registry in `db`, the example `subflow`
/// action and the library folder `library`.
fn server(db: &Path, actions: &Path, library: &Path, extra: &[&str]) -> Server {
    Server::builder()
        .files(&[(
            "shop.vfr",
            shop("shop", "shop-v", 25, json!({ "currency": "USD" })),
        )])
        .args(&[
            "--admin-key",
            ADMIN_KEY,
            "--registry-db",
            db.to_str().unwrap(),
            "--actions-dir",
            actions.to_str().unwrap(),
            "--library-dir",
            library.to_str().unwrap(),
        ])
        .args(extra)
        .start()
}

async fn post(s: &Server, path: &str, body: &Value) -> Resp {
    admin(s, Method::POST, path, Some(body)).await
}

async fn patch(s: &Server, path: &str, body: &Value) -> Resp {
    admin(s, Method::PATCH, path, Some(body)).await
}

#[tokio::test]
async fn crud_versions_rollback_clone_and_test_answer_in_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let (actions, library) = (actions_dir(), library_dir());
    let s = server(
        &dir.path().join("r.redb"),
        actions.path(),
        library.path(),
        &[],
    );
    // The file entry is listed, read-only.
    let list = data(&admin(&s, Method::GET, "/api/library", None).await, 200);
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list[0]["id"], "confirm-order-1");
    assert_eq!(list[0]["source"], "file");
    assert_eq!(list[0]["config"]["file"], "confirm-order.vf");
    for r in [
        patch(
            &s,
            "/api/library/confirm-order-1",
            &json!({ "description": "x" }),
        )
        .await,
        admin(&s, Method::DELETE, "/api/library/confirm-order-1", None).await,
    ] {
        error(&r, 409, "read_only");
    }
    // Its name is taken in every scope.
    for project in [Value::Null, json!("other")] {
        let mut body = entry("confirm-order", "Q ");
        body["project_id"] = project;
        let e = error(
            &post(&s, "/api/library", &body).await,
            409,
            "duplicate_name",
        );
        assert_eq!(e["field"], "name");
    }

    let created = data(
        &post(&s, "/api/library", &entry("ask", "Confirm ")).await,
        201,
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("lib_"), "{id}");
    assert_eq!(created["version"], 1);
    assert_eq!(created["scope"], "shared");
    assert_eq!(created["source"], "api");
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    assert!(created["config"]["source"].is_object());
    let path = format!("/api/library/{id}");
    assert_eq!(
        data(&admin(&s, Method::GET, &path, None).await, 200),
        created
    );
    let e = error(
        &post(&s, "/api/library", &entry("ask", "Again ")).await,
        409,
        "duplicate_name",
    );
    assert_eq!(e["field"], "name");

    // PATCH: a new version, its own scope; config fields merge.
    let patched = data(
        &patch(
            &s,
            &path,
            &json!({ "description": "v2", "scope": "draft", "config": { "outputs": [] } }),
        )
        .await,
        200,
    );
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["scope"], "draft");
    assert_eq!(patched["config"]["outputs"], json!([]));
    assert_eq!(patched["config"]["diagram"], "Confirm Order");
    assert_eq!(patched["created_at"], created["created_at"]);
    let r = patch(&s, &path, &json!({ "version": 1, "description": "x" })).await;
    error(&r, 409, "conflict");
    let r = patch(&s, &path, &json!({ "name": "renamed" })).await;
    assert_eq!(error(&r, 400, "invalid")["field"], "name");

    let versions = data(
        &admin(&s, Method::GET, &format!("{path}/versions"), None).await,
        200,
    );
    let scopes: Vec<&Value> = versions
        .as_array()
        .unwrap()
        .iter()
        .map(|v| &v["scope"])
        .collect();
    assert_eq!(scopes, [&json!("shared"), &json!("draft")]);
    let rolled = data(
        &post(&s, &format!("{path}/rollback"), &json!({ "version": 1 })).await,
        200,
    );
    assert_eq!(rolled["version"], 3);
    assert_eq!(rolled["scope"], "shared");
    assert_eq!(rolled["description"], "Asks to confirm an order");
    let e = error(
        &post(&s, &format!("{path}/rollback"), &json!({ "version": 9 })).await,
        400,
        "invalid",
    );
    assert_eq!(e["field"], "version");

    let cloned = data(&post(&s, &format!("{path}/clone"), &json!({})).await, 201);
    assert_eq!(cloned["name"], "ask (copy)");
    assert_eq!(cloned["version"], 1);
    assert_ne!(cloned["id"], created["id"]);

    // test: the current version compiled, nothing stored; overrides like a PATCH.
    let t = data(&post(&s, &format!("{path}/test"), &json!({})).await, 200);
    let start = t["start"].as_str().unwrap();
    assert!(start.starts_with("lib:ask@3:"), "{t}");
    assert!(t["programs"].as_array().unwrap().contains(&json!(start)));
    assert_eq!(t["inputs"][0]["key"], "amount");
    assert_eq!(t["outputs"], json!(["reference"]));
    assert_eq!(t["paths"], json!(["confirmed", "cancelled", "later"]));
    assert!(t["diagnostics"].is_array());
    let r = post(
        &s,
        &format!("{path}/test"),
        &json!({ "config": { "diagram": "Nope" } }),
    )
    .await;
    assert_eq!(error(&r, 400, "invalid")["field"], "config.diagram");
    let r = post(
        &s,
        &format!("{path}/test"),
        &json!({ "config": { "file": "confirm-order.vf" } }),
    )
    .await;
    assert_eq!(error(&r, 400, "invalid")["field"], "config.file");
    let t = data(
        &post(&s, "/api/library/confirm-order-1/test", &json!({})).await,
        200,
    );
    assert_eq!(t["start"], "lib:confirm-order@1:64d4d0000000000000000002");
    assert_eq!(
        data(&admin(&s, Method::GET, &path, None).await, 200)["version"],
        3
    );
    // A file entry declared with config.file cannot be cloned into the API.
    let r = post(
        &s,
        "/api/library/confirm-order-1/clone",
        &json!({ "name": "c" }),
    )
    .await;
    assert_eq!(error(&r, 400, "invalid")["field"], "config.file");

    let r = admin(&s, Method::DELETE, &path, None).await;
    assert_eq!(data(&r, 200), json!({ "id": id, "deleted": true }));
    error(&admin(&s, Method::GET, &path, None).await, 404, "not_found");
    for route in [
        "/api/library",
        "/api/library/{id}",
        "/api/library/{id}/versions",
        "/api/library/{id}/rollback",
        "/api/library/{id}/clone",
        "/api/library/{id}/test",
    ] {
        let statuses = documented_statuses(route);
        assert!(statuses.contains(&401), "{route}");
    }
}

#[tokio::test]
async fn bad_entries_name_their_field_and_the_admin_key_guards_the_api() {
    let dir = tempfile::tempdir().unwrap();
    let (actions, library) = (actions_dir(), tempfile::tempdir().unwrap());
    let s = server(
        &dir.path().join("r.redb"),
        actions.path(),
        library.path(),
        &[],
    );
    let url = s.url("/api/library");
    error(
        &send(Method::GET, &url, &[], None).await,
        401,
        "unauthorized",
    );
    let r = send(Method::GET, &url, &[("Authorization", "Bearer nope")], None).await;
    error(&r, 401, "unauthorized");
    let r = send(
        Method::GET,
        &url,
        &[("Authorization", "VF.DM.0123.abcd")],
        None,
    )
    .await;
    error(&r, 403, "forbidden");
    let r = send(Method::POST, &url, &[], Some(&entry("ask", "Q "))).await;
    error(&r, 401, "unauthorized");

    let cases: Vec<(Value, &str)> = vec![
        (
            {
                let mut e = entry("ask", "Q ");
                e["scope"] = json!("public");
                e
            },
            "scope",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["config"].as_object_mut().unwrap().remove("diagram");
                e
            },
            "config.diagram",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["config"]["diagram"] = json!("Nope");
                e
            },
            "config.diagram",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                let c = e["config"].as_object_mut().unwrap();
                c.remove("source");
                c.insert("file".into(), json!("confirm-order.vf"));
                e
            },
            "config.file",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["config"]["source"] = json!({ "nothing": true });
                e
            },
            "config.source",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["config"]["inputs"][0]["type"] = json!("date");
                e
            },
            "config.inputs",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["description"] = json!(3);
                e
            },
            "description",
        ),
        (
            {
                let mut e = entry("ask", "Q ");
                e["id"] = json!("a/b");
                e
            },
            "id",
        ),
        (json!({ "config": {} }), "name"),
        (json!([1]), "body"),
    ];
    for (body, field) in cases {
        let e = error(&post(&s, "/api/library", &body).await, 400, "invalid");
        assert_eq!(e["field"], field, "{e}");
    }
    assert_eq!(
        data(&admin(&s, Method::GET, "/api/library", None).await, 200),
        json!([])
    );
    // The body limit bounds the export.
    let small_dir = tempfile::tempdir().unwrap();
    let small = server(
        &small_dir.path().join("r.redb"),
        actions.path(),
        library.path(),
        &["--body-limit", "4096"],
    );
    error(
        &post(&small, "/api/library", &entry("ask", "Q ")).await,
        413,
        "payload_too_large",
    );
    let statuses = documented_statuses("/api/library");
    for st in [400, 401, 403, 409, 413] {
        assert!(statuses.contains(&st), "{st} not documented");
    }
}

fn top_diagram(state: &Value) -> String {
    state["stack"].as_array().unwrap().last().unwrap()["diagramID"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn an_updated_entry_reaches_new_sessions_while_a_running_one_keeps_its_version() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.redb");
    let (actions, library) = (actions_dir(), tempfile::tempdir().unwrap());
    let s = server(&db, actions.path(), library.path(), &[]);
    // No entry yet: the step takes its default path.
    let early = User::new(&s, "early", "shop-v");
    assert_eq!(
        messages(&early.act(json!({ "type": "launch" })).await),
        ["shop: cancelled."]
    );

    let created = data(
        &post(
            &s,
            "/api/library",
            &entry("confirm-order", "Confirm the order of "),
        )
        .await,
        201,
    );
    let path = format!("/api/library/{}", created["id"].as_str().unwrap());
    let a = User::new(&s, "ada", "shop-v");
    assert_eq!(
        messages(&a.act(json!({ "type": "launch" })).await),
        ["Confirm the order of 25 USD?"]
    );
    assert!(top_diagram(&a.state().await).starts_with("lib:confirm-order@1:"));

    // A new shared version: new sessions use it, ada stays on version 1.
    let v2 = data(
        &patch(
            &s,
            &path,
            &json!({ "config": { "source": export("Please confirm the order of ") } }),
        )
        .await,
        200,
    );
    assert_eq!(v2["version"], 2);
    let b = User::new(&s, "bob", "shop-v");
    assert_eq!(
        messages(&b.act(json!({ "type": "launch" })).await),
        ["Please confirm the order of 25 USD?"]
    );
    assert!(top_diagram(&b.state().await).starts_with("lib:confirm-order@2:"));
    assert_eq!(
        messages(&a.act(json!({ "type": YES })).await),
        ["shop: confirmed R-25."]
    );
    assert_eq!(
        a.state().await["storage"]["subflowVersions"]["confirm-order"],
        1
    );
    assert_eq!(
        messages(&b.act(json!({ "type": NO })).await),
        ["shop: cancelled."]
    );

    // A draft version is not used.
    let v3 = data(
        &patch(
            &s,
            &path,
            &json!({ "scope": "draft", "config": { "source": export("Draft: ") } }),
        )
        .await,
        200,
    );
    assert_eq!(v3["version"], 3);
    let c = User::new(&s, "cy", "shop-v");
    assert_eq!(
        messages(&c.act(json!({ "type": "launch" })).await),
        ["Please confirm the order of 25 USD?"]
    );

    assert_eq!(
        messages(&c.act(json!({ "type": YES })).await),
        ["shop: confirmed R-25."]
    );

    // The database keeps every version across a restart (the stopped server's workers let go
    // of the file a moment after it stopped).
    drop(s);
    for _ in 0..200 {
        if flowdm::store::RedbRegistry::open(&db).is_ok() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(25));
    }
    let s = server(&db, actions.path(), library.path(), &[]);
    let d = User::new(&s, "dee", "shop-v");
    assert_eq!(
        messages(&d.act(json!({ "type": "launch" })).await),
        ["Please confirm the order of 25 USD?"]
    );
    let versions = data(
        &admin(&s, Method::GET, &format!("{path}/versions"), None).await,
        200,
    );
    assert_eq!(versions.as_array().unwrap().len(), 3);
}
