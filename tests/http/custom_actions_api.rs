//! `/api/custom-actions` (`docs/custom-actions.md` § Management API): the envelope, the admin
//! key, CRUD with versions, rollback and clone, validation naming the field, duplicate names per
//! scope, file actions read-only, `test` and `execute` against a local webhook stub, a created
//! action used by the next turn, and the redb database across a restart.

use crate::api_step::api_stub;
use crate::support::custom_actions::*;
use crate::support::server::*;
use reqwest::Method;
use serde_json::{json, Value};
use std::path::Path;

/// A server on the pay agent with the admin key, the registry in `db`, loopback calls allowed.
fn server(db: &Path, extra: &[&str]) -> Server {
    builder(db, extra).start()
}

fn builder(db: &Path, extra: &[&str]) -> ServerBuilder {
    Server::builder()
        .files(&[("pay.vfr", pay_agent())])
        .args(&[
            "--admin-key",
            ADMIN_KEY,
            "--registry-db",
            db.to_str().unwrap(),
            "--allow-outbound",
            "127.0.0.1/32",
        ])
        .args(extra)
}

fn webhook(base: &str) -> Value {
    json!({ "name": "Pay Credit Card", "action_type": "webhook", "config": {
        "url": format!("{base}/charge"), "body": "{\"amount\": {{payload.amount}}}",
        "path_field": "status", "mappings": { "receipt": "receipt" } } })
}

#[tokio::test]
async fn crud_versions_rollback_and_clone_answer_in_the_envelope() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("r.redb"), &[]);
    let documented = documented_statuses("/api/custom-actions/{id}");
    let list = data(
        &admin(&s, Method::GET, "/api/custom-actions", None).await,
        200,
    );
    assert_eq!(list, json!([]));

    let mut body = js_pay("R-1");
    body["description"] = json!("Charges the card");
    body["icon"] = json!("credit-card");
    body["display_order"] = json!(3);
    let created = data(
        &admin(&s, Method::POST, "/api/custom-actions", Some(&body)).await,
        201,
    );
    let id = created["id"].as_str().unwrap().to_string();
    assert_eq!(created["version"], 1);
    assert_eq!(created["source"], "api");
    assert_eq!(created["icon"], "credit-card");
    assert_eq!(created["display_order"], 3);
    assert!(created["created_at"].as_str().unwrap().ends_with('Z'));
    let path = format!("/api/custom-actions/{id}");
    let got = data(&admin(&s, Method::GET, &path, None).await, 200);
    assert_eq!(got, created);

    // PATCH merges config fields and bumps the version.
    let patched = data(
        &admin(
            &s,
            Method::PATCH,
            &path,
            Some(&json!({ "description": "v2", "config": { "events_schema": ["success"] } })),
        )
        .await,
        200,
    );
    assert_eq!(patched["version"], 2);
    assert_eq!(patched["description"], "v2");
    assert_eq!(patched["config"]["events_schema"], json!(["success"]));
    assert_eq!(patched["config"]["code"], created["config"]["code"]);
    assert_eq!(patched["created_at"], created["created_at"]);
    // A PATCH made on an older version is refused.
    let r = admin(
        &s,
        Method::PATCH,
        &path,
        Some(&json!({ "version": 1, "description": "x" })),
    )
    .await;
    error(&r, 409, "conflict");
    assert!(documented.contains(&409));

    let versions = data(
        &admin(&s, Method::GET, &format!("{path}/versions"), None).await,
        200,
    );
    assert_eq!(versions.as_array().unwrap().len(), 2);
    assert_eq!(versions[0]["description"], "Charges the card");

    let rolled = data(
        &admin(
            &s,
            Method::POST,
            &format!("{path}/rollback"),
            Some(&json!({ "version": 1 })),
        )
        .await,
        200,
    );
    assert_eq!(rolled["version"], 3);
    assert_eq!(rolled["description"], "Charges the card");
    let r = admin(
        &s,
        Method::POST,
        &format!("{path}/rollback"),
        Some(&json!({ "version": 9 })),
    )
    .await;
    assert_eq!(error(&r, 400, "invalid")["field"], "version");
    let r = admin(
        &s,
        Method::POST,
        &format!("{path}/rollback"),
        Some(&json!({})),
    )
    .await;
    assert_eq!(error(&r, 400, "invalid")["field"], "version");

    let cloned = data(
        &admin(
            &s,
            Method::POST,
            &format!("{path}/clone"),
            Some(&json!({ "project_id": "other" })),
        )
        .await,
        201,
    );
    assert_ne!(cloned["id"], created["id"]);
    assert_eq!(cloned["name"], "Pay Credit Card (copy)");
    assert_eq!(cloned["project_id"], "other");
    assert_eq!(cloned["version"], 1);
    let list = data(
        &admin(&s, Method::GET, "/api/custom-actions?project_id=sap", None).await,
        200,
    );
    assert_eq!(list.as_array().unwrap().len(), 1, "{list}");

    let deleted = data(&admin(&s, Method::DELETE, &path, None).await, 200);
    assert_eq!(deleted, json!({ "id": id, "deleted": true }));
    for (m, p) in [
        (Method::GET, path.clone()),
        (Method::DELETE, path.clone()),
        (Method::GET, format!("{path}/versions")),
        (Method::PATCH, path.clone()),
    ] {
        let r = admin(&s, m.clone(), &p, Some(&json!({}))).await;
        error(&r, 404, "not_found");
    }
}

#[tokio::test]
async fn the_admin_key_guards_the_api_and_dm_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::builder()
        .with_example("payment.vf")
        .test_keys_file()
        .args(&[
            "--admin-key",
            ADMIN_KEY,
            "--registry-db",
            dir.path().join("r.redb").to_str().unwrap(),
        ])
        .start();
    let url = s.url("/api/custom-actions");
    error(
        &send(Method::GET, &url, &[], None).await,
        401,
        "unauthorized",
    );
    let r = send(Method::GET, &url, &[("Authorization", "Bearer nope")], None).await;
    error(&r, 401, "unauthorized");
    let r = send(Method::GET, &url, &[("Authorization", PAY_KEY)], None).await;
    error(&r, 403, "forbidden");
    let r = send(Method::GET, &url, &[("Authorization", ADMIN_KEY)], None).await;
    data(&r, 200);
    // Unauthorised: nothing created, whatever the body.
    let r = send(Method::POST, &url, &[], Some(&js_pay("x"))).await;
    error(&r, 401, "unauthorized");
    assert_eq!(
        data(
            &admin(&s, Method::GET, "/api/custom-actions", None).await,
            200
        ),
        json!([])
    );

    // No admin key configured: 403 saying how to enable the API; no database file created.
    let plain_dir = tempfile::tempdir().unwrap();
    let db = plain_dir.path().join("r.redb");
    let plain = Server::builder()
        .with_example("payment.vf")
        .args(&["--registry-db", db.to_str().unwrap()])
        .start();
    let r = admin(&plain, Method::GET, "/api/custom-actions", None).await;
    let e = error(&r, 403, "admin_api_disabled");
    assert!(
        e["message"].as_str().unwrap().contains("--admin-key"),
        "{e}"
    );
    // Without credentials it is a 401, saying the same.
    let r = send(Method::GET, &plain.url("/api/custom-actions"), &[], None).await;
    let e = error(&r, 401, "unauthorized");
    assert!(
        e["message"].as_str().unwrap().contains("--admin-key"),
        "{e}"
    );
    assert!(!db.exists());
    assert!(documented_statuses("/api/custom-actions").contains(&403));
}

#[tokio::test]
async fn bad_actions_name_their_field_and_names_are_unique_per_scope() {
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("r.redb"), &["--body-limit", "4096"]);
    let post = |body: Value| {
        let s = &s;
        async move { admin(s, Method::POST, "/api/custom-actions", Some(&body)).await }
    };
    let cases = [
        (
            json!({ "name": "A", "action_type": "webhook", "config": {} }),
            "config.url",
        ),
        (
            json!({ "name": "A", "action_type": "ftp", "config": {} }),
            "action_type",
        ),
        (
            json!({ "action_type": "webhook", "config": { "url": "http://x" } }),
            "name",
        ),
        (
            json!({ "name": "A", "is_active": "yes", "action_type": "webhook", "config": { "url": "http://x" } }),
            "is_active",
        ),
        (
            json!({ "name": "A", "action_type": "webhook", "config": { "url": "http://x", "headers": [] } }),
            "config.headers",
        ),
        (
            json!({ "id": "a/b", "name": "A", "action_type": "webhook", "config": { "url": "http://x" } }),
            "id",
        ),
    ];
    for (body, field) in cases {
        let e = error(&post(body.clone()).await, 400, "invalid");
        assert_eq!(e["field"], field, "{body}: {e}");
    }
    let r = send_raw(
        Method::POST,
        &s.url("/api/custom-actions"),
        &[
            ("Authorization", ADMIN_KEY),
            ("content-type", "application/json"),
        ],
        b"{ not json".to_vec(),
    )
    .await;
    error(&r, 400, "invalid");
    let big = json!({ "name": "A", "description": "x".repeat(5000), "action_type": "webhook", "config": { "url": "http://x" } });
    error(&post(big).await, 413, "payload_too_large");

    let mut shared = js_pay("1");
    data(&post(shared.clone()).await, 201);
    let e = error(&post(shared.clone()).await, 409, "duplicate_name");
    assert_eq!(e["field"], "name");
    shared["project_id"] = json!("sap");
    let own = data(&post(shared.clone()).await, 201);
    error(&post(shared.clone()).await, 409, "duplicate_name");
    shared["project_id"] = json!("elsewhere");
    data(&post(shared.clone()).await, 201);
    // An id is unique too; renaming onto a taken name is refused.
    let mut again = js_pay("1");
    again["id"] = own["id"].clone();
    again["name"] = json!("Other");
    error(&post(again).await, 409, "duplicate_id");
    let renamed = json!({ "project_id": "elsewhere" });
    let r = admin(
        &s,
        Method::PATCH,
        &format!("/api/custom-actions/{}", own["id"].as_str().unwrap()),
        Some(&renamed),
    )
    .await;
    error(&r, 409, "duplicate_name");
    let statuses = documented_statuses("/api/custom-actions");
    for st in [201, 400, 401, 403, 409, 413] {
        assert!(statuses.contains(&st), "{st} not documented");
    }
}

#[tokio::test]
async fn a_created_action_is_used_by_the_next_turn_and_survives_a_restart() {
    // Two `flowdm serve` processes one after the other (the first killed) on one database file.
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("registry.redb");
    let s = builder(&db, &[]).start_process();
    let u = User::new(&s, "payer", "sav");
    // No action: the step's default path.
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Payment pending."]
    );
    let created = data(
        &admin(
            &s,
            Method::POST,
            "/api/custom-actions",
            Some(&js_pay("R-1")),
        )
        .await,
        201,
    );
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Paid, receipt R-1."]
    );
    // An update is used by the next turn too; an inactive action is not.
    let path = format!("/api/custom-actions/{}", created["id"].as_str().unwrap());
    let patch = json!({ "config": { "code": "export default async function main() { return { event: 'success', variables: { receipt: 'R-2' } }; }" } });
    data(&admin(&s, Method::PATCH, &path, Some(&patch)).await, 200);
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Paid, receipt R-2."]
    );
    drop(s);

    let s = builder(&db, &[]).start_process();
    let got = data(&admin(&s, Method::GET, &path, None).await, 200);
    assert_eq!(got["version"], 2);
    let u = User::new(&s, "payer2", "sav");
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Paid, receipt R-2."]
    );
    data(
        &admin(
            &s,
            Method::PATCH,
            &path,
            Some(&json!({ "is_active": false })),
        )
        .await,
        200,
    );
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Payment pending."]
    );
}

#[tokio::test]
async fn file_actions_are_listed_and_read_only() {
    let actions = tempfile::tempdir().unwrap();
    let mut file = js_pay("FILE");
    file["id"] = json!("pay-file");
    std::fs::write(actions.path().join("pay.json"), file.to_string()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let s = server(
        &dir.path().join("r.redb"),
        &["--actions-dir", actions.path().to_str().unwrap()],
    );
    let list = data(
        &admin(&s, Method::GET, "/api/custom-actions", None).await,
        200,
    );
    assert_eq!(list[0]["id"], "pay-file");
    assert_eq!(list[0]["source"], "file");
    for (m, p, b) in [
        (
            Method::PATCH,
            "/api/custom-actions/pay-file",
            json!({ "description": "x" }),
        ),
        (Method::DELETE, "/api/custom-actions/pay-file", json!({})),
        (
            Method::POST,
            "/api/custom-actions/pay-file/rollback",
            json!({ "version": 1 }),
        ),
    ] {
        error(&admin(&s, m, p, Some(&b)).await, 409, "read_only");
    }
    // Its name in its scope and its id are taken; a clone elsewhere is fine.
    error(
        &admin(&s, Method::POST, "/api/custom-actions", Some(&js_pay("x"))).await,
        409,
        "duplicate_name",
    );
    let clone = json!({ "project_id": "sap" });
    let c = data(
        &admin(
            &s,
            Method::POST,
            "/api/custom-actions/pay-file/clone",
            Some(&clone),
        )
        .await,
        201,
    );
    assert_eq!(c["source"], "api");
    // The project's own (stored) action wins over the shared file action.
    let patch = json!({ "name": "Pay Credit Card", "config": { "code": "export default async function main() { return { event: 'success', variables: { receipt: 'OWN' } }; }" } });
    data(
        &admin(
            &s,
            Method::PATCH,
            &format!("/api/custom-actions/{}", c["id"].as_str().unwrap()),
            Some(&patch),
        )
        .await,
        200,
    );
    let u = User::new(&s, "u", "sav");
    assert_eq!(
        messages(&u.act(json!({ "type": "launch" })).await),
        ["Paid, receipt OWN."]
    );
}

#[tokio::test]
async fn test_and_execute_run_the_action_once() {
    let (base, seen) = api_stub(
        json!({ "status": "success", "receipt": "R-9" }),
        Default::default(),
    )
    .await;
    let dir = tempfile::tempdir().unwrap();
    let s = server(&dir.path().join("r.redb"), &[]);
    let created = data(
        &admin(
            &s,
            Method::POST,
            "/api/custom-actions",
            Some(&webhook(&base)),
        )
        .await,
        201,
    );
    let path = format!("/api/custom-actions/{}", created["id"].as_str().unwrap());

    let body = json!({ "payload": { "amount": 7 }, "variables": { "x": 1 } });
    let out = data(
        &admin(&s, Method::POST, &format!("{path}/test"), Some(&body)).await,
        200,
    );
    assert_eq!(out["event"], "success", "{out}");
    assert_eq!(out["variables"], json!({ "x": 1, "receipt": "R-9" }));
    assert_eq!(out["errors"], json!([]));
    assert!(out["duration_ms"].is_u64());
    assert!(seen.lock().unwrap()[0].ends_with(r#"{"amount": 7}"#));

    // execute on a given variable set: nothing stored.
    let out = data(
        &admin(
            &s,
            Method::POST,
            &format!("{path}/execute"),
            Some(&json!({ "variables": { "y": 2 } })),
        )
        .await,
        200,
    );
    assert_eq!(out["variables"], json!({ "y": 2, "receipt": "R-9" }));

    // execute on a user's session: its variables are stored.
    let u = User::new(&s, "payer", "sav");
    u.act(json!({ "type": "launch" })).await;
    let patch = json!({ "receipt": "old", "keep": true });
    assert_eq!(
        u.raw(Method::PATCH, "/variables", Some(&patch))
            .await
            .status,
        200
    );
    let body = json!({ "user_id": "payer", "project_id": "sap" });
    let out = data(
        &admin(&s, Method::POST, &format!("{path}/execute"), Some(&body)).await,
        200,
    );
    assert_eq!(out["variables"]["receipt"], "R-9");
    let state = u.state().await;
    assert_eq!(state["variables"]["receipt"], "R-9", "{state}");
    assert_eq!(state["variables"]["keep"], true);
    let body = json!({ "user_id": "nobody", "project_id": "sap" });
    error(
        &admin(&s, Method::POST, &format!("{path}/execute"), Some(&body)).await,
        409,
        "conflict",
    );
    error(
        &admin(
            &s,
            Method::POST,
            "/api/custom-actions/none/test",
            Some(&json!({})),
        )
        .await,
        404,
        "not_found",
    );
}

#[tokio::test]
async fn the_memory_and_redb_registries_keep_versions_by_kind() {
    use crate::support::registry_scenario::registry_behaves;
    use flowdm::store::{MemoryRegistry, RedbRegistry, RegistryStore};
    registry_behaves(&MemoryRegistry::new()).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("r.redb");
    {
        let db = RedbRegistry::open(&path).unwrap();
        registry_behaves(&db).await;
    }
    // Reopened: everything is still there.
    let db = RedbRegistry::open(&path).unwrap();
    assert_eq!(db.list("actions").await.unwrap().len(), 2);
    assert_eq!(
        db.get("library", "a").await.unwrap().unwrap()["name"],
        "Pay"
    );
}
